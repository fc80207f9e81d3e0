"""Every JSON endpoint declares what it answers (`response_model`, app/answers.py), and
what it declares is what it answers: each GET is called on the demo data with real ids and
its body validated by the model the OpenAPI document names (members it does not declare
are refused: the models forbid extras). Most of these answers are built by PostgreSQL and
passed through, so this test, not FastAPI, holds them to their models."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.answers import Answer
from app.incidents.schemas import BatchResult
from app.main import create_app
from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature

JSON = "application/json"
# Query parameters an operation needs to answer 200.
QUERIES = {
    "/api/v1/reports/districts": {"from": "2020-01-01", "to": "2020-12-31"},
    "/api/v1/reports/marker-conditions": {"on": "2024-01-01"},
    "/api/v1/segments/clearing-status": {"border": "VN-CN"},
    "/api/v1/segments/not-patrolled": {"province": "lang-son"},
    "/api/v1/markers/nearest": {"lon": "106.7", "lat": "22.0"},
}


def _models() -> dict[str, type[Answer]]:
    found: dict[str, type[Answer]] = {}
    todo: list[type[Answer]] = [Answer]
    while todo:
        model = todo.pop()
        for child in model.__subclasses__():
            assert child.__name__ not in found, f"two response models named {child.__name__}"
            found[child.__name__] = child
            todo.append(child)
    return found


def _json_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    for code, response in operation["responses"].items():
        if code.startswith("2"):
            content = response.get("content") or {}
            if JSON in content:
                return dict(content[JSON].get("schema") or {})
            return None
    return None


DOC = create_app().openapi()
JSON_OPERATIONS = [
    (method.upper(), path, schema)
    for path, item in DOC["paths"].items()
    for method, operation in item.items()
    if (schema := _json_schema(operation)) is not None
]


def _model_name(schema: dict[str, Any]) -> str:
    """The model a schema names, itself or as the items of a list."""
    named = schema.get("$ref") or schema.get("items", {}).get("$ref", "")
    return str(named).rpartition("/")[2]


def test_every_json_endpoint_declares_its_model() -> None:
    models = _models()
    undeclared = [
        f"{method} {path}"
        for method, path, schema in JSON_OPERATIONS
        if _model_name(schema) not in models
    ]
    assert undeclared == []


async def _path_values(db: AsyncSession) -> dict[str, str]:
    async def one(sql: str) -> str:
        return str((await db.execute(text(sql))).scalar_one())

    return {
        "{incident_id}": await one(
            "SELECT incident_id FROM incident_steps ORDER BY incident_id LIMIT 1"
        ),
        "{request_id}": await one("SELECT id FROM approval_requests ORDER BY id LIMIT 1"),
        "{document_id}": await one(
            "SELECT document_id FROM document_links ORDER BY document_id LIMIT 1"
        ),
        "{survey_id}": await one("SELECT min(id) FROM surveys"),
        "{area_id}": await one("SELECT min(id) FROM disputed_areas"),
        "{crossing_id}": await one("SELECT min(id) FROM crossings"),
        "{collection_id}": "incidents",
        "{layer}": "segments",
        "{unit_code}": "lang-son",
        "{province}": "lang-son",
        "{year}": "2020",
        "{counterpart}": "quang-tay",
    }


async def test_each_get_answers_what_it_declares(client, db: AsyncSession, tokens: Tokens) -> None:
    models = _models()
    values = await _path_values(db)
    sub = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://example.org/hook", "event_types": ["incident.created"]},
        headers=bearer(tokens.admin),
    )
    assert sub.status_code == 201, sub.text
    models["NewSubscription"].model_validate(sub.json())
    values["{sub_id}"] = sub.json()["id"]
    # The demo holds no patrol: one walked, so the patrols report has a row to check.
    walked = await client.post(
        "/api/v1/patrols",
        json={
            "id": str(uuid.uuid4()), "unit": "Đồn Biên phòng thử nghiệm", "province": "lang-son",
            "border": "VN-CN", "started_at": "2024-06-03T07:00:00+07:00",
            "ended_at": "2024-06-03T15:30:00+07:00", "route": "VN-CN:1088/2-1091",
            "checked": [{"marker": "1089", "condition": "intact"}],
        },
        headers=bearer(tokens.officer),
    )  # fmt: skip
    assert walked.status_code == 201, walked.text
    models["Recorded"].model_validate(walked.json())
    checked, failed = [], []
    for method, path, schema in JSON_OPERATIONS:
        if method != "GET":
            continue
        url = path
        for placeholder, value in values.items():
            url = url.replace(placeholder, value)
        assert "{" not in url, f"add a path value for {path}"
        r = await client.get(url, params=QUERIES.get(path), headers=bearer(tokens.admin))
        assert r.status_code == 200, (path, r.text[:300])
        model = models[_model_name(schema)]
        body = r.json()
        try:
            for each in body if schema.get("type") == "array" else [body]:
                model.model_validate(each)
        except ValidationError as exc:
            failed.append(f"{path}: {exc}")
        checked.append(path)
    assert failed == []
    assert len(checked) >= 30


async def test_a_batch_answers_what_it_declares(client, tokens: Tokens) -> None:
    """The field apps' sync: one report stored, one refused with its problem."""
    good = feature(location="VN-CN:1089+20")
    refused = feature(location="VN-CN:1089+40", category="no-such-category")
    batch = {"features": [good, refused]}
    r = await client.post("/api/v1/incidents:batch", json=batch, headers=bearer(tokens.reporter))
    assert r.status_code == 200, r.text
    answer = BatchResult.model_validate(r.json())
    assert [item.result for item in answer.results] == ["created", "invalid"]
    assert answer.results[1].problem is not None
