"""How many exports run at once. An export holds a connection of the bulk pool for as
long as its client takes to read it; three analysts reading slowly held all three and the
district summary, which needs that pool too, answered 503 after 10 s. Exports now take a
slot first: one at a time per token (429 for a second), and together at most one fewer
than the bulk pool's connections (503, busy), so a summary always finds one."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator

from app.errors import ServiceUnavailable, TooManyRequests

RETRY_AFTER_S = 10


class ServiceBusy(ServiceUnavailable):
    slug, title = "busy", "Service busy"


class ExportSlots:
    def __init__(self, *, total: int, per_caller: int = 1) -> None:
        self.total = max(1, total)
        self.per_caller = per_caller
        self._running: Counter[str] = Counter()

    @contextlib.contextmanager
    def taken(self, caller_key: str) -> Iterator[None]:
        """Hold a slot for the block; refused at once (never queued) when none is free."""
        if self._running[caller_key] >= self.per_caller:
            raise TooManyRequests(
                "an export of yours is still running: let it finish, then ask again",
                retry_after=str(RETRY_AFTER_S),
            )
        if sum(self._running.values()) >= self.total:
            raise ServiceBusy(
                f"{self.total} exports are running, as many as the service takes at once; "
                "retry shortly",
                retry_after=str(RETRY_AFTER_S),
            )
        self._running[caller_key] += 1
        try:
            yield
        finally:
            self._running[caller_key] -= 1
            if self._running[caller_key] <= 0:
                del self._running[caller_key]


async def releasing(
    stream: AsyncIterator[bytes], slot: contextlib.ExitStack
) -> AsyncIterator[bytes]:
    """`stream`, with its slot given back when it ends, fails or its client goes away."""
    try:
        async for chunk in stream:
            yield chunk
    finally:
        slot.close()
