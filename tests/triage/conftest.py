"""Fixtures for the classifier's Django side: a model folder per test and a labelled history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline.orders.services import do_action
from tests.orders.helpers import new_order

WATER_TEXTS = [
    "小区停水两天了，一直没有来水", "家里自来水停了，什么时候恢复供水", "突然停水也没有通知",
    "楼里停水影响做饭洗澡", "自来水管爆裂停水", "已经停水一整天，请尽快恢复", "水压太低基本停水",
    "停水通知没有提前发布", "整栋楼停水没人管", "停水后来水浑浊发黄",
]
NOISE_TEXTS = [
    "楼下工地夜间施工噪音很大", "广场舞音响太吵扰民", "夜里施工噪声影响休息", "酒吧音乐声太大扰民",
    "装修噪音从早到晚不停", "工地半夜还在打桩噪音", "商铺喇叭声音很吵", "夜间施工机器轰鸣",
    "邻居装修电钻噪音", "凌晨施工噪音扰民严重",
]


@pytest.fixture
def model_dir(settings: Any, tmp_path: Path) -> Iterator[Path]:
    from hotline.triage.services import forget_loaded_model

    settings.HOTLINE_TRIAGE_MODEL_DIR = tmp_path / "models"
    settings.HOTLINE_TRIAGE_MIN_ORDERS = 20
    settings.HOTLINE_TRIAGE_MIN_PER_CATEGORY = 3
    forget_loaded_model()
    yield tmp_path / "models"
    forget_loaded_model()


def labelled_history(city: Any, copies: int = 2) -> list[Any]:
    """Orders of two categories that left the desk (dispatched), as agents categorised them."""
    orders: list[Any] = []
    for round_ in range(copies):
        for water, noise in zip(WATER_TEXTS, NOISE_TEXTS, strict=True):
            for text, category in ((water, "100101"), (noise, "100201")):
                order = new_order(city.agent, title=text[:8], text=f"{text}（{round_}）",
                                  category=category, citizen_phone=f"1391234{len(orders):04d}")
                do_action(city.agent, order.number, "dispatch")
                orders.append(order)
    return orders
