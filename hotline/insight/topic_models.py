"""The standing clustering of recent orders into matters (topics), kept so that a hot-issue
view counts stored memberships instead of clustering a month of orders each time it opens
(9.9 s for a month of a big city; ``hotline.insight.topics`` says how the rows are kept)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.orders.models import Order


class TopicEpoch(models.Model):
    """One full clustering of the orders created in [horizon_start, cut_off), with the term
    weights it used so that later orders are compared on the same scale. One is current."""

    horizon_start = models.DateTimeField()
    cut_off = models.DateTimeField()
    computed_at = models.DateTimeField()
    orders = models.IntegerField(default=0)
    # Orders with a higher id arrived after the clustering whatever their creation time says
    # (bulk loads and imports may back-date): they are new to it too.
    last_order_id = models.BigIntegerField(default=0)
    features_version = models.PositiveSmallIntegerField(default=0)  # models.FEATURES_VERSION
    buckets = models.BinaryField()  # uint32 term buckets, sorted (clustering.TermWeights)
    idf = models.BinaryField()  # float32, one per bucket
    current = models.BooleanField(default=False, db_index=True)

    class Meta:
        verbose_name = _("topic clustering")
        verbose_name_plural = _("topic clusterings")


class Topic(models.Model):
    """A matter many orders are about. ``pending`` topics are made from the orders after the
    epoch's cut-off that joined no epoch topic, and are made again at every refresh."""

    epoch = models.ForeignKey(TopicEpoch, on_delete=models.CASCADE, related_name="topics")
    pending = models.BooleanField(default=False)
    # The centroid's heaviest terms: uint32 bucket ids then float32 weights, same length.
    centroid = models.BinaryField()

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")


class TopicMember(models.Model):
    """An order's topic and its cosine to the topic's centroid (the most central members
    name the topic and are shown as its samples)."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, primary_key=True,
                                 related_name="topic_member")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="members")
    similarity = models.FloatField()

    class Meta:
        verbose_name = _("topic member")
        verbose_name_plural = _("topic members")
