"""One results file per sitting (a day): each bench run appends its section to
bench/results/<date>.md, and its figures to <date>.json. git log keeps what came before."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def append_run(lines: list[str], figures: dict[str, Any] | None = None) -> Path:
    """Add a run to today's file: `lines` (markdown, its first line a `# ` title, kept as
    the section's `## ` heading with the time it ended) and its `figures`."""
    now = datetime.now()
    day = now.date().isoformat()
    markdown = RESULTS / f"{day}.md"
    title = lines[0].lstrip("# ").strip() if lines and lines[0].startswith("# ") else "Run"
    body = lines[1:] if lines and lines[0].startswith("# ") else lines
    section = [f"## {now:%H:%M} {title}", *body]
    if not markdown.exists():
        section = [f"# Benchmarks, {day}", "", "One section per run, oldest first.", "", *section]
    with markdown.open("a", encoding="utf-8") as out:
        out.write(("\n" if markdown.stat().st_size else "") + "\n".join(section) + "\n")
    if figures is not None:
        store = RESULTS / f"{day}.json"
        runs = json.loads(store.read_text()) if store.exists() else []
        runs.append({"at": now.isoformat(timespec="seconds"), "title": title, **figures})
        store.write_text(json.dumps(runs, indent=2, default=str) + "\n")
    return markdown
