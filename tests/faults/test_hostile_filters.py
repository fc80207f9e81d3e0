"""Hostile CQL2 against the real `bordermark serve` process: nesting the native parser
would recurse on until its stack overflows (a segfault took the process down at 2,000
parentheses), type-confused operands that reached PostgreSQL and came back 500, and a
property-based generator of deep and wide filters, text and JSON. Every answer is a 200
or a 400 problem, and the process is still serving after each.

`make test` runs the generators briefly; `make fuzz` runs them longer
(BORDERMARK_FUZZ_EXAMPLES)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.errors import InvalidInput
from app.layers import LAYERS
from app.ogc.cql2_sql import parse, to_sql
from tests.conftest import Tokens, bearer
from tests.faults.conftest import FaultDatabase, Service

EXAMPLES = int(os.environ.get("BORDERMARK_FUZZ_EXAMPLES", "5"))
ITEMS = "/ogc/collections/{}/items"

# Each shape nested 3,000 deep (the parser crashed from 2,000): (text or JSON, builder).
DEEP_TEXT = {
    "parentheses": lambda n: "(" * n + "title='x'" + ")" * n,
    "NOT": lambda n: "NOT " * n + "title='x'",
    "NOT (": lambda n: "NOT (" * n + "title='x'" + ")" * n,
    "function arguments": lambda n: "f(" * n + "1" + ")" * n + " = 1",
    "arrays": lambda n: "title IN (" + "(" * n + "'x'" + ")" * n + ")",
    "signs": lambda n: "number = " + "-" * n + "1",
}


def _deep_json(kind: str, n: int) -> Any:
    tree: Any = {"op": "=", "args": [{"property": "title"}, "x"]}
    for _ in range(n):
        if kind == "not":
            tree = {"op": "not", "args": [tree]}
        elif kind == "arrays":
            tree = [tree]
        else:
            tree = {"x": tree}
    return tree if kind == "not" else {"op": "and", "args": [tree, True]}


def _json_text(tree: Any) -> str:
    try:
        return json.dumps(tree)
    except RecursionError:  # json.dumps recurses too: write the deep ones from outside in
        return _dumps_deep(tree)


def _dumps_deep(tree: Any) -> str:
    opening: list[str] = []
    closing: list[str] = []
    while True:
        if isinstance(tree, list) and len(tree) == 1:
            opening.append("[")
            closing.append("]")
            tree = tree[0]
        elif isinstance(tree, dict) and tree.get("op") == "not":
            opening.append('{"op": "not", "args": [')
            closing.append("]}")
            tree = tree["args"][0]
        elif isinstance(tree, dict) and list(tree) == ["x"]:
            opening.append('{"x": ')
            closing.append("}")
            tree = tree["x"]
        elif isinstance(tree, dict) and tree.get("op") == "and" and tree["args"][1] is True:
            opening.append('{"op": "and", "args": [')
            closing.append(", true]}")
            tree = tree["args"][0]
        else:
            return "".join(opening) + json.dumps(tree) + "".join(reversed(closing))


@pytest.fixture(scope="module")
def service(fault_db: FaultDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One process for the module: each test asserts it is still standing."""
    svc = Service(fault_db.url, tmp_path_factory.mktemp("hostile") / "service.log")
    svc.start()
    yield svc
    svc.stop()


def _ask(service: Service, token: str, collection: str, flt: str, lang: str) -> httpx.Response:
    return httpx.get(
        service.base + ITEMS.format(collection),
        params={"filter": flt, "filter-lang": lang, "limit": "5"},
        headers=bearer(token),
        timeout=30,
    )


