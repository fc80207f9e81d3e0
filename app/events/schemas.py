"""What the webhook endpoints answer (their response models)."""

from __future__ import annotations

import uuid
from datetime import datetime

from app.answers import Answer


class Subscription(Answer):
    id: uuid.UUID
    url: str
    event_types: list[str]
    border: str | None
    province: str | None
    category: str | None
    active: bool
    consecutive_failures: int
    disabled_reason: str | None
    created_at: datetime


class NewSubscription(Subscription):
    secret: str  # shown once, here: the receiver checks signatures with it


class Subscriptions(Answer):
    webhooks: list[Subscription]


class Delivery(Answer):
    id: int
    event_id: int
    type: str
    state: str  # pending | delivered | dead
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None


class Deliveries(Answer):
    deliveries: list[Delivery]
