from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "hotline.directory"
    label = "directory"
    verbose_name = _("Directory")

    def ready(self) -> None:
        # Cache invalidation, not business logic: a district or category saved or deleted here
        # is forgotten by this process's reference cache (hotline.directory.lookups).
        from django.db.models.signals import post_delete, post_save

        from hotline.directory import lookups
        from hotline.directory.models import Category, District

        post_save.connect(lookups.invalidate_districts, sender=District,
                          dispatch_uid="refcache-district-save")
        post_delete.connect(lookups.invalidate_districts, sender=District,
                            dispatch_uid="refcache-district-delete")
        post_save.connect(lookups.invalidate_categories, sender=Category,
                          dispatch_uid="refcache-category-save")
        post_delete.connect(lookups.invalidate_categories, sender=Category,
                            dispatch_uid="refcache-category-delete")