def _assert_standing(service: Service) -> None:
    assert service.process is not None and service.process.poll() is None, "the process died"
    assert httpx.get(service.base + "/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize("shape", sorted(DEEP_TEXT))
def test_deep_cql2_text_is_a_400_and_the_process_stands(
    service: Service, tokens: Tokens, shape: str
) -> None:
    flt = DEEP_TEXT[shape](3000)
    assert len(flt) < 20_000  # under the parameter's own limit: the guard must catch it
    r = _ask(service, tokens.reporter, "markers", flt, "cql2-text")
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "nests too deeply" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "filter"
    _assert_standing(service)


# As deep as 20,000 characters of the parameter allow.
@pytest.mark.parametrize(("kind", "depth"), [("not", 750), ("arrays", 3000), ("objects", 2500)])
def test_deep_cql2_json_is_a_400_and_the_process_stands(
    service: Service, tokens: Tokens, kind: str, depth: int
) -> None:
    flt = _dumps_deep(_deep_json(kind, depth))
    assert len(flt) < 20_000
    assert flt.count("{") == flt.count("}") and flt.count("[") == flt.count("]")
    r = _ask(service, tokens.reporter, "markers", flt, "cql2-json")
    assert r.status_code == 400, r.text
    assert "too deeply" in r.json()["detail"] or "recursion" in r.json()["detail"]
    _assert_standing(service)


def test_nesting_a_real_filter_needs_still_parses(service: Service, tokens: Tokens) -> None:
    """The guard refuses only absurd nesting: 7 levels of parentheses around a real
    filter, and NOT NOT, are answered."""
    flt = "(" * 6 + "code = '1089' AND NOT NOT (border = 'VN-CN')" + ")" * 6
    r = _ask(service, tokens.analyst, "markers", flt, "cql2-text")
    assert r.status_code == 200, r.text
    assert [f["properties"]["code"] for f in r.json()["features"]] == ["1089"]


# The probes that came back 500 (and closed the connection): each a 400 that
# names the filter, or the parameter, at fault.
TYPE_CONFUSED = [
    ("incidents", "occurred_at LIKE 'x%'", "cql2-text", "not a string"),
    ("incidents", "distance_to_line_m LIKE 'x%'", "cql2-text", "not a string"),
    ("incidents", "S_INTERSECTS(geometry, title)", "cql2-text", "not a geometry"),
    ("incidents", '{"op":"not","args":[]}', "cql2-json", "takes 1"),
    ("incidents", '{"op":"=","args":[]}', "cql2-json", "takes 2"),
    ("incidents", '{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":["a",1,2,3]}]}',
     "cql2-json", "BBOX"),
    ("incidents", '{"op":"t_after","args":[{"property":"occurred_at"},{"interval":["2020-01-01"]}]}',
     "cql2-json", "INTERVAL"),
    ("incidents", "title > TIMESTAMP('2020-01-01T00:00:00Z')", "cql2-text", "not a string"),
    ("incidents", "occurred_at = 'yesterday'", "cql2-text", "not a timestamp"),
    ("markers", "S_INTERSECTS(geometry, BBOX(-1e308, -1e308, 1e308, 1e308))", "cql2-text", "BBOX"),
    ("incidents", "crosses_line < true", "cql2-text", "booleans"),
    ("incidents", "title = NULL", "cql2-text", "null"),
    ("incidents", "S_INTERSECTS(geometry, POINT(1e400 0))", "cql2-text", "geometry"),
    ("incidents", '{"op":"s_intersects","args":[{"property":"geometry"},{"type":"LineString","coordinates":[[106.7,22.0,5.0],[106.71,22.0]]}]}',
     "cql2-json", "geometry"),
    ("incidents", '{"op":"and","args":{"a":1}}', "cql2-json", "invalid cql2-json"),
    ("incidents", '{"op":"in","args":[{"property":"title"},[]]}', "cql2-json", "IN"),
]  # fmt: skip


@pytest.mark.parametrize(("collection", "flt", "lang", "words"), TYPE_CONFUSED)
def test_type_confused_filters_are_400s_naming_the_part(
    service: Service, tokens: Tokens, collection: str, flt: str, lang: str, words: str
) -> None:
    r = _ask(service, tokens.analyst, collection, flt, lang)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.json()["detail"], r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "filter"
    assert r.headers.get("connection") != "close"  # the keep-alive connection survives
    _assert_standing(service)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "0,0,1e9,1e9", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/9215"}, "bbox"),
        ({"bbox": "-1e308,-1e308,1e308,1e308"}, "bbox"),
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"sortby": "geometry"}, "sortby"),
    ],
)
def test_invalid_ogc_parameters_are_400s(
    service: Service, tokens: Tokens, params: dict[str, str], field: str
) -> None:
    r = httpx.get(
        service.base + ITEMS.format("markers"), params=params, headers=bearer(tokens.analyst)
    )
    assert r.status_code == 400, r.text
    problem = r.json()
    named = [e["field"] for e in problem.get("errors", [])] + [problem.get("field")]
    assert field in named, problem
    _assert_standing(service)


# A generator of filters: well-formed trees over the incidents' queryables with operands of
# every type in every place (the type confusions), arguments of the wrong count or shape,
# and deep wrappers of every kind the parser recurses on.
PROPERTIES = [*LAYERS["incidents"].queryables, "nope"]
OPERATORS = ["=", "<>", "<", ">=", "like", "between", "in", "isnull", "s_intersects",
             "s_within", "s_dwithin", "t_after", "t_during", "t_intersects", "and", "or",
             "not", "casei", "+"]  # fmt: skip
