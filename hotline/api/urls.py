"""The REST API, mounted at /api/v1/ (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs)."""

from __future__ import annotations

from hotline.api import errors, rules
from hotline.api.auth import AUTH
from hotline.api.directory import router as directory_router
from hotline.api.fallback import router as fallback_router
from hotline.api.insight import router as insight_router
from hotline.api.knowledge import router as knowledge_router
from hotline.api.openapi import HotlineAPI
from hotline.api.orders import router as orders_router
from hotline.api.public import router as public_router
from hotline.api.triage import router as triage_router

api = HotlineAPI(
    title="12345 Hotline API",
    version="1",
    urls_namespace="api",
    auth=AUTH,
    description=(
        "Work orders of the 12345 hotline. Authenticate with `Authorization: Bearer <token>` "
        "(tokens from `manage.py issue_token`) or a logged-in session (with CSRF). Every error "
        'is JSON: `{"detail": "...", "field": "..."}`.'
    ),
)
errors.install(api)
api.add_decorator(rules.enforce, mode="view")  # each operation's declared roles (api/rules.py)
api.add_router("", orders_router)
api.add_router("", directory_router)
api.add_router("", public_router)
api.add_router("/knowledge", knowledge_router)
api.add_router("/insight", insight_router)
api.add_router("/triage", triage_router)
api.add_router("/desk", "hotline.api.wallboard.router")  # the supervisor's wallboard
api.add_router("", "hotline.api.reports.router")  # the standard reports (issue 14)
api.add_router("", "hotline.api.audit.router")  # the access log, for the audit administrator
api.add_router("", "hotline.api.briefs.router")  # the weekly brief (PDF)
api.add_router("", "hotline.api.assessment.router")  # the monthly assessment ranking
# Mount new routers above this line: the fallback answers every path not matched before it.
api.add_router("", fallback_router)  # last: JSON 404 for unknown paths
