"""Free-text addresses and 5-digit ward codes to current administrative units, offline.

An address reads "số nhà, đường/phố, phường/xã, quận/huyện, tỉnh/thành phố", in the units of either
side of the July 2025 reorganisation, with or without diacritics and in many abbreviations. It is
read in three steps:

1. Split (`split`; polars, every row): separators are normalised, a comma goes before each unit
   word that opens a unit inside a segment ("... phố Huế Phường Láng Hạ"), unless it follows a
   street word ("phố Xã Đàn", "đường Thị Trấn"), and the trailing run of segments that can name
   units (a unit word, or neither a street word nor a house number) becomes the candidate
   administrative part. That part repeats across rows: a few thousand distinct values in a million.
2. Parse (`parse`; Python, once per distinct part): its folded words are matched from the right
   against the tables of `dancu.admin_units` (indexed in `tables`): province, then old district,
   then ward (old or current), every combination scored. Leading words that name no unit go back
   to the street.
3. Reconcile (`reconcile`; Python, once per distinct part, code and period): the text's units are
   read together with the code in each scheme the extract date allows.

`standardize` runs the three over whole columns.

Rules, with the `address_issue` ids they set (one per row):

- `ward.code_unknown`: a code is given but is in no scheme the extract date allows (before
  2025-07-01 only the old one); the ward then comes from the text alone.
- `ward.code_conflicts_with_address`: the text names units and no reading of the code lies within
  them, nor within another reading of the same words ("Hoài Đức, HN": a current commune or an old
  district). The text wins: it is what the resident declared and the clerk checked in words, while
  a 5-digit code is easily mistyped, and after the reform easily written in the wrong scheme.
- `ward.ambiguous`: the ward cannot be settled. Either the code fits in both schemes, as two
  different current wards, and the text names neither: the reading in the scheme the text is
  written in is chosen (an old-style address with its district most likely came with its old
  code), and the current scheme when the text does not show one. Or the text names a ward that
  several units carry, nothing narrows it, and then no ward is chosen.
- `ward.unknown`: neither the text nor the code identify a ward.

Names are looked up in Hà Nội first when the address gives no province. An address without a
district is read in the current scheme first; before the reform, a name both schemes know is the
old unit's. An old ward that was divided becomes the current ward the `vietnamadminunits` converter
names by default, unless a current code says which part is meant. A missing extract date allows
both schemes.
"""

from dancu.address.parse import ParsedAdmin, parse_admin_part
from dancu.address.reconcile import (
    AMBIGUOUS,
    CODE_CONFLICT,
    CODE_UNKNOWN,
    UNKNOWN,
    Resolution,
    resolve,
)
from dancu.address.split import split_address
from dancu.address.standardize import OUTPUT_COLUMNS, standardize_addresses
from dancu.address.tables import fold_word, name_key

__all__ = [
    "AMBIGUOUS",
    "CODE_CONFLICT",
    "CODE_UNKNOWN",
    "OUTPUT_COLUMNS",
    "UNKNOWN",
    "ParsedAdmin",
    "Resolution",
    "fold_word",
    "name_key",
    "parse_admin_part",
    "resolve",
    "split_address",
    "standardize_addresses",
]
