from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "hotline.api"
    label = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        # Cache invalidation, not business logic: a token, user or unit saved or deleted here
        # is forgotten by this process's token cache (hotline.api.tokens).
        from django.db.models.signals import post_delete, post_save

        from hotline.api.models import ApiToken
        from hotline.api.tokens import invalidate_tokens
        from hotline.directory.models import Unit, User

        for model in (ApiToken, User, Unit):
            name = model._meta.label_lower
            post_save.connect(invalidate_tokens, sender=model, dispatch_uid=f"refcache-{name}-save")
            post_delete.connect(invalidate_tokens, sender=model,
                                dispatch_uid=f"refcache-{name}-delete")
