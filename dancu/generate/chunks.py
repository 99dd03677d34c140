"""The city cut into chunks of neighbouring wards, each generated on its own in bounded memory.

A chunk is a run of current wards (in ward-code order, with their old wards) holding about
`CHUNK_PERSONS` persons; a population of that size or less is one chunk. Every household lives in
one ward, so a chunk holds whole households, and a chunk's persons marry, transfer school, register
twice and host foreign residents among themselves. Each chunk:

- draws from its own random streams, `rng.stream(seed, label, index)`;
- holds a share of persons proportional to its wards' weights (`ward_weights`, drawn once for
  the city), the remainders given to the largest fractions;
- numbers its keys from `first_person` on (persons `P`, households `H`, foreigners `F`,
  stateless `S`, unregistered children `U`): a chunk never has more of each than persons, so
  the ranges of two chunks never meet;
- draws personal-id serials, social-insurance codes and record ids in the `share`-th part of
  their range (`rng.unique_serials`), so that ids are unique across chunks by construction.

The plan depends on the persons and the seed only, never on the machine, so a seed writes the
same files whatever the memory.
"""

from dataclasses import dataclass
from math import ceil

import numpy as np
import polars as pl

from dancu import admin_units
from dancu.generate.rng import stream

CHUNK_PERSONS = 250_000  # ~1.5 GB of working memory per chunk
MIN_WARDS_PER_CHUNK = 2  # a second registration is made in another ward of the chunk
# Urban wards are denser than rural communes; each ward varies around its type's mean weight.
WARD_WEIGHT_BY_TYPE = {"Phường": 1.3, "Thị trấn": 1.0, "Xã": 0.9}
WARD_WEIGHT_SPREAD = 0.35  # sigma of each ward's lognormal factor


@dataclass(frozen=True)
class Chunk:
    seed: int
    index: int
    count: int
    persons: int
    first_person: int  # persons of the chunks before this one
    wards: tuple[str, ...]  # current ward codes

    @property
    def share(self) -> tuple[int, int]:
        """This chunk's part of every serial range (`rng.unique_serials`)."""
        return self.index, self.count

    def stream(self, label: str) -> np.random.Generator:
        return stream(self.seed, label, self.index)

    def keys(self, prefix: str, numbers: pl.Expr | pl.Series, width: int = 8):
        """Keys `<prefix><number>`, numbered from `first_person` + 1 on."""
        return prefix + (numbers + self.first_person + 1).cast(pl.String).str.zfill(width)


def ward_weights(seed: int) -> np.ndarray:
    """Each old ward's weight (rows of `admin_units.ward_conversion`): its type's, times a
    lognormal factor (other types weigh 1)."""
    wards = admin_units.ward_conversion()
    base = wards["old_ward_type"].replace_strict(WARD_WEIGHT_BY_TYPE, default=1.0).to_numpy()
    return base * stream(seed, "ward_weights").lognormal(0.0, WARD_WEIGHT_SPREAD, wards.height)


def plan(persons: int, seed: int, chunk_persons: int = CHUNK_PERSONS) -> list[Chunk]:
    """The chunks of a population of `persons`, in ward-code order; empty chunks are left out."""
    weights = (
        admin_units.ward_conversion()
        .select("ward_code", weight=pl.Series(ward_weights(seed)))
        .group_by("ward_code")
        .agg(pl.col("weight").sum())
        .sort("ward_code")
    )
    count = max(1, min(ceil(persons / chunk_persons), weights.height // MIN_WARDS_PER_CHUNK))
    cumulative = weights["weight"].cum_sum().to_numpy()
    # A ward belongs to the chunk its weight's middle falls in.
    middle = (cumulative - weights["weight"].to_numpy() / 2) / cumulative[-1]
    of_ward = np.minimum((middle * count).astype(np.int64), count - 1)
    chunk_weight = np.bincount(of_ward, weights["weight"].to_numpy(), minlength=count)
    sizes = _apportioned(persons, chunk_weight)
    codes = weights["ward_code"].to_numpy()
    kept = [k for k in range(count) if sizes[k] > 0]
    firsts = np.concatenate([[0], np.cumsum(sizes)])
    return [
        Chunk(
            seed=seed,
            index=k,
            count=count,
            persons=int(sizes[k]),
            first_person=int(firsts[k]),
            wards=tuple(codes[of_ward == k].tolist()),
        )
        for k in kept
    ]


def _apportioned(total: int, weights: np.ndarray) -> np.ndarray:
    """`total` split in proportion to `weights`, the remainder to the largest fractions."""
    exact = total * weights / weights.sum()
    sizes = np.floor(exact).astype(np.int64)
    short = total - int(sizes.sum())
    sizes[np.argsort(-(exact - sizes), kind="stable")[:short]] += 1
    return sizes
