from __future__ import annotations

import pytest

from app.geo.chainage import (
    ChainageRef,
    InvalidChainage,
    is_range,
    parse_chainage,
    parse_range,
    split_border_prefix,
)
from app.geo.marker_codes import MarkerCode


@pytest.mark.parametrize(
    ("text", "marker", "offset"),
    [
        ("1248+470", MarkerCode(1248), 470.0),
        ("104(2)+500", MarkerCode(104, 0, 2), 500.0),
        ("217+367m", MarkerCode(217), 367.0),
        ("104(2)+3,800m", MarkerCode(104, 0, 2), 3800.0),
        ("104(2)+3.800m", MarkerCode(104, 0, 2), 3800.0),
        ("1088/2 + 12.5 m", MarkerCode(1088, 2), 12.5),
        ("M1089", MarkerCode(1089), 0.0),
        ("1089+0", MarkerCode(1089), 0.0),
    ],
)
def test_references(text: str, marker: MarkerCode, offset: float) -> None:
    assert parse_chainage(text) == ChainageRef(marker, offset)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("1042-1053/1", "1042", "1053/1"),
        ("1248+470-1253", "1248+470", "1253"),
        ("556/1-556/2", "556/1", "556/2"),
        ("104(2)+500 to 104(2)+3,800m", "104(2)+500", "104(2)+3800"),
        ("1088/2 – 1089", "1088/2", "1089"),
        ("1173 đến 1183", "1173", "1183"),
        ("M834/1-835", "834/1", "835"),
    ],
)
def test_ranges(text: str, start: str, end: str) -> None:
    parsed = parse_range(text)
    assert (str(parsed.start), str(parsed.end)) == (start, end)
    assert is_range(text)


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "+470",
        "1248+",
        "1248+abc",
        "1248+-5",
        "x+5",
        "1248+470+5",
        "1248+1,00m",
        "1248+200000",
        "1042-",
        "-1053",
        "1042-1053-1060",
    ],
)
def test_junk(junk: str) -> None:
    with pytest.raises(InvalidChainage):
        if is_range(junk) or "-" in junk:
            parse_range(junk)
        else:
            parse_chainage(junk)


def test_border_prefix() -> None:
    assert split_border_prefix("VN-CN:1248+470") == ("VN-CN", "1248+470")
    assert split_border_prefix("vn-la : 12") == ("VN-LA", "12")
    assert split_border_prefix("1089") == (None, "1089")
    assert not is_range("1248+470")


def test_places_as_documents_write_them() -> None:
    from app.geo.chainage import split_border_prefix

    assert split_border_prefix("VN-CN:khu vực mốc 1090-1091") == ("VN-CN", "1090-1091")
    assert split_border_prefix("VN-CN:mốc 1088/2") == ("VN-CN", "1088/2")
    assert split_border_prefix("cột mốc 615") == (None, "615")
    assert split_border_prefix("VN-CN:M834/1") == ("VN-CN", "834/1")
    assert split_border_prefix("VN-CN:1248+470") == ("VN-CN", "1248+470")
