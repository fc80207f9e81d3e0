"""The documents register: write, link, search. A document belongs to the province that
registered it (its officers write it); national texts (a Prime Minister's directive) have
none and are written by admins. Officers and reporters read their province's documents
and the national ones, and see only the links to their province's incidents and steps
(a national text cited by another province's case does not reveal that case); admins and
analysts read everything."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import read_scope, require_role
from app.db import plain_row
from app.documents.citations import format_citation
from app.documents.models import LinkTarget
from app.documents.schemas import DocumentCreate, DocumentLinkIn
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.incidents.attachments import StoredFile, register
from app.sql import Sql, containing
from app.text import fold

# The table each link target lives in, and its key column.
_TARGET_TABLES = {
    LinkTarget.incident: "incidents",
    LinkTarget.step: "incident_steps",
    LinkTarget.approval: "approval_requests",
    LinkTarget.clearing_work: "clearing_works",
    LinkTarget.crossing: "crossings",
    LinkTarget.inspection: "marker_inspections",
    LinkTarget.repair: "marker_repairs",
    LinkTarget.survey: "surveys",
    LinkTarget.patrol: "patrols",
    LinkTarget.disputed_area: "disputed_areas",
}
# The registers keyed by a number rather than a UUID.
_NUMBERED = frozenset({LinkTarget.crossing, LinkTarget.survey, LinkTarget.disputed_area})


def _document_province(caller: Caller, asked: str | None) -> str | None:
    if caller.role is Role.admin:
        return asked
    if asked is not None and asked != caller.province_code:
        raise Forbidden(f"your token covers {caller.province_code}, not {asked}")
    return caller.province_code


def document_search_text(body: DocumentCreate) -> str:
    cited = format_citation(str(body.kind.value if body.kind else ""), body.number, body.issued_on)
    return fold(" ".join(filter(None, [cited, body.number, body.issuer, body.recipient,
                                       body.subject])))  # fmt: skip


async def _check_targets(session: AsyncSession, links: Sequence[DocumentLinkIn]) -> None:
    for link in links:
        table = _TARGET_TABLES[link.target_type]
        numbered = link.target_type in _NUMBERED
        key: uuid.UUID | int
        try:
            key = int(link.target_id) if numbered else uuid.UUID(link.target_id)
        except ValueError:
            kind = "numbers" if numbered else "UUIDs"
            raise InvalidInput(
                f"{link.target_type.value} ids are {kind}, not {link.target_id!r}",
                field="links.target_id",
            ) from None
        found = await session.execute(text(f"SELECT 1 FROM {table} WHERE id = :id"), {"id": key})  # noqa: S608
        if found.first() is None:
            raise InvalidInput(
                f"no {link.target_type.value} {link.target_id}", field="links.target_id"
            )


async def cite(
    session: AsyncSession,
    document_id: uuid.UUID,
    targets: Sequence[tuple[LinkTarget, str]],
    section: str | None,
) -> int:
    """Link a document to records (once each): how many links are new. Every writer of
    links (documents, steps, approval stages, the demo) comes through here."""
    added = 0
    for target_type, target_id in targets:
        row = await session.execute(
            text(
                "INSERT INTO document_links (document_id, target_type, target_id, section) "
                "VALUES (:d, :t, :i, :s) ON CONFLICT DO NOTHING RETURNING 1"
            ),
            {"d": document_id, "t": target_type.value, "i": target_id.lower(), "s": section},
        )
        added += row.first() is not None
    return added


async def _link(
    session: AsyncSession, document_id: uuid.UUID, links: Sequence[DocumentLinkIn]
) -> int:
    return sum(
        [
            await cite(session, document_id, [(link.target_type, link.target_id)], link.section)
            for link in links
        ]
    )


async def create_document(
    session: AsyncSession, *, caller: Caller, body: DocumentCreate
) -> tuple[uuid.UUID, bool]:
    """(id, created). Resending the same id, or the same kind, number and issuer, answers
    the stored document; a different document under them is a conflict. Commits."""
    require_role(caller, Role.officer)
    province = _document_province(caller, body.province)
    if province is None and caller.role is not Role.admin:
        raise Forbidden("only admins register documents of no province")
    await _check_targets(session, body.links)
    document_id = body.id or uuid.uuid4()
    kind = body.kind.value if body.kind else None
    existing = (
        await session.execute(
            text(
                "SELECT id, subject FROM documents WHERE id = :id OR (number IS NOT NULL "
                "AND kind = :kind AND number = :number "
                "AND issuer IS NOT DISTINCT FROM :issuer)"
            ),
            {"id": document_id, "kind": kind, "number": body.number, "issuer": body.issuer},
        )
    ).first()
    if existing is not None:
        if existing.subject != body.subject:
            raise Conflict(
                f"document {existing.id} is already registered under this id or number, "
                "with another subject",
                extra={"id": str(existing.id)},
            )
        await _link(session, existing.id, body.links)
        await session.commit()
        return existing.id, False
    await session.execute(
        text(
            """
            INSERT INTO documents (id, kind, number, issuer, recipient, direction, issued_on,
                subject, province_code, illustrative, note, search_text, created_by)
            VALUES (:id, :kind, :number, :issuer, :recipient, :direction, :issued_on,
                :subject, :province, :illustrative, :note, :search, :by)
            """
        ),
        {
            "id": document_id,
            "kind": kind,
            "number": body.number,
            "issuer": body.issuer,
            "recipient": body.recipient,
            "direction": body.direction.value if body.direction else None,
            "issued_on": body.issued_on,
            "subject": body.subject,
            "province": province,
            "illustrative": body.illustrative,
            "note": body.note,
            "search": document_search_text(body),
            "by": caller.name,
        },
    )
    await _link(session, document_id, body.links)
    record(
        session,
        caller=caller,
        action="document.create",
        entity_type="document",
        entity_id=str(document_id),
        detail={"kind": kind, "number": body.number, "links": len(body.links)},
    )
    await session.commit()
    return document_id, True


async def _writable(session: AsyncSession, caller: Caller, document_id: uuid.UUID) -> None:
    require_role(caller, Role.officer)
    province = (
        await session.execute(
            text("SELECT province_code, true FROM documents WHERE id = :id"), {"id": document_id}
        )
    ).first()
    if province is None:
        raise NotFound(f"no document {document_id}")
    if caller.role is not Role.admin and province[0] != caller.province_code:
        raise Forbidden(f"document {document_id} belongs to {province[0] or 'no province'}")


async def add_links(
    session: AsyncSession,
    *,
    caller: Caller,
    document_id: uuid.UUID,
    links: Sequence[DocumentLinkIn],
) -> int:
    await _writable(session, caller, document_id)
    await _check_targets(session, links)
    added = await _link(session, document_id, links)
    record(
        session,
        caller=caller,
        action="document.link",
        entity_type="document",
        entity_id=str(document_id),
        detail={"links": [f"{x.target_type.value}:{x.target_id}" for x in links]},
    )
    await session.commit()
    return added


async def attach_file(
    session: AsyncSession,
    *,
    caller: Caller,
    document_id: uuid.UUID,
    stored: StoredFile,
    filename: str,
) -> None:
    await _writable(session, caller, document_id)
    await register(session, stored)
    await session.execute(
        text(
            "UPDATE documents SET attachment_sha256 = :s, attachment_filename = :f, "
            "version = version + 1, updated_at = now() WHERE id = :id"
        ),
        {"s": stored.sha256, "f": filename, "id": document_id},
    )
    record(
        session,
        caller=caller,
        action="document.file",
        entity_type="document",
        entity_id=str(document_id),
        detail={"sha256": stored.sha256, "filename": filename},
    )
    await session.commit()


# `:scope` is the caller's province, or NULL for those who see every province.
_VISIBLE = "(CAST(:scope AS text) IS NULL OR d.province_code IS NULL OR d.province_code = :scope)"
# Links to the records read in a province only (incidents, their steps, patrols, disputed
# areas) show to that province's callers; links to the line's registers show to all.
_LINK_VISIBLE = """(CAST(:scope AS text) IS NULL
  OR l.target_type NOT IN ('incident', 'step', 'patrol', 'disputed_area')
  OR (l.target_type IN ('incident', 'step')
      AND EXISTS (SELECT 1 FROM incidents i WHERE i.province_code = :scope
             AND i.id::text = CASE WHEN l.target_type = 'incident' THEN l.target_id
               ELSE (SELECT s.incident_id::text FROM incident_steps s
                     WHERE s.id::text = l.target_id) END))
  OR (l.target_type = 'patrol' AND EXISTS (SELECT 1 FROM patrols p
      WHERE p.id::text = l.target_id AND p.province_code = :scope))
  OR (l.target_type = 'disputed_area' AND EXISTS (SELECT 1 FROM disputed_areas a
      WHERE a.id::text = l.target_id AND a.province_code = :scope)))"""
_DOCUMENT_JSON = f"""
SELECT d.id, d.kind, d.number, d.issuer, d.recipient, d.direction, d.issued_on, d.subject,
       d.province_code AS province, d.illustrative, d.note, d.attachment_sha256,
       d.attachment_filename, d.version, d.created_by, d.created_at, d.updated_at,
       coalesce((SELECT json_agg(json_build_object('target_type', l.target_type,
                   'target_id', l.target_id, 'section', l.section)
                   ORDER BY l.target_type, l.target_id)
                 FROM document_links l WHERE l.document_id = d.id AND {_LINK_VISIBLE}),
                '[]') AS links
