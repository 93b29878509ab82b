"""Every export is written to the access log (等保: who took which data, when, from where).

The access log lives in ``orders``; a domain below it (``directory``, whose admin exports the
staff directory) may not import orders. So such a domain reports its export here, and orders
installs the writer when it loads (``OrdersConfig.ready``). An export with no writer installed
fails loudly instead of going unrecorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

ExportWriter = Callable[[Any, Any, str], object]  # (user, request, what was exported)

_writer: ExportWriter | None = None


def install_writer(writer: ExportWriter) -> None:
    global _writer
    _writer = writer


def log_export(user: Any, request: Any, detail: str) -> None:
    if _writer is None:
        raise ImproperlyConfigured("no access-log writer installed (is hotline.orders loaded?)")
    _writer(user, request, detail)
