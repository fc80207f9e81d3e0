"""Chainage (lý trình) references and ranges along a border line, as text.

`1248+470` is 470 m along the line past marker 1248; `104(2)+3,800m` and `217+367m`
are the same form. A range names a stretch: `1042-1053/1`, `1248+470-1253`,
`104(2)+500 to 104(2)+3,800m`. This module only parses; resolving to geometry is SQL
(app/chainage/service.py). Written by hand: no library knows this notation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.geo.marker_codes import InvalidMarkerCode, MarkerCode, parse_marker_code

# Thousands written with a comma or a dot (`3,800`), an optional decimal part, optional `m`.
_OFFSET_RE = re.compile(r"^(\d{1,3}(?:[,.]\d{3})+|\d+)(?:\.(\d+))?\s*m?$", re.IGNORECASE | re.ASCII)
# Range separators: hyphen, en dash, em dash, "to", Vietnamese "đến".
_RANGE_SPLIT_RE = re.compile(r"\s*(?:\s(?:to|đến)\s|[-–—])\s*", re.IGNORECASE)
_BORDER_PREFIX_RE = re.compile(r"^([A-Z]{2}-[A-Z]{2})\s*:\s*(.+)$", re.IGNORECASE)
# The words documents put before a place: `khu vực mốc 1090-1091`, `cột mốc 615`, `M834/1`.
_DOCUMENT_WORDS_RE = re.compile(r"^(?:khu\s+vực\s+)?(?:(?:cột\s+)?mốc\s*|m(?=\d))", re.IGNORECASE)

VALID_REF_FORMS = (
    "a chainage is MARKER or MARKER+METRES, e.g. 1089, 1248+470, 104(2)+3,800m; "
    "a range is REF-REF or REF to REF, e.g. 1042-1053/1, 1248+470-1253"
)
MAX_OFFSET_M = 100_000.0


class InvalidChainage(ValueError):
    pass


@dataclass(frozen=True)
class ChainageRef:
    marker: MarkerCode
    offset_m: float = 0.0

    def __str__(self) -> str:
        return format_chainage(self.marker, self.offset_m)


@dataclass(frozen=True)
class ChainageRange:
    start: ChainageRef
    end: ChainageRef

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


def format_chainage(marker: MarkerCode | str, offset_m: float) -> str:
    metres = round(offset_m)
    return f"{marker}+{metres}" if metres else str(marker)


def _parse_offset(text: str, original: str) -> float:
    match = _OFFSET_RE.match(text.strip())
    if match is None:
        raise InvalidChainage(f"{original!r}: offset {text!r} is not metres; {VALID_REF_FORMS}")
    whole = int(re.sub(r"[,.]", "", match.group(1)))
    fraction = float(f"0.{match.group(2)}") if match.group(2) else 0.0
    value = whole + fraction
    if value > MAX_OFFSET_M:
        raise InvalidChainage(f"{original!r}: offset above {MAX_OFFSET_M:.0f} m")
    return value


def parse_chainage(text: str) -> ChainageRef:
    original = text
    marker_text, plus, offset_text = text.strip().partition("+")
    if not plus and re.fullmatch(r"\S+\s+\d[\d.,]*", marker_text):
        # `1248+470` in a URL query arrives as `1248 470`: a + there means a space.
        raise InvalidChainage(
            f"{original!r}: a chainage is MARKER+METRES (1248+470); in a URL query the + "
            "must be written %2B (ref=1248%2B470), or it arrives as a space"
        )
    try:
        marker = parse_marker_code(marker_text)
    except InvalidMarkerCode as exc:
        raise InvalidChainage(f"{original!r}: {exc}; {VALID_REF_FORMS}") from exc
    if not plus:
        return ChainageRef(marker)
    return ChainageRef(marker, _parse_offset(offset_text, original))


def parse_range(text: str) -> ChainageRange:
    parts = _RANGE_SPLIT_RE.split(text.strip())
    if len(parts) != 2 or not all(parts):
        raise InvalidChainage(f"{text!r} is not a range; {VALID_REF_FORMS}")
    return ChainageRange(parse_chainage(parts[0]), parse_chainage(parts[1]))


def split_border_prefix(text: str) -> tuple[str | None, str]:
    """`VN-CN:1089` -> ("VN-CN", "1089"); text without a prefix -> (None, text). The words
    documents write before a place are dropped: `VN-CN:khu vực mốc 1090-1091` is 1090-1091."""
    match = _BORDER_PREFIX_RE.match(text.strip())
    if match is None:
        return None, drop_document_words(text)
    return match.group(1).upper(), drop_document_words(match.group(2))


def drop_document_words(text: str) -> str:
    """`khu vực mốc 1090-1091` -> `1090-1091`, `cột mốc 615` -> `615`, `M834/1` -> `834/1`."""
    return _DOCUMENT_WORDS_RE.sub("", text.strip())


def is_range(text: str) -> bool:
    """Whether `text` names a stretch (has a range separator) rather than one point."""
    return len(_RANGE_SPLIT_RE.split(text.strip())) > 1
