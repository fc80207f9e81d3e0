"""Text normalisation: Vietnamese arrives in NFC or NFD depending on the keyboard; we store
NFC, and fold to lower-case ASCII for search that works with and without diacritics."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import BeforeValidator


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def clean(value: object) -> object:
    """NFC and trimmed, before a field's own checks: a title of three spaces is empty (and
    refused by min_length), not stored as the empty string."""
    return nfc(value).strip() if isinstance(value, str) else value


# Free text a person typed: normalised before its length is checked.
CleanText = Annotated[str, BeforeValidator(clean)]


def ascii_fold(value: str) -> str:
    """`Tràng Định` -> `Trang Dinh`: diacritics off (đ is a letter of its own), case kept."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def fold(value: str) -> str:
    """`Hàng rào Đồng Đăng` -> `hang rao dong dang`."""
    return " ".join(ascii_fold(value).lower().split())


# What a spreadsheet (Excel, LibreOffice) reads as the start of a formula in a cell opened
# from CSV: OWASP's CSV injection rule. A leading apostrophe makes the cell text, and the
# spreadsheet shows the text without it.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str) -> str:
    """`=HYPERLINK(...)` -> `'=HYPERLINK(...)`: text a spreadsheet will not evaluate."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def spreadsheet_cell(value: object) -> object:
    """A CSV cell: empty for None, text neutralised (spreadsheet_text), anything else as is."""
    if value is None:
        return ""
    return spreadsheet_text(value) if isinstance(value, str) else value
