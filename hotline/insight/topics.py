"""The standing clustering behind the hot issues: orders are grouped into matters (topics) once,
and each view counts the stored memberships of the orders in its window, scope and filters.

- An **epoch** clusters every order of the last ``HOTLINE_HOT_ISSUES_HORIZON_DAYS`` (120: the
  longest date range a view may ask for, 92 days, plus its 28-day baseline) with
  ``clustering.fit`` and keeps the term weights it used. The worker makes a new one every
  ``HOTLINE_HOT_ISSUES_EPOCH_SECONDS`` (6 hours); only the first view on an empty database
  waits for one.
- Between epochs, a **refresh** (the worker every ``HOTLINE_HOT_TOPICS_SECONDS``, and each view
  before it reads) takes the orders that arrived since: each joins the epoch topic whose
  centroid it is most alike (at least the clustering threshold), and those that join none are
  clustered among themselves into *pending* topics, remade at every refresh, so a matter that
  starts this morning is a hot issue this morning.

A view then needs a few grouped counts, not a clustering: the same matter is the same topic in
the last day, the last month, a sub-centre's view and a category's, and its usual level is the
count of its own members in the baseline days.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from scipy.sparse import csr_matrix

from hotline.insight import clustering
from hotline.insight.models import FEATURES_VERSION
from hotline.insight.terms import index_missing
from hotline.insight.topic_models import Topic, TopicEpoch, TopicMember
from hotline.orders.models import Order

log = logging.getLogger("hotline.insight")

DAY = dt.timedelta(days=1)


def horizon_days() -> int:
    return int(settings.HOTLINE_HOT_ISSUES_HORIZON_DAYS)


def encode_centroid(row: csr_matrix, buckets: np.ndarray) -> bytes:
    """A centroid row (columns of ``buckets``) as stored: bucket ids, then weights."""
    row = row.tocsr()
    return (buckets[row.indices].astype(np.uint32).tobytes()
            + row.data.astype(np.float32).tobytes())


def decode_centroid(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(bucket ids, weights) of a stored centroid."""
    half = len(blob) // 2
    return np.frombuffer(blob[:half], dtype=np.uint32), np.frombuffer(blob[half:],
                                                                      dtype=np.float32)


@dataclass(frozen=True)
class EpochModel:
    """What comparing a new order with an epoch's topics needs, read once per epoch."""

    epoch_id: int
    weights: clustering.TermWeights
    topic_ids: np.ndarray  # int64: row k of ``centroids`` is topic topic_ids[k]
    centroids: csr_matrix  # in the columns of ``weights``


_cache: dict[int, EpochModel] = {}
_cache_lock = threading.Lock()


def _model(epoch: TopicEpoch) -> EpochModel:
    with _cache_lock:
        found = _cache.get(epoch.pk)
    if found is not None:
        return found
    weights = clustering.TermWeights.from_bytes(bytes(epoch.buckets), bytes(epoch.idf))
    ids, rows, cols, data = [], [], [], []
    for k, (topic_id, blob) in enumerate(Topic.objects.filter(epoch=epoch, pending=False)
                                         .order_by("pk").values_list("pk", "centroid")):
        buckets, values = decode_centroid(bytes(blob))
        position = np.searchsorted(weights.buckets, buckets)
        ids.append(topic_id)
        rows.append(np.full(len(buckets), k, dtype=np.int64))
        cols.append(position)
        data.append(values)
    centroids = csr_matrix(
        (np.concatenate(data) if data else np.zeros(0, dtype=np.float32),
         (np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64),
          np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64))),
        shape=(len(ids), len(weights.buckets)))
    model = EpochModel(epoch.pk, weights, np.array(ids, dtype=np.int64), centroids)
    with _cache_lock:
        _cache.clear()  # one epoch is current at a time
        _cache[epoch.pk] = model
    return model


def _features(orders: Sequence[tuple[int, bytes | memoryview | None]]) -> list[np.ndarray]:
    return [clustering.decode(bytes(blob or b"")) for _, blob in orders]


def current_epoch() -> TopicEpoch | None:
    return TopicEpoch.objects.filter(current=True).order_by("-pk").first()


def do_cluster_epoch(now: dt.datetime | None = None) -> TopicEpoch:
    """Cluster every order of the horizon and make that the current epoch (the previous one,
    its topics and memberships are replaced in the same transaction)."""
    now = now or timezone.now()
    start = now - horizon_days() * DAY
    orders = Order.objects.filter(created_at__gte=start)
    index_missing(orders)
    last_id = Order.objects.aggregate(last=Max("id"))["last"] or 0
    rows = list(orders.filter(id__lte=last_id).order_by("id")
                .values_list("id", "terms__features"))
    docs = _features(rows)
    matrix, weights = clustering.vectorise_with_weights(docs)
    fitted = clustering.fit(matrix, docs)
    centroids = clustering.prune_centroids(fitted.centroids)
    buckets, idf = weights.to_bytes()
    with transaction.atomic():
        TopicMember.objects.all().delete()
        Topic.objects.all().delete()
        TopicEpoch.objects.all().delete()
        epoch = TopicEpoch.objects.create(horizon_start=start, cut_off=now, computed_at=now,
                                          orders=len(rows), last_order_id=last_id,
                                          features_version=FEATURES_VERSION,
                                          buckets=buckets, idf=idf, current=True)
        topics = Topic.objects.bulk_create(
            [Topic(epoch=epoch, centroid=encode_centroid(centroids[g], weights.buckets))
             for g in range(len(fitted.groups))], batch_size=1000)
        TopicMember.objects.bulk_create(
            [TopicMember(order_id=rows[m][0], topic_id=topic.pk, similarity=float(sim))
             for topic, members, sims in zip(topics, fitted.groups, fitted.similarities,
                                             strict=True)
             for m, sim in zip(members, sims, strict=True)], batch_size=2000)
    log.info("hot-issue topics: %s orders clustered into %s topics", len(rows), len(topics))
    return epoch


