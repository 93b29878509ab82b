"""The desk's panes between calls and beside the order form: the agent's figures for today,
the idle desk (figures and a knowledge search) and the knowledge answers.

Every view is for desk users only (``desk_required``) and reads what that user may read: the
figures are their own work, the knowledge answers come through ``suggest_entries`` with the
user's permissions and the reference cases through ``reference_cases`` (which checks its own).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from hotline.desk.figures import figures_context
from hotline.desk.views import desk_required
from hotline.knowledge.feedback import may_give_feedback
from hotline.knowledge.richtext import plain_text
from hotline.knowledge.search import EntryHit, suggest_entries
from hotline.triage.reference_cases import reference_cases
from hotline.web.access import StaffRequest

ANSWERS_SHOWN = 5
QUERY_MAX = 2000
# The reply field takes 5,000 characters; an answer leaves room for the agent's own words.
ANSWER_MAX = 4000


@dataclass(frozen=True)
class KnowledgeAnswer:
    hit: EntryHit
    answer: str  # the entry's text as plain text, what the insert button puts in the reply


@desk_required
@require_GET
def figures_panel(request: StaffRequest) -> HttpResponse:
    """「我的今日」: the agent's own figures for today."""
    return render(request, "desk/_figures.html", figures_context(request.user))


@desk_required
@require_GET
def idle_panel(request: StaffRequest) -> HttpResponse:
    """The idle desk, fetched by the desk's script when a call is over and no order is open."""
    return render(request, "desk/_idle.html", figures_context(request.user))


@desk_required
@require_GET
def knowledge_answers(request: StaffRequest) -> HttpResponse:
    """Knowledge answers for ``text`` (what the agent typed in the search box, or the order's
    text); ``insert=1`` adds the buttons that put a public answer into the reply field."""
    text = request.GET.get("text", "")[:QUERY_MAX]
    insert = request.GET.get("insert") == "1"
    hits: list[KnowledgeAnswer] | None = None
    cases: list[Any] = []
    if text.strip():
        hits = [KnowledgeAnswer(hit, plain_text(hit.version.body)[:ANSWER_MAX])
                for hit in suggest_entries(request.user, text, limit=ANSWERS_SHOWN)]
        cases = reference_cases(request.user, text)
    return render(request, "desk/_kb_answers.html", {
        "hits": hits, "cases": cases, "insert": insert,
        "may_feedback": may_give_feedback(request.user),
        # What the "not what I need" buttons post: the text the answers were for.
        "feedback_vals": json.dumps({"text": text}, ensure_ascii=False),
    })
