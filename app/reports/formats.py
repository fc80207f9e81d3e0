"""The summary as CSV (UTF-8 with a byte-order mark, so Excel shows Vietnamese diacritics)
and as XLSX (openpyxl: one sheet per table, bold frozen headers, number formats)."""

from __future__ import annotations

import csv
import io
from typing import Any

from app.reports.service import Table
from app.text import spreadsheet_cell

UTF8_BOM = "\ufeff"
NUMBER_FORMATS = {
    "count": "0",
    "opened": "0",
    "resolved": "0",
    "open_at_end": "0",
    "median_days_to_resolve": "0.0",
    "p90_days_to_resolve": "0.0",
    "planned_km": "0.000",
    "completed_km": "0.000",
}


def table_csv(table: Table) -> bytes:
    out = io.StringIO()
    out.write(UTF8_BOM)
    writer = csv.DictWriter(
        out, fieldnames=table.columns, extrasaction="ignore", lineterminator="\r\n"
    )
    writer.writeheader()
    for row in table.rows:
        writer.writerow({k: spreadsheet_cell(v) for k, v in row.items()})
    return out.getvalue().encode("utf-8")


def tables_xlsx(tables: list[Table], *, title: str) -> bytes:
    # Imported here: openpyxl adds ~11 MB to every worker, and only XLSX answers need it.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(table.name[:31])
        sheet.append(table.columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_cell(row.get(c)) for c in table.columns])
            for cell in sheet[sheet.max_row]:
                if cell.data_type == "f":  # openpyxl reads a str starting with = as a formula
                    cell.data_type = "s"
        for index, column in enumerate(table.columns, start=1):
            letter = get_column_letter(index)
            fmt = NUMBER_FORMATS.get(column)
            if fmt:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = fmt
            width = max([len(column)] + [len(str(r.get(column) or "")) for r in table.rows[:200]])
            sheet.column_dimensions[letter].width = min(max(width + 2, 8), 60)
        sheet.freeze_panes = "A2"
    workbook.properties.title = title
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    return value if value is None or isinstance(value, int | float | str) else str(value)
