"""CQL2 filters to SQL. The `cql2` library parses and validates cql2-text and cql2-json;
its own to_sql() inlines literals, so we translate its JSON tree ourselves: properties
come from each collection's queryables (a whitelist of SQL expressions), every literal is
a bound parameter, and the tree's size and depth are bounded."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import cql2

from app.errors import InvalidInput

MAX_NODES = 200
MAX_DEPTH = 20

COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
SPATIAL = {
    "s_intersects": "ST_Intersects",
    "s_within": "ST_Within",
    "s_contains": "ST_Contains",
    "s_disjoint": "ST_Disjoint",
    "s_equals": "ST_Equals",
    "s_crosses": "ST_Crosses",
    "s_overlaps": "ST_Overlaps",
    "s_touches": "ST_Touches",
}


# CQL2 temporal operators (Allen's interval relations, as the CQL2 standard defines them)
# over (start, end) pairs; an instant is a zero-length interval and an open end ('..') is
# -infinity or infinity.
TEMPORAL = {
    "t_after": "{a0} > {b1}",
    "t_before": "{a1} < {b0}",
    "t_contains": "{a0} < {b0} AND {a1} > {b1}",
    "t_disjoint": "{a1} < {b0} OR {a0} > {b1}",
    "t_during": "{a0} > {b0} AND {a1} < {b1}",
    "t_equals": "{a0} = {b0} AND {a1} = {b1}",
    "t_finishedby": "{a0} < {b0} AND {a1} = {b1}",
    "t_finishes": "{a0} > {b0} AND {a1} = {b1}",
    "t_intersects": "{a0} <= {b1} AND {a1} >= {b0}",
    "t_meets": "{a1} = {b0}",
    "t_metby": "{a0} = {b1}",
    "t_overlappedby": "{a0} > {b0} AND {a0} < {b1} AND {a1} > {b1}",
    "t_overlaps": "{a0} < {b0} AND {a1} > {b0} AND {a1} < {b1}",
    "t_startedby": "{a0} = {b0} AND {a1} > {b1}",
    "t_starts": "{a0} = {b0} AND {a1} < {b1}",
}
DISTANCE_UNITS = {"meters": 1.0, "metres": 1.0, "m": 1.0, "kilometers": 1000.0, "km": 1000.0}
MAX_DWITHIN_M = 500_000.0


@dataclass(frozen=True)
class Queryable:
    sql: str
    type: str  # string | number | boolean | timestamp | geometry


@dataclass
class _Build:
    queryables: dict[str, Queryable]
    params: dict[str, Any] = field(default_factory=dict)
    nodes: int = 0

    def bind(self, value: Any) -> str:
        name = f"cql_{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def parse(text_or_json: str, lang: str | None) -> dict[str, Any] | bool:
    """A filter in cql2-text (default) or cql2-json, as the library's JSON tree."""
    try:
        source: Any = json.loads(text_or_json) if lang == "cql2-json" else text_or_json
        tree = cql2.Expr(source).to_json()
    except Exception as exc:  # the parser's own message says where and what
        raise InvalidInput(f"invalid {lang or 'cql2-text'} filter: {exc}", field="filter") from exc
    if isinstance(tree, bool):  # `TRUE` / `FALSE` alone
        return tree
    if not isinstance(tree, dict):
        raise InvalidInput("the filter must be a predicate", field="filter")
    return dict(tree)


def to_sql(tree: Any, queryables: dict[str, Queryable]) -> tuple[str, dict[str, Any]]:
    build = _Build(queryables)
    return _node(tree, build, 0), build.params


def _property(arg: Any, build: _Build) -> Queryable:
    name = arg["property"]
    found = build.queryables.get(name)
    if found is None:
        raise InvalidInput(
            f"{name!r} is not queryable here; queryables: {', '.join(sorted(build.queryables))}",
            field="filter",
        )
    return found


def _value(arg: Any, build: _Build, kind: str | None = None) -> str:
    if isinstance(arg, dict) and "property" in arg:
        return _property(arg, build).sql
    if isinstance(arg, dict) and "timestamp" in arg:
        return "CAST(" + build.bind(_time(arg["timestamp"])) + " AS timestamptz)"
    if isinstance(arg, dict) and "date" in arg:
        return "CAST(" + build.bind(_time(arg["date"])) + " AS timestamptz)"
    if isinstance(arg, dict) and ("bbox" in arg or "type" in arg):
        return _geometry(arg, build)
    if isinstance(arg, bool | int | float | str) or arg is None:
        if kind == "timestamp" and isinstance(arg, str):
            return "CAST(" + build.bind(_time(arg)) + " AS timestamptz)"
        return build.bind(arg)
    raise InvalidInput("unsupported value in the filter", field="filter")


def _time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{value!r} is not a timestamp", field="filter") from exc


