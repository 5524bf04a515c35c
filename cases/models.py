"""Customers, their households and their cases."""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    FEMALE = "f", _("female")
    MALE = "m", _("male")
    DIVERSE = "d", _("diverse")


class Citizenship(models.TextChoices):
    GERMAN = "de", _("German")
    EU = "eu", _("EU citizen")
    NON_EU = "non_eu", _("non-EU citizen")


class Household(models.Model):
    """Bedarfsgemeinschaft: the benefit unit one or more customers belong to."""

    number = models.CharField(_("household number"), max_length=20, unique=True)
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=5)
    city = models.CharField(_("city"), max_length=100)
    adults = models.PositiveSmallIntegerField(_("adults"), default=1)
    children = models.PositiveSmallIntegerField(_("children"), default=0)
    youngest_child_age = models.PositiveSmallIntegerField(
        _("age of the youngest child"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.number

    @property
    def is_single_parent(self) -> bool:
        return self.adults == 1 and self.children > 0


def name_search(text: str, prefix: str = "") -> Q:
    """Every word must match a first or last name or the start of the customer number."""
    query = Q()
    for word in text.split():
        query &= (
            Q(**{f"{prefix}last_name__icontains": word})
            | Q(**{f"{prefix}first_name__icontains": word})
            | Q(**{f"{prefix}customer_number__istartswith": word})
        )
    return query


class CustomerQuerySet(models.QuerySet):
    def search(self, text: str) -> "CustomerQuerySet":
        return self.filter(name_search(text))


class Customer(models.Model):
    """Kund*in: an employable benefit recipient."""

    customer_number = models.CharField(_("customer number"), max_length=20, unique=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    # Sex, citizenship and disability are kept for the fairness audit; they are never model inputs.
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    citizenship = models.CharField(_("citizenship"), max_length=6, choices=Citizenship.choices)
    nationality = models.CharField(_("nationality"), max_length=2, help_text=_("ISO 3166 code"))
    severe_disability = models.BooleanField(_("severe disability"), default=False)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, default="de", help_text=_("ISO 639-1 code")
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="members", verbose_name=_("household")
    )
    benefit_since = models.DateField(_("receiving benefits since"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.customer_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())


class EmploymentSpell(models.Model):
    """A period of work in the customer's history."""

    class Kind(models.TextChoices):
        INSURED = "insured", _("employment subject to social insurance")
        MINIJOB = "minijob", _("marginal employment (minijob)")
        SELF_EMPLOYED = "self_employed", _("self-employment")
        TRAINING = "training", _("vocational training")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="employment")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    occupation = models.CharField(_("occupation"), max_length=200)
    kldb = models.CharField(_("KldB 2010 code"), max_length=5, blank=True)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("employment")
        verbose_name_plural = _("employment history")
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="employment_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.occupation


class Phase(models.TextChoices):
    PROFILING = "profiling", _("Profiling")
    PLANNING = "planning", _("Goal and action planning")
    IMPLEMENTATION = "implementation", _("Implementation")
    REVIEW = "review", _("Goal review")
    CLOSED = "closed", _("Closed")


class CustomerGroup(models.TextChoices):
    MARKET_NEAR = "market_near", _("Market-near")
    POTENTIAL = "potential", _("Potential")
    ADMINISTRATIVE = "administrative", _("Administrative")


class CaseQuerySet(models.QuerySet):
    def open(self) -> "CaseQuerySet":
        return self.exclude(phase=Phase.CLOSED)

    def for_team(self, team_id: int) -> "CaseQuerySet":
        return self.filter(team_id=team_id)

    def overdue(self, today: date | None = None) -> "CaseQuerySet":
        """Open cases whose goal review date has passed."""
        today = today or timezone.localdate()
        return self.open().filter(review_due__lt=today)

    def search(self, text: str) -> "CaseQuerySet":
        return self.filter(name_search(text, prefix="customer__"))


class Case(models.Model):
    """One customer's case in the active area, worked by a team."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="cases", verbose_name=_("customer")
    )
    team = models.ForeignKey(
        "organisation.Team", on_delete=models.PROTECT, related_name="cases", verbose_name=_("team")
    )
    caseworker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("fixed caseworker"),
    )
    phase = models.CharField(
        _("phase"), max_length=20, choices=Phase.choices, default=Phase.PROFILING
    )
    customer_group = models.CharField(
        _("customer group"), max_length=20, choices=CustomerGroup.choices, blank=True
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    phase_since = models.DateTimeField(_("in this phase since"), default=timezone.now)
    review_due = models.DateField(_("goal review due"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["review_due", "id"]
        indexes = [
            models.Index(fields=["team", "phase", "review_due"]),
            models.Index(fields=["team", "customer_group"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=~Q(phase="closed"),
                name="case_one_open_case_per_customer",
                violation_error_message=_("This customer already has an open case."),
            ),
            models.CheckConstraint(
                condition=Q(phase="closed", closed_at__isnull=False)
                | (~Q(phase="closed") & Q(closed_at__isnull=True)),
                name="case_closed_at_matches_phase",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.get_phase_display()}"

    @property
    def is_overdue(self) -> bool:
        return (
            self.phase != Phase.CLOSED
            and self.review_due is not None
            and self.review_due < timezone.localdate()
        )


class CaseEvent(models.Model):
    """An entry on the case timeline."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Case opened")
        PHASE_CHANGED = "phase_changed", _("Phase changed")
        GROUP_CHANGED = "group_changed", _("Customer group changed")
        ASSIGNED = "assigned", _("Caseworker assigned")
        CONTACT = "contact", _("Contact")
        CLOSED = "closed", _("Case closed")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    summary = models.CharField(_("summary"), max_length=300)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["case", "-at"])]

    def __str__(self) -> str:
        return self.summary
