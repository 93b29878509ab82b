"""Each order's text features, computed once and kept, so a hot-issue run over tens of
thousands of orders reads a few hundred bytes per order instead of segmenting its text again
(segmenting costs ~0.3 ms an order: 9 s for 30,000 orders; reading the features ~50 ms)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.orders.models import Order

# Bump when the features change (tokeniser, hashing, text length): stale rows are recomputed.
FEATURES_VERSION = 2  # 2: text words without word pairs


class OrderTerms(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, primary_key=True,
                                 related_name="terms")
    version = models.PositiveSmallIntegerField(default=FEATURES_VERSION)
    # Normalised words of the title, a tab, then those of the start of the text.
    words = models.TextField(_("words"))
    # clustering.encode(): uint32 hashed term ids (see hotline/insight/clustering.py).
    features = models.BinaryField(_("features"))

    class Meta:
        verbose_name = _("order text features")
        verbose_name_plural = _("order text features")


class HotIssueSnapshot(models.Model):
    """A computed hot-issue report, kept a few minutes so that the leaders and the centre
    opening the same view do not each wait for the clustering (seconds for a month of a big
    city). ``key`` says whose view it is: scope, window and filters."""

    key = models.CharField(max_length=255, unique=True)
    computed_at = models.DateTimeField(db_index=True)
    report = models.BinaryField()
from hotline.insight.assessment_models import (  # noqa: E402,F401 - Django finds them here
    AssessmentAppeal,
    AssessmentFact,
    AssessmentRules,
    AssessmentScore,
)
from hotline.insight.brief_models import WeeklyBrief  # noqa: E402,F401
from hotline.insight.quality_models import Inspection, SamplingRule, Scorecard, ScorecardItem  # noqa: E402,F401
