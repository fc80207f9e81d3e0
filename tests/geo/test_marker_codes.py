"""The marker-code grammar, exhaustively over the range codes take on VN-CN."""

from __future__ import annotations

import itertools
import random

import pytest

from app.geo.marker_codes import (
    InvalidMarkerCode,
    MarkerCode,
    MarkerKind,
    canonical_marker_code,
    parse_marker_code,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", MarkerCode(0)),
        ("1378", MarkerCode(1378)),
        ("1089", MarkerCode(1089)),
        ("1088/2", MarkerCode(1088, 2)),
        ("1053/1", MarkerCode(1053, 1)),
        ("836(1)", MarkerCode(836, 0, 1)),
        ("836(2)", MarkerCode(836, 0, 2)),
        ("944/1(2)", MarkerCode(944, 1, 2)),
        ("12(3)", MarkerCode(12, 0, 3)),
        ("M834/1", MarkerCode(834, 1)),
        ("m834/1", MarkerCode(834, 1)),
        ("M 1089", MarkerCode(1089)),
        (" 1088 / 2 ", MarkerCode(1088, 2)),
        ("944/1 (2)", MarkerCode(944, 1, 2)),
        ("0012", MarkerCode(12)),
    ],
)
def test_valid_codes_parse(text: str, expected: MarkerCode) -> None:
    assert parse_marker_code(text) == expected


@pytest.mark.parametrize(
    "junk",
    [
        "",
        " ",
        "M",
        "abc",
        "12a",
        "-1",
        "1.5",
        "1088/",
        "/2",
        "1088/0",
        "836()",
        "836(0)",
        "836(4)",
        "836(1",
        "8362)",
        "1088/2/3",
        "836(1)(2)",
        "1088//2",
        "MM1089",
        "1089M",
        "12345",
        "1088/1000",
        "944(2)/1",
        "1 089",
        "1248+470",
        "1042-1053",
        "١٠٨٩",
        "836(12)",
        "1088/-1",
        "NaN",
        "None",
    ],
)
def test_junk_is_refused_with_the_valid_forms(junk: str) -> None:
    with pytest.raises(InvalidMarkerCode) as err:
        parse_marker_code(junk)
    assert "1088/2" in str(err.value)  # the message shows what a valid code looks like


def test_every_code_round_trips_through_its_canonical_text() -> None:
    for number, aux, bank in itertools.product(range(1379), range(4), range(4)):
        code = MarkerCode(number, aux, bank)
        assert parse_marker_code(str(code)) == code
        assert parse_marker_code(f"M{code}") == code
        assert canonical_marker_code(f" M{code} ") == str(code)


def test_order_is_number_then_auxiliary_then_bank() -> None:
    written = [
        "1089",
        "1088/2",
        "836(2)",
        "1088",
        "944/1(2)",
        "836(1)",
        "1088/1",
        "0",
        "944/1(1)",
        "944",
        "1378",
        "944/1",
        "836/1",
    ]
    ordered = sorted(written, key=parse_marker_code)
    assert ordered == [
        "0",
        "836(1)",
        "836(2)",
        "836/1",
        "944",
        "944/1",
        "944/1(1)",
        "944/1(2)",
        "1088",
        "1088/1",
        "1088/2",
        "1089",
        "1378",
    ]


def test_order_matches_parts_order_on_random_samples() -> None:
    rng = random.Random(7)
    codes = [
        MarkerCode(rng.randrange(1379), rng.randrange(3), rng.randrange(4)) for _ in range(2000)
    ]
    by_text = sorted(codes, key=lambda c: parse_marker_code(str(c)))
    by_parts = sorted(codes, key=lambda c: (c.number, c.aux, c.bank))
    assert by_text == by_parts


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("1089", MarkerKind.main),
        ("1088/2", MarkerKind.auxiliary),
        ("836(2)", MarkerKind.double),
        ("944/1(2)", MarkerKind.double),
        ("12(3)", MarkerKind.triple),
    ],
)
def test_kind_follows_from_the_code(text: str, kind: MarkerKind) -> None:
    assert parse_marker_code(text).kind is kind
