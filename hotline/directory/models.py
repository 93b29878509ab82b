"""The organisation of the hotline: units as a tree, staff with roles, the category catalogue
(事项目录) with its dispatch routes and deadlines, and the working-day calendar overrides."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from hotline.core.roles import Role


class District(models.Model):
    """An administrative district of the city (区/县); sub-centres and streets belong to one."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class UnitKind(models.TextChoices):
    CENTRE = "centre", _("Hotline centre")
    SUBCENTRE = "subcentre", _("District sub-centre")
    DEPARTMENT = "department", _("Department")
    STREET = "street", _("Street office")


class AssessmentKind(models.TextChoices):
    """What a unit is assessed as (考核), for the weights of the three rates: a department is a
    bureau unless marked a public utility; a sub-centre and its streets are a district."""

    AUTO = "", _("By the kind of unit")
    DISTRICT = "district", _("District")
    BUREAU = "bureau", _("Government department")
    UTILITY = "utility", _("Public utility")


class Unit(models.Model):
    """A node of the organisation tree: the centre, a sub-centre, a department or a street."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("parent unit"),
    )
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.PROTECT, related_name="units",
        verbose_name=_("district"),
    )
    phone = models.CharField(_("transfer number"), max_length=32, blank=True)
    duties = models.TextField(_("duties"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    assessment_kind = models.CharField(
        _("assessed as"), max_length=16, choices=AssessmentKind.choices, blank=True, default="",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self) -> str:
        return self.name

    # Levels read below a unit at most (the tree has a few; a cycle stops there).
    MAX_DEPTH = 32

    def descendant_ids(self) -> list[int]:
        """Ids of this unit and every unit below it, level by level (each in code order):
        one recursive statement (one per level before: every order search and page of a
        sub-centre or department reads its tree)."""
        table = connection.ops.quote_name(Unit._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH RECURSIVE tree(id, depth) AS ("  # noqa: S608
                f"SELECT id, 0 FROM {table} WHERE id = %s "
                f"UNION ALL SELECT unit.id, tree.depth + 1 FROM {table} AS unit "
                "JOIN tree ON unit.parent_id = tree.id WHERE tree.depth < %s) "
                f"SELECT tree.id FROM tree JOIN {table} AS unit ON unit.id = tree.id "
                "ORDER BY tree.depth, unit.code",
                [self.pk, self.MAX_DEPTH])
            ids = [int(row[0]) for row in cursor.fetchall()]
        return ids or [self.pk]


class User(AbstractUser):
    """A member of staff. The role says what they may do, the unit where they may do it."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="staff",
        verbose_name=_("unit"),
    )
    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    extension = models.CharField(_("phone extension"), max_length=16, blank=True)
    # When the password was last set (the expiry policy counts from here; empty: from joining).
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return self.display_name or self.username

    def set_password(self, raw_password: str | None) -> None:
        # Every way of setting a password (forms, admin, createsuperuser, changepassword) ends
        # here, so the expiry clock restarts wherever it is changed. The history is written by
        # the history validator's ``password_changed`` hook once the user is saved.
        super().set_password(raw_password)
        from django.utils import timezone

        self.password_changed_at = timezone.now()

    @property
    def unit_kind(self) -> str | None:
        return self.unit.kind if self.unit_id and self.unit else None


class OrderType(models.TextChoices):
    """The kinds of request a citizen makes (the national classification)."""

    CONSULTATION = "consultation", _("Consultation")
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report of wrongdoing")
    HELP = "help", _("Request for help")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")
    OTHER = "other", _("Other")


def all_order_types() -> list[str]:
    return [value for value, _label in OrderType.choices]


class Category(models.Model):
    """One entry of the three-level catalogue (事项目录). The leaf categories carry deadlines;
    a category without its own values uses its parent's (see ``effective_limits``)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=128)
    level = models.PositiveSmallIntegerField(_("level"))
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("parent category"),
    )
    accepted_types = models.JSONField(_("accepted order types"), default=all_order_types)
    sign_limit_hours = models.PositiveIntegerField(
        _("sign-for limit (working hours)"), null=True, blank=True
    )
    handle_limit_days = models.PositiveIntegerField(
        _("handling limit (working days)"), null=True, blank=True
    )
    urgent_sign_limit_hours = models.PositiveIntegerField(
        _("urgent sign-for limit (hours)"), null=True, blank=True
    )
    urgent_handle_limit_hours = models.PositiveIntegerField(
        _("urgent handling limit (hours)"), null=True, blank=True
    )
    keywords = models.CharField(_("keywords"), max_length=512, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__gte=1) & models.Q(level__lte=3), name="category_level_1_3"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def path_names(self) -> list[str]:
        names = [self.name]
        node = self.parent
        while node is not None:
            names.append(node.name)
            node = node.parent
        return list(reversed(names))


class CategoryRoute(models.Model):
    """Who handles a category: the lead department (主办) and co-handlers (协办), per district.
    A route with no district is the default for every district without its own."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="routes", verbose_name=_("category")
    )
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.CASCADE, related_name="routes",
        verbose_name=_("district"),
    )
    lead_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="lead_routes", verbose_name=_("lead unit")
    )
    co_units = models.ManyToManyField(
        Unit, blank=True, related_name="co_routes", verbose_name=_("co-handling units")
    )

    class Meta:
        verbose_name = _("dispatch route")
        verbose_name_plural = _("dispatch routes")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "district"], name="route_one_per_category_district"
            ),
            models.UniqueConstraint(
                fields=["category"], condition=models.Q(district__isnull=True),
                name="route_one_default_per_category",
            ),
        ]


class CalendarDay(models.Model):
    """An override of the working-day calendar: the chinese-calendar package is the default,
    and the centre records here what it does not know (a new year's holidays, a local day)."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=128, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.date} {'workday' if self.is_workday else 'holiday'}"


class PasswordHistory(models.Model):
    """The hashes of a user's earlier passwords, so the policy can refuse reusing the last few
    (written by ``hotline.directory.security.PasswordHistoryValidator.password_changed``)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="password_history", verbose_name=_("user")
    )
    password = models.CharField(_("password hash"), max_length=128)
    created_at = models.DateTimeField(_("set at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("earlier password")
        verbose_name_plural = _("earlier passwords")
