"""Links that repeat the request with some parameters changed (app.urls.with_query)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from app.urls import with_query

FILTER_URL = (
    "http://h/ogc/collections/incidents/items?filter=S_DWITHIN(geometry,%20POINT(103.4%2022.5)"
    ",%20500,%20meters)&limit=50&category=fence&category=trench"
)


def test_a_set_parameter_replaces_its_old_value_and_the_rest_stay_as_written() -> None:
    url = with_query(FILTER_URL, limit=50, offset=100)
    head, _, query = url.partition("?")
    assert head == "http://h/ogc/collections/incidents/items"
    pairs = query.split("&")
    # The filter keeps the client's own encoding, byte for byte; repeats are kept.
    assert pairs[0] == "filter=S_DWITHIN(geometry,%20POINT(103.4%2022.5),%20500,%20meters)"
    assert pairs[1:3] == ["category=fence", "category=trench"]
    assert sorted(pairs[3:]) == ["limit=50", "offset=100"]


def test_values_and_names_are_encoded_and_an_encoded_old_name_is_still_replaced() -> None:
    url = with_query("http://h/x?%66=html&a=1", f="json", cursor="a b/c+=")
    assert parse_qsl(urlsplit(url).query) == [("a", "1"), ("f", "json"), ("cursor", "a b/c+=")]


def test_a_url_without_a_query_gets_one() -> None:
    assert with_query("http://h/x", f="html") == "http://h/x?f=html"
    assert with_query("http://h/x?", f="html") == "http://h/x?f=html"
