"""CQL2 filters to SQL. The `cql2` library parses and validates cql2-text and cql2-json;
its own to_sql() inlines literals, so we translate its JSON tree ourselves: properties
come from each collection's queryables (a whitelist of SQL expressions), every literal is
a bound parameter, and the tree's size and depth are bounded."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cql2

from app.errors import InvalidInput
from app.geo.geometry import InvalidGeometry, parse_geometry
from app.layers.spec import Queryable
from app.sql import Sql

MAX_NODES = 200
MAX_DEPTH = 20
# Bounds checked before the text or JSON reaches the native parser, which overflows its
# stack (a segfault) on deep nesting and backtracks exponentially on brackets around a
# fault. A real filter nests a few levels: 10 brackets leave room for a MultiPolygon
# literal (3) inside six groupings.
MAX_TEXT_NESTING = 10
MAX_TEXT_NOTS = 64
MAX_SIGN_RUN = 3
MAX_JSON_NESTING = 2 * MAX_DEPTH + 16
MAX_LITERAL_VERTICES = 10_000

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
class Operand:
    """A filter operand as SQL, with its type (a queryable's, or a literal's)."""

    sql: str
    type: str  # as Queryable.type, or "null"


@dataclass
class _Build:
    queryables: dict[str, Queryable]
    params: dict[str, Any] = field(default_factory=dict)
    nodes: int = 0

    def bind(self, value: Any) -> str:
        name = f"cql_{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def _too_deep(what: str) -> InvalidInput:
    return InvalidInput(f"the filter nests too deeply ({what})", field="filter")


def guard_text(text: str) -> None:
    """Refuse cql2-text whose nesting the native parser would recurse on past its stack:
    brackets, NOT and runs of signs, counted outside string literals. Written here
    because no parser that fits bounds its own recursion (see the module's note)."""
    depth = nots = sign_run = 0
    word: list[str] = []
    in_string = False
    for ch in text + " ":
        if in_string:
            in_string = ch != "'"  # '' (an escaped quote) closes and reopens: same count
            continue
        if ch.isalnum() or ch == "_":
            word.append(ch)
            continue
        if word:
            nots += "".join(word).upper() == "NOT"
            word.clear()
            sign_run = 0
        if ch == "'":
            in_string, sign_run = True, 0
        elif ch in "([":
            depth += 1
            if depth > MAX_TEXT_NESTING:
                raise _too_deep(f"over {MAX_TEXT_NESTING} brackets")
        elif ch in ")]":
            depth -= 1
        elif ch in "+-":
            sign_run += 1
            if sign_run > MAX_SIGN_RUN:
                raise _too_deep(f"over {MAX_SIGN_RUN} signs in a row")
        elif not ch.isspace():
            sign_run = 0
        if nots > MAX_TEXT_NOTS:
            raise _too_deep(f"over {MAX_TEXT_NOTS} NOTs")


def guard_json(tree: Any) -> None:
    """Refuse cql2-json nested past MAX_JSON_NESTING (objects and arrays), walked without
    recursion, before the native parser walks it with."""
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_NESTING:
            raise _too_deep(f"over {MAX_JSON_NESTING} levels of objects and arrays")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def parse(text_or_json: str, lang: str | None) -> dict[str, Any] | bool:
    """A filter in cql2-text (default) or cql2-json, as the library's JSON tree."""
    source: Any = text_or_json
    if lang == "cql2-json":
        try:
            source = json.loads(text_or_json)
        except (ValueError, RecursionError) as exc:
            raise InvalidInput(f"invalid cql2-json filter: {exc}", field="filter") from exc
        guard_json(source)
    else:
        guard_text(source)
    try:
        tree = cql2.Expr(source).to_json()
    except Exception as exc:  # the parser's own message says where and what
        raise InvalidInput(f"invalid {lang or 'cql2-text'} filter: {exc}", field="filter") from exc
    if isinstance(tree, bool):  # `TRUE` / `FALSE` alone
        return tree
    if not isinstance(tree, dict):
        raise InvalidInput("the filter must be a predicate", field="filter")
    return dict(tree)


def to_sql(tree: Any, queryables: dict[str, Queryable]) -> Sql:
    """The filter as SQL over the queryables, its literals bound as :cql_N."""
    build = _Build(queryables)
    return Sql(_node(tree, build, 0), build.params)


def _property(arg: Any, build: _Build) -> Queryable:
    name = arg["property"]
    found = build.queryables.get(name) if isinstance(name, str) else None
    if found is None:
        raise InvalidInput(
            f"{name!r} is not queryable here; queryables: {', '.join(sorted(build.queryables))}",
            field="filter",
        )
    return found


def _describe(arg: Any) -> str:
    text = json.dumps(arg, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _operand(arg: Any, build: _Build) -> Operand:
    """Any operand the translation supports, typed: a queryable or a literal."""
    if isinstance(arg, dict) and "property" in arg:
        q = _property(arg, build)
        return Operand(q.sql, q.type)
    if isinstance(arg, dict) and ("timestamp" in arg or "date" in arg):
        return _instant(arg.get("timestamp", arg.get("date")), build)
    if isinstance(arg, dict) and ("bbox" in arg or "type" in arg):
        return Operand(_geometry(arg, build), "geometry")
    if isinstance(arg, bool):
        return Operand(build.bind(arg), "boolean")
    if isinstance(arg, int | float):
        if not math.isfinite(arg) or abs(arg) > 1e15:
            raise InvalidInput(f"the number {arg!r} is out of range", field="filter")
        return Operand(build.bind(arg), "number")
    if isinstance(arg, str):
        return Operand(build.bind(arg), "string")
    if arg is None:
        return Operand("NULL", "null")
    raise InvalidInput(f"unsupported value in the filter: {_describe(arg)}", field="filter")


def _typed(arg: Any, build: _Build, want: str, what: str) -> Operand:
    """An operand that must be of type `want`; a string literal is read as a timestamp
    where one is wanted."""
    if want == "timestamp" and isinstance(arg, str):
        return _instant(arg, build)
    found = _operand(arg, build)
    if found.type != want:
        raise InvalidInput(
            f"{what}: {_describe(arg)} is a {found.type}, not a {want}", field="filter"
        )
    return found


def _instant(value: Any, build: _Build) -> Operand:
    """A timestamp literal (an RFC 3339 string) as a bound timestamptz."""
    return Operand("CAST(" + build.bind(_time(value)) + " AS timestamptz)", "timestamp")


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput(f"{_describe(value)} is not a timestamp", field="filter")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{value!r} is not a timestamp", field="filter") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _geometry(arg: dict[str, Any], build: _Build) -> str:
    if "bbox" in arg:
        box = arg["bbox"]
        if not isinstance(box, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in box
        ):
            raise InvalidInput("a BBOX has four (or six) numbers", field="filter")
        if len(box) == 6:
            box = [box[0], box[1], box[3], box[4]]
        if (
            len(box) != 4
            or not all(math.isfinite(v) for v in box)
            or not (-180 <= box[0] <= box[2] <= 180 and -90 <= box[1] <= box[3] <= 90)
        ):
            raise InvalidInput(
                "a BBOX is minlon, minlat, maxlon, maxlat in CRS84 (within -180..180, -90..90)",
                field="filter",
            )
        return (
            f"ST_MakeEnvelope({build.bind(float(box[0]))}, {build.bind(float(box[1]))}, "
            f"{build.bind(float(box[2]))}, {build.bind(float(box[3]))}, 4326)"
        )
    try:
        geom = parse_geometry(arg, epsg=4326, max_vertices=MAX_LITERAL_VERTICES, field="filter")
    except InvalidGeometry as exc:
        raise InvalidInput(f"a geometry in the filter: {exc.message}", field="filter") from exc
    return f"ST_GeomFromText({build.bind(geom.wkt)}, 4326)"


def _period(arg: Any, build: _Build) -> tuple[str, str]:
    """A temporal operand as (start, end) SQL: an interval, or an instant twice."""
    if isinstance(arg, dict) and "interval" in arg:
        ends = arg["interval"]
        if not isinstance(ends, list) or len(ends) != 2:
            raise InvalidInput(
                "an INTERVAL has two ends (a date, a timestamp or '..')", field="filter"
            )
        start, end = ends
        return _endpoint(start, build, "-infinity"), _endpoint(end, build, "infinity")
    instant = _typed(arg, build, "timestamp", "a temporal operator").sql
    return instant, instant


def _endpoint(value: Any, build: _Build, open_end: str) -> str:
    if value in ("..", None):
        return f"'{open_end}'::timestamptz"  # a constant, not input
    return _typed(value, build, "timestamp", "an INTERVAL's end").sql


def _dwithin(args: list[Any], build: _Build) -> str:
    """S_DWITHIN(a, b, distance[, units]): geodesic metres (geography), so a 500 m question
    means 500 m on the ground at any latitude."""
    # (its arity, 3 or 4, is checked by the caller)
    if (
        not isinstance(args[2], int | float)
        or isinstance(args[2], bool)
        or not math.isfinite(args[2])
    ):
        raise InvalidInput("S_DWITHIN(geometry, geometry, distance[, meters])", field="filter")
    unit = args[3]["property"] if len(args) == 4 and isinstance(args[3], dict) else "meters"
    factor = DISTANCE_UNITS.get(str(unit).lower())
    if factor is None:
        raise InvalidInput(f"S_DWITHIN units: one of {', '.join(DISTANCE_UNITS)}", field="filter")
    metres = float(args[2]) * factor
    if not 0 <= metres <= MAX_DWITHIN_M:
        raise InvalidInput(f"S_DWITHIN distance: 0 to {MAX_DWITHIN_M:.0f} m", field="filter")
    a = _typed(args[0], build, "geometry", "S_DWITHIN").sql
    b = _typed(args[1], build, "geometry", "S_DWITHIN").sql
    return f"ST_DWithin(({a})::geography, ({b})::geography, {build.bind(metres)})"


def _arity(op: str, args: Any, counts: tuple[int, ...]) -> list[Any]:
    if not isinstance(args, list) or len(args) not in counts:
        wanted = " or ".join(str(n) for n in counts)
        raise InvalidInput(f"{op!r} takes {wanted} arguments", field="filter")
    return args


def _compared(op: str, left: Any, right: Any, build: _Build) -> tuple[Operand, Operand]:
    """Two operands of one comparable type. The property's side (if any) names the type the
    other must have (a string literal beside a timestamp is a timestamp); geometries and
    nulls are not compared (IS NULL asks the latter)."""
    right_first = _is_property(right) and not _is_property(left)
    anchor = _operand(right if right_first else left, build)
    if anchor.type in ("geometry", "null"):
        raise InvalidInput(f"{op!r} does not compare {anchor.type} values", field="filter")
    if op not in ("=", "<>") and anchor.type == "boolean":
        raise InvalidInput(f"{op!r} does not order booleans", field="filter")
    other = _typed(left if right_first else right, build, anchor.type, repr(op))
    return (other, anchor) if right_first else (anchor, other)


def _is_property(arg: Any) -> bool:
    return isinstance(arg, dict) and "property" in arg


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
        raise InvalidInput(f"not a predicate: {_describe(node)}", field="filter")
    op = str(node["op"]).lower()
    args = node.get("args", [])
    if op in ("and", "or"):
        if not isinstance(args, list) or len(args) < 2:
            raise InvalidInput(f"{op!r} takes two or more predicates", field="filter")
        return "(" + f" {op.upper()} ".join(_node(a, build, depth + 1) for a in args) + ")"
    if op == "not":
        (inner,) = _arity(op, args, (1,))
        return "(NOT " + _node(inner, build, depth + 1) + ")"
    if op in COMPARISONS:
        left, right = _arity(op, args, (2,))
        a, b = _compared(op, left, right, build)
        return f"({a.sql} {COMPARISONS[op]} {b.sql})"
    if op == "like":
        left, right = _arity(op, args, (2,))
        a = _typed(left, build, "string", "LIKE")
        return f"({a.sql} LIKE {_typed(right, build, 'string', 'LIKE').sql})"
    if op == "between":
        value, low, high = _arity(op, args, (3,))
        a = _operand(value, build)
        if a.type not in ("number", "timestamp"):
            raise InvalidInput(f"BETWEEN takes numbers or times, not {a.type}", field="filter")
        lo, hi = (_typed(v, build, a.type, "BETWEEN").sql for v in (low, high))
        return f"({a.sql} BETWEEN {lo} AND {hi})"
    if op == "in":
        value, members = _arity(op, args, (2,))
        a = _operand(value, build)
        if not isinstance(members, list) or not members or a.type in ("geometry", "null"):
            raise InvalidInput("IN takes a value and a non-empty list of values", field="filter")
        listed = ", ".join(_typed(v, build, a.type, "IN").sql for v in members)
        return f"({a.sql} IN ({listed}))"
    if op == "isnull":
        (value,) = _arity(op, args, (1,))
        return f"({_operand(value, build).sql} IS NULL)"
    if op in SPATIAL:
        left, right = _arity(op, args, (2,))
        a = _typed(left, build, "geometry", op.upper())
        return f"{SPATIAL[op]}({a.sql}, {_typed(right, build, 'geometry', op.upper()).sql})"
    if op == "s_dwithin":
        return _dwithin(_arity(op, args, (3, 4)), build)
    if op in TEMPORAL:
        left, right = _arity(op, args, (2,))
        (a0, a1), (b0, b1) = _period(left, build), _period(right, build)
        return "(" + TEMPORAL[op].format(a0=a0, a1=a1, b0=b0, b1=b1) + ")"
    raise InvalidInput(f"the operator {op!r} is not supported here", field="filter")
