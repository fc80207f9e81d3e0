"""Writers that keep memory flat however many rows: rows come from a server-side cursor in
batches (or COPY); GeoJSON, KML and CSV are streamed as they come, GeoPackage is appended
to a temporary file by GDAL one batch at a time."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import csv
import functools
import io
import multiprocessing
import os
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi.responses import StreamingResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.exports.copy_stream import json_rows
from app.layers.kml import KmlLook
from app.text import spreadsheet_cell

# Rows per fetch. CSV goes out in small batches (larger ones only cost memory, at the same
# speed); GDAL appends are per call, so its files take larger batches.
STREAM_BATCH = 500
GDAL_BATCH = 2_000
UTF8_BOM = "\ufeff"


@dataclass(frozen=True)
class Driver:
    name: str  # GDAL driver
    suffix: str
    media_type: str


OGR_DRIVERS = {
    "gpkg": Driver("GPKG", "gpkg", "application/geopackage+sqlite3"),
}
KML_MEDIA_TYPE = "application/vnd.google-earth.kml+xml"


async def _batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    sql: str,
    params: Mapping[str, Any],
    size: int = STREAM_BATCH,
) -> AsyncIterator[Sequence[Any]]:
    # Its own session: the response outlives the request's dependencies.
    async with sessionmaker() as session:
        result = await session.stream(text(sql), params)
        async for partition in result.partitions(size):
            yield partition


async def geojson_stream(
    sessionmaker: async_sessionmaker[AsyncSession], feature_sql: str, params: Mapping[str, Any]
) -> AsyncGenerator[bytes, None]:
    """`feature_sql` selects one column: each row's GeoJSON Feature, built by PostgreSQL's
    JSON functions (see copy_stream.py for why that matters)."""
    # The opening goes out with the first rows, so that `started` runs the statement.
    opening = b'{"type":"FeatureCollection","features":['
    async for chunk in json_rows(sessionmaker, feature_sql, params):
        yield opening + chunk
        opening = b""
    yield opening + b"]}"


KML_DECIMALS = 7  # about 1 cm on the ground, as the GeoJSON
KML_OWN_FIELDS = ("id", "description")  # a Placemark's own attribute and element


# KML is streamed as PostgreSQL writes it (XML functions escape the text, ST_AsKML the
# geometry), rows joined by COPY like GeoJSON's: GDAL's LIBKML driver rewrites the whole
# document on every appended batch.
def _kml_value(column: str) -> str:
    """A column's text as KML carries it: arrays joined by `;` (as in CSV), times in
    ISO 8601, numbers and booleans as JSON writes them."""
    value = f'to_jsonb(a."{column}")'
    return (
        f"CASE jsonb_typeof({value}) WHEN 'array' THEN "
        f"array_to_string(ARRAY(SELECT jsonb_array_elements_text({value})), ';') "
        f"ELSE {value} #>> '{{}}' END"
    )


def kml_placemarks_sql(attrs_sql: str, columns: list[str], layer: str, look: KmlLook) -> str:
    """One row per feature: its KML Placemark, with no raw control character (XML 1.0
    forbids most; newline, return and tab become character references, which COPY's text
    format would otherwise escape)."""
    data = ", ".join(
        f"""CASE WHEN a."{c}" IS NULL THEN NULL ELSE xmlelement(name "SimpleData",
              xmlattributes('{c}' AS name), {_kml_value(c)}) END"""
        for c in columns
        if c not in KML_OWN_FIELDS
    )
    # The id and a description are the Placemark's own, where GDAL (and so QGIS) reads the
    # fields of those names and Google Earth shows the description; a name and a style
    # (the layer's `kml` look) make it readable on the map. KML orders them: name,
    # description, styleUrl.
    description = (
        'xmlelement(name "description", a.description), ' if "description" in columns else ""
    )
    placemark = f"""xmlelement(name "Placemark", xmlattributes(a.id::text AS id),
        xmlelement(name "name", {look.name_sql}), {description}
        xmlelement(name "styleUrl", '#' || {look.style_sql}),
        xmlelement(name "ExtendedData", xmlelement(name "SchemaData",
          xmlattributes('#{layer}' AS "schemaUrl"), {data})),
        ST_AsKML(ST_GeomFromWKB(a.wkb, 4326), {KML_DECIMALS})::xml)::text"""
    cleaned = f"regexp_replace({placemark}, " + r"'[\x01-\x08\x0b\x0c\x0e-\x1f]', '', 'g')"
    escaped = (
        f"replace(replace(replace({cleaned}, E'\\n', '&#10;'), E'\\r', '&#13;'), E'\\t', '&#9;')"
    )
    return f"SELECT {escaped} FROM ({attrs_sql}) a"  # noqa: S608


async def kml_stream(
    sessionmaker: async_sessionmaker[AsyncSession],
    attrs_sql: str,
    params: Mapping[str, Any],
    columns: list[str],
    *,
    layer: str,
    look: KmlLook,
) -> AsyncGenerator[bytes, None]:
    """A KML document: a Schema naming the columns, a Folder of Placemarks."""
    fields = "".join(
        f'<SimpleField name="{c}" type="string"/>' for c in columns if c not in KML_OWN_FIELDS
    )
    opening = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
        f'<Document id="root_doc"><Schema name="{layer}" id="{layer}">{fields}</Schema>'
        f"{look.styles}"
        f"<Folder><name>{layer}</name>\n"
    ).encode()
    sql = kml_placemarks_sql(attrs_sql, columns, layer, look)
    async for chunk in json_rows(sessionmaker, sql, params, separator=b"\n"):
        yield opening + chunk
        opening = b""
    yield opening + b"\n</Folder></Document></kml>\n"


async def csv_stream(
    sessionmaker: async_sessionmaker[AsyncSession],
    attrs_sql: str,
    params: Mapping[str, Any],
    columns: list[str],
) -> AsyncGenerator[bytes, None]:
    """CSV with a byte-order mark (Excel reads the Vietnamese text right), one row per
    feature, its attributes then `lon`, `lat` (a point on it) and `wkt`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write(UTF8_BOM)
    writer.writerow([*columns, "lon", "lat", "wkt"])
    async for rows in _batches(sessionmaker, attrs_sql, params):
        # The header goes out with the first rows, so that `started` runs the statement.
        for row in rows:
            values = row._mapping
            writer.writerow(
                [_text(values[c]) for c in columns] + [values["lon"], values["lat"], values["wkt"]]
            )
        yield out.getvalue().encode("utf-8")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
    if out.tell():  # no rows: the header alone
        yield out.getvalue().encode("utf-8")


