"""Photos and scanned documents: stored once by SHA-256 under the data directory, typed by
their content (not their name or the client's header), size-limited, safe to resend."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.service import require_area
from app.audit.service import record
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_role
from app.errors import InvalidInput, NotFound, PayloadTooLarge

CHUNK = 1024 * 1024

# Leading bytes of the formats we accept. Written out because the types are few and the
# check must not trust the client's Content-Type (python-magic would need libmagic).
SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"%PDF-", 0, "application/pdf"),
    (b"WEBP", 8, "image/webp"),  # RIFF....WEBP
    (b"ftypheic", 4, "image/heic"),
    (b"ftypheix", 4, "image/heic"),
    (b"ftypmif1", 4, "image/heif"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
]


# The extensions a downloaded file may carry for each accepted type (the first is given
# when the user's name has none of them).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "application/pdf": (".pdf",),
    "image/webp": (".webp",),
    "image/heic": (".heic",),
    "image/heif": (".heif",),
    "image/gif": (".gif",),
    "image/tiff": (".tif", ".tiff"),
}


def served_filename(display_name: str, media_type: str) -> str:
    """The name a download is saved under: the user's name, its extension made to match
    the detected type (`evil.html` holding a PNG is served as `evil.png`), so that no
    browser or desktop opens it as something else. The user's name stays for display."""
    allowed = EXTENSIONS.get(media_type, (".bin",))
    stem, dot, extension = PurePath(display_name).name.rpartition(".")
    if not dot:
        stem, extension = extension, ""
    if "." + extension.lower() in allowed:
        return f"{stem}.{extension}"
    return (stem or "attachment") + allowed[0]


def sniff_media_type(head: bytes) -> str | None:
    for signature, offset, media_type in SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if media_type == "image/webp" and not head.startswith(b"RIFF"):
                continue
            return media_type
    return None


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size_bytes: int
    media_type: str
    path: Path


def content_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256[2:4] / sha256


def store(source: BinaryIO, *, root: Path, max_bytes: int) -> StoredFile:
    """Copy to a temporary file while hashing and counting; refuse past the limit or an
    unknown type; then move into place (atomic, and a no-op when the content exists)."""
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as tmp:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"attachments are limited to {max_bytes} bytes")
                if len(head) < 32:
                    head = (head + chunk)[:32]
                digest.update(chunk)
                tmp.write(chunk)
            tmp.flush()
            os.fsync(tmp.fileno())
        if size == 0:
            raise InvalidInput("the file is empty", field="file")
        media_type = sniff_media_type(head)
        if media_type is None:
            raise InvalidInput(
                "attachments must be images (JPEG, PNG, WebP, HEIC, GIF, TIFF) or PDF, "
                "judged by their content",
                field="file",
            )
        sha = digest.hexdigest()
        final = content_path(root, sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_name, final)
        return StoredFile(sha, size, media_type, final)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def refuse_declared_oversize(content_length: str | None, max_bytes: int) -> None:
    """413 before reading a body whose declared length already passes the limit (the
    multipart envelope allowed for); store() still counts what really arrives."""
    if content_length and content_length.isdigit() and int(content_length) > max_bytes + 64 * 1024:
        raise PayloadTooLarge(f"attachments are limited to {max_bytes} bytes")


async def register(session: AsyncSession, stored: StoredFile) -> None:
    """Record a stored file once, whatever links to it (incidents, documents)."""
    await session.execute(
        text(
            "INSERT INTO attachments (sha256, size_bytes, media_type) VALUES (:s, :n, :t) "
            "ON CONFLICT (sha256) DO NOTHING"
        ),
        {"s": stored.sha256, "n": stored.size_bytes, "t": stored.media_type},
    )


async def require_can_attach(
    session: AsyncSession, *, caller: Caller, incident_id: uuid.UUID
) -> None:
    """Checked before the upload is stored, so a refused caller leaves no file behind."""
    require_role(caller, Role.reporter, Role.officer)
    wkb = (
        await session.execute(
            text("SELECT encode(ST_AsBinary(geom), 'hex') FROM incidents WHERE id = :id"),
            {"id": incident_id},
        )
    ).scalar_one_or_none()
    if wkb is None:
        raise NotFound(f"no incident {incident_id}")
    await require_area(session, caller, wkb_hex=wkb, what=f"incident {incident_id}")


async def attach(
    session: AsyncSession,
    *,
    caller: Caller,
    incident_id: uuid.UUID,
    stored: StoredFile,
    filename: str,
) -> bool:
    """Link a stored file to an incident; False when it was linked already. Commits."""
    await require_can_attach(session, caller=caller, incident_id=incident_id)
    await register(session, stored)
    linked = (
        await session.execute(
            text(
                "INSERT INTO incident_attachments (incident_id, sha256, filename, uploaded_by) "
                "VALUES (:i, :s, :f, :u) ON CONFLICT DO NOTHING RETURNING sha256"
            ),
            {"i": incident_id, "s": stored.sha256, "f": filename, "u": caller.name},
        )
    ).scalar_one_or_none()
    if linked is None:
        return False
    await session.execute(
        text(
            "INSERT INTO incident_history (incident_id, actor_token_id, actor_name, action, "
            "changes) VALUES (:i, :t, :n, 'attachment_added', CAST(:c AS jsonb))"
        ),
        {
            "i": incident_id,
            "t": caller.token_id,
            "n": caller.name,
            "c": json.dumps({"sha256": stored.sha256, "media_type": stored.media_type}),
        },
    )
    await session.execute(
        text("UPDATE incidents SET version = version + 1, updated_at = now() WHERE id = :i"),
        {"i": incident_id},
    )
    record(
        session,
        caller=caller,
        action="incident.attachment",
        entity_type="incident",
        entity_id=str(incident_id),
        detail={"sha256": stored.sha256, "filename": filename},
    )
    await session.commit()
    return True


async def attachment_of(
    session: AsyncSession, incident_id: uuid.UUID, sha256: str
) -> tuple[str, str]:
    row = (
        await session.execute(
            text(
                "SELECT a.media_type, ia.filename FROM incident_attachments ia "
                "JOIN attachments a ON a.sha256 = ia.sha256 "
                "WHERE ia.incident_id = :i AND ia.sha256 = :s"
            ),
            {"i": incident_id, "s": sha256},
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"incident {incident_id} has no attachment {sha256}")
    return str(row[0]), str(row[1])
