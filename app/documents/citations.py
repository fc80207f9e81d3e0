"""Vietnamese administrative document citations, as the reports write them:
`Công văn số 1232/UBND-THNC ngày 05/10/2020 của UBND tỉnh`, `Chỉ thị số 1326/CT-TTg`,
`Đề án số 1740/ĐA-BNG-BGDG-m ngày 06/6/2019 của Bộ Ngoại giao`.

Written here: no library parses this form (Decree 30/2020/NĐ-CP's citation of a document
by kind, number, date and issuer); it is a handful of labels and one pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from app.text import fold, nfc

# kind -> the label a citation opens with. Order matters for parsing only through the
# folded lookup below (labels are distinct once folded).
LABELS: dict[str, str] = {
    "bao_cao": "Báo cáo",
    "bien_ban": "Biên bản",
    "chi_thi": "Chỉ thị",
    "cong_ham": "Công hàm",
    "cong_van": "Công văn",
    "de_an": "Đề án",
    "ke_hoach": "Kế hoạch",
    "nghi_quyet": "Nghị quyết",
    "quyet_dinh": "Quyết định",
    "thong_bao": "Thông báo",
    "thu": "Thư",
    "other": "Văn bản",
}
# Other names the reports use for the same kinds.
_ALIASES = {"van ban": "cong_van", "thu thong bao": "thu", "bien ban hoi dam": "bien_ban"}
_BY_FOLDED = {fold(label): kind for kind, label in LABELS.items() if kind != "other"} | _ALIASES

_CITATION = re.compile(
    r"^(?P<label>[^\d]+?)\s+(?:số\s*:?\s*)?(?P<number>\d[^\s,]*)"
    r"(?:\s+ngày\s+(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4}))?"
    r"(?:\s+của\s+(?P<issuer>.+?))?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Citation:
    kind: str
    number: str
    issued_on: date | None
    issuer: str | None


def parse_citation(text: str) -> Citation:
    """`Công văn số 1232/UBND-THNC ngày 05/10/2020 của UBND tỉnh` -> its parts. ValueError
    with a hint when the text does not read as a citation."""
    found = _CITATION.match(nfc(text).strip())
    if found is None:
        raise ValueError(
            "a citation reads `<kind> số <number> [ngày dd/mm/yyyy] [của <issuer>]`, "
            "for example `Công văn số 1232/UBND-THNC ngày 05/10/2020 của UBND tỉnh`"
        )
    kind = _BY_FOLDED.get(fold(found["label"]))
    if kind is None:
        known = ", ".join(LABELS[k] for k in sorted(LABELS) if k != "other")
        raise ValueError(f"unknown document kind {found['label']!r}; known: {known}")
    issued = None
    if found["y"]:
        try:
            issued = date(int(found["y"]), int(found["m"]), int(found["d"]))
        except ValueError as exc:
            raise ValueError(f"the date of {text!r} is not a day: {exc}") from None
    return Citation(kind, found["number"], issued, found["issuer"])


def format_citation(kind: str, number: str | None, issued_on: date | None) -> str:
    """The name a report gives a document: `Công văn số 1232/UBND-THNC ngày 05/10/2020`."""
    label = LABELS.get(kind, LABELS["other"])
    text = f"{label} số {number}" if number else label
    if issued_on is not None:
        text += f" ngày {issued_on:%d/%m/%Y}"
    return text
