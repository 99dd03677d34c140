"""Token buckets shared by every worker process: each client's rate limit and budget of
national-id lookups that find nobody, and the refusals of requests without a valid key by
address.

A bucket per process (the limit divided by the workers) would be simpler, but the kernel hands
connections to workers unevenly and a client's keep-alive connection stays on one worker: such a
client would be held to a fraction of its limit. So the buckets live in small files, a 16-byte
slot per client id (or address), each read and written under a lock on its own bytes: a few
microseconds per request, exact across workers, and no client waits on another's lock.
"""

import fcntl
import hashlib
import os
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

# tokens left, and the time they were counted (Unix seconds). A slot never written reads as
# zeros: a bucket counted long ago, hence full.
_SLOT = struct.Struct("<dd")
SECONDS_AN_HOUR = 3600.0
# Refusals for want of a valid key, a second per address: enough for a client that lost its
# key to see the 401s, and no flood of them.
KEYLESS_RATE = 10.0
# Addresses share this many slots, by a hash: a 64 KiB file whatever the addresses, at the price
# of two addresses now and then sharing a bucket of refusals.
ADDRESS_SLOTS = 4096
Change = Callable[[float, float, float], tuple[float, float]]


def refill(tokens: float, counted_at: float, now: float, rate: float, capacity: float) -> float:
    """The tokens in a bucket that holds `capacity` at most and gains `rate` a second; a clock
    set back adds nothing."""
    return min(capacity, tokens + max(now - counted_at, 0.0) * rate)


def take(tokens: float, rate: float) -> tuple[float, float]:
    """(tokens left, seconds to wait): a request passes, spending a token, when one is there."""
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, wait_for_token(tokens, rate)


def wait_for_token(tokens: float, rate: float) -> float:
    return max(1.0 - tokens, 0.0) / rate


def address_slot(address: str) -> int:
    # Not hash(), which each process salts differently: every worker must pick the same slot.
    digest = hashlib.blake2b(address.encode(), digest_size=8).digest()
    return int.from_bytes(digest) % ADDRESS_SLOTS


class SharedBuckets:
    """One file of buckets, a slot per number."""

    def __init__(self, path: Path):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        # File locks hold between processes only: threads of one process take this one first.
        self._threads = threading.Lock()

    def update(self, slot_number: int, change: Change) -> float:
        """Apply `change(tokens, counted_at, now) -> (tokens, result)` to a slot under its lock,
        and return the result."""
        offset = slot_number * _SLOT.size
        with self._threads:
            fcntl.lockf(self._descriptor, fcntl.LOCK_EX, _SLOT.size, offset)
            try:
                slot = os.pread(self._descriptor, _SLOT.size, offset)
                tokens, counted_at = _SLOT.unpack(slot) if len(slot) == _SLOT.size else (0, 0)
                now = time.time()
                tokens, result = change(tokens, counted_at, now)
                os.pwrite(self._descriptor, _SLOT.pack(tokens, now), offset)
            finally:
                fcntl.lockf(self._descriptor, fcntl.LOCK_UN, _SLOT.size, offset)
        return result

    def close(self) -> None:
        os.close(self._descriptor)


class RateLimiter(SharedBuckets):
    """Requests a second: a bucket holds one second of them."""

    def admit(self, slot_number: int, rate: float) -> float:
        """0 when the request may pass; otherwise the seconds until it may."""
        capacity = max(rate, 1.0)
        return self.update(
            slot_number,
            lambda tokens, counted_at, now: take(
                refill(tokens, counted_at, now, rate, capacity), rate
            ),
        )


class MissBudget(SharedBuckets):
    """National-id lookups that found nobody, an hour: a bucket holds an hour of them. A lookup
    may go while a miss is left; only a miss spends one, so a client that finds its persons is
    never held back."""

    def wait(self, client_id: int, per_hour: float) -> float:
        """0 while the client may miss again; otherwise the seconds until it may."""
        rate = per_hour / SECONDS_AN_HOUR

        def check(tokens: float, counted_at: float, now: float) -> tuple[float, float]:
            tokens = refill(tokens, counted_at, now, rate, per_hour)
            return tokens, wait_for_token(tokens, rate)

        return self.update(client_id, check)

    def spend(self, client_id: int, per_hour: float) -> None:
        """Count a miss. Below zero when lookups in flight together all missed: the debt is
        paid in waiting, so that parallel guesses buy nothing."""
        rate = per_hour / SECONDS_AN_HOUR
        self.update(
            client_id,
            lambda tokens, counted_at, now: (
                refill(tokens, counted_at, now, rate, per_hour) - 1.0,
                0.0,
            ),
        )
