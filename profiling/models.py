"""The customer's profile: the anamnesis across the dimensions of the 4-phase model.

Field names are a stable interface: the AI profiling (issue 4) and its CSV import/export read them.

Facts
    school (School), vocational (Vocational), foreign_qualification (bool),
    german (LanguageLevel: A0..C2 or "native"), other_languages (list of
    {"code": ISO 639-1, "level": LanguageLevel}), work_months_5y (0..60), months_unemployed,
    months_in_benefit, target_kldb (KldB 2010, five digits, or ""), target_occupation,
    driving_licence (bool), public_transport (bool or null = not known), own_goals (text).

Dimensions: each has a level and a free-text note (`<dimension>_note`, may be blank).
    qualification    qualification_need    (Need: none | some | high)
    work_experience  work_experience_need  (Need)
    language         language_need         (Need)
    health           health                (Need)
    care             care                  (Need; care duties and childcare)
    housing          housing               (Need)
    debt             debt                  (Need)
    mobility         mobility_need         (Need)
    digital          digital               (Need; need for digital skills)
    motivation       motivation            (Motivation: low | medium | high; not a need)

Every change is a new ProfileVersion with a full snapshot of these fields; `Profile.version` is the
number of the latest one and serves as the optimistic lock (see profiling.services.profile_update).
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AppendOnlyError, AppendOnlyModel  # noqa: F401 - AppendOnlyError re-exported
from cases.models import CustomerGroup
from profiling.languages import ISO_639_1


class School(models.TextChoices):
    NONE = "none", _("no school-leaving certificate")
    LOWER = "lower", _("lower secondary (Hauptschule)")
    MIDDLE = "middle", _("intermediate (Realschule)")
    UPPER = "upper", _("higher education entrance (Abitur)")


class Vocational(models.TextChoices):
    NONE = "none", _("no vocational qualification")
    APPRENTICESHIP = "apprenticeship", _("vocational training")
    UNIVERSITY = "university", _("university degree")


class LanguageLevel(models.TextChoices):
    A0 = "A0", "A0"
    A1 = "A1", "A1"
    A2 = "A2", "A2"
    B1 = "B1", "B1"
    B2 = "B2", "B2"
    C1 = "C1", "C1"
    C2 = "C2", "C2"
    NATIVE = "native", _("native speaker")


class Need(models.TextChoices):
    NONE = "none", _("none")
    SOME = "some", _("some")
    HIGH = "high", _("high")


class Motivation(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")


MAX_WORK_MONTHS_5Y = 60

kldb_validator = RegexValidator(
    r"^[0-9]{5}\Z", message=_("A KldB 2010 code has exactly five digits, e.g. 82102.")
)


def validate_other_languages(value) -> None:
    """A list of {"code": ISO 639-1 code, "level": CEFR level or "native"}, each language once."""
    if not isinstance(value, list):
        raise ValidationError(_("Give the other languages as a list."), code="invalid")
    levels = set(LanguageLevel.values)
    seen: set[str] = set()
    for position, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) != {"code", "level"}:
            raise ValidationError(
                _('Language %(position)d: give exactly "code" and "level".'),
                code="invalid",
                params={"position": position},
            )
        code, level = item["code"], item["level"]
        if not isinstance(code, str) or code not in ISO_639_1:
            raise ValidationError(
                _("Language %(position)d: %(code)s is not an ISO 639-1 language code."),
                code="invalid_code",
                params={"position": position, "code": repr(code)},
            )
        if code == "de":
            raise ValidationError(
                _("German is recorded in its own field, not among the other languages."),
                code="german",
            )
        if not isinstance(level, str) or level not in levels:
            raise ValidationError(
                _("Language %(position)d: %(level)s is not a CEFR level (A0 to C2, or native)."),
                code="invalid_level",
                params={"position": position, "level": repr(level)},
            )
        if code in seen:
            raise ValidationError(
                _("Language %(position)d: %(code)s is listed twice."),
                code="duplicate",
                params={"position": position, "code": code},
            )
        seen.add(code)


@dataclass(frozen=True)
class Dimension:
    """One dimension of the anamnesis: its level field, its note field and the facts behind it."""

    key: str
    label: str  # lower case, to stand inside a sentence; capfirst at the start of a line
    level_field: str
    note_field: str
    facts: tuple[str, ...] = ()


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "qualification",
        _("school and vocational qualifications"),
        "qualification_need",
        "qualification_note",
        ("school", "vocational", "foreign_qualification"),
    ),
    Dimension(
        "work_experience",
        _("work experience and target occupation"),
        "work_experience_need",
        "work_experience_note",
        (
            "work_months_5y",
            "months_unemployed",
            "months_in_benefit",
            "target_kldb",
            "target_occupation",
        ),
    ),
    Dimension(
        "language",
        _("languages"),
        "language_need",
        "language_note",
        ("german", "other_languages"),
    ),
    Dimension("health", _("health restrictions"), "health", "health_note"),
    Dimension("care", _("care duties and childcare"), "care", "care_note"),
    Dimension("housing", _("housing"), "housing", "housing_note"),
    Dimension("debt", _("debts"), "debt", "debt_note"),
    Dimension(
        "mobility",
        _("mobility"),
        "mobility_need",
        "mobility_note",
        ("driving_licence", "public_transport"),
    ),
    Dimension("digital", _("digital skills"), "digital", "digital_note"),
    Dimension(
        "motivation",
        _("motivation and own goals"),
        "motivation",
        "motivation_note",
        ("own_goals",),
    ),
)


def _need_field(verbose_name) -> models.CharField:
    return models.CharField(verbose_name, max_length=4, choices=Need.choices, default=Need.NONE)


def _note_field(verbose_name) -> models.TextField:
    return models.TextField(verbose_name, blank=True, default="")


class Profile(models.Model):
    """What is known about a customer's strengths and obstacles (field names: module docstring)."""

    customer = models.OneToOneField(
        "cases.Customer", on_delete=models.CASCADE, related_name="profile"
    )
    # qualification
    school = models.CharField(_("school"), max_length=10, choices=School.choices)
    vocational = models.CharField(
        _("vocational qualification"), max_length=20, choices=Vocational.choices
    )
    foreign_qualification = models.BooleanField(_("qualification obtained abroad"), default=False)
    qualification_need = _need_field(_("need: qualification"))
    qualification_note = _note_field(_("notes on qualification"))
    # work experience and target occupation
    work_months_5y = models.PositiveSmallIntegerField(
        _("months worked in the last five years"),
        validators=[MaxValueValidator(MAX_WORK_MONTHS_5Y)],
    )
    months_unemployed = models.PositiveSmallIntegerField(_("months unemployed"))
    months_in_benefit = models.PositiveSmallIntegerField(_("months receiving benefits"))
    target_kldb = models.CharField(
        _("target occupation (KldB 2010)"),
        max_length=5,
        blank=True,
        validators=[kldb_validator],
        help_text=_("Five digits, e.g. 82102; leave empty if not known."),
    )
    target_occupation = models.CharField(_("target occupation"), max_length=200, blank=True)
    work_experience_need = _need_field(_("need: work experience"))
    work_experience_note = _note_field(_("notes on work experience"))
    # language
    german = models.CharField(
        _("German language skills"), max_length=6, choices=LanguageLevel.choices
    )
    other_languages = models.JSONField(
        _("other languages"),
        default=list,
        blank=True,
        validators=[validate_other_languages],
        help_text=_('e.g. [{"code": "ar", "level": "native"}]'),
    )
    language_need = _need_field(_("need: language"))
    language_note = _note_field(_("notes on languages"))
    # health, care, housing, debt
    health = models.CharField(_("health restrictions"), max_length=4, choices=Need.choices)
    health_note = _note_field(_("notes on health"))
    care = models.CharField(_("care duties and childcare"), max_length=4, choices=Need.choices)
    care_note = _note_field(_("notes on care duties and childcare"))
    housing = models.CharField(_("housing"), max_length=4, choices=Need.choices)
    housing_note = _note_field(_("notes on housing"))
    debt = models.CharField(_("debts"), max_length=4, choices=Need.choices)
    debt_note = _note_field(_("notes on debts"))
    # mobility
    driving_licence = models.BooleanField(_("driving licence"), default=False)
    public_transport = models.BooleanField(
        _("good access to public transport"), null=True, blank=True
    )
    mobility_need = _need_field(_("need: mobility"))
    mobility_note = _note_field(_("notes on mobility"))
    # digital skills
    digital = models.CharField(_("need for digital skills"), max_length=4, choices=Need.choices)
    digital_note = _note_field(_("notes on digital skills"))
    # motivation and own goals
    motivation = models.CharField(_("motivation"), max_length=6, choices=Motivation.choices)
    motivation_note = _note_field(_("notes on motivation"))
    own_goals = models.TextField(_("the customer's own goals"), blank=True)

    # The number of the latest ProfileVersion: the optimistic lock. 0 = no version recorded yet.
    version = models.PositiveIntegerField(_("version"), default=0)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(work_months_5y__lte=MAX_WORK_MONTHS_5Y),
                name="profile_work_months_5y_at_most_60",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}"