FROM documents d
"""  # noqa: S608


def document_json(row: Any) -> dict[str, Any]:
    body = plain_row(row._mapping)
    body["citation"] = format_citation(row.kind, row.number, row.issued_on)
    sha = body.pop("attachment_sha256")
    name = body.pop("attachment_filename")
    body["file"] = (
        {"sha256": sha, "filename": name, "href": f"/api/v1/documents/{body['id']}/file"}
        if sha
        else None
    )
    if isinstance(body["links"], str):
        body["links"] = json.loads(body["links"])
    return body


async def get_document(
    session: AsyncSession, document_id: uuid.UUID, *, caller: Caller
) -> dict[str, Any]:
    row = (
        await session.execute(
            text(_DOCUMENT_JSON + f" WHERE d.id = :id AND {_VISIBLE}"),
            {"id": document_id, "scope": read_scope(caller)},
        )
    ).first()
    if row is None:
        raise NotFound(f"no document {document_id}")
    return document_json(row)


async def list_documents(
    session: AsyncSession,
    *,
    caller: Caller,
    q: str | None,
    kind: str | None,
    province: str | None,
    year: int | None,
    target_type: LinkTarget | None,
    target_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Newest first. `q` matches the folded citation, number, issuer and subject, so
    `cong van 1232` finds `Công văn số 1232/UBND-THNC`."""
    clauses = [Sql(_VISIBLE, {"scope": read_scope(caller)})]
    if q:
        for n, word in enumerate(fold(q).split()[:8]):
            clauses.append(Sql(f"d.search_text LIKE :w{n}", {f"w{n}": containing(word)}))
    if kind:
        clauses.append(Sql("d.kind = :kind", {"kind": kind}))
    if province:
        clauses.append(Sql("d.province_code = :province", {"province": province}))
    if year:
        clauses.append(Sql("extract(year FROM d.issued_on) = :year", {"year": year}))
    if target_type is not None:
        linked = (
            "EXISTS (SELECT 1 FROM document_links l WHERE l.document_id = d.id "  # noqa: S608
            "AND l.target_type = :tt AND (CAST(:tid AS text) IS NULL OR l.target_id = :tid) "
            f"AND {_LINK_VISIBLE})"
        )
        target = target_id.lower() if target_id else None
        clauses.append(Sql(linked, {"tt": target_type.value, "tid": target}))
    where = Sql.all(clauses)
    total = (
        await session.execute(
            text(f"SELECT count(*) FROM documents d WHERE {where.text}"),  # noqa: S608
            where.params,
        )
    ).scalar_one()
    rows = await session.execute(
        text(
            _DOCUMENT_JSON + f" WHERE {where.text} "
            "ORDER BY d.issued_on DESC NULLS LAST, d.id LIMIT :limit OFFSET :offset"
        ),
        where.bind(limit=limit, offset=offset).params,
    )
    return [document_json(r) for r in rows], int(total)


async def documents_citing(
    session: AsyncSession, target_type: LinkTarget, target_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """The documents each record cites, with the section: {target_id: [document, ...]}."""
    if not target_ids:
        return {}
    rows = await session.execute(
        text(
            "SELECT l.target_id, l.section, d.id, d.kind, d.number, d.issued_on, d.issuer, "
            "d.subject, d.illustrative FROM document_links l JOIN documents d "
            "ON d.id = l.document_id WHERE l.target_type = :t AND l.target_id = ANY(:ids) "
            "ORDER BY d.issued_on NULLS LAST, d.id"
        ),
        {"t": target_type.value, "ids": [i.lower() for i in target_ids]},
    )
    cited: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        cited.setdefault(r.target_id, []).append(
            {
                "id": str(r.id),
                "citation": format_citation(r.kind, r.number, r.issued_on),
                "issuer": r.issuer,
                "subject": r.subject,
                "section": r.section,
                "illustrative": r.illustrative,
            }
        )
    return cited


async def file_media_type(session: AsyncSession, sha256: str) -> str:
    return str(
        (
            await session.execute(
                text("SELECT media_type FROM attachments WHERE sha256 = :s"), {"s": sha256}
            )
        ).scalar_one()
    )
