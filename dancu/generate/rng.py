"""Deterministic random streams: one root seed, one independent PCG64 stream per named purpose.

Each stream is `PCG64(SeedSequence(seed, spawn_key=(label hash,)))`, so adding or reordering a
stream never shifts the draws of another, and a run is reproducible from `seed` alone. The label
hash is BLAKE2b, not Python's salted `hash()`. A chunk of the population (`chunks.Chunk`) draws
from streams of its own, `spawn_key=(label hash, chunk index)`; what the whole city shares (the
files of each source, their styles, the wards' weights) draws from the chunk-free streams.
"""

import hashlib

import numpy as np


def stream(seed: int, label: str, chunk: int | None = None) -> np.random.Generator:
    """The generator for one purpose ("households", "noise.dan_cu", ...), of one chunk or of the
    whole city."""
    key = int.from_bytes(hashlib.blake2b(label.encode(), digest_size=8).digest(), "little")
    spawn_key = (key,) if chunk is None else (key, chunk)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn_key)))


def choice(rng: np.random.Generator, weights: np.ndarray | list[float], size: int) -> np.ndarray:
    """Indices drawn with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum())


def top_k_weighted(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices drawn without replacement with probability ~ weights (Gumbel top-k)."""
    k = min(k, int((weights > 0).sum()))
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=len(weights))
    return np.sort(np.argpartition(-keys, k - 1)[:k]) if k > 0 else np.array([], dtype=np.int64)


def unique_serials(
    rng: np.random.Generator, groups: np.ndarray, high: int, share: tuple[int, int] = (0, 1)
) -> np.ndarray:
    """A serial in [0, high) per row, distinct within each group; collisions are redrawn. With
    `share` (index, count) the serials fall in the index-th of `count` equal parts of the range,
    so that chunks drawing their own parts never collide."""
    index, count = share
    part = high // count
    _, sizes = np.unique(groups, return_counts=True)
    if len(sizes) and sizes.max() > part:
        raise ValueError(f"a group holds {sizes.max()} rows but its range only {part} serials")
    return index * part + _distinct(rng, groups, part)


def _distinct(rng: np.random.Generator, groups: np.ndarray, high: int) -> np.ndarray:
    serial = rng.integers(0, high, size=len(groups))
    while True:
        combined = groups.astype(np.int64) * high + serial
        _, first = np.unique(combined, return_index=True)
        duplicate = np.ones(len(groups), dtype=bool)
        duplicate[first] = False
        if not duplicate.any():
            return serial
        serial[duplicate] = rng.integers(0, high, size=int(duplicate.sum()))
