"""The FeatureCollection bodies the service joins from PostgreSQL's feature rows."""

from __future__ import annotations

import json
import math

import pytest

from app.geojson import collection_body, envelope_sql, page_features

TAIL = ',"numberReturned":2,"links":[]}'


@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_body_joined_from_feature_rows_is_the_one_from_their_array(count: int) -> None:
    features = [json.dumps({"type": "Feature", "id": n, "properties": {"ký hiệu": n}}).encode()
                for n in range(count)]  # fmt: skip
    array = b"[" + b",".join(features) + b"]"
    joined = collection_body(features, TAIL)
    assert joined == collection_body(array, TAIL) == collection_body(array.decode(), TAIL)
    assert json.loads(joined)["features"] == [json.loads(f) for f in features]


def test_a_page_reads_one_row_more_to_know_a_next_page_exists() -> None:
    rows = [(str(n).encode(),) for n in range(3)]
    assert page_features(rows, 2) == ([b"0", b"1"], True)
    assert page_features(rows, 3) == ([b"0", b"1", b"2"], False)
    assert page_features([], 3) == ([], False)


def test_envelope_sql_writes_the_numbers_out() -> None:
    assert envelope_sql(106.7, 21.9, 106.8, 22) == "ST_MakeEnvelope(106.7, 21.9, 106.8, 22.0, 4326)"
    assert envelope_sql(-1e-05, 0, 1, 2, 3405).endswith("(-1e-05, 0.0, 1.0, 2.0, 3405)")
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="finite"):
            envelope_sql(bad, 0, 1, 1)