numbers = st.one_of(st.integers(-(10**20), 10**20), st.floats(allow_nan=True, allow_infinity=True))
literals = st.one_of(
    numbers,
    st.text(max_size=8),
    st.booleans(),
    st.none(),
    st.builds(lambda t: {"timestamp": t}, st.sampled_from(["2020-01-01T00:00:00Z", "x", ""])),
    st.builds(lambda t: {"date": t}, st.sampled_from(["2020-01-01", "2020-13-45"])),
    st.builds(lambda b: {"bbox": b}, st.lists(st.one_of(numbers, st.text(max_size=2)), max_size=7)),
    st.builds(lambda i: {"interval": i}, st.lists(st.sampled_from(["..", "2020-01-01", 5, None]), max_size=3)),
    st.builds(
        lambda c: {"type": "Point", "coordinates": c}, st.lists(numbers, min_size=0, max_size=4)
    ),
    st.builds(
        lambda c: {"type": "LineString", "coordinates": c},
        st.lists(st.lists(numbers, min_size=1, max_size=3), max_size=4),
    ),
)  # fmt: skip
operands = st.one_of(literals, st.builds(lambda p: {"property": p}, st.sampled_from(PROPERTIES)))
leaves = st.builds(
    lambda op, args: {"op": op, "args": args},
    st.sampled_from(OPERATORS),
    st.one_of(st.lists(operands, max_size=4), operands),
)
trees = st.recursive(
    leaves,
    lambda children: st.builds(
        lambda op, args: {"op": op, "args": args},
        st.sampled_from(["and", "or", "not"]),
        st.lists(children, max_size=4),
    ),
    max_leaves=40,
)
deep_json = st.builds(
    _deep_json, st.sampled_from(["not", "arrays", "objects"]), st.integers(0, 4000)
)
TEXT_TOKENS = ["(", ")", "[", "]", "NOT", "-", "+", "AND", "OR", "title", "occurred_at",
               "geometry", "distance_to_line_m", "=", "<", "'x'", "''", "'", "1", "-2.5e400",
               ",", "S_INTERSECTS", "S_DWITHIN", "BBOX", "POINT", "LINESTRING", "TIMESTAMP",
               "DATE", "INTERVAL", "LIKE", "IN", "IS", "NULL", "BETWEEN", "T_AFTER", "true",
               "'2020-01-01'", "casei"]  # fmt: skip
text_soup = st.lists(st.sampled_from(TEXT_TOKENS), max_size=120).map(" ".join)
deep_text = st.builds(
    lambda shape, n, inner: DEEP_TEXT[shape](n).replace("title='x'", inner or "title='x'"),
    st.sampled_from(sorted(DEEP_TEXT)),
    st.integers(0, 3000),
    text_soup,
)


def _translated_or_refused(flt: str, lang: str) -> None:
    """In process: a filter is translated, or refused with InvalidInput; nothing else."""
    with contextlib.suppress(InvalidInput):
        to_sql(parse(flt, lang), LAYERS["incidents"].queryables)


@settings(max_examples=max(200, EXAMPLES * 100), deadline=None)
@given(tree=st.one_of(trees, deep_json))
def test_generated_cql2_json_is_translated_or_refused(tree: Any) -> None:
    _translated_or_refused(_json_text(tree), "cql2-json")


@settings(max_examples=max(200, EXAMPLES * 100), deadline=None)
@given(flt=st.one_of(text_soup, deep_text))
def test_generated_cql2_text_is_translated_or_refused(flt: str) -> None:
    _translated_or_refused(flt, "cql2-text")


@settings(
    max_examples=max(40, EXAMPLES * 20),
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # each shrink step is a request: report as found
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_filters_never_fail_the_real_service(
    service: Service, tokens: Tokens, data: st.DataObject
) -> None:
    """Through the database too: a 200 or a 400, never a 5xx, and the process stands."""
    if data.draw(st.booleans(), label="json"):
        flt, lang = _json_text(data.draw(st.one_of(trees, deep_json), label="tree")), "cql2-json"
    else:
        flt, lang = data.draw(st.one_of(text_soup, deep_text), label="text"), "cql2-text"
    if len(flt) > 20_000:
        flt = flt[:20_000]
    r = _ask(service, tokens.reporter, "incidents", flt, lang)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert r.headers["content-type"] == "application/problem+json"
    assert service.process is not None and service.process.poll() is None
