from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.documents.citations import LABELS
from app.timestamps import Timestamped, check_in


class DocumentKind(StrEnum):
    """The kinds the reports cite (citations.LABELS names each as a report writes it)."""

    bao_cao = "bao_cao"  # report
    bien_ban = "bien_ban"  # minutes
    chi_thi = "chi_thi"  # directive
    cong_ham = "cong_ham"  # diplomatic note
    cong_van = "cong_van"  # official dispatch
    de_an = "de_an"  # scheme, project
    ke_hoach = "ke_hoach"  # plan
    nghi_quyet = "nghi_quyet"  # resolution
    quyet_dinh = "quyet_dinh"  # decision
    thong_bao = "thong_bao"  # notice
    thu = "thu"  # letter
    other = "other"


DOCUMENT_KINDS = sorted(k.value for k in DocumentKind)
assert set(DOCUMENT_KINDS) == set(LABELS), "every kind has its label"


class Direction(StrEnum):
    outgoing = "outgoing"  # sent by our side (a note to Guangxi)
    incoming = "incoming"  # received from the other side or from above
    internal = "internal"


class LinkTarget(StrEnum):
    incident = "incident"
    step = "step"
    approval = "approval"
    clearing_work = "clearing_work"
    crossing = "crossing"
    inspection = "inspection"
    repair = "repair"
    survey = "survey"
    patrol = "patrol"
    disputed_area = "disputed_area"


class Document(Timestamped, Base):
    """A dispatch, diplomatic note, decision, directive, minutes or report, named as the
    reports name it; cited by cases, steps, approvals and works (document_links)."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    number: Mapped[str | None] = mapped_column(String(100))  # `1232/UBND-THNC`
    issuer: Mapped[str | None] = mapped_column(String(200))
    recipient: Mapped[str | None] = mapped_column(String(200))
    direction: Mapped[str | None] = mapped_column(String(10))
    issued_on: Mapped[date | None] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    # The province that registered it (its officers edit it); none for national texts.
    province_code: Mapped[str | None] = mapped_column(String(40))
    attachment_sha256: Mapped[str | None] = mapped_column(ForeignKey("attachments.sha256"))
    attachment_filename: Mapped[str | None] = mapped_column(String(255))
    illustrative: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    note: Mapped[str | None] = mapped_column(Text)
    # Folded citation, issuer and subject, for `q` with or without diacritics.
    search_text: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __table_args__ = (
        CheckConstraint(check_in("kind", DOCUMENT_KINDS), name="kind"),
        CheckConstraint(check_in("direction", [d.value for d in Direction]), name="direction"),
        # A number is the issuer's own: one document per kind, number and issuer.
        Index(
            "ix_documents_number",
            "kind",
            "number",
            "issuer",
            unique=True,
            postgresql_where=text("number IS NOT NULL"),
        ),
        Index("ix_documents_issued_on", "issued_on"),
        Index(
            "ix_documents_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class DocumentLink(Base):
    """A document cited by a record: an incident, a step, an approval or a clearing work,
    with the section of the document that concerns it."""

    __tablename__ = "document_links"

    document_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    target_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    section: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        CheckConstraint(check_in("target_type", [t.value for t in LinkTarget]), name="target_type"),
        Index("ix_document_links_target", "target_type", "target_id"),
    )
