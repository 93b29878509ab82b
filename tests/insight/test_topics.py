"""The standing topics behind the hot issues (issue 16 item 4): a view counts stored
memberships; orders after the clustering join its topics or form pending ones; a window older
than the topics' horizon is clustered for the view as before."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone

from hotline.insight import clustering, topics
from hotline.insight.services import hot_issues, window_for
from hotline.insight.topic_models import Topic, TopicEpoch, TopicMember
from tests.insight.conftest import OUTAGE, make

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

    from tests.conftest import City
    from tests.insight.conftest import Scenario

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def test_the_first_view_clusters_the_horizon_once_and_later_views_only_count(
        city: City, scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    first = hot_issues(city.leader, window_for(days=7, now=scenario.now))
    assert first.timings_ms.get("topics_epoch") == 1
    assert TopicEpoch.objects.filter(current=True).count() == 1
    outage = first.issues[0]
    assert outage.count == 6 and "丽发新城" in outage.label

    def no_clustering(*args: object, **kwargs: object) -> None:
        raise AssertionError("a view clustered the orders again")

    monkeypatch.setattr(clustering, "cluster", no_clustering)
    monkeypatch.setattr(topics, "do_cluster_epoch", no_clustering)
    month = hot_issues(city.leader, window_for(days=30, now=scenario.now))
    assert month.timings_ms.get("topics_refresh") == 1
    outage_numbers = {s.number for s in outage.samples}
    same = [i for i in month.issues if outage_numbers & {s.number for s in i.samples}]
    assert same and same[0].count == outage.count + 2  # the two earlier calls are in the month
    day = hot_issues(city.leader, window_for(days=1, now=scenario.now))
    assert [i.count for i in day.issues][:1] == [6]


def test_an_order_after_the_clustering_joins_its_matter_without_a_new_clustering(
        city: City, scenario: Scenario) -> None:
    window = window_for(days=7, now=scenario.now)
    before = hot_issues(city.leader, window).issues[0]
    epoch = TopicEpoch.objects.get(current=True)
    late = make(city, "丽发新城小区还是停水", "丽发新城小区停水到现在还没有来水", timezone.now())
    assert topics.do_refresh() == "refresh"
    assert TopicEpoch.objects.get(current=True).pk == epoch.pk
    member = TopicMember.objects.get(order=late)
    assert not member.topic.pending and member.similarity >= clustering.DEFAULT_THRESHOLD
    after = hot_issues(city.leader, window_for(days=7)).issues[0]
    assert after.label == before.label and after.count == before.count + 1


def test_a_matter_that_starts_after_the_clustering_is_a_hot_issue_at_once(
        city: City, scenario: Scenario) -> None:
    hot_issues(city.leader, window_for(days=7, now=scenario.now))
    now = timezone.now()
    lift = [make(city, "和平新村电梯困人", "和平新村5栋电梯困人半小时无人处理", now - k * HOUR,
                 district="taijiang", category="100201") for k in range(3)]
    for _ in range(2):  # pending topics are made again at each refresh, never twice
        assert topics.do_refresh() == "refresh"
        assert Topic.objects.filter(pending=True).count() == 1
        assert TopicMember.objects.filter(topic__pending=True).count() == 3
    report = hot_issues(city.leader, window_for(days=1))
    found = [i for i in report.issues if "和平新村" in i.label]
    assert len(found) == 1 and found[0].count == 3
    assert {s.number for s in found[0].samples} == {o.number for o in lift}


def test_a_sub_centre_counts_and_names_only_its_own_orders(city: City,
                                                           scenario: Scenario) -> None:
    # The same matter in two districts: one topic, counted per scope.
    for k in range(4):
        make(city, OUTAGE[k][0], OUTAGE[k][1], scenario.now - (3 + k) * HOUR,
             district="taijiang")
    window = window_for(days=7, now=scenario.now)
    city_wide = [i for i in hot_issues(city.leader, window).issues if "新城" in i.label]
    assert sum(i.count for i in city_wide) == 10
    assert any(dict(i.districts).get("台江区") for i in city_wide)
    district = hot_issues(city.sub_agent, window)
    assert district.scope == "district"
    mine = [i for i in district.issues if "新城" in i.label]
    assert sum(i.count for i in mine) == 6  # 鼓楼区's six, not 台江区's four
    assert all({d for d, _ in i.districts} == {"鼓楼区"} for i in mine)
    assert all(s.district == "鼓楼区" for i in mine for s in i.samples)


def test_a_filtered_view_counts_from_the_same_topics(city: City, scenario: Scenario) -> None:
    window = window_for(days=30, now=scenario.now)
    hot_issues(city.leader, window)
    noise = hot_issues(city.leader, window, district="taijiang")
    assert [i.count for i in noise.issues] == [4]
    assert noise.issues[0].spike is None or noise.issues[0].count == 4


def test_a_window_older_than_the_horizon_is_clustered_for_the_view(
        city: City, scenario: Scenario, settings: Settings) -> None:
    settings.HOTLINE_HOT_ISSUES_HORIZON_DAYS = 10  # the 7-day window's baseline reaches 35 back
    report = hot_issues(city.leader, window_for(days=7, now=scenario.now))
    assert "topics_epoch" not in report.timings_ms and "cluster_ms" in report.timings_ms
    assert report.issues[0].count == 6


def test_the_worker_clusters_again_when_the_epoch_is_old(city: City, scenario: Scenario,
                                                         settings: Settings) -> None:
    assert topics.do_refresh() == "epoch"
    assert topics.do_refresh() == "refresh"
    later = timezone.now() + dt.timedelta(seconds=settings.HOTLINE_HOT_ISSUES_EPOCH_SECONDS + 60)
    assert topics.do_refresh(later, new_epoch_when_stale=False) == "refresh"  # a view waits not
    assert topics.do_refresh(later) == "epoch"
    assert TopicEpoch.objects.count() == 1  # the old one, its topics and members replaced
    assert TopicMember.objects.filter(topic__epoch__current=False).count() == 0


def test_term_weights_and_centroids_survive_storage() -> None:
    docs = [clustering.decode(clustering.encode(t.split(), x.split())) for t, x in (
        ("丽发 新城 停水", "小区 停水"), ("丽发 新城 小区 停水", "没有 来水"), ("地铁 末班车", "延长"))]
    matrix, weights = clustering.vectorise_with_weights(docs, min_df=1)
    again = clustering.TermWeights.from_bytes(*weights.to_bytes())
    assert (clustering.weigh(docs, again) != matrix).nnz == 0
    row = matrix[0]
    buckets, values = topics.decode_centroid(topics.encode_centroid(row, weights.buckets))
    assert list(buckets) == list(weights.buckets[row.indices])
    assert values.tolist() == pytest.approx(row.data.tolist())
