"""What Alembic compares: our tables, not PostGIS's own; spatial indexes via GeoAlchemy2."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import alembic_helpers

# Tables PostGIS brings with the extension; never ours to create or drop.
POSTGIS_TABLES = frozenset({"spatial_ref_sys", "layer", "topology"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name in POSTGIS_TABLES:
        return False
    keep = alembic_helpers.include_object(  # type: ignore[no-untyped-call]
        obj, name, type_, reflected, compare_to
    )
    return bool(keep)
