"""What an import answers (its response model; service.ImportReport is what it counts)."""

from __future__ import annotations

from app.answers import Answer


class RowProblem(Answer):
    row: int  # 1 is the first data row
    field: str
    message: str


class ImportResult(Answer):
    kind: str
    dry_run: bool  # nothing was written
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: list[RowProblem]  # each refused row, with its first problem
