from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.answers import Answer
from app.documents.citations import parse_citation
from app.documents.models import Direction, DocumentKind, LinkTarget
from app.text import CleanText


class DocumentLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_type: LinkTarget
    target_id: str = Field(min_length=1, max_length=64)
    section: CleanText | None = Field(default=None, max_length=200, examples=["I.1.2"])


class DocumentCreate(BaseModel):
    """A document, by its parts or by its `citation` as the reports write it (the parts
    given beside a citation win)."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="Client-generated; resending is safe.")
    citation: CleanText | None = Field(
        default=None,
        max_length=500,
        examples=["Công văn số 1232/UBND-THNC ngày 05/10/2020 của UBND tỉnh"],
    )
    kind: DocumentKind | None = None
    number: CleanText | None = Field(default=None, max_length=100, examples=["1232/UBND-THNC"])
    issuer: CleanText | None = Field(default=None, max_length=200, examples=["UBND tỉnh Lạng Sơn"])
    recipient: CleanText | None = Field(default=None, max_length=200)
    direction: Direction | None = None
    issued_on: date | None = None
    subject: CleanText = Field(min_length=1, max_length=5_000)
    province: str | None = Field(default=None, max_length=40)
    illustrative: bool = False
    note: CleanText | None = Field(default=None, max_length=5_000)
    links: list[DocumentLinkIn] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _from_citation(self) -> DocumentCreate:
        if self.citation:
            cited = parse_citation(self.citation)
            self.kind = self.kind or DocumentKind(cited.kind)
            self.number = self.number or cited.number
            self.issued_on = self.issued_on or cited.issued_on
            self.issuer = self.issuer or cited.issuer
        if self.kind is None:
            raise ValueError("give the document's kind, or its citation")
        return self


class DocumentLinksAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    links: list[DocumentLinkIn] = Field(min_length=1, max_length=200)


# What the register answers (its response models).


class CitedDocument(Answer):
    """A document a record cites, with the section it cites."""

    id: uuid.UUID
    citation: str
    issuer: str | None
    subject: str | None
    section: str | None
    illustrative: bool


class DocumentLink(Answer):
    target_type: LinkTarget
    target_id: str
    section: str | None


class DocumentFile(Answer):
    sha256: str
    filename: str
    href: str


class Document(Answer):
    id: uuid.UUID
    kind: DocumentKind
    number: str | None
    issuer: str | None
    recipient: str | None
    direction: Direction | None
    issued_on: date | None
    subject: str | None
    province: str | None
    illustrative: bool
    note: str | None
    version: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    links: list[DocumentLink]  # the records citing it, as the caller may read them
    citation: str
    file: DocumentFile | None


class Documents(Answer):
    documents: list[Document]
    numberMatched: int  # the OGC API's spelling
    numberReturned: int


class LinksAdded(Answer):
    added: int
    document: Document