async def started(stream: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
    """`stream`, run up to its first bytes before any response exists.

    The streams above send nothing until their statement has run and returned rows (or
    none), so a value PostgreSQL refuses (a NUL in a filter, say) raises here and becomes a
    problem response. Once a StreamingResponse has sent its headers, an error can only cut
    the body short, which a client sees as a broken download."""
    first = await anext(stream)  # every stream here yields at least once

    async def from_first() -> AsyncIterator[bytes]:
        try:
            yield first
            async for chunk in stream:
                yield chunk
        finally:
            await stream.aclose()

    return from_first()


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _text(value: Any) -> Any:
    """A CSV cell: text a spreadsheet opens as text (spreadsheet_cell), never a formula."""
    return spreadsheet_cell(_plain(value))


def _column(values: list[Any]) -> np.ndarray:
    converted = [None if v is None else _plain(v) for v in values]
    if all(isinstance(v, bool) or v is None for v in converted) and any(
        v is not None for v in converted
    ):
        return np.array([None if v is None else int(v) for v in converted], dtype=object)
    numeric = (
        isinstance(v, int | float) and not isinstance(v, bool) for v in converted if v is not None
    )
    if all(numeric):
        return np.array([np.nan if v is None else float(v) for v in converted], dtype=np.float64)
    return np.array([None if v is None else str(v) for v in converted], dtype=object)


# GeoPackage is written by GDAL in a process of its own (gdal_process.py): in a thread,
# GDAL's writes and the conversion to columns hold the interpreter from every request.
_GDAL_POOL: concurrent.futures.ProcessPoolExecutor | None = None


def _gdal_pool() -> concurrent.futures.ProcessPoolExecutor:
    global _GDAL_POOL
    if _GDAL_POOL is None:
        # spawn: a fresh interpreter, not a fork of one with an event loop and pools.
        _GDAL_POOL = concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")
        )
        # Shut down before the interpreter tears its modules down (the pool's own
        # clean-up then fails noisily).
        atexit.register(_GDAL_POOL.shutdown, wait=True, cancel_futures=True)
    return _GDAL_POOL


class ClientGone(Exception):
    """The client of an export left before its file was written."""


async def file_chunks(path: str, chunk_bytes: int = 256 * 1024) -> AsyncIterator[bytes]:
    """A written file's bytes, the file unlinked first: its name is gone at once, and the
    open file is freed however the download ends (a FileResponse's clean-up task does not
    run when its client has left)."""
    handle = await asyncio.to_thread(open, path, "rb")
    os.unlink(path)
    try:
        while chunk := await asyncio.to_thread(handle.read, chunk_bytes):
            yield chunk
    finally:
        handle.close()


async def file_response(path: str, driver: Driver, filename: str) -> StreamingResponse:
    """A written file as a download: its length known, its name given, unlinked as it goes
    (file_chunks)."""
    size = await asyncio.to_thread(os.path.getsize, path)
    return StreamingResponse(
        file_chunks(path),
        media_type=driver.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Length": str(size),
        },
    )


async def ogr_file(
    sessionmaker: async_sessionmaker[AsyncSession],
    attrs_sql: str,
    params: Mapping[str, Any],
    columns: list[str],
    *,
    layer: str,
    driver: Driver,
    directory: str | None = None,
    abandoned: Callable[[], Awaitable[bool]] | None = None,
    into: str | None = None,
) -> str:
    """Write the rows to a new GeoPackage file through GDAL, or as one more layer of the
    file `into`; returns its path. The rows are read here, each batch handed whole to the
    worker process that converts and appends it (gdal_process.py). Between batches
    `abandoned` is asked whether the client has gone: then the file is removed and
    ClientGone raised."""
    from app.exports.gdal_process import append_batch

    if into is None:
        fd, path = tempfile.mkstemp(suffix=f".{driver.suffix}", dir=directory)
        os.close(fd)
        os.unlink(path)  # GDAL creates it
    else:
        path = into

    async def append(names: list[str], rows: list[tuple[Any, ...]]) -> None:
        batch = functools.partial(
            append_batch, path=path, names=names, rows=rows, columns=columns, layer=layer,
            driver=driver.name, append=written > 0, new_file=into is None,
        )  # fmt: skip
        await asyncio.get_running_loop().run_in_executor(_gdal_pool(), batch)

    written = 0
    try:
        async for rows in _batches(sessionmaker, attrs_sql, params, GDAL_BATCH):
            if abandoned is not None and await abandoned():
                raise ClientGone(f"the client left; {written} rows of the export were written")
            await append(list(rows[0]._mapping.keys()), [tuple(r) for r in rows])
            written += len(rows)
        if written == 0:  # an empty layer is still a valid file
            await append([], [])
    except BaseException:
        # A half-written file is never served; GDAL may not have created it yet.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise
    return path