def _new_orders(epoch: TopicEpoch, now: dt.datetime) -> list[tuple[int, bytes | memoryview | None]]:
    """Orders of the horizon that arrived after the epoch and joined none of its topics (those
    in pending topics are taken again: pending topics are remade)."""
    arrived = Order.objects.filter(created_at__gte=now - horizon_days() * DAY).filter(
        Q(created_at__gte=epoch.cut_off) | Q(id__gt=epoch.last_order_id))
    index_missing(arrived)
    settled = TopicMember.objects.filter(topic__epoch=epoch, topic__pending=False)
    return list(arrived.exclude(id__in=settled.values("order_id")).order_by("id")
                .values_list("id", "terms__features"))


def do_refresh(now: dt.datetime | None = None, *, new_epoch_when_stale: bool = True) -> str:
    """Bring the topics up to date; returns what was done ("epoch", "refresh", "busy").

    The worker calls it with ``new_epoch_when_stale``; a view calls it without, so a viewer
    waits for an epoch only when there is none. Another process refreshing at the same time
    is not waited for: the view reads what is stored."""
    now = now or timezone.now()
    epoch = current_epoch()
    stale = epoch is not None and (
        now - epoch.computed_at > dt.timedelta(seconds=settings.HOTLINE_HOT_ISSUES_EPOCH_SECONDS)
        or epoch.horizon_start > now - horizon_days() * DAY + DAY
        or epoch.features_version != FEATURES_VERSION)
    if epoch is None or (stale and new_epoch_when_stale):
        do_cluster_epoch(now)
        return "epoch"
    with transaction.atomic():
        locked = TopicEpoch.objects.select_for_update(skip_locked=True).filter(
            pk=epoch.pk, current=True).first()
        if locked is None:
            return "busy"
        _assign_new(locked, now)
    return "refresh"


def _assign_new(epoch: TopicEpoch, now: dt.datetime) -> None:
    TopicMember.objects.filter(topic__epoch=epoch, topic__pending=True).delete()
    Topic.objects.filter(epoch=epoch, pending=True).delete()
    rows = _new_orders(epoch, now)
    if not rows:
        return
    model = _model(epoch)
    docs = _features(rows)
    matrix = clustering.weigh(docs, model.weights)
    owners = clustering.assign(matrix, model.centroids, clustering.DEFAULT_THRESHOLD)
    joined = np.flatnonzero(owners >= 0)
    members = []
    if len(joined):
        sims = np.asarray(matrix[joined].multiply(model.centroids[owners[joined]])
                          .sum(axis=1)).ravel()
        members = [TopicMember(order_id=rows[i][0], topic_id=int(model.topic_ids[owners[i]]),
                               similarity=float(s))
                   for i, s in zip(joined.tolist(), sims.tolist(), strict=True)]
    alone = np.flatnonzero(owners < 0)
    if len(alone) > 1:
        # Weighed among themselves: a new matter's own words (a place the epoch never saw)
        # are what make it one matter.
        alone_docs = [docs[i] for i in alone]
        own, own_weights = clustering.vectorise_with_weights(alone_docs)
        fitted = clustering.fit(own, alone_docs)
        centroids = clustering.prune_centroids(fitted.centroids)
        topics = Topic.objects.bulk_create(
            [Topic(epoch=epoch, pending=True,
                   centroid=encode_centroid(centroids[g], own_weights.buckets))
             for g in range(len(fitted.groups))])
        for topic, group, sims_of in zip(topics, fitted.groups, fitted.similarities,
                                         strict=True):
            members.extend(TopicMember(order_id=rows[alone[m]][0], topic_id=topic.pk,
                                       similarity=float(s))
                           for m, s in zip(group, sims_of, strict=True))
    TopicMember.objects.bulk_create(members, batch_size=2000)


def covers(start: dt.datetime, now: dt.datetime | None = None) -> bool:
    """Can the stored topics answer for orders from ``start`` on (a window's baseline start)?"""
    now = now or timezone.now()
    epoch = current_epoch()
    earliest = epoch.horizon_start if epoch is not None else now - horizon_days() * DAY
    return start >= earliest


def centroid_of(topic_id: int) -> tuple[np.ndarray, np.ndarray]:
    blob = Topic.objects.filter(pk=topic_id).values_list("centroid", flat=True).first()
    return decode_centroid(bytes(blob or b""))