# Every field a profile version records and the API reads and writes, in form order.
PROFILE_FIELDS: tuple[str, ...] = tuple(
    field.name
    for field in Profile._meta.local_fields
    if field.name not in ("id", "customer", "version", "updated_at")
)


def dimension_of(field_name: str) -> str:
    """The dimension a profile field belongs to."""
    for dimension in DIMENSIONS:
        if field_name in (dimension.level_field, dimension.note_field, *dimension.facts):
            return dimension.key
    raise KeyError(field_name)


class ProfileVersion(models.Model):
    """One state of a customer's profile: valid from `valid_from` until the next version."""

    customer = models.ForeignKey(
        "cases.Customer", on_delete=models.CASCADE, related_name="profile_versions"
    )
    version = models.PositiveIntegerField(_("version"))
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    # Null for the system: a seed, an import or the migration that recorded existing profiles.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    # Every field of PROFILE_FIELDS with its value in this version.
    snapshot = models.JSONField(_("profile"))
    changed_fields = models.JSONField(_("changed fields"), default=list, blank=True)

    class Meta:
        verbose_name = _("profile version")
        verbose_name_plural = _("profile versions")
        ordering = ["customer", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "version"], name="profileversion_unique_number"
            ),
        ]
        indexes = [models.Index(fields=["customer", "-valid_from"])]

    def __str__(self) -> str:
        return f"{self.customer_id} v{self.version}"

    @property
    def changed_dimensions(self) -> list[str]:
        keys = {dimension_of(name) for name in self.changed_fields if name in PROFILE_FIELDS}
        return [d.key for d in DIMENSIONS if d.key in keys]

    @property
    def changed_dimension_labels(self) -> list[str]:
        labels = {d.key: d.label for d in DIMENSIONS}
        return [str(labels[key]) for key in self.changed_dimensions]


