"""The customer's profile: the anamnesis across the dimensions of the 4-phase model."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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


class Profile(models.Model):
    """What is known about a customer's strengths and obstacles."""

    customer = models.OneToOneField(
        "cases.Customer", on_delete=models.CASCADE, related_name="profile"
    )
    school = models.CharField(_("school"), max_length=10, choices=School.choices)
    vocational = models.CharField(
        _("vocational qualification"), max_length=20, choices=Vocational.choices
    )
    foreign_qualification = models.BooleanField(_("qualification obtained abroad"), default=False)
    german = models.CharField(_("German"), max_length=6, choices=LanguageLevel.choices)
    other_languages = models.JSONField(
        _("other languages"),
        default=list,
        blank=True,
        help_text=_('e.g. [{"code": "ar", "level": "native"}]'),
    )
    work_months_5y = models.PositiveSmallIntegerField(_("months worked in the last five years"))
    months_unemployed = models.PositiveSmallIntegerField(_("months unemployed"))
    months_in_benefit = models.PositiveSmallIntegerField(_("months receiving benefits"))
    target_kldb = models.CharField(_("target occupation (KldB 2010)"), max_length=5, blank=True)
    target_occupation = models.CharField(_("target occupation"), max_length=200, blank=True)
    health = models.CharField(_("health restrictions"), max_length=4, choices=Need.choices)
    care = models.CharField(_("care duties and childcare"), max_length=4, choices=Need.choices)
    housing = models.CharField(_("housing"), max_length=4, choices=Need.choices)
    debt = models.CharField(_("debts"), max_length=4, choices=Need.choices)
    driving_licence = models.BooleanField(_("driving licence"), default=False)
    digital = models.CharField(_("need for digital skills"), max_length=4, choices=Need.choices)
    motivation = models.CharField(_("motivation"), max_length=6, choices=Motivation.choices)
    own_goals = models.TextField(_("the customer's own goals"), blank=True)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"{self.customer_id}"
