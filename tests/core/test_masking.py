from __future__ import annotations

import pytest

from hotline.core.masking import mask_emails, mask_numbers, mask_personal_details


@pytest.mark.parametrize("text, masked", [
    ("我的电话13800138000，请回电", "我的电话138****8000，请回电"),
    ("电话 138-0013-8000 或 138 0013 8000", "电话 138****8000 或 138****8000"),
    ("+86 138 0013 8000", "+86****8000"),
    ("办公室0914-2338613", "办公室091****8613"),
    ("身份证号35010219900101123X。", "身份证号350****123X。"),
    ("身份证350102900101123", "身份证350****1123"),  # the old 15-digit card
    ("１３８００１３８０００", "１３８****８０００"),  # full-width digits
    ("卡号6222 0212 3456 7890 123", "卡号622****0123"),
])
def test_phone_and_id_like_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_numbers(text) == masked


@pytest.mark.parametrize("text", [
    "2022-05-10 反映的问题", "2021年7月26日", "300元", "12345热线", "3号楼2单元501室",
    "第123456号",  # six digits: a house or case number, not a personal number
])
def test_dates_amounts_and_short_numbers_stay(text: str) -> None:
    assert mask_numbers(text) == text


def test_emails_keep_first_character_and_domain() -> None:
    assert mask_emails("请回复 zhang.san@example.com 谢谢") == "请回复 z***@example.com 谢谢"


def test_personal_details_masks_both() -> None:
    text = "联系我：13912345678，邮箱 li@qq.com"
    assert mask_personal_details(text) == "联系我：139****5678，邮箱 l***@qq.com"