def derived_need_levels(
    *, school: str, vocational: str, german: str, work_months_5y: int
) -> dict[str, str]:
    """Starting levels for the dimensions that older profiles had no level for.

    Read off the facts already recorded; a caseworker confirms or changes them in the form. Used by
    the synthetic jobcenter; migration 0002 applies a frozen copy to the profiles that existed.
    """
    if vocational == Vocational.NONE:
        qualification = Need.HIGH if school in (School.NONE, School.LOWER) else Need.SOME
    else:
        qualification = Need.NONE
    work_experience = (
        Need.HIGH if work_months_5y < 12 else Need.SOME if work_months_5y < 36 else Need.NONE
    )
    language = (
        Need.HIGH
        if german in ("A0", "A1", "A2")
        else Need.SOME
        if german in ("B1", "B2")
        else Need.NONE
    )
    return {
        "qualification_need": qualification,
        "work_experience_need": work_experience,
        "language_need": language,
    }


# --- The AI: model versions, customer groups, action strategies, suggestions and decisions --------
#
# Interface of the AI part (issue 4). The model package `profiling.model` trains, stores, evaluates
# and explains; the services in `profiling.services_ai` write the rows below; nothing else does.


# The append-only base of the AI log (suggestions, decisions, activations): audit.models.
_AppendOnly = AppendOnlyModel


class ModelSource(models.TextChoices):
    SYNTHETIC = "synthetic", _("synthetic history of the demo generator")
    CSV = "csv", _("the jobcenter's own history (CSV)")


