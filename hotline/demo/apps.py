from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo city 示范市, its stories and the bulk loader: data for ``make run``, the tests
    and the benchmarks, written through the domains' services (its one model, ``DemoLoad``,
    records how far the background load has got)."""

    name = "hotline.demo"
    label = "demo"
    verbose_name = _("Demo data")
