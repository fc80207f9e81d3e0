"""What a layer is: one declaration that the OGC API, the vector tiles and the file exports
all read (as pygeoapi's resources feed its providers). A layer names its table and joins,
its geometry and key, its GeoJSON feature, its fields (which of them a filter may name, a
tile carries or an export writes), and its scope; the readers build their SQL from it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from app.auth.caller import Caller
from app.geojson import COORD_DECIMALS
from app.layers.kml import KmlLook
from app.sql import Sql

FieldType = Literal["string", "number", "boolean", "timestamp", "date"]
# The SQL a layer's scope adds to every WHERE, with its values.
Scope = Callable[[Caller], Sql]

_MVT_TYPES = {
    "string": "String",
    "number": "Number",
    "boolean": "Boolean",
    "timestamp": "String",
    "date": "String",
}


@dataclass(frozen=True)
class Queryable:
    """A property a filter, a property equality or `sortby` may name: its SQL and type."""

    sql: str
    type: str  # string | number | boolean | timestamp | geometry


@dataclass(frozen=True)
class Field:
    """A property of the layer. `sql` is what filters and sorting read (an indexed column
    where there is one); `tile` and `export` say whether a tile or an export carries it,
    True for `sql` itself or the expression they carry instead (rounded, cast)."""

    name: str
    type: FieldType
    sql: str
    queryable: bool = True
    tile: bool | str = False
    export: bool | str = False


@dataclass(frozen=True)
class TileQuery:
    """The filters a tile request may add (the map's status, category and date range)."""

    statuses: list[str]
    categories: list[str]
    since: date | None
    until: date | None


@dataclass(frozen=True)
class Tiles:
    """How the layer is drawn in vector tiles."""

    simplify: bool  # lines and areas: simplified to a pixel at the tile's zoom
    # The tables whose writes redraw the layer's tiles (each carries the tile notice
    # trigger of its migration): the tile cache drops the layer on their notices.
    drawn_from: tuple[str, ...]
    joins: str = ""  # more FROM items the tile's fields read
    extra_fields: dict[str, str] = field(default_factory=dict)  # built by the statement
    # The WHERE of a tile, when the layer has filters or a scope; tiles of a scoped layer
    # are cached per province.
    where: Callable[[Caller, TileQuery], Sql] | None = None
    # One feature per cell where a tile holds more than the cap (tiles/dense.py).
    dense: bool = False


@dataclass(frozen=True)
class Export:
    """How the layer is written to GeoJSON, CSV, GeoPackage and KML files."""

    name: str  # the file's stem and the audit's entity type
    order: str
    kml: KmlLook  # its placemarks' names and styles in Google Earth (kml.py)


@dataclass(frozen=True)
class Layer:
    id: str
    title: str
    description: str
    table: str  # the layer's own table and its alias: "markers m"
    # LEFT JOINed on NOT NULL foreign keys: the same rows as JOIN, and PostgreSQL drops a
    # join nothing reads (a page's keys, counts, the extent), in planning as in execution.
    joins: tuple[str, ...]
    geom: str
    key: str  # its text form is the feature id
    feature: str  # the GeoJSON feature as SQL, its geometry `ST_AsGeoJSON(geom, COORD_DECIMALS)`
    fields: tuple[Field, ...]
    scope: Scope | None = None
    datetime: str | None = None  # the temporal property, as timestamptz
    # `datetime` before its cast to timestamptz, as an index holds it (the cast depends on
    # the session's time zone, so no index holds the cast value): the temporal extent's
    # min and max are read off that index, then cast.
    datetime_indexed: str | None = None
    # A table holding each feature as JSON text (CRS84, every property) under `stored_key`,
    # kept by the database's triggers: pages read it instead of building each feature.
    stored: str | None = None
    stored_key: str | None = None
    # A `box` of the geometry under an SP-GiST index that includes `key`: where few match
    # a bbox, its keys are found in that index alone.
    extent_box: str | None = None
    tiles: Tiles | None = None
    export: Export | None = None

    def __post_init__(self) -> None:
        if self.default_geometry_json not in self.feature:
            raise ValueError(
                f"layer {self.id}: its feature must write {self.default_geometry_json}"
            )

    @property
    def source(self) -> str:
        """FROM: the table and its joins."""
        return " ".join([self.table, *self.joins])

    def source_for(self, *sql: str) -> str:
        """`source`, or the table alone where `sql` (our own WHERE and ORDER BY) reads none
        of the joined tables: an unread join is dropped, but the column it joined on still
        rules out an index-only scan (PostgreSQL 15)."""
        aliases = [re.split(r"\s+", j.strip())[3] for j in self.joins]
        if any(re.search(rf"\b{alias}\.", part) for alias in aliases for part in sql):
            return self.source
        return self.table

    @property
    def table_name(self) -> str:
        return self.table.split()[0]

    @property
    def geom_column(self) -> str:
        return self.geom.partition(".")[2]

    @property
    def geom_is_own(self) -> bool:
        """Whether the geometry is a column of the layer's own table (an inspection's is
        its marker's, through a join)."""
        return self.geom.partition(".")[0] == self.table.split()[-1]

    @property
    def temporal_extent_sql(self) -> str | None:
        """The first and last instant of the layer, read off an index (no join)."""
        if self.datetime is None:
            return None
        column = self.datetime_indexed or self.datetime
        return f"SELECT min({column})::timestamptz, max({column})::timestamptz FROM {self.table}"  # noqa: S608

    @property
    def default_geometry_json(self) -> str:
        return f"ST_AsGeoJSON({self.geom}, {COORD_DECIMALS})"

    def feature_with_geometry(self, geometry_json: str) -> str:
        """The feature with another geometry expression (another CRS or axis order)."""
        return self.feature.replace(self.default_geometry_json, geometry_json)

    @property
    def queryables(self) -> dict[str, Queryable]:
        found = {"geometry": Queryable(self.geom, "geometry")}
        found.update({f.name: Queryable(f.sql, f.type) for f in self.fields if f.queryable})
        return found

    def tile_columns(self) -> str:
        return ", ".join(_shown(f, f.tile) for f in self.fields if f.tile)

    def tile_fields(self) -> dict[str, str]:
        """The tile's attributes and their MVT types (for TileJSON)."""
        assert self.tiles is not None
        named = {f.name: _MVT_TYPES[f.type] for f in self.fields if f.tile}
        return {**named, **self.tiles.extra_fields}

    def export_columns(self) -> list[str]:
        return [f.name for f in self.fields if f.export]

    def export_select(self) -> str:
        return ", ".join(_shown(f, f.export) for f in self.fields if f.export)


def _shown(f: Field, use: bool | str) -> str:
    return f'{f.sql if use is True else use} AS "{f.name}"'
