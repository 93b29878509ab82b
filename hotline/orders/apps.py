from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "hotline.orders"
    label = "orders"
    verbose_name = _("Work orders")

    def ready(self) -> None:
        from hotline.core.export_log import install_writer
        from hotline.orders.access_log import log_export

        install_writer(log_export)
