from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from app.config import Settings
from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature, off_line, point


def tiny_png(seed: int = 0) -> bytes:
    """A valid 1x1 PNG (its pixel varies with `seed`, so files differ)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0]))
    pixels = chunk(b"IDAT", zlib.compress(bytes([0, seed % 256, 0, 0])))
    return b"\x89PNG\r\n\x1a\n" + header + pixels + chunk(b"IEND", b"")


async def _incident(client, tokens: Tokens) -> str:  # type: ignore[no-untyped-def]
    lon, lat = await off_line(client, tokens.admin, "1089+200", 15, "VN")
    r = await client.post(
        "/api/v1/incidents", json=feature(geometry=point(lon, lat)), headers=bearer(tokens.reporter)
    )
    return str(r.json()["id"])


def _stored_files(settings: Settings) -> list[Path]:
    return [p for p in settings.attachments_dir.rglob("*") if p.is_file()]


async def test_upload_dedupe_and_download(client, tokens: Tokens, settings: Settings) -> None:
    incident_id = await _incident(client, tokens)
    png = tiny_png()
    url = f"/api/v1/incidents/{incident_id}/attachments"
    first = await client.post(
        url,
        files={"file": ("anh-hang-rao.jpg", png, "application/octet-stream")},
        headers=bearer(tokens.reporter),
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["media_type"] == "image/png"  # by content, not by name or header
    again = await client.post(
        url, files={"file": ("lan-2.png", png, "image/png")}, headers=bearer(tokens.reporter)
    )
    assert again.status_code == 200
    other = await _incident(client, tokens)
    shared = await client.post(
        f"/api/v1/incidents/{other}/attachments",
        files={"file": ("x.png", png, "image/png")},
        headers=bearer(tokens.reporter),
    )
    assert shared.status_code == 201
    assert len(_stored_files(settings)) == 1  # one copy on disk for three uploads
    listed = await client.get(url, headers=bearer(tokens.reporter))
    assert [a["sha256"] for a in listed.json()["attachments"]] == [body["sha256"]]
    download = await client.get(body["href"], headers=bearer(tokens.analyst))
    assert download.status_code == 200
    assert download.content == png
    assert download.headers["content-type"] == "image/png"
    history = await client.get(
        f"/api/v1/incidents/{incident_id}/history", headers=bearer(tokens.reporter)
    )
    assert [h["action"] for h in history.json()["history"]] == ["created", "attachment_added"]


async def test_pdf_is_accepted(client, tokens: Tokens) -> None:
    incident_id = await _incident(client, tokens)
    pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/attachments",
        files={"file": ("cong-van.pdf", pdf, "application/pdf")},
        headers=bearer(tokens.officer),
    )
    assert r.status_code == 201 and r.json()["media_type"] == "application/pdf"


@pytest.mark.parametrize(
    "content", [b"#!/bin/sh\nrm -rf /\n", b"<html><script>alert(1)</script></html>", b"GIF8"]
)
async def test_wrong_types_are_refused(
    client, tokens: Tokens, settings: Settings, content: bytes
) -> None:
    incident_id = await _incident(client, tokens)
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/attachments",
        files={"file": ("photo.jpg", content, "image/jpeg")},
        headers=bearer(tokens.reporter),
    )
    assert r.status_code == 422
    assert _stored_files(settings) == []


async def test_size_limit_is_413(client, tokens: Tokens, settings: Settings) -> None:
    incident_id = await _incident(client, tokens)
    settings.attachment_max_bytes = 2048
    big = tiny_png() + b"\x00" * 5000
    r = await client.post(
        f"/api/v1/incidents/{incident_id}/attachments",
        files={"file": ("big.png", big, "image/png")},
        headers=bearer(tokens.reporter),
    )
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert _stored_files(settings) == []


async def test_attachment_scope(client, tokens: Tokens, settings: Settings) -> None:
    incident_id = await _incident(client, tokens)
    for who, status in [("analyst", 403), ("officer_other", 404)]:
        r = await client.post(
            f"/api/v1/incidents/{incident_id}/attachments",
            files={"file": ("a.png", tiny_png(3), "image/png")},
            headers=bearer(tokens.of(who)),
        )
        assert r.status_code == status
    assert _stored_files(settings) == []  # refused before anything was written


@pytest.mark.parametrize(
    ("given", "served"),
    [
        ("evil.html", "evil.png"),
        ("ảnh hàng rào.PNG", "ảnh hàng rào.PNG"),
        ("no-extension", "no-extension.png"),
        ("../../etc/passwd", "passwd.png"),
        (".htaccess", "attachment.png"),
    ],
)
async def test_downloads_carry_an_extension_of_the_detected_type(
    client, tokens: Tokens, given: str, served: str
) -> None:
    """The user's name is kept for display; the download is saved under one whose
    extension matches what the bytes are, and the browser is told not to sniff."""
    from email.message import Message

    incident_id = await _incident(client, tokens)
    up = await client.post(
        f"/api/v1/incidents/{incident_id}/attachments",
        files={"file": (given, tiny_png(7), "text/html")},
        headers=bearer(tokens.reporter),
    )
    assert up.status_code in (200, 201), up.text
    assert up.json()["filename"] == given
    down = await client.get(up.json()["href"], headers=bearer(tokens.reporter))
    assert down.headers["content-type"] == "image/png"
    assert down.headers["x-content-type-options"] == "nosniff"
    disposition = Message()
    disposition["content-disposition"] = down.headers["content-disposition"]
    assert disposition.get_content_disposition() == "attachment"
    assert disposition.get_filename() == served
