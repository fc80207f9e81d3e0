"""Rate limits in the process: a token bucket per API token, and a stricter one per client
address for failed authentication (guessing tokens). Written here because the maintained
libraries (slowapi, limits) key on the client address or need Redis; ours keys on the
resolved token and stays in memory (one process per deployment unit; a fleet behind a
proxy would put the limit there)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

MAX_KEYS = 100_000  # beyond this, the oldest buckets are forgotten (memory bound)


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class TokenBuckets:
    rate_per_s: float  # 0: no limit
    burst: float
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one; 0.0 when allowed, else the seconds until one is available."""
        if self.rate_per_s <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._buckets.pop(next(iter(self._buckets)))
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate_per_s)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate_per_s

    def reserve(self, key: str, max_wait: float, now: float | None = None) -> float | None:
        """Spend one, now or in the future: the seconds to wait before going on (0.0: at
        once), or None when that wait would exceed `max_wait` (refuse). A client paging
        one request after another (GDAL, QGIS) is slowed to the rate and never refused;
        only a client with many requests queued at once is."""
        wait = self.take(key, now)
        if wait == 0.0:
            return 0.0
        if wait > max_wait:
            return None
        self._buckets[key].tokens -= 1  # a debt, paid by the refill during the wait
        return wait

    def blocked_for(self, key: str, now: float | None = None) -> float:
        """Seconds until the key may try again, without spending (0.0: it may)."""
        if self.rate_per_s <= 0:
            return 0.0
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate_per_s)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate_per_s


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
