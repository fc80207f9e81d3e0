from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from app.auth.dependencies import CallerDep
from app.db import SessionDep
from app.documents import service
from app.documents.models import DocumentKind, LinkTarget
from app.documents.schemas import (
    Document,
    DocumentCreate,
    DocumentLinksAdd,
    Documents,
    LinksAdded,
)
from app.errors import NotFound
from app.incidents import attachments
from app.params import LimitParam, OnlyDeclaredParams, SettingsDep, page_size

router = APIRouter(prefix="/api/v1", tags=["documents"])
DocumentId = Annotated[uuid.UUID, Path(description="The document's UUID")]


@router.post(
    "/documents",
    status_code=201,
    summary="Register a document (or find it again)",
    response_model=Document,
)
async def create_document(
    body: DocumentCreate, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    document_id, created = await service.create_document(session, caller=caller, body=body)
    return JSONResponse(
        await service.get_document(session, document_id, caller=caller),
        status_code=201 if created else 200,
        headers={"Location": f"/api/v1/documents/{document_id}"},
    )


@router.get(
    "/documents",
    summary="Search the documents register, newest first",
    dependencies=[OnlyDeclaredParams],
    response_model=Documents,
)
async def list_documents(
    settings: SettingsDep,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Words of the citation, number, issuer or subject; "
            "with or without diacritics",
        ),
    ] = None,
    kind: DocumentKind | None = None,
    province: Annotated[str | None, Query(max_length=40)] = None,
    year: Annotated[int | None, Query(ge=1950, le=2100)] = None,
    target_type: LinkTarget | None = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: LimitParam = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> JSONResponse:
    size = page_size(limit, default=settings.default_page_size, maximum=settings.max_page_size)
    documents, matched = await service.list_documents(
        session,
        caller=caller,
        q=q,
        kind=kind.value if kind else None,
        province=province,
        year=year,
        target_type=target_type,
        target_id=target_id,
        limit=size,
        offset=offset,
    )
    return JSONResponse(
        {"documents": documents, "numberMatched": matched, "numberReturned": len(documents)}
    )


@router.get(
    "/documents/{document_id}",
    summary="One document with the records citing it",
    response_model=Document,
)
async def get_document(
    document_id: DocumentId, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    return JSONResponse(await service.get_document(session, document_id, caller=caller))


@router.post(
    "/documents/{document_id}/links",
    summary="Cite a document from more records",
    response_model=LinksAdded,
)
async def add_links(
    document_id: DocumentId, body: DocumentLinksAdd, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    added = await service.add_links(
        session, caller=caller, document_id=document_id, links=body.links
    )
    return JSONResponse(
        {
            "added": added,
            "document": await service.get_document(session, document_id, caller=caller),
        }
    )


@router.put(
    "/documents/{document_id}/file",
    summary="Attach the scanned document (PDF or image)",
    response_model=Document,
)
async def put_file(
    settings: SettingsDep,
    request: Request,
    document_id: DocumentId,
    session: SessionDep,
    caller: CallerDep,
    file: Annotated[UploadFile, File(description="PDF, JPEG, PNG, WebP, HEIC, GIF or TIFF")],
) -> JSONResponse:
    attachments.refuse_declared_oversize(
        request.headers.get("content-length"), settings.attachment_max_bytes
    )
    await service.get_document(session, document_id, caller=caller)  # 404 before storing anything
    stored = attachments.store(
        file.file, root=settings.attachments_dir, max_bytes=settings.attachment_max_bytes
    )
    await service.attach_file(
        session,
        caller=caller,
        document_id=document_id,
        stored=stored,
        filename=(file.filename or stored.sha256)[:255],
    )
    return JSONResponse(await service.get_document(session, document_id, caller=caller))


@router.get("/documents/{document_id}/file", summary="Download the scanned document")
async def get_file(
    settings: SettingsDep,
    request: Request,
    document_id: DocumentId,
    session: SessionDep,
    caller: CallerDep,
) -> FileResponse:
    document = await service.get_document(session, document_id, caller=caller)
    if document["file"] is None:
        raise NotFound(f"document {document_id} has no file")
    sha = document["file"]["sha256"]
    media_type = await service.file_media_type(session, sha)
    return FileResponse(
        attachments.content_path(settings.attachments_dir, sha),
        media_type=media_type,
        filename=attachments.served_filename(document["file"]["filename"], media_type),
        headers={"X-Content-Type-Options": "nosniff"},
    )
