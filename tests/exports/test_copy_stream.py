"""COPY's text format turned back into a JSON list, whatever the chunking."""

from __future__ import annotations

import json
import random

import pytest

from app.exports.copy_stream import CopyRowsToJsonList

ROWS = [
    json.dumps({"title": 'a "quoted" \\ back\\slash', "n": 1}),
    json.dumps({"title": "line\nbreak\ttab \\\\ two", "vi": "Mốc 1089 🚧"}, ensure_ascii=False),
    json.dumps({"end": "\\"}),
]


def _copy_text(rows: list[str]) -> bytes:
    """What COPY (FORMAT text) sends for one text column: backslashes doubled, a newline
    after each row (JSON has no raw control characters to escape)."""
    return "".join(r.replace("\\", "\\\\") + "\n" for r in rows).encode()


def _decode(chunks: list[bytes]) -> bytes:
    decoder = CopyRowsToJsonList()
    out = b"".join(decoder.feed(c) for c in chunks)
    decoder.close()
    return out


def test_every_single_split_point() -> None:
    data = _copy_text(ROWS)
    expected = ",".join(ROWS).encode()
    for cut in range(len(data) + 1):
        assert _decode([data[:cut], data[cut:]]) == expected, cut


def test_many_random_chunkings_parse_back() -> None:
    rng = random.Random(7)
    data = _copy_text(ROWS * 5)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(data)), 12))
        chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert json.loads(b"[" + _decode(chunks) + b"]") == [json.loads(r) for r in ROWS * 5]


def test_no_rows_and_a_truncated_escape() -> None:
    assert _decode([]) == b""
    decoder = CopyRowsToJsonList()
    decoder.feed(b'{"a":"\\')
    with pytest.raises(ValueError):
        decoder.close()
