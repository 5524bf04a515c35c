"""Staff calendars: when a staff member works and offers which channels, and when they are busy.

Privacy: sharing busy times is the staff member's own, recorded consent (`consent_given_at`, only
they can give or withdraw it). Without consent no busy times are synced and the planner plans no
appointments with them (`staff_busy_intervals` returns the whole window as busy). Busy times keep
only start and end (and the event's UID to recognise it), never the event's title or details.
"""

import datetime as dt
import re
import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.models import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet
from cases.models import Channel
from scheduling.credentials import secret_decrypt, secret_encrypt

# The channels a staff member can offer for appointments (digital and letter are no appointments).
CALENDAR_CHANNELS = (Channel.IN_PERSON, Channel.PHONE, Channel.VIDEO, Channel.OUTREACH)
WEEKDAYS = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)
MAX_ROOMS = 20
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def feed_token_new() -> str:
    return secrets.token_urlsafe(32)


def default_channels() -> list[str]:
    return [Channel.IN_PERSON.value, Channel.PHONE.value]


def working_hours_validate(value: object) -> list[dict]:
    """Check working hours [{"weekday": 0-6, "start": "HH:MM", "end": "HH:MM"}, ...].

    Returns them normalised (sorted by weekday and start); raises ValidationError with a readable
    message for a wrong shape, a start not before its end, or blocks of one day that overlap.
    """
    if not isinstance(value, list):
        raise ValidationError(gettext("Working hours must be a list of time blocks."))
    blocks = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"weekday", "start", "end"}:
            raise ValidationError(
                gettext("Each block of working hours needs a weekday, a start and an end.")
            )
        weekday, start, end = item["weekday"], item["start"], item["end"]
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            raise ValidationError(gettext("The weekday must be a number from 0 (Monday) to 6."))
        if not (isinstance(start, str) and _TIME.match(start)) or not (
            isinstance(end, str) and (_TIME.match(end) or end == "24:00")
        ):
            raise ValidationError(gettext("Times must be written as HH:MM, e.g. 08:30."))
        if start >= end:
            raise ValidationError(
                gettext("%(day)s: the start %(start)s must be before the end %(end)s.")
                % {"day": WEEKDAYS[weekday], "start": start, "end": end}
            )
        blocks.append({"weekday": weekday, "start": start, "end": end})
    blocks.sort(key=lambda block: (block["weekday"], block["start"]))
    for previous, block in zip(blocks, blocks[1:], strict=False):
        if previous["weekday"] == block["weekday"] and block["start"] < previous["end"]:
            raise ValidationError(
                gettext("%(day)s: the blocks %(first)s and %(second)s overlap.")
                % {
                    "day": WEEKDAYS[block["weekday"]],
                    "first": f"{previous['start']}–{previous['end']}",
                    "second": f"{block['start']}–{block['end']}",
                }
            )
    return blocks


def parse_hhmm(value: str) -> dt.time | None:
    """ "HH:MM" as a time; "24:00" (end of day) as None."""
    if value == "24:00":
        return None
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


class SyncStatus(models.TextChoices):
    NEVER = "never", _("not synced yet")
    OK = "ok", _("synced")
    ERROR = "error", _("error")


# A sync asked for with "Sync now" counts as waiting for its worker this long at most (the task's
# hard time limit is 3 minutes): a lost task must not leave the page polling forever.
SYNC_PENDING_LIMIT = dt.timedelta(minutes=5)
# Django's own "Enter a valid URL." reaches staff in the informal German of another catalogue.
URL_INVALID_MESSAGE = _(
    "Please enter a valid address starting with https://, e.g. https://kalender.example.de/dav/."
)


