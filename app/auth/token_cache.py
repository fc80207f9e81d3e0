"""Resolved tokens kept in memory, so a request's authentication costs no database round
trip; dropped the moment any token changes.

`api_tokens` carries a statement trigger that NOTIFYs `bordermark_tokens` (delivered after
the change commits, by app/operations/notices.py): any notice empties the whole cache, as
tokens change rarely (a revocation, an expiry moved). While notices are not being received
the cache is off and every request reads the token table. An entry is stored under the
generation read before the lookup, so a lookup that raced a revocation is never kept.
Expiry is checked on every hit, and an entry is re-read after `MAX_AGE_S` in any case.
Unknown tokens are never cached: a guesser cannot fill memory, and failures are rate
limited per address (app/auth/dependencies.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.auth.caller import Caller

CHANNEL = "bordermark_tokens"
MAX_ENTRIES = 10_000
MAX_AGE_S = 300.0


@dataclass(frozen=True)
class TokenGrant:
    """What a valid token stands for (the caller without the request's address)."""

    caller: Caller
    expires_at: datetime | None


@dataclass
class TokenCache:
    enabled_by_settings: bool = True
    channel: str = CHANNEL
    listening: bool = False
    generation: int = 0
    hits: int = 0
    _entries: dict[str, tuple[TokenGrant, float]] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.listening and self.enabled_by_settings

    def get(self, token_hash: str) -> TokenGrant | None:
        if not self.enabled:
            return None
        found = self._entries.get(token_hash)
        if found is None:
            return None
        grant, stored_at = found
        expired = grant.expires_at is not None and grant.expires_at <= datetime.now(UTC)
        if expired or time.monotonic() - stored_at > MAX_AGE_S:
            self._entries.pop(token_hash, None)
            return None
        self.hits += 1
        return grant

    def put(self, token_hash: str, grant: TokenGrant, generation: int) -> None:
        """Keep `grant`, looked up while the cache was at `generation`."""
        if not self.enabled or generation != self.generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[token_hash] = (grant, time.monotonic())

    def changed(self, payload: str) -> None:
        self.clear()

    def clear(self) -> None:
        self._entries.clear()
        self.generation += 1

    def set_listening(self, on: bool) -> None:
        self.clear()
        self.listening = on

    def __len__(self) -> int:
        return len(self._entries)
