"""Boundary marker codes (cột mốc) as written in the treaties' documents.

Grammar (DOMAIN.md): NUMBER, optional `/AUX` (auxiliary marker after main NUMBER),
optional `(BANK)` (1..3, one marker per bank of a boundary river or confluence).
Documents often prefix `M`: `M834/1` is `834/1`. Order is by number, then auxiliary
index (none before /1 before /2), then bank index.

Written by hand because no library knows this grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_NUMBER = 9999
MAX_AUX = 99
MAX_BANK = 3

_CODE_RE = re.compile(
    r"^[Mm]?\s*(\d{1,5})(?:\s*/\s*(\d{1,3}))?(?:\s*\(\s*(\d{1,2})\s*\))?$", re.ASCII
)

VALID_FORMS = (
    "a marker code is NUMBER, NUMBER/AUX, NUMBER(BANK) or NUMBER/AUX(BANK), "
    "e.g. 1089, 1088/2, 836(2), 944/1(2); an M prefix is accepted (M834/1)"
)


class MarkerKind(StrEnum):
    main = "main"
    auxiliary = "auxiliary"
    double = "double"
    triple = "triple"


class InvalidMarkerCode(ValueError):
    """A code that does not follow the grammar; the message says what a valid one looks like."""


@dataclass(frozen=True, order=True)
class MarkerCode:
    """Parsed code. Field order is the sort order; 0 means 'no auxiliary' / 'no bank'."""

    number: int
    aux: int = 0
    bank: int = 0

    def __str__(self) -> str:
        text = str(self.number)
        if self.aux:
            text += f"/{self.aux}"
        if self.bank:
            text += f"({self.bank})"
        return text

    @property
    def kind(self) -> MarkerKind:
        """The kind the code implies. A bank index of 3 proves a triple; 1 or 2 a double."""
        if self.bank == MAX_BANK:
            return MarkerKind.triple
        if self.bank:
            return MarkerKind.double
        return MarkerKind.auxiliary if self.aux else MarkerKind.main

    @property
    def position(self) -> MarkerCode:
        """The marker position the code stands at: banks of one river crossing share it."""
        return MarkerCode(self.number, self.aux, 0)


def parse_marker_code(text: str) -> MarkerCode:
    if not isinstance(text, str):
        raise InvalidMarkerCode(f"marker code must be text; {VALID_FORMS}")
    match = _CODE_RE.match(text.strip())
    if match is None:
        raise InvalidMarkerCode(f"{text!r} is not a marker code: {VALID_FORMS}")
    number = int(match.group(1))
    aux = int(match.group(2)) if match.group(2) is not None else 0
    bank = int(match.group(3)) if match.group(3) is not None else 0
    if number > MAX_NUMBER:
        raise InvalidMarkerCode(f"{text!r}: marker number above {MAX_NUMBER}; {VALID_FORMS}")
    if match.group(2) is not None and not 1 <= aux <= MAX_AUX:
        raise InvalidMarkerCode(f"{text!r}: auxiliary index must be 1..{MAX_AUX}; {VALID_FORMS}")
    if match.group(3) is not None and not 1 <= bank <= MAX_BANK:
        raise InvalidMarkerCode(f"{text!r}: bank index must be 1..{MAX_BANK}; {VALID_FORMS}")
    return MarkerCode(number, aux, bank)


def canonical_marker_code(text: str) -> str:
    return str(parse_marker_code(text))
