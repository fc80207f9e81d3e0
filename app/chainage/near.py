"""`range` with `within_m`: the query parameters that keep a list to what lies near a
stretch of the line (gates, patrols, surveys), resolved once as a dependency."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from app.chainage.service import resolve_prefixed_range
from app.db import SessionDep
from app.sql import Sql


@dataclass(frozen=True)
class NearStretch:
    geojson: str  # the stretch's line
    within_m: float

    def clause(self, geom: str) -> Sql:
        """`geom` lies within `within_m` of the stretch (geodesic metres)."""
        return Sql(
            f"ST_DWithin(({geom})::geography, ST_GeomFromGeoJSON(:stretch)::geography, :within_m)",
            {"stretch": self.geojson, "within_m": self.within_m},
        )


async def near_stretch(
    session: SessionDep,
    range_: Annotated[
        str | None,
        Query(alias="range", max_length=120, description="Near this stretch: VN-CN:1042-1053/1"),
    ] = None,
    within_m: Annotated[
        float, Query(gt=0, le=100_000, description="With `range`: this close (default 500)")
    ] = 500.0,
    border: Annotated[str | None, Query(max_length=5)] = None,
) -> NearStretch | None:
    if range_ is None:
        return None
    part = await resolve_prefixed_range(session, range_, field="range", border_hint=border)
    return NearStretch(json.dumps(part.geometry), within_m)


NearStretchDep = Annotated[NearStretch | None, Depends(near_stretch)]
