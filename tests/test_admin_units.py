"""Administrative-unit tables read offline from vietnamadminunits' bundled data.

Counts come from that data (vietnamadminunits 1.0.4, `data/dataset.db` and
`data/converter_2025.json`): 63 old provinces, 10,035 old wards with a code, 34 provinces and
3,321 wards after the reform; Hà Nội has 526 old wards and 126 current ones (51 Phường, 75 Xã).
"""

import subprocess
import sys

import polars as pl
import pytest

from dancu import admin_units


def _one(frame: pl.DataFrame, **where: str) -> dict:
    rows = frame.filter(**where)
    assert rows.height == 1, where
    return rows.row(0, named=True)


def test_counts_before_and_after_the_reform():
    assert admin_units.old_wards().height == 10_035
    assert admin_units.old_wards()["old_ward_code"].is_unique().all()
    assert admin_units.all_current_wards().height == 3_321
    assert admin_units.all_current_wards()["province_code"].n_unique() == 34
    hanoi = admin_units.current_wards()
    assert hanoi.height == 126
    assert (hanoi["ward_type"] == "Phường").sum() == 51


def test_every_old_hanoi_ward_maps_to_a_current_one():
    conversion = admin_units.ward_conversion()
    assert conversion.height == 526
    assert conversion["old_ward_code"].is_unique().all()
    assert conversion.null_count().sum_horizontal().item() == 0
    current = set(admin_units.current_wards()["ward_code"])
    assert set(conversion["ward_code"]) <= current
    # Divided old wards go to the converter's default new ward.
    assert conversion["is_divided"].sum() == 199


def test_phuc_xa():
    phuc_xa = _one(admin_units.ward_conversion(), old_ward_code="00001")
    assert phuc_xa["old_ward_name"] == "Phường Phúc Xá"
    assert phuc_xa["old_district_name"] == "Quận Ba Đình"
    assert phuc_xa["old_province_name"] == "Thành phố Hà Nội"
    assert (phuc_xa["ward_code"], phuc_xa["ward_name"]) == ("00097", "Phường Hồng Hà")
    assert not phuc_xa["is_divided"]


def test_a_divided_ward_goes_to_its_default_new_ward():
    tay_dang = _one(admin_units.ward_conversion(), old_ward_name="Thị trấn Tây Đằng")
    assert tay_dang["is_divided"]
    assert (tay_dang["ward_code"], tay_dang["ward_name"]) == ("09661", "Xã Minh Châu")


def test_old_and_current_codes_are_kept_apart():
    """Old 00118 is Ngọc Thụy (now in Hồng Hà); current 00118 is Phường Bồ Đề."""
    ngoc_thuy = _one(admin_units.ward_conversion(), old_ward_code="00118")
    assert ngoc_thuy["old_ward_name"] == "Phường Ngọc Thụy"
    assert ngoc_thuy["ward_code"] == "00097"
    assert _one(admin_units.current_wards(), ward_code="00118")["ward_name"] == "Phường Bồ Đề"


@pytest.mark.parametrize("code", ["001", "036", "079", "096"])
def test_id_province_codes(code):
    codes = admin_units.id_province_codes()
    assert len(codes) == 63
    assert codes[0] == "001" and codes[-1] == "096"
    assert all(len(c) == 3 and c.isdigit() and c.startswith("0") for c in codes)
    assert code in codes


def test_no_geocoder_is_loaded():
    """The tables come from the data files: the package's parser (and geopy) stay unimported."""
    probe = (
        "import sys; from dancu import admin_units; admin_units.ward_conversion();"
        "print('geopy' in sys.modules or 'vietnamadminunits.parser' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