def _geometry(arg: dict[str, Any], build: _Build) -> str:
    if "bbox" in arg:
        box = [float(v) for v in arg["bbox"]]
        if len(box) == 6:
            box = [box[0], box[1], box[3], box[4]]
        if len(box) != 4:
            raise InvalidInput("a BBOX has four numbers", field="filter")
        return (
            f"ST_MakeEnvelope({build.bind(box[0])}, {build.bind(box[1])}, "
            f"{build.bind(box[2])}, {build.bind(box[3])}, 4326)"
        )
    return f"ST_SetSRID(ST_GeomFromGeoJSON({build.bind(json.dumps(arg))}), 4326)"


def _period(arg: Any, build: _Build) -> tuple[str, str]:
    """A temporal operand as (start, end) SQL: an interval, or an instant twice."""
    if isinstance(arg, dict) and "interval" in arg:
        start, end = arg["interval"]
        return _endpoint(start, build, "-infinity"), _endpoint(end, build, "infinity")
    if isinstance(arg, dict) and "property" in arg and _property(arg, build).type != "timestamp":
        raise InvalidInput(f"{arg['property']!r} is not a time", field="filter")
    instant = _value(arg, build, "timestamp")
    return instant, instant


def _endpoint(value: Any, build: _Build, open_end: str) -> str:
    if value in ("..", None):
        return f"'{open_end}'::timestamptz"  # a constant, not input
    return _value(value, build, "timestamp")


def _dwithin(args: list[Any], build: _Build) -> str:
    """S_DWITHIN(a, b, distance[, units]): geodesic metres (geography), so a 500 m question
    means 500 m on the ground at any latitude."""
    if len(args) not in (3, 4) or not isinstance(args[2], int | float):
        raise InvalidInput("S_DWITHIN(geometry, geometry, distance[, meters])", field="filter")
    unit = args[3]["property"] if len(args) == 4 and isinstance(args[3], dict) else "meters"
    factor = DISTANCE_UNITS.get(str(unit).lower())
    if factor is None:
        raise InvalidInput(f"S_DWITHIN units: one of {', '.join(DISTANCE_UNITS)}", field="filter")
    metres = float(args[2]) * factor
    if not 0 <= metres <= MAX_DWITHIN_M:
        raise InvalidInput(f"S_DWITHIN distance: 0 to {MAX_DWITHIN_M:.0f} m", field="filter")
    return (
        f"ST_DWithin(({_value(args[0], build)})::geography, ({_value(args[1], build)})::geography, "
        f"{build.bind(metres)})"
    )


def _kind(arg: Any, build: _Build) -> str | None:
    if isinstance(arg, dict) and "property" in arg:
        return _property(arg, build).type
    return None


def _node(node: Any, build: _Build, depth: int) -> str:
    build.nodes += 1
    if build.nodes > MAX_NODES or depth > MAX_DEPTH:
        raise InvalidInput(
            f"the filter is too complex (over {MAX_NODES} terms or {MAX_DEPTH} levels)",
            field="filter",
        )
    if isinstance(node, bool):
        return "TRUE" if node else "FALSE"
    if not isinstance(node, dict) or "op" not in node:
        raise InvalidInput("the filter must be a predicate", field="filter")
    op = str(node["op"]).lower()
    args = node.get("args", [])
    if op in ("and", "or"):
        return "(" + f" {op.upper()} ".join(_node(a, build, depth + 1) for a in args) + ")"
    if op == "not":
        return "(NOT " + _node(args[0], build, depth + 1) + ")"
    if op in COMPARISONS:
        kind = _kind(args[0], build) or _kind(args[1], build)
        return f"({_value(args[0], build, kind)} {COMPARISONS[op]} {_value(args[1], build, kind)})"
    if op == "like":
        return f"({_value(args[0], build)} LIKE {_value(args[1], build)})"
    if op == "between":
        kind = _kind(args[0], build)
        return (
            f"({_value(args[0], build)} BETWEEN {_value(args[1], build, kind)} "
            f"AND {_value(args[2], build, kind)})"
        )
    if op == "in":
        kind = _kind(args[0], build)
        values = ", ".join(_value(v, build, kind) for v in args[1])
        return f"({_value(args[0], build)} IN ({values}))"
    if op == "isnull":
        return f"({_value(args[0], build)} IS NULL)"
    if op in SPATIAL:
        return f"{SPATIAL[op]}({_value(args[0], build)}, {_value(args[1], build)})"
    if op == "s_dwithin":
        return _dwithin(args, build)
    if op in TEMPORAL:
        (a0, a1), (b0, b1) = _period(args[0], build), _period(args[1], build)
        return "(" + TEMPORAL[op].format(a0=a0, a1=a1, b0=b0, b1=b1) + ")"
    raise InvalidInput(f"the operator {op!r} is not supported here", field="filter")
