"""A thread-safe token bucket: at most ``capacity`` calls at once, then ``rate_per_s`` calls a second."""

import threading
import time


class TokenBucket:
    def __init__(self, rate_per_s: float, capacity: float = 1.0, clock=time.monotonic, sleep=time.sleep):
        if rate_per_s <= 0 or capacity < 1:
            raise ValueError("rate_per_s must be > 0 and capacity >= 1")
        self.rate_per_s = rate_per_s
        self.capacity = float(capacity)
        self._clock, self._sleep = clock, sleep
        self._tokens = float(capacity)
        self._updated = clock()
        self._lock = threading.Lock()

    @classmethod
    def per_hour(cls, calls_per_hour: int, burst: int = 10, **kw) -> "TokenBucket":
        """A bucket that never allows more than ``calls_per_hour`` in any rolling hour:
        the burst is paid for by a slightly lower steady rate."""
        burst = max(1, min(burst, calls_per_hour // 2))
        return cls((calls_per_hour - burst) / 3600.0, burst, **kw)

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; returns the seconds waited.

        A caller that finds the bucket empty reserves the next token (the count goes negative)
        and sleeps outside the lock, so concurrent callers queue in order.
        """
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate_per_s)
            self._updated = now
            self._tokens -= 1
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate_per_s
        if wait > 0:
            self._sleep(wait)
        return wait
