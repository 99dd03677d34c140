"""Per-client rate limits: token buckets shared by every worker process.

A bucket per process (the limit divided by the workers) would be simpler, but the kernel hands
connections to workers unevenly and a client's keep-alive connection stays on one worker: such a
client would be held to a fraction of its limit. So the buckets live in one small file, a 16-byte
slot per client id, each read and written under a lock on its own bytes: a few microseconds per
request, exact across workers, and no client waits on another's lock.
"""

import fcntl
import os
import struct
import threading
import time
from pathlib import Path

# tokens left, and the time they were counted (Unix seconds). A slot never written reads as
# zeros: a bucket counted long ago, hence full.
_SLOT = struct.Struct("<dd")


def refill(tokens: float, counted_at: float, now: float, rate: float) -> float:
    """The tokens in a bucket that holds one second of requests at most and gains `rate` a
    second; a clock set back adds nothing."""
    capacity = max(rate, 1.0)
    return min(capacity, tokens + max(now - counted_at, 0.0) * rate)


def take(tokens: float, rate: float) -> tuple[float, float]:
    """(tokens left, seconds to wait): a request passes, spending a token, when one is there."""
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / rate


class RateLimiter:
    def __init__(self, path: Path):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        # File locks hold between processes only: threads of one process take this one first.
        self._threads = threading.Lock()

    def admit(self, client_id: int, rate: float) -> float:
        """0 when the client's request may pass; otherwise the seconds until it may."""
        offset = client_id * _SLOT.size
        with self._threads:
            fcntl.lockf(self._descriptor, fcntl.LOCK_EX, _SLOT.size, offset)
            try:
                slot = os.pread(self._descriptor, _SLOT.size, offset)
                tokens, counted_at = _SLOT.unpack(slot) if len(slot) == _SLOT.size else (0, 0)
                now = time.time()
                tokens, wait = take(refill(tokens, counted_at, now, rate), rate)
                os.pwrite(self._descriptor, _SLOT.pack(tokens, now), offset)
            finally:
                fcntl.lockf(self._descriptor, fcntl.LOCK_UN, _SLOT.size, offset)
        return wait

    def close(self) -> None:
        os.close(self._descriptor)
