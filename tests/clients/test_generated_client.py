"""A client generated from /openapi.json by openapi-python-client, as an integrator would
make one, used for the border guard's flow: submit a report, send it again (a retry),
read it back typed, list, and download an export as a file. Operation ids are names
(submit_incident), every JSON answer is a typed model, files are bytes."""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Tokens, app_on, serving
from tests.incidents.helpers import feature, off_line, point

# What docs/clients.md tells integrators to give the generator: the binary formats
# this API sends, read as bytes.
CONFIG = """post_hooks: []
content_type_overrides:
  application/geopackage+sqlite3: application/octet-stream
  application/vnd.google-earth.kml+xml: application/octet-stream
  application/vnd.mapbox-vector-tile: application/octet-stream
  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: application/octet-stream
"""


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    spec = tmp_path / "openapi.json"
    import json

    from app.main import create_app

    spec.write_text(json.dumps(create_app().openapi()), encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    out = tmp_path / "bordermark_client"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("openapi-python-client")), "generate",
         "--path", str(spec), "--config", str(config), "--meta", "none",
         "--output-path", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield out, "bordermark_client"
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("bordermark_client")]:
            del sys.modules[name]


def _operations(out: Path) -> set[str]:
    return {p.stem for p in (out / "api").rglob("*.py") if p.stem != "__init__"}


async def test_a_generated_client_submits_and_reads_typed(
    generated: tuple[Path, str], database: tuple[str, Tokens], client, tmp_path: Path
) -> None:
    out, package = generated
    ops = _operations(out)
    assert {"submit_incident", "get_incident", "list_incidents", "export_incidents"} <= ops
    assert not any("api_v1" in op for op in ops)  # no path-derived names

    root = importlib.import_module(package)
    submit = importlib.import_module(f"{package}.api.incidents.submit_incident")
    get = importlib.import_module(f"{package}.api.incidents.get_incident")
    export = importlib.import_module(f"{package}.api.exports.export_incidents")
    models = importlib.import_module(f"{package}.models")
    sync = importlib.import_module(f"{package}.api.incidents.submit_batch")
    history = importlib.import_module(f"{package}.api.incidents.get_history")

    tokens = database[1]
    here = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    body = feature(geometry=point(*here), title="Rào thép gai mới (ứng dụng)")
    incident_id = uuid.UUID(body["id"])
    async with serving(app_on(database[0], tmp_path)) as base:
        api = root.AuthenticatedClient(base_url=base, token=tokens.reporter)
        async with api as session:
            first = await submit.asyncio_detailed(
                client=session, body=models.IncidentSubmission.from_dict(body)
            )
            again = await submit.asyncio_detailed(
                client=session, body=models.IncidentSubmission.from_dict(body)
            )
            assert (first.status_code, again.status_code) == (201, 200)  # a retry, no copy
            read = await get.asyncio(client=session, incident_id=incident_id)
            assert isinstance(read, models.GeoJSON)
            assert read.type_ == models.GeoJSONType.FEATURE
            assert read.properties.additional_properties["title"] == body["properties"]["title"]
            fmt = models.ExportIncidentsFormat
            for kind, starts in [(fmt.CSV, b"\xef\xbb\xbfid,"), (fmt.GPKG, b"SQLite format 3")]:
                file = await export.asyncio_detailed(client=session, format_=kind)
                assert file.status_code == 200
                assert file.content.startswith(starts)
            refused = await get.asyncio(client=session, incident_id=uuid.uuid4())
            assert isinstance(refused, models.Problem) and refused.status == 404
            # JSON answers are typed by their response models: the batch's outcome per
            # item and the incident's history come back as the client's own classes.
            again_body = models.BatchRequest.from_dict({"features": [body]})
            batch = await sync.asyncio(client=session, body=again_body)
            assert isinstance(batch, models.BatchResult)
            assert [r.result for r in batch.results] == [models.BatchItemResultResult.DUPLICATE]
            changes = await history.asyncio(client=session, incident_id=incident_id)
            assert isinstance(changes, models.History)
            assert [entry.action for entry in changes.history] == ["created"]
