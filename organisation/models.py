"""The jobcenter, its teams and its staff. Staff log in; their role decides what they may see."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class FederalState(models.TextChoices):
    BW = "BW", "Baden-Württemberg"
    BY = "BY", "Bayern"
    BE = "BE", "Berlin"
    BB = "BB", "Brandenburg"
    HB = "HB", "Bremen"
    HH = "HH", "Hamburg"
    HE = "HE", "Hessen"
    MV = "MV", "Mecklenburg-Vorpommern"
    NI = "NI", "Niedersachsen"
    NW = "NW", "Nordrhein-Westfalen"
    RP = "RP", "Rheinland-Pfalz"
    SL = "SL", "Saarland"
    SN = "SN", "Sachsen"
    ST = "ST", "Sachsen-Anhalt"
    SH = "SH", "Schleswig-Holstein"
    TH = "TH", "Thüringen"


class Jobcenter(models.Model):
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=20, unique=True)
    federal_state = models.CharField(_("federal state"), max_length=2, choices=FederalState.choices)
    region_unemployment_rate = models.DecimalField(
        _("regional unemployment rate (%)"), max_digits=4, decimal_places=1, default=6.0
    )
    # How customers reach the jobcenter: printed on letters, e-mails and the customer's pages.
    # All optional (an installation fills them in /admin/); texts leave out what is missing.
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postal_code = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    opening_hours = models.TextField(
        _("opening hours"),
        blank=True,
        max_length=500,
        help_text=_("As customers read it, one line per group of days (Mon–Fri 8:00–12:00)."),
    )
    website = models.URLField(_("web address"), blank=True)

    class Meta:
        verbose_name = _("jobcenter")
        verbose_name_plural = _("jobcenters")

    def __str__(self) -> str:
        return self.name

    @property
    def postal_address(self) -> str:
        """Street, postcode and city in one line ("Musterstraße 1, 45127 Essen"); "" if unknown."""
        town = " ".join(part for part in (self.postal_code.strip(), self.city.strip()) if part)
        return ", ".join(part for part in (self.street.strip(), town) if part)

    @property
    def opening_hours_lines(self) -> list[str]:
        return [line.strip() for line in self.opening_hours.splitlines() if line.strip()]


class Team(models.Model):
    jobcenter = models.ForeignKey(Jobcenter, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["jobcenter", "name"], name="team_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    TEAM_LEAD = "team_lead", _("Team lead")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    """A member of staff. Caseworkers and team leads belong to one team; admins to none."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
        verbose_name=_("team"),
    )
    objects = UserManager()
    # createsuperuser asks for the role, so the team constraint holds (an admin needs no team).
    REQUIRED_FIELDS = ["email", "role"]

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        constraints = [
            models.CheckConstraint(
                condition=Q(role="admin") | Q(team__isnull=False),
                name="user_team_required_for_case_roles",
                violation_error_message=_("Caseworkers and team leads belong to a team."),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def reads_cases(self) -> bool:
        """Caseworkers and team leads work with case contents; admins configure and do not."""
        return (
            self.is_active
            and self.role in (Role.CASEWORKER, Role.TEAM_LEAD)
            and self.team_id is not None
        )
