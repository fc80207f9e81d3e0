"""The base of the models that JSON endpoints declare as their `response_model`.

Most endpoints answer JSON that PostgreSQL built (json_build_object), passed through as
it is: the model documents that answer in the OpenAPI document (and so in generated
clients) rather than re-validating it on every request. tests/test_response_models.py
holds each model to what the endpoint really answers, on the demo data. `extra="forbid"`
makes a member the model does not declare fail that test (and says so in the schema)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceStatus(Answer):
    """/healthz ("ok") and /readyz ("ready")."""

    status: str


class Recorded(Answer):
    """A record written with the client's id: stored now, or already stored (a replay)."""

    id: uuid.UUID
    result: Literal["created", "duplicate"]
