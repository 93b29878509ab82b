"""The duplicate scorer on its own: no database."""

from __future__ import annotations

import datetime as dt

from hotline.triage.duplicates import (
    DUPLICATE_THRESHOLD,
    RELATED_THRESHOLD,
    Candidate,
    Kind,
    Request,
    address_similarity,
    guess_address,
    normalise_address,
    rank,
)

NOW = dt.datetime(2026, 5, 6, 10, 0, tzinfo=dt.UTC)
WATER = "幸福小区3号楼从昨天晚上开始停水，到现在还没有来水，也没有任何通知，老人孩子生活很不方便"
WATER_AGAIN = "幸福小区三号楼昨晚开始就停水了，一直没有来水，物业也没有通知，请尽快恢复供水"
NOISE = "解放路工地每天夜里施工到凌晨两点，噪音很大，附近居民无法休息，请相关部门查处"
# Background orders so that the IDF is not computed over three documents only.
OTHERS = [
    "社保卡丢失了想补办，请问需要带什么材料去哪里办理",
    "公司拖欠工资三个月，老板联系不上，请劳动监察部门帮忙",
    "小区门口路灯坏了一个多月，晚上出行很不安全",
    "菜市场周边占道经营严重，早上交通拥堵",
    "公交站台广告牌破损，刮风时有掉落危险",
    "楼上住户装修噪音很大，周末早上七点就开始",
]


def _candidates(*items: Candidate) -> list[Candidate]:
    return [*items, *(Candidate(key=f"o{i}", text=t, created_at=NOW) for i, t in
                      enumerate(OTHERS))]


def test_the_same_matter_from_another_caller_is_a_likely_duplicate() -> None:
    request = Request(text=WATER_AGAIN, title="停水", address="幸福小区3号楼", district="gulou",
                      created_at=NOW, phone="13900000002")
    matches = rank(request, _candidates(
        Candidate(key="water", text=WATER, title="小区停水", address="鼓楼区幸福小区3号楼",
                  district="gulou", created_at=NOW - dt.timedelta(hours=5),
                  phone="13900000001"),
        Candidate(key="noise", text=NOISE, title="夜间施工噪音", address="解放路88号",
                  district="gulou", created_at=NOW - dt.timedelta(days=1)),
    ))
    assert [m.key for m in matches][:1] == ["water"]
    best = matches[0]
    assert best.kind == Kind.DUPLICATE and best.score >= DUPLICATE_THRESHOLD
    codes = {r.code for r in best.reasons}
    assert {"same_address", "similar_text", "same_district"} <= codes
    assert "same_caller" not in codes
    assert all(m.key != "noise" or m.score < RELATED_THRESHOLD for m in matches)
    assert 0.0 <= best.score <= 1.0


def test_another_building_of_the_same_community_scores_lower() -> None:
    request = Request(text=WATER_AGAIN, address="幸福小区3号楼", district="gulou", created_at=NOW)
    same = Candidate(key="same", text=WATER, address="幸福小区3号楼", district="gulou",
                     created_at=NOW)
    other = Candidate(key="other", text=WATER, address="幸福小区5号楼", district="gulou",
                      created_at=NOW)
    scores = {m.key: m for m in rank(request, _candidates(same, other), min_score=0)}
    assert scores["same"].score > scores["other"].score + 0.15
    assert "other_building" in {r.code for r in scores["other"].reasons}
    assert scores["other"].kind != Kind.DUPLICATE


def test_another_district_and_a_long_time_apart_lower_the_score() -> None:
    request = Request(text=WATER_AGAIN, district="gulou", created_at=NOW)
    near = Candidate(key="near", text=WATER, district="gulou", created_at=NOW)
    far = Candidate(key="far", text=WATER, district="gulou", created_at=NOW - dt.timedelta(days=29))
    elsewhere = Candidate(key="elsewhere", text=WATER, district="taijiang", created_at=NOW)
    scores = {m.key: m.score for m in rank(request, _candidates(near, far, elsewhere),
                                           min_score=0)}
    assert scores["near"] > scores["far"] > 0
    assert scores["elsewhere"] < scores["near"] * 0.6


def test_the_same_caller_raises_a_similar_text_but_not_an_unrelated_one() -> None:
    request = Request(text=WATER_AGAIN, created_at=NOW, phone="139-0000-0001")
    mine = Candidate(key="mine", text=WATER, created_at=NOW, phone="13900000001")
    theirs = Candidate(key="theirs", text=WATER, created_at=NOW, phone="13900000009")
    unrelated = Candidate(key="unrelated", text=NOISE, created_at=NOW, phone="13900000001")
    scores = {m.key: m for m in rank(request, _candidates(mine, theirs, unrelated), min_score=0)}
    assert scores["mine"].score > scores["theirs"].score
    assert "same_caller" in {r.code for r in scores["mine"].reasons}
    assert scores["unrelated"].score < RELATED_THRESHOLD


def test_rank_is_bounded_and_sorted_and_handles_empty_input() -> None:
    request = Request(text=WATER_AGAIN)
    assert rank(request, []) == []
    many = [Candidate(key=i, text=WATER + str(i)) for i in range(20)]
    matches = rank(request, many, limit=5, min_score=0)
    assert len(matches) == 5
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    assert rank(Request(text="？？？"), many) == []


def test_address_normalisation() -> None:
    key = normalise_address("福州市鼓楼区幸福小区三号楼2单元301室")
    assert key.place == "幸福小区"
    assert dict(key.numbers) == {"building": "3", "unit": "2", "room": "301"}
    assert normalise_address("台江区菜市场").place == "菜市场"
    assert dict(normalise_address("茶场村五组").numbers) == {"group": "5"}
    same, conflict = address_similarity(normalise_address("幸福小区3号楼"),
                                        normalise_address("鼓楼区幸福小区3栋"))
    assert same == 1.0 and not conflict
    other, conflict = address_similarity(normalise_address("幸福小区3号楼"),
                                         normalise_address("幸福小区5号楼"))
    assert conflict and other < 0.5
    unrelated, conflict = address_similarity(normalise_address("幸福小区"),
                                             normalise_address("解放路"))
    assert unrelated == 0.0 and not conflict


def test_guess_address_finds_the_place_named_in_a_text() -> None:
    assert guess_address("本人系春华镇金鼎村七里组村民") == "春华镇金鼎村"
    assert guess_address("住在幸福小区3号楼的居民反映") == "幸福小区3号楼"
    assert guess_address("我家小区停水了") == ""
    assert guess_address("") == ""