class StaffCalendar(models.Model):
    """One per staff member: working time, what they offer, and where their busy times come from."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_calendar",
        verbose_name=_("staff member"),
    )
    working_hours = models.JSONField(_("working hours"), default=list, blank=True)
    part_time_share = models.DecimalField(
        _("part-time share"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.10")), MaxValueValidator(Decimal("1.00"))],
        help_text=_("1.0 is full time, 0.5 half time."),
    )
    channels = models.JSONField(_("channels offered"), default=default_channels, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    rooms = models.JSONField(_("rooms"), default=list, blank=True)
    walk_in_reserve_minutes = models.PositiveSmallIntegerField(
        _("reserve for walk-ins (minutes per day)"),
        default=0,
        validators=[MaxValueValidator(600)],
    )
    daily_cap = models.PositiveSmallIntegerField(
        _("appointments per day at most"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(50)],
        help_text=_("Empty: no limit beyond the working hours."),
    )
    consent_given_at = models.DateTimeField(_("calendar sharing agreed on"), null=True, blank=True)
    feed_token = models.CharField(
        _("feed token"), max_length=64, unique=True, default=feed_token_new, editable=False
    )
    caldav_url = models.URLField(
        _("CalDAV address"),
        max_length=500,
        blank=True,
        error_messages={"invalid": URL_INVALID_MESSAGE},
    )
    caldav_username = models.CharField(_("CalDAV user name"), max_length=200, blank=True)
    # Fernet-encrypted (scheduling/credentials.py); read and set it through `caldav_password`.
    # Never shown in forms, the admin or the API, never written to logs or audit rows.
    caldav_password_encrypted = models.TextField(
        _("CalDAV password (encrypted)"), blank=True, editable=False
    )
    ics_url = models.URLField(
        _("ICS feed address"),
        max_length=500,
        blank=True,
        error_messages={"invalid": URL_INVALID_MESSAGE},
    )
    last_sync_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    last_sync_status = models.CharField(
        _("sync status"), max_length=10, choices=SyncStatus.choices, default=SyncStatus.NEVER
    )
    last_sync_message = models.CharField(_("sync message"), max_length=500, blank=True)
    # "Sync now" with a worker: when it was asked for; the sync task's outcome ends the wait.
    sync_requested_at = models.DateTimeField(_("sync requested"), null=True, blank=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("staff calendar")
        verbose_name_plural = _("staff calendars")
        constraints = [
            models.CheckConstraint(
                condition=Q(part_time_share__gte=Decimal("0.10"))
                & Q(part_time_share__lte=Decimal("1.00")),
                name="staff_calendar_part_time_share_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    def clean(self) -> None:
        errors = {}
        try:
            self.working_hours = working_hours_validate(self.working_hours)
        except ValidationError as error:
            errors["working_hours"] = error.messages
        allowed = {channel.value for channel in CALENDAR_CHANNELS}
        if not isinstance(self.channels, list) or not set(self.channels) <= allowed:
            errors["channels"] = [gettext("Only in person, phone, video and outreach are offered.")]
        elif not self.channels:
            # Nothing could be planned with this person; withdrawing the consent is the way out.
            errors["channels"] = [gettext("Choose at least one channel.")]
        else:
            self.channels = [c.value for c in CALENDAR_CHANNELS if c.value in self.channels]
        if (
            not isinstance(self.rooms, list)
            or len(self.rooms) > MAX_ROOMS
            or any(
                not isinstance(room, str) or not room.strip() or len(room) > 100
                for room in self.rooms
            )
        ):
            errors["rooms"] = [
                gettext("Rooms are a list of at most %(count)s names.") % {"count": MAX_ROOMS}
            ]
        if self.caldav_url and not self.caldav_username:
            errors["caldav_username"] = [gettext("A CalDAV address needs a user name.")]
        if errors:
            raise ValidationError(errors)

    @property
    def has_consent(self) -> bool:
        return self.consent_given_at is not None

    @property
    def has_source(self) -> bool:
        return bool(self.caldav_url or self.ics_url)

    @property
    def sync_pending(self) -> bool:
        """A sync was asked for and its worker has not recorded an outcome yet."""
        requested = self.sync_requested_at
        if requested is None or (self.last_sync_at is not None and self.last_sync_at >= requested):
            return False
        return timezone.now() - requested < SYNC_PENDING_LIMIT

    @property
    def caldav_password(self) -> str:
        """The plain CalDAV password ("" if none). Raises SecretUnreadableError when no key fits."""
        return secret_decrypt(self.caldav_password_encrypted)

    @caldav_password.setter
    def caldav_password(self, plain: str) -> None:
        self.caldav_password_encrypted = secret_encrypt(plain)

    @property
    def has_caldav_password(self) -> bool:
        """Whether a password is stored, without decrypting it (for pages and the API)."""
        return bool(self.caldav_password_encrypted)

    @property
    def weekly_minutes(self) -> int:
        total = 0
        for block in self.working_hours:
            start, end = parse_hhmm(block["start"]), parse_hhmm(block["end"])
            end_minutes = 24 * 60 if end is None else end.hour * 60 + end.minute
            total += end_minutes - (start.hour * 60 + start.minute)
        return total


class AbsenceKind(models.TextChoices):
    VACATION = "vacation", _("Vacation")
    SICK = "sick", _("Sick")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class IntervalQuerySet(models.QuerySet):
    """Rows with `start` and `end` (absences, busy times)."""

    def overlapping(self, start: dt.datetime, end: dt.datetime) -> "IntervalQuerySet":
        return self.filter(start__lt=end, end__gt=start)


class Absence(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="absences",
        verbose_name=_("staff member"),
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    kind = models.CharField(_("kind"), max_length=20, choices=AbsenceKind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = IntervalQuerySet.as_manager()

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["start"]
        indexes = [models.Index(fields=["user", "start"], name="absence_user_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="absence_end_after_start",
                violation_error_message=_("An absence must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display()} {self.start:%Y-%m-%d}"


class BusySource(models.TextChoices):
    CALDAV = "caldav", _("CalDAV")
    ICS = "ics", _("ICS feed")
    UPLOAD = "upload", _("ICS upload")


class BusyTime(models.Model):
    """A busy block from a staff member's own calendar: only the time, never what it is about."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="busy_times",
        verbose_name=_("staff member"),
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    source = models.CharField(_("source"), max_length=10, choices=BusySource.choices)
    uid = models.CharField(_("event UID"), max_length=255, blank=True)
    synced_at = models.DateTimeField(_("synced"))

    objects = IntervalQuerySet.as_manager()

    class Meta:
        verbose_name = _("busy time")
        verbose_name_plural = _("busy times")
        ordering = ["start"]
        indexes = [models.Index(fields=["user", "start"], name="busytime_user_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="busytime_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"


# --- appointments and customer rebooking ------------------------------------------------------------


class AppointmentStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    APPROVED = "approved", _("approved")
    SENT = "sent", _("sent")
    CONFIRMED = "confirmed", _("confirmed")
    REBOOKED = "rebooked", _("rebooked")
    CANCELLED = "cancelled", _("cancelled")
    ATTENDED = "attended", _("attended")
    MISSED = "missed", _("missed")
    EXCUSED = "excused", _("excused")


# An appointment in one of these statuses holds its slot: no second one of the same staff member
# may overlap it (database constraints, see Appointment.Meta and migration 0003).
ACTIVE_APPOINTMENT_STATUSES = (
    AppointmentStatus.PLANNED,
    AppointmentStatus.APPROVED,
    AppointmentStatus.SENT,
    AppointmentStatus.CONFIRMED,
)


def appointment_uid_new() -> str:
    return f"{uuid.uuid4()}@jobcenter"


class Appointment(models.Model):
    """One appointment of a customer (through their case) with a staff member.

    `uid` stays the same for the appointment's life (calendar clients recognise it); `sequence`
    rises on every change of time or place, so calendars and rebooking links know a newer version.
    """

    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("case"),
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("staff member"),
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    channel = models.CharField(
        _("channel"),
        max_length=20,
        choices=[(channel.value, channel.label) for channel in CALENDAR_CHANNELS],
    )
    location = models.CharField(_("place or room"), max_length=200, blank=True)
    video_link = models.URLField(_("video link"), max_length=500, blank=True)
    purpose = models.CharField(_("purpose of the appointment"), max_length=300)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.PLANNED,
    )
    # A place in a group session: the session holds the host's time (GroupSession's own
    # constraints); its participants' appointments share start and host, so they are exempt from
    # the one-appointment-per-time constraints below.
    group_session = models.ForeignKey(
        "GroupSession",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("group session"),
    )
    # The planning run that proposed it (None: made by hand).
    planning_run = models.ForeignKey(
        "PlanningRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("planning run"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    uid = models.CharField(
        _("UID"), max_length=255, unique=True, default=appointment_uid_new, editable=False
    )
    sequence = models.PositiveIntegerField(_("version"), default=0)
    rebook_count = models.PositiveSmallIntegerField(_("rebooked by the customer"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["staff", "start"], name="appointment_staff_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="appointment_end_after_start",
                violation_error_message=_("An appointment must end after it starts."),
            ),
            # Works on every database. On PostgreSQL an exclusion constraint on overlapping times
            # (migration 0003) also refuses overlaps that do not start at the same moment.
            models.UniqueConstraint(
                fields=["staff", "start"],
                condition=Q(status__in=ACTIVE_APPOINTMENT_STATUSES, group_session__isnull=True),
                name="appointment_staff_start_unique_active",
                violation_error_message=_("This staff member already has an appointment then."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.start:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_APPOINTMENT_STATUSES

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start


class SingletonModel(models.Model):
    """Admin settings kept in one row (pk 1; each subclass also has a check constraint on it):
    saving always writes that row, `load()` reads it, creating it with the defaults."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class RebookingPolicy(SingletonModel):
    """The admin's limits for customer rebooking. One row (pk 1); `RebookingPolicy.load()`."""

    max_rebookings = models.PositiveSmallIntegerField(
        _("rebookings per appointment at most"), default=2, validators=[MaxValueValidator(10)]
    )
    latest_hours_before = models.PositiveSmallIntegerField(
        _("rebooking possible until (hours before the appointment)"),
        default=24,
        validators=[MaxValueValidator(24 * 14)],
    )
    link_lifetime_days = models.PositiveSmallIntegerField(
        _("rebooking link valid for (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    window_working_days = models.PositiveSmallIntegerField(
        _("alternatives up to this many working days before or after"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("rebooking policy")
        verbose_name_plural = _("rebooking policy")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="rebooking_policy_singleton"),
        ]

    def __str__(self) -> str:
        return str(_("Rebooking policy"))


class CallbackRequestQuerySet(models.QuerySet):
    def open(self):
        """Not handled yet: waiting in the work queue ("Rückruf erbeten")."""
        return self.filter(handled_at__isnull=True)


# A phone number the customer types: digits, spaces, + / - ( ), 6 to 30 characters (loose on
# purpose: numbers are written in many ways; a person dials it).
CALLBACK_PHONE_PATTERN = re.compile(r"^[0-9 +/()\-]{6,30}$")
CALLBACK_PHONE_MAX_LENGTH = 30
CALLBACK_NOTE_MAX_LENGTH = 500


class CallbackRequest(models.Model):
    """A customer asked through the rebooking link to be called back. Open until a caseworker or
    team lead of the case's team marks it handled with a note
    (scheduling.services_appointments.callback_request_handle)."""

    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        related_name="callback_requests",
        verbose_name=_("appointment"),
    )
    # The appointment's case, kept here so the work queue finds open requests per case directly.
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.CASCADE,
        related_name="callback_requests",
        verbose_name=_("case"),
    )
    reason = models.TextField(_("reason"), max_length=1000)
    phone = models.CharField(
        _("phone number to call"), max_length=CALLBACK_PHONE_MAX_LENGTH, blank=True
    )
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    handled_note = models.TextField(_("note"), max_length=CALLBACK_NOTE_MAX_LENGTH, blank=True)

    objects = CallbackRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("call-back request")
        verbose_name_plural = _("call-back requests")
        ordering = ["created_at", "id"]
        indexes = [
            # The work queue asks "has this case an open request?" for every row.
            models.Index(
                fields=["case"], condition=Q(handled_at__isnull=True), name="callback_open_case"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(handled_at__isnull=True, handled_by__isnull=True)
                | Q(handled_at__isnull=False, handled_by__isnull=False),
                name="callback_handled_with_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.handled_at is None


# --- invitations: the versioned text and the record of delivery ------------------------------------

# The placeholders an invitation template may use ({name}, {date}, ...), filled by
# scheduling.services_invitations.invitation_render.
INVITATION_PLACEHOLDERS = (
    "name",
    "date",
    "time",
    "place",
    "channel",
    "purpose",
    "caseworker",
    "rebook_url",
)


# A versioned text or a delivery record was to be changed or deleted in place.
RecordUnchangeableError = AppendOnlyError


_WriteOnce = AppendOnlyModel  # written once; a PostgreSQL trigger refuses UPDATE (migration 0004)


# The whole template language: "{name}" (a documented placeholder, nothing else: no conversion,
# no format spec, no attribute or index access, which str.format would run), "{{" and "}}" for a
# literal brace. Filled by template_fill, checked by template_placeholder_errors.
_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_PLAIN_PLACEHOLDER = re.compile(r"^[a-z_]+$")


def template_fill(text: str, values: dict[str, str]) -> str:
    """`text` with each plain placeholder of `values` replaced, "{{"/"}}" made single braces.

    Anything else in braces stays as written: a row saved before templates were checked (say
    "{name!r:>1000000000}") cannot make the renderer do more than copy it. Linear in the text."""

    def replace(match: re.Match) -> str:
        piece = match.group(0)
        if piece in ("{{", "}}"):
            return piece[0]
        name = match.group(1)
        if name is not None and name in values and _PLAIN_PLACEHOLDER.match(name):
            return str(values[name])
        return piece

    return _TEMPLATE_TOKEN.sub(replace, text)


def template_placeholder_errors(text: str, allowed: tuple[str, ...]) -> list[str]:
    """What is wrong with the placeholders of `text`, one message per problem, naming it."""
    errors = []
    for match in _TEMPLATE_TOKEN.finditer(text):
        piece = match.group(0)
        name = match.group(1)
        if piece in ("{{", "}}"):
            continue
        if name is None:
            errors.append(
                gettext(
                    "The text has a single “%(brace)s”. Write {{ or }} for a brace that is meant "
                    "as text."
                )
                % {"brace": piece}
            )
        elif not _PLAIN_PLACEHOLDER.match(name):
            errors.append(
                gettext(
                    "The placeholder “%(placeholder)s” is not allowed: write a placeholder as its "
                    "name in braces, such as {name}, without anything else inside."
                )
                % {"placeholder": piece}
            )
        elif name not in allowed:
            errors.append(gettext("Unknown placeholders: %(names)s") % {"names": piece})
    return list(dict.fromkeys(errors))


class InvitationTemplateQuerySet(AppendOnlyQuerySet):
    def current(self, *, language: str, now: dt.datetime | None = None):
        """The newest version of `language` that is valid at `now` (None if there is none)."""
        from django.utils import timezone

        return (
            self.filter(language=language, valid_from__lte=now or timezone.now())
            .order_by("-version")
            .first()
        )


class InvitationTemplate(_WriteOnce):
    """The text of an invitation (§ 59 SGB II with § 309 SGB III) with its notice of legal
    consequences (Rechtsfolgenbelehrung), per language. Never changed in place: a change is a new
    version (scheduling.services_invitations.invitation_template_publish), so every delivery keeps
    pointing to the exact text the customer received."""

    version = models.PositiveIntegerField(_("version"))
    language = models.CharField(_("language"), max_length=8, default="de")
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(
        _("text"),
        help_text=_(
            "Placeholders, exactly as written here: {name}, {date}, {time}, {place}, {channel}, "
            "{purpose}, {caseworker}, {rebook_url}. Write {{ or }} for a brace that is meant as "
            "text."
        ),
    )
    legal_notice = models.TextField(_("notice of legal consequences"))
    valid_from = models.DateTimeField(_("valid from"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = InvitationTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation template")
        verbose_name_plural = _("invitation templates")
        ordering = ["language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["language", "version"], name="invitation_template_language_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.language} v{self.version}"

    def clean(self) -> None:
        errors = {}
        for field in ("subject", "body", "legal_notice"):
            problems = template_placeholder_errors(
                getattr(self, field) or "", INVITATION_PLACEHOLDERS
            )
            if problems:
                errors[field] = problems
        # German (binding) and the languages customers are written to in.
        languages = tuple(dict.fromkeys(("de", *settings.CUSTOMER_LANGUAGES)))
        if self.language not in languages:
            errors["language"] = [
                gettext("“%(language)s” is not a customer language. Choose one of: %(languages)s.")
                % {"language": self.language, "languages": ", ".join(languages)}
            ]
        if not (self.legal_notice or "").strip():
            errors["legal_notice"] = [
                gettext("An invitation needs its notice of legal consequences.")
            ]
        if errors:
            raise ValidationError(errors)


class InvitationChannel(models.TextChoices):
    LETTER = "letter", _("letter")
    EMAIL = "email", _("e-mail")


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class InvitationDelivery(_WriteOnce):
    """One invitation sent (or tried) through one channel, with the exact template version.
    Append-only: the record of delivery the customer's obligations rest on."""

    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.PROTECT,
        related_name="invitation_deliveries",
        verbose_name=_("appointment"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=InvitationChannel.choices)
    template = models.ForeignKey(
        InvitationTemplate,
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("template version"),
    )
    sent_at = models.DateTimeField(_("sent"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    recipient = models.TextField(_("recipient"))
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices)
    error = models.TextField(_("error"), blank=True)
    ics_sequence = models.PositiveIntegerField(_("calendar version sent"), null=True, blank=True)
    # The letter exactly as made (PDF), on the letter row; kept as evidence of what was sent.
    document = models.BinaryField(_("letter (PDF)"), null=True, blank=True, editable=False)
    language = models.CharField(_("language"), max_length=8, default="de")

    class Meta:
        verbose_name = _("invitation delivery")
        verbose_name_plural = _("invitation deliveries")
        ordering = ["sent_at", "id"]
        indexes = [
            models.Index(fields=["appointment", "sent_at"], name="invitation_delivery_appt"),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.channel} {self.status} {self.sent_at:%Y-%m-%d %H:%M}"


# --- the contact agreement of a case: cadence and window --------------------------------------------

MAX_CADENCE_DAYS = 365
MAX_WINDOW_OFFSET_DAYS = 30


class ContactAgreement(models.Model):
    """How often and how a customer is invited: agreed with them, editable by their caseworker.

    Each field left empty follows the customer group's setting (profiling.SegmentConfig:
    contact_cadence_days, channels). The window is given in working days relative to the due date:
    an invitation due on day D may be placed from D + window_start_days to D + window_end_days.
    `next_due` overrides the computed due date once (say, the customer asked for an early
    meeting); the planner clears it when it places that invitation.
    """

    case = models.OneToOneField(
        "cases.Case",
        on_delete=models.CASCADE,
        related_name="contact_agreement",
        verbose_name=_("case"),
    )
    cadence_days = models.PositiveSmallIntegerField(
        _("invite every (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CADENCE_DAYS)],
        help_text=_("Empty: the customer group's cadence."),
    )
    window_start_days = models.SmallIntegerField(
        _("window starts (working days from the due date)"),
        default=-3,
        validators=[
            MinValueValidator(-MAX_WINDOW_OFFSET_DAYS),
            MaxValueValidator(MAX_WINDOW_OFFSET_DAYS),
        ],
    )
    window_end_days = models.SmallIntegerField(
        _("window ends (working days from the due date)"),
        default=5,
        validators=[
            MinValueValidator(-MAX_WINDOW_OFFSET_DAYS),
            MaxValueValidator(MAX_WINDOW_OFFSET_DAYS),
        ],
    )
    channels = models.JSONField(
        _("channels"),
        default=list,
        blank=True,
        help_text=_("Empty: the customer group's channels."),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("length of an appointment (minutes)"),
        default=30,
        validators=[MinValueValidator(15), MaxValueValidator(240)],
    )
    purpose = models.CharField(
        _("purpose of the invitations (Meldezweck)"), max_length=300, blank=True
    )
    next_due = models.DateField(_("next invitation due on (once)"), null=True, blank=True)
    agreed_with_customer_at = models.DateTimeField(
        _("agreed with the customer on"), null=True, blank=True
    )
    # A hold: a person rejected a planned invitation (scheduling.services_planning), so the case
    # is not invited before `hold_until` (empty: until a person changes this agreement, sets a
    # next due date or lifts the hold). `hold_set_at` empty: no hold.
    hold_set_at = models.DateTimeField(_("invitations held since"), null=True, blank=True)
    hold_until = models.DateField(_("not to be invited before"), null=True, blank=True)
    hold_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("held by"),
    )
    hold_reason = models.TextField(_("reason for the hold"), max_length=1000, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("contact agreement")
        verbose_name_plural = _("contact agreements")
        constraints = [
            models.CheckConstraint(
                condition=Q(cadence_days__isnull=True) | Q(cadence_days__gte=1),
                name="contact_agreement_cadence_positive",
                violation_error_message=_("The cadence must be at least one day."),
            ),
            models.CheckConstraint(
                condition=Q(window_end_days__gte=F("window_start_days")),
                name="contact_agreement_window_ordered",
                violation_error_message=_("The window ends before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.case_id)

    def is_held(self, today: dt.date) -> bool:
        """Whether invitations are held back on `today` (a hold without a date holds until it is
        lifted; one with a date until that day)."""
        return self.hold_set_at is not None and (self.hold_until is None or self.hold_until > today)

    @property
    def is_held_now(self) -> bool:
        from django.utils import timezone

        return self.is_held(timezone.localdate())

    def clean(self) -> None:
        errors = {}
        if self.cadence_days is not None and self.cadence_days < 1:
            errors["cadence_days"] = gettext("The cadence must be at least one day.")
        if self.window_end_days < self.window_start_days:
            errors["window_end_days"] = gettext("The window ends before it starts.")
        channels = self.channels if isinstance(self.channels, list) else None
        allowed = {channel.value for channel in CALENDAR_CHANNELS}
        if channels is None or any(channel not in allowed for channel in channels):
            errors["channels"] = gettext(
                "Appointments are in person, by phone, by video or outreach."
            )
        if errors:
            raise ValidationError(errors)


# --- group sessions ---------------------------------------------------------------------------------


class GroupSessionStatus(models.TextChoices):
    OPEN = "open", _("open for places")
    HELD = "held", _("held")
    CANCELLED = "cancelled", _("cancelled")


GROUP_SESSION_CHANNELS = (Channel.IN_PERSON, Channel.VIDEO)


class GroupSession(models.Model):
    """A group appointment of one host with up to `capacity` customers (information sessions for
    `administrative` customers, say). Set up by a team lead; planning runs fill its places.

    The host's time is held like an appointment: no two open sessions of one host start at the
    same time (every database), and on PostgreSQL none overlap (exclusion constraint, migration
    0006). Participants are Appointments with `group_session` set.
    """

    team = models.ForeignKey(
        "organisation.Team",
        on_delete=models.PROTECT,
        related_name="group_sessions",
        verbose_name=_("team"),
    )
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="hosted_group_sessions",
        verbose_name=_("host"),
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    capacity = models.PositiveSmallIntegerField(
        _("places"), validators=[MinValueValidator(2), MaxValueValidator(100)]
    )
    channel = models.CharField(
        _("channel"),
        max_length=20,
        choices=[(channel.value, channel.label) for channel in GROUP_SESSION_CHANNELS],
    )
    location = models.CharField(_("room"), max_length=200, blank=True)
    video_link = models.URLField(_("video link"), max_length=500, blank=True)
    topic = models.CharField(_("topic (purpose)"), max_length=300)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=GroupSessionStatus.choices,
        default=GroupSessionStatus.OPEN,
    )
    uid = models.CharField(
        _("UID"), max_length=255, unique=True, default=appointment_uid_new, editable=False
    )
    sequence = models.PositiveIntegerField(_("version"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set up by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("group session")
        verbose_name_plural = _("group sessions")
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["team", "start"], name="group_session_team_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="group_session_end_after_start",
                violation_error_message=_("A group session must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=2),
                name="group_session_capacity_at_least_two",
                violation_error_message=_("A group session needs at least two places."),
            ),
            models.CheckConstraint(
                condition=(Q(channel="in_person") & ~Q(location=""))
                | (Q(channel="video") & ~Q(video_link="")),
                name="group_session_room_or_link",
                violation_error_message=_(
                    "A group session in person needs a room, one by video a video link."
                ),
            ),
            models.UniqueConstraint(
                fields=["host", "start"],
                condition=Q(status="open"),
                name="group_session_host_start_unique_open",
                violation_error_message=_("The host already has a group session then."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.start:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.channel == Channel.IN_PERSON and not self.location.strip():
            raise ValidationError({"location": gettext("A group session in person needs a room.")})
        if self.channel == Channel.VIDEO and not self.video_link.strip():
            raise ValidationError({"video_link": gettext("A group session by video needs a link.")})


# --- planning runs ------------------------------------------------------------------------------------


class PlanningSettings(SingletonModel):
    """The admin's planning configuration. One row (pk 1); `PlanningSettings.load()`.

    The weights are the integer costs of scheduling.planning.Weights; placing an invitation always
    beats every one of them (the planner places the maximum number first)."""

    own_caseworker = models.PositiveIntegerField(
        _("cost: potential customer with another caseworker"), default=300
    )
    due_distance_per_day = models.PositiveIntegerField(
        _("cost per working day away from the due date"), default=100
    )
    load_balance = models.PositiveIntegerField(
        _("weight of spreading the load by part-time share"), default=1
    )
    group_session = models.PositiveIntegerField(_("cost of a group session place"), default=0)
    horizon_days = models.PositiveSmallIntegerField(
        _("planning horizon (days)"),
        default=28,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    periodic_enabled = models.BooleanField(_("plan every night"), default=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("planning settings")
        verbose_name_plural = _("planning settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="planning_settings_singleton"),
        ]

    def __str__(self) -> str:
        return str(_("Planning settings"))


class PlanningRunStatus(models.TextChoices):
    RUNNING = "running", _("running")
    PROPOSED = "proposed", _("awaiting approval")
    APPROVED = "approved", _("approved")
    DISCARDED = "discarded", _("discarded")
    SUPERSEDED = "superseded", _("superseded by a newer run")
    FAILED = "failed", _("failed")


# At most one run per team is running or waiting for approval (database constraint).
OPEN_PLANNING_RUN_STATUSES = (PlanningRunStatus.RUNNING, PlanningRunStatus.PROPOSED)


class PlanningTrigger(models.TextChoices):
    PERIODIC = "periodic", _("nightly")
    ON_DEMAND = "on_demand", _("on demand")


class PlanningRun(models.Model):
    """One planning run for one team: what went in (fingerprint, weights, horizon), what came out
    (objective, bound, placed and unplaced invitations with reasons) and who approved it."""

    team = models.ForeignKey(
        "organisation.Team",
        on_delete=models.PROTECT,
        related_name="planning_runs",
        verbose_name=_("team"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PlanningRunStatus.choices,
        default=PlanningRunStatus.RUNNING,
    )
    trigger = models.CharField(_("started"), max_length=20, choices=PlanningTrigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    horizon_start = models.DateField(_("plans from"))
    horizon_end = models.DateField(_("plans until"))
    fingerprint = models.CharField(_("input fingerprint"), max_length=64, blank=True)
    weights = models.JSONField(_("weights"), default=dict)
    objective = models.BigIntegerField(_("objective (total cost)"), null=True, blank=True)
    bound = models.PositiveIntegerField(_("most invitations any plan could place"), null=True)
    due_count = models.PositiveIntegerField(_("due invitations"), default=0)
    placed_count = models.PositiveIntegerField(_("placed"), default=0)
    unplaced_count = models.PositiveIntegerField(_("not placed"), default=0)
    metrics = models.JSONField(_("figures"), default=dict, blank=True)
    seconds = models.FloatField(_("duration (seconds)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    discarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("discarded by"),
    )

    class Meta:
        verbose_name = _("planning run")
        verbose_name_plural = _("planning runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team"],
                condition=Q(status__in=OPEN_PLANNING_RUN_STATUSES),
                name="planning_run_one_open_per_team",
                violation_error_message=_("A planning run of this team is already open."),
            ),
            models.CheckConstraint(
                condition=Q(horizon_end__gte=F("horizon_start")),
                name="planning_run_horizon_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.created_at:%Y-%m-%d %H:%M}"


class PlanningOutcome(models.TextChoices):
    PLACED = "placed", _("placed")
    UNPLACED = "unplaced", _("not placed")


class PlanningDecision(models.TextChoices):
    PENDING = "pending", _("awaiting approval")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    # The run was approved, but this proposal no longer fitted the calendar then (an absence, a
    # busy time, another appointment ...): not sent, its appointment withdrawn.
    LEFT_OUT = "left_out", _("left out: no longer fits")


class PlanningRunItem(models.Model):
    """One due invitation of a run: placed (with its proposed appointment) or not (with reason).

    `reason` holds a scheduling.planning reason code (REASON_* for unplaced, FALLBACK_* for a
    potential customer placed with a colleague); the services translate it for people."""

    run = models.ForeignKey(
        PlanningRun, on_delete=models.CASCADE, related_name="items", verbose_name=_("run")
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="+", verbose_name=_("case")
    )
    customer_group = models.CharField(_("customer group"), max_length=20, blank=True)
    due_date = models.DateField(_("due on"))
    window_start = models.DateField(_("window from"))
    window_end = models.DateField(_("window until"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=PlanningOutcome.choices)
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="planning_item",
        verbose_name=_("proposed appointment"),
    )
    decision = models.CharField(
        _("decision"),
        max_length=10,
        choices=PlanningDecision.choices,
        default=PlanningDecision.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # The proposal as made, kept for the record: a proposal never approved is withdrawn (its
    # appointment deleted) when the run is superseded, discarded or it is rejected.
    proposed_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed with"),
    )
    proposed_start = models.DateTimeField(_("proposed from"), null=True, blank=True)
    proposed_end = models.DateTimeField(_("proposed until"), null=True, blank=True)
    proposed_channel = models.CharField(_("proposed channel"), max_length=20, blank=True)
    proposed_group_session = models.ForeignKey(
        "GroupSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed group session"),
    )
    # What the reason code needs to be told: the hold of a held case ({"hold": {"until",
    # "set_at", "set_by", "reason"}}), why an item was left out ({"left_out": {"code", ...}}).
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("planned invitation")
        verbose_name_plural = _("planned invitations")
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "case"], name="planning_item_one_per_case"),
            models.CheckConstraint(
                condition=Q(window_end__gte=F("window_start")),
                name="planning_item_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.case_id} {self.outcome}"


# --- reminders ----------------------------------------------------------------------------------------


class ReminderPolicy(SingletonModel):
    """The admin's reminder settings. One row (pk 1); `ReminderPolicy.load()`. 0 turns a channel off."""

    email_hours_before = models.PositiveSmallIntegerField(
        _("e-mail reminder (hours before; 0: none)"),
        default=48,
        validators=[MaxValueValidator(24 * 14)],
    )
    sms_hours_before = models.PositiveSmallIntegerField(
        _("SMS reminder (hours before; 0: none)"),
        default=24,
        validators=[MaxValueValidator(24 * 14)],
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("reminder settings")
        verbose_name_plural = _("reminder settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="reminder_policy_singleton"),
        ]

    def __str__(self) -> str:
        return str(_("Reminder settings"))


class ReminderChannel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("to be sent")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    # The log backend took it: no SMS gateway is configured, nothing reached the customer.
    NOT_SENT = "not_sent", _("not sent: no SMS gateway")
    CANCELLED = "cancelled", _("no longer needed")


class Reminder(models.Model):
    """A reminder to send at `due_at`: a row the periodic task sends exactly once (never a Celery
    ETA task days ahead). `appointment_sequence` is the version of the appointment it reminds of;
    a moved appointment cancels the pending reminders of the old version and gets new ones."""

    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        related_name="reminders",
        verbose_name=_("appointment"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ReminderChannel.choices)
    due_at = models.DateTimeField(_("send at"))
    appointment_sequence = models.PositiveIntegerField(_("appointment version"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ReminderStatus.choices,
        default=ReminderStatus.PENDING,
    )
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"], name="reminder_status_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "channel", "appointment_sequence"],
                name="reminder_one_per_channel_and_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.channel} {self.due_at:%Y-%m-%d %H:%M} {self.status}"


# --- missed appointments: a review for the caseworker, never an automatic sanction -----------------


class MissedReviewOutcome(models.TextChoices):
    GOOD_REASON = "good_reason", _("good reason (wichtiger Grund) given or evident")
    HEARING = "hearing", _("hearing (Anhörung) started")
    NO_ACTION = "no_action", _("no further action")


class MissedAppointmentReview(models.Model):
    """A missed appointment waiting for the caseworker's judgement: was there a good reason, is a
    hearing needed? The system records the decision; it never reduces benefits by itself."""

    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.CASCADE,
        related_name="missed_review",
        verbose_name=_("appointment"),
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.CASCADE,
        related_name="missed_appointment_reviews",
        verbose_name=_("case"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=MissedReviewOutcome.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("missed appointment to review")
        verbose_name_plural = _("missed appointments to review")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="", decided_at__isnull=True)
                | (~Q(outcome="") & Q(decided_at__isnull=False)),
                name="missed_review_decided_with_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.appointment_id} {self.outcome or '-'}"

    @property
    def is_open(self) -> bool:
        return not self.outcome
