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


class ClosureReason(models.TextChoices):
    INSURED_EMPLOYMENT = (
        "insured_employment",
        _("Integration into work subject to social insurance"),
    )
    SELF_EMPLOYMENT = "self_employment", _("Self-employment")
    TRAINING = "training", _("Training or apprenticeship")
    LEFT_BENEFITS = "left_benefits", _("Left benefit receipt")
    MOVED_AWAY = "moved_away", _("Moved away")
    OTHER = "other", _("Other")


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
    closure_reason = models.CharField(
        _("reason for closing"), max_length=20, choices=ClosureReason.choices, blank=True
    )
    # A cycle is one pass profiling -> planning -> implementation -> review.
    cycle = models.PositiveSmallIntegerField(_("cycle"), default=1)
    # Team-queue cases (no fixed caseworker) are claimed by one caseworker at a time.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claimed_cases",
        verbose_name=_("claimed by"),
    )
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    # The earliest due date of an open step of the current agreed plan; kept by the plan services
    # (cases.services.plans.case_open_steps_due_refresh) so the work queue needs no subquery.
    open_steps_due = models.DateField(_("next step due"), null=True, blank=True)
    # Kept by profiling.services_ai: an AI suggestion differs from the group and awaits a decision.
    suggestion_pending = models.BooleanField(_("AI suggestion to decide"), default=False)
    # Kept by scheduling.services (missed appointments): a review waits for the caseworker.
    missed_appointment_pending = models.BooleanField(
        _("missed appointment to review"), default=False
    )
    updated_at = models.DateTimeField(_("last change"), auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["review_due", "id"]
        indexes = [
            models.Index(fields=["team", "phase", "review_due"]),
            models.Index(fields=["team", "customer_group"]),
            models.Index(fields=["team", "open_steps_due"]),
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
            models.CheckConstraint(
                condition=Q(claimed_by__isnull=True, claimed_at__isnull=True)
                | Q(claimed_by__isnull=False, claimed_at__isnull=False),
                name="case_claim_complete",
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
        PROFILE_UPDATED = "profile_updated", _("Profile updated")
        PLAN_DRAFTED = "plan_drafted", _("Cooperation plan drafted")
        PLAN_AGREED = "plan_agreed", _("Cooperation plan agreed")
        STEP_UPDATED = "step_updated", _("Step updated")
        NOTE_ADDED = "note_added", _("Case note added")
        CLAIMED = "claimed", _("Case claimed")
        RELEASED = "released", _("Case released")
        AI_SUGGESTION = "ai_suggestion", _("AI suggestion")

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


class PhaseTransition(models.Model):
    """The record of one phase change: who, when, from, to, why. Written only by case_transition."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    from_phase = models.CharField(_("from"), max_length=20, choices=Phase.choices)
    to_phase = models.CharField(_("to"), max_length=20, choices=Phase.choices)
    reason = models.TextField(_("reason"), blank=True)
    closure_reason = models.CharField(
        _("reason for closing"), max_length=20, choices=ClosureReason.choices, blank=True
    )

    class Meta:
        verbose_name = _("phase transition")
        verbose_name_plural = _("phase transitions")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_phase} -> {self.to_phase}"


class CasePolicy(models.Model):
    """The jobcenter's rules for case work, set by admins. One row (pk=1)."""

    plan_review_months = models.PositiveSmallIntegerField(
        _("months until the goal review of a cooperation plan"), default=6
    )
    profiling_overdue_days = models.PositiveSmallIntegerField(
        _("days in profiling before a case is flagged"), default=14
    )

    class Meta:
        verbose_name = _("case work rules")
        verbose_name_plural = _("case work rules")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="casepolicy_single_row"),
            models.CheckConstraint(
                condition=Q(plan_review_months__gte=1, plan_review_months__lte=24),
                name="casepolicy_review_months_range",
                violation_error_message=_("The review period is 1 to 24 months."),
            ),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "CasePolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AGREED = "agreed", _("Agreed")
    SUPERSEDED = "superseded", _("Superseded")


class CooperationPlan(models.Model):
    """Kooperationsplan (§15 SGB II), one version of it. A change to an agreed plan is a new version."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plans")
    cycle = models.PositiveSmallIntegerField(_("cycle"))
    version = models.PositiveSmallIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    integration_goal = models.TextField(_("integration goal"))
    review_date = models.DateField(_("goal review date"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agreed_at = models.DateTimeField(_("agreed"), null=True, blank=True)
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # How the customer agreed (text form, §15 SGB II: no signature needed).
    agreement_note = models.TextField(_("how it was agreed"), blank=True)
    # Optimistic locking: every change raises it; a save based on an older value is refused.
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("cooperation plan")
        verbose_name_plural = _("cooperation plans")
        ordering = ["-cycle", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "cycle", "version"], name="plan_unique_version"
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="draft"),
                name="plan_one_draft_per_case",
                violation_error_message=_("This case already has a draft plan."),
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="agreed"),
                name="plan_one_agreed_per_case",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(agreed_at__isnull=False, agreed_by__isnull=False),
                name="plan_agreed_has_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.cycle}.{self.version} {self.status}"


class StepResponsible(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    JOBCENTER = "jobcenter", _("Jobcenter")
    THIRD_PARTY = "third_party", _("Third party")


class StepStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class PlanStep(models.Model):
    """A goal or step of a cooperation plan: who does what by when."""

    plan = models.ForeignKey(CooperationPlan, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    responsible = models.CharField(_("responsible"), max_length=20, choices=StepResponsible.choices)
    responsible_name = models.CharField(_("name of the third party"), max_length=200, blank=True)
    description = models.TextField(_("what exactly"))
    due_date = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=StepStatus.choices, default=StepStatus.OPEN
    )
    follow_up = models.TextField(_("follow-up notes"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(responsible="third_party") | ~Q(responsible_name=""),
                name="step_third_party_named",
                violation_error_message=_("Name the third party who is responsible."),
            ),
            models.CheckConstraint(
                condition=~Q(description=""),
                name="step_description_required",
                violation_error_message=_("Say what exactly is to be done."),
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]


class NoteType(models.TextChoices):
    CONVERSATION = "conversation", _("Conversation")
    PHONE_CALL = "phone_call", _("Phone call")
    VIDEO = "video", _("Video counselling")
    OUTREACH_VISIT = "outreach_visit", _("Outreach visit")
    DOCUMENT_RECEIVED = "document_received", _("Document received")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("Phone")
    VIDEO = "video", _("Video")
    OUTREACH = "outreach", _("Outreach")
    DIGITAL = "digital", _("Digital (e-mail, portal)")
    LETTER = "letter", _("Letter")


class Tag(models.Model):
    """The uniform vocabulary for case notes, managed by admins."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class NoteTemplate(models.Model):
    """Per note type: the text to start from and the checklist of what a complete record holds."""

    note_type = models.CharField(
        _("note type"), max_length=20, choices=NoteType.choices, unique=True
    )
    body = models.TextField(_("text to start from"), blank=True)
    # [{"key": "goal_discussed", "label": "Goal discussed", "required": true}, ...]
    checklist = models.JSONField(_("checklist"), default=list, blank=True)

    class Meta:
        verbose_name = _("note template")
        verbose_name_plural = _("note templates")

    def __str__(self) -> str:
        return self.get_note_type_display()


class CaseNote(models.Model):
    """Vermerk: the record of a contact or event in the case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note_type = models.CharField(_("type"), max_length=20, choices=NoteType.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    occurred_on = models.DateField(_("date"))
    text = models.TextField(_("text"))
    tags = models.ManyToManyField(Tag, blank=True, related_name="notes", verbose_name=_("tags"))
    # What the checklist of the note type asked, as answered: {"goal_discussed": true, ...}
    checklist = models.JSONField(_("checklist"), default=dict, blank=True)
    missing_items = models.JSONField(_("missing items"), default=list, blank=True)
    is_incomplete = models.BooleanField(_("incomplete"), default=False, db_index=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")
        ordering = ["-occurred_on", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="note_text_required"),
        ]

    def __str__(self) -> str:
        return f"{self.get_note_type_display()} {self.occurred_on}"