class ModelStatus(models.TextChoices):
    CANDIDATE = "candidate", _("candidate")
    ACTIVE = "active", _("active")
    RETIRED = "retired", _("retired")


class ModelVersion(models.Model):
    """One training run: the artefact, where its data came from, how good it is, its model card.

    `features` lists the CSV column names the model reads, in order (profiling.model.features).
    `metrics` is the evaluation on the held-out part of the training data, in the shape
    `profiling_evaluate --json` prints: overall figures plus per audited attribute and value.
    `model_card` holds the card's sections (intended use, data, metrics, limits, fairness) as text.
    The artefact is the pickled pipeline; `artefact_sha256` is checked before it is ever loaded.
    Nothing switches by itself: an admin activates a version (profiling.services_ai).
    """

    number = models.PositiveIntegerField(_("version"), unique=True)
    created_at = models.DateTimeField(_("trained"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("trained by"),
    )
    source = models.CharField(_("training data"), max_length=10, choices=ModelSource.choices)
    source_name = models.CharField(_("data set"), max_length=300, blank=True)
    data_fingerprint = models.CharField(_("data fingerprint (SHA-256)"), max_length=64)
    rows = models.PositiveIntegerField(_("rows"))
    base_rate = models.FloatField(_("share integrated within 12 months"))
    features = models.JSONField(_("inputs"))
    algorithm = models.CharField(_("method"), max_length=200)
    parameters = models.JSONField(_("parameters"), default=dict)
    metrics = models.JSONField(_("metrics"), default=dict)
    model_card = models.JSONField(_("model card"), default=dict)
    artefact = models.BinaryField(_("artefact"))
    artefact_sha256 = models.CharField(_("artefact checksum (SHA-256)"), max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=ModelStatus.choices, default=ModelStatus.CANDIDATE
    )
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="modelversion_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number}"


class ModelActivation(_AppendOnly):
    """Who switched which model version on (activation or roll-back), when and why. Append-only."""

    class Action(models.TextChoices):
        ACTIVATE = "activate", _("activated")
        ROLLBACK = "rollback", _("rolled back")

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="activations")
    previous = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    at = models.DateTimeField(_("time"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("model activation")
        verbose_name_plural = _("model activations")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.version_id}"


class SegmentConfig(models.Model):
    """The service model of one customer group (admin configuration; one row per group).

    `group` is a cases.models.CustomerGroup value. `channels` lists cases.models.Channel values,
    the first one the default. The scheduling (issue 5) reads the cadence and the fixed assignment.
    """

    group = models.CharField(
        _("customer group"), max_length=20, choices=CustomerGroup.choices, unique=True
    )
    service_model = models.TextField(_("service model"))
    contact_cadence_days = models.PositiveSmallIntegerField(
        _("default contact cadence (days)"),
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    channels = models.JSONField(_("channels"), default=list)
    fixed_caseworker = models.BooleanField(_("keeps a fixed caseworker"), default=False)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)

    class Meta:
        verbose_name = _("customer group settings")
        verbose_name_plural = _("customer group settings")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.group


class SegmentRuleSet(models.Model):
    """One version of the rules that turn a probability and a profile into a suggested group.

    `rules` is an ordered list; the first rule that matches decides, the last must match everyone:
        [{"group": "market_near", "min_probability": 0.45, "max_probability": null,
          "conditions": [{"field": "motivation", "op": "in", "value": ["medium", "high"]}]}, ...]
    `field` names are model inputs (profiling.model.features); ops eq, ne, in, not_in, lt, lte,
    gt, gte. Probabilities: min inclusive, max exclusive. Validation: profiling.rules.
    The newest version is the one in force; versions are never changed, a change is a new one.
    `moves` records the preview shown before saving: how many customers would change group.
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    rules = models.JSONField(_("rules"))
    created_at = models.DateTimeField(_("saved"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("saved by"),
    )
    note = models.TextField(_("reason for the change"), blank=True)
    moves = models.JSONField(_("preview of the moves"), default=dict, blank=True)

    class Meta:
        verbose_name = _("customer group rules")
        verbose_name_plural = _("customer group rules")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"


class ActionStrategy(models.Model):
    """An entry of the admin-managed catalogue of action strategies (Handlungsstrategien).

    `conditions`: when the strategy fits (same format as the segment rules' conditions; all must
    hold). `addresses`: the model inputs it works on; a strategy ranks higher the more those
    inputs lower the customer's chances. `groups`: customer groups it suits (empty: all).
    """

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description for staff"))
    customer_text = models.TextField(_("explanation for the customer"))
    conditions = models.JSONField(_("fits when"), default=list, blank=True)
    addresses = models.JSONField(_("works on"), default=list, blank=True)
    groups = models.JSONField(_("customer groups"), default=list, blank=True)
    step_text = models.TextField(_("step for the cooperation plan"))
    step_responsible = models.CharField(_("step responsible"), max_length=20, default="customer")
    step_due_weeks = models.PositiveSmallIntegerField(_("step due after (weeks)"), default=4)
    priority = models.SmallIntegerField(_("priority"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("action strategy")
        verbose_name_plural = _("action strategies")
        ordering = ["-priority", "name"]

    def __str__(self) -> str:
        return self.name


class SuggestionTrigger(models.TextChoices):
    REQUESTED = "requested", _("requested by staff")
    FIRST = "first", _("first profiling")
    REVIEW_DUE = "review_due", _("goal review due")
    PROFILE_CHANGED = "profile_changed", _("profile changed")


class ProfilingSuggestion(_AppendOnly):
    """One AI output, logged with everything needed to reproduce and explain it.

    `inputs`: the exact model inputs (CSV column names to values; null = not known).
    `missing`: the inputs that were not known, with how they limit the suggestion;
    `probability_low`/`probability_high`: the range the probability could take over the possible
    values of the missing inputs (equal to `probability` when nothing is missing).
    `factors`: [{"feature", "value", "effect"}] sorted by |effect|; effect in log-odds, positive
    raises the chances. `strategies`: ranked [{"code", "name", "score", "reasons": [feature, ...]}].
    `changed`: the suggested group differs from the case's group when it was made (so a person
    has to look at it). `dedupe_key`: set by the batch so a second run adds nothing.
    """

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="profiling_suggestions"
    )
    customer = models.ForeignKey(
        "cases.Customer", on_delete=models.CASCADE, related_name="profiling_suggestions"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="suggestions"
    )
    rule_set = models.ForeignKey(
        SegmentRuleSet, on_delete=models.PROTECT, related_name="suggestions"
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    trigger = models.CharField(_("occasion"), max_length=20, choices=SuggestionTrigger.choices)
    profile_version = models.PositiveIntegerField(_("profile version"))
    inputs = models.JSONField(_("inputs"))
    missing = models.JSONField(_("missing inputs"), default=list)
    probability = models.FloatField(_("probability of integration within 12 months"))
    probability_low = models.FloatField(_("lowest possible probability"))
    probability_high = models.FloatField(_("highest possible probability"))
    suggested_group = models.CharField(
        _("suggested customer group"), max_length=20, choices=CustomerGroup.choices
    )
    factors = models.JSONField(_("factors"))
    strategies = models.JSONField(_("action strategies"))
    changed = models.BooleanField(_("differs from the current group"), default=False)
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("profiling suggestion")
        verbose_name_plural = _("profiling suggestions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.created_at:%Y-%m-%d %H:%M}"


class DecisionOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("accepted")
    OVERRIDDEN = "overridden", _("overridden")


class ProfilingDecision(_AppendOnly):
    """The human decision on a suggestion: only this sets the case's customer group."""

    suggestion = models.OneToOneField(
        ProfilingSuggestion, on_delete=models.CASCADE, related_name="decision"
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="profiling_decisions"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), default=timezone.now)
    outcome = models.CharField(_("decision"), max_length=10, choices=DecisionOutcome.choices)
    group = models.CharField(_("customer group"), max_length=20, choices=CustomerGroup.choices)
    reason = models.TextField(_("reason"), blank=True)
    strategies = models.JSONField(_("chosen action strategies"), default=list, blank=True)

    class Meta:
        verbose_name = _("profiling decision")
        verbose_name_plural = _("profiling decisions")
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(outcome="overridden") | ~models.Q(reason=""),
                name="profilingdecision_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.outcome} {self.group}"
