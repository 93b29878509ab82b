from __future__ import annotations

import pytest

from hotline.core.phones import is_plausible_phone, mask_phone, normalise_phone


@pytest.mark.parametrize("raw, phone", [
    ("13800138000", "13800138000"), (" 138-0013-8000 ", "13800138000"),
    ("+86 138 0013 8000", "+8613800138000"), ("(010) 1234-5678", "01012345678"),
    ("tel-010-12345678", "01012345678"), ("", ""), (None, ""), ("sipp", ""),
    ("１３８", ""),  # full-width digits are not a dialled number
])
def test_normalise_keeps_digits_and_a_leading_plus(raw: str | None, phone: str) -> None:
    assert normalise_phone(raw) == phone


@pytest.mark.parametrize("phone, plausible", [
    ("12345", True), ("1234", False), ("+8613800138000", True), ("1" * 20, True),
    ("1" * 21, False), ("", False),
])
def test_plausible_numbers_have_5_to_20_digits(phone: str, plausible: bool) -> None:
    assert is_plausible_phone(phone) is plausible


@pytest.mark.parametrize("phone, masked", [
    ("13812345678", "138****5678"), ("13800000000", "138****0000"),
    # Always four stars: the mask does not give the number's length away.
    ("059112345678", "059****5678"), ("+8613812345678", "+86****5678"),
    ("12345678", "123****5678"),
    # Short numbers are hidden whole: their last digits would be most of the number.
    ("12345", "*****"), ("1234567", "*******"), ("", ""), (None, ""),
])
def test_one_mask_for_every_screen(phone: str | None, masked: str) -> None:
    assert mask_phone(phone) == masked
