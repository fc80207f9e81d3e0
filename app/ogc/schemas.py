"""The JSON documents of OGC API - Features Part 1 this service answers (their response
models): the landing page, conformance, collections (Part 1, section 7)."""

from __future__ import annotations

from pydantic import Field

from app.answers import Answer


class Link(Answer):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class Landing(Answer):
    title: str
    description: str
    links: list[Link]


class Conformance(Answer):
    conformsTo: list[str]  # the OGC spelling
    links: list[Link]


class SpatialExtent(Answer):
    bbox: list[list[float]]
    crs: str


class TemporalExtent(Answer):
    interval: list[list[str | None]]  # RFC 3339 instants; null is open


class Extent(Answer):
    spatial: SpatialExtent | None = None
    temporal: TemporalExtent | None = None


class Collection(Answer):
    id: str
    title: str
    description: str
    extent: Extent | None = None
    itemType: str = Field(examples=["feature"])
    crs: list[str]
    storageCrs: str
    links: list[Link]


class Collections(Answer):
    links: list[Link]
    collections: list[Collection]
