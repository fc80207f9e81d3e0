"""What the GeoPackage writer's worker process does with one batch of rows: convert them
to columns and append them to the file through GDAL (pyogrio). Run through
writers.ogr_file's process pool, so that neither GDAL nor the conversion of a million
rows runs in the service's interpreter, where they would hold every request."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.exports.writers import _column


def append_batch(
    *,
    path: str,
    names: list[str],
    rows: list[tuple[Any, ...]],
    columns: list[str],
    layer: str,
    driver: str,
    append: bool,
    new_file: bool = True,
) -> int:
    """Append `rows` (tuples of the `names` columns, `wkb` among them) to the layer at
    `path`, or create it (`append` false; no rows: an empty layer), in a new file or, with
    `new_file` false, beside the layers the file holds."""
    from pyogrio.raw import write as ogr_write

    if rows:
        index = {name: i for i, name in enumerate(names)}
        wkb = index["wkb"]
        geometry = np.array([bytes(r[wkb]) for r in rows], dtype=object)
        field_data = [_column([r[index[c]] for r in rows]) for c in columns]
    else:
        geometry = np.array([], dtype=object)
        field_data = [np.array([], dtype=object) for _ in columns]
    # GeoPackage 1.2: what GDAL 3.6 (QGIS 3.22 on Debian) reads without a warning; the
    # GDAL in pyogrio's wheel would write 1.4, which 3.6 says it "may only partially" read.
    options = {"VERSION": "1.2"} if driver == "GPKG" and not append and new_file else {}
    ogr_write(
        path, geometry, field_data, columns, layer=layer, driver=driver,
        geometry_type="Unknown", crs="EPSG:4326", encoding="UTF-8", append=append,
        dataset_options=options or None,
    )  # fmt: skip
    return len(rows)
