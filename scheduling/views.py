"""The "My calendar" page of the logged-in staff member, the team calendar of team leads and
admins, and the private ICS feed.

*Mein Kalender* works on request.user's own calendar: there is no user id in the addresses, so
another staff member's calendar cannot be reached; an absence of someone else is a 404. The forms
are plain POSTs that redirect back to the page with a message (post/redirect/get); "Sync now" also
answers htmx with the status fragment, which polls while a worker syncs. The feed needs no login:
its random token is the secret, and a new token can be made at any time.

*Team-Kalender* (`/scheduling/team/`): a team lead sees their team's staff (part-time share,
consent, last sync, absences, appointments inside absences) and records or removes a staff
member's absences; admins choose any team. Caseworkers get a 403, another team's staff member a
404 (scheduling.selectors_calendars).
"""

import datetime as dt
import re
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST, require_safe

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record
from cases.forms import CHECKBOX_CLASS, INPUT_CLASS, SELECT_CLASS, KernFormMixin
from cases.models import Channel
from jobcenter.exceptions import ApplicationError
from organisation.models import Role, User
from scheduling.calendars import MAX_ICS_BYTES, ics_feed
from scheduling.models import (
    CALENDAR_CHANNELS,
    WEEKDAYS,
    Absence,
    AbsenceKind,
    Appointment,
    BusySource,
    BusyTime,
    SyncStatus,
)
from scheduling.selectors import (
    absence_list_for_user,
    staff_calendar_get_by_feed_token,
    staff_feed_events,
)
from scheduling.selectors_calendars import (
    ABSENCE_LIST_PAST_DAYS,
    team_calendar_team_get_for_user,
    team_calendar_teams_for_user,
    team_member_get_for_user,
    team_staff_list,
)
from scheduling.services import (
    CONSENT_TEXT,
    absence_add,
    absence_remove,
    appointments_to_move,
    calendar_sync_start,
    calendar_upload_ics,
    calendar_upload_remove,
    staff_calendar_consent_set,
    staff_calendar_feed_token_regenerate,
    staff_calendar_get_or_create,
    staff_calendar_update,
)

TEMPLATE = "scheduling/calendar_detail.html"
TEAM_TEMPLATE = "scheduling/team_calendar.html"
MEMBER_TEMPLATE = "scheduling/team_member.html"
PART_TIME_MIN, PART_TIME_MAX = Decimal("0.1"), Decimal("1.0")
_BLOCK = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


def _ctx(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.UI)


def _hhmm(text: str) -> str:
    hours, minutes = text.split(":")
    return f"{int(hours):02d}:{minutes}"


# --- forms -----------------------------------------------------------------------------------------


class CalendarSettingsForm(KernFormMixin, forms.Form):
    """The settings; working hours as one text field per weekday ("08:00-12:00, 13:00-16:00")."""

    # Localized: "0,5" on a German page (and "0.5" too); a text field, since a browser's number
    # field shows nothing for a value written with a comma.
    part_time_share = forms.DecimalField(
        label=gettext_lazy("Part-time share"),
        help_text=gettext_lazy("1.0 is full time, 0.5 half time."),
        localize=True,
        max_digits=3,
        decimal_places=2,
        widget=forms.TextInput(attrs={"class": INPUT_CLASS, "inputmode": "decimal"}),
    )
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels I offer"),
        choices=[(c.value, c.label) for c in CALENDAR_CHANNELS],
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": CHECKBOX_CLASS}),
    )
    location = forms.CharField(
        label=gettext_lazy("Location"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": INPUT_CLASS}),
    )
    rooms = forms.CharField(
        label=gettext_lazy("Rooms"),
        help_text=gettext_lazy("Separated by commas."),
        max_length=1000,
        required=False,
        widget=forms.TextInput(attrs={"class": INPUT_CLASS}),
    )
    walk_in_reserve_minutes = forms.IntegerField(
        label=gettext_lazy("Reserve for walk-ins (minutes per day)"),
        min_value=0,
        max_value=600,
        widget=forms.NumberInput(attrs={"class": INPUT_CLASS, "inputmode": "numeric"}),
    )
    daily_cap = forms.IntegerField(
        label=gettext_lazy("Appointments per day at most"),
        help_text=gettext_lazy("Empty: no limit beyond the working hours."),
        min_value=0,
        max_value=50,
        required=False,
        widget=forms.NumberInput(attrs={"class": INPUT_CLASS, "inputmode": "numeric"}),
    )
    # Plain text: the service checks and normalises both addresses (scheduling.urlguard), so the
    # form, the API and the admin give the same (formal, translated) messages.
    caldav_url = forms.CharField(
        label=gettext_lazy("CalDAV address"),
        help_text=gettext_lazy("An address starting with https:// or http://."),
        required=False,
        max_length=500,
        widget=forms.URLInput(attrs={"class": INPUT_CLASS, "autocomplete": "url"}),
    )
    caldav_username = forms.CharField(
        label=gettext_lazy("CalDAV user name"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": INPUT_CLASS, "autocomplete": "username"}),
    )
    caldav_password = forms.CharField(
        label=gettext_lazy("CalDAV password"),
        help_text=gettext_lazy("Leave empty to keep the stored password. It is never shown."),
        required=False,
        max_length=500,
        widget=forms.PasswordInput(
            attrs={"class": INPUT_CLASS, "autocomplete": "new-password"}, render_value=False
        ),
    )
    caldav_password_clear = forms.BooleanField(
        label=gettext_lazy("Remove the stored CalDAV password"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": CHECKBOX_CLASS}),
    )
    ics_url = forms.CharField(
        label=gettext_lazy("ICS feed address"),
        help_text=gettext_lazy("An address starting with https://, http:// or webcal://."),
        required=False,
        max_length=500,
        widget=forms.URLInput(attrs={"class": INPUT_CLASS}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for weekday, label in enumerate(WEEKDAYS):
            self.fields[f"hours_{weekday}"] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                widget=forms.TextInput(
                    attrs={"class": INPUT_CLASS, "placeholder": "08:00-12:00, 13:00-16:00"}
                ),
            )

    @property
    def hours_fields(self) -> list:
        return [self[f"hours_{weekday}"] for weekday in range(7)]

    @property
    def other_fields(self) -> list:
        return [self[name] for name in self.fields if not name.startswith("hours_")]

    def clean_part_time_share(self) -> Decimal | None:
        value = self.cleaned_data["part_time_share"]
        if value is not None and not PART_TIME_MIN <= value <= PART_TIME_MAX:
            raise forms.ValidationError(
                _("Enter a share from %(min)s to %(max)s, e.g. %(half)s for half time.")
                % {
                    "min": formats.number_format(PART_TIME_MIN, 1),
                    "max": formats.number_format(PART_TIME_MAX, 1),
                    "half": formats.number_format(Decimal("0.5"), 1),
                }
            )
        return value

    def clean_caldav_url(self) -> str:
        url = self.cleaned_data["caldav_url"].strip()
        if url and "://" not in url:
            url = "https://" + url  # "cal.example.de/dav/" means the secure address
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(
                _("The CalDAV address must start with https:// or http://.")
            )
        return url

    def clean_ics_url(self) -> str:
        url = self.cleaned_data["ics_url"].strip()
        if url and not url.lower().startswith(("http://", "https://", "webcal://")):
            raise forms.ValidationError(
                _("The ICS feed address must start with http:// or https://.")
            )
        return url

    def working_hours(self) -> list[dict]:
        blocks = []
        for weekday in range(7):
            text = self.cleaned_data.get(f"hours_{weekday}", "")
            for part in filter(None, (p.strip() for p in text.split(","))):
                match = _BLOCK.match(part)
                if not match:
                    self.add_error(
                        f"hours_{weekday}",
                        _("Write the times as 08:00-12:00, several separated by commas."),
                    )
                    break
                blocks.append(
                    {"weekday": weekday, "start": _hhmm(match[1]), "end": _hhmm(match[2])}
                )
        return blocks

    @classmethod
    def initial_for(cls, calendar) -> dict:
        initial = {
            "part_time_share": calendar.part_time_share,
            "channels": calendar.channels,
            "location": calendar.location,
            "rooms": ", ".join(calendar.rooms),
            "walk_in_reserve_minutes": calendar.walk_in_reserve_minutes,
            "daily_cap": calendar.daily_cap,
            "caldav_url": calendar.caldav_url,
            "caldav_username": calendar.caldav_username,
            "ics_url": calendar.ics_url,
        }
        for weekday in range(7):
            initial[f"hours_{weekday}"] = ", ".join(
                f"{b['start']}-{b['end']}"
                for b in calendar.working_hours
                if b["weekday"] == weekday
            )
        return initial


class AbsenceForm(KernFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=AbsenceKind.choices,
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    start = forms.DateTimeField(
        label=gettext_lazy("From"),
        input_formats=["%Y-%m-%dT%H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"class": INPUT_CLASS, "type": "datetime-local"}),
    )
    end = forms.DateTimeField(
        label=gettext_lazy("Until"),
        input_formats=["%Y-%m-%dT%H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"class": INPUT_CLASS, "type": "datetime-local"}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": INPUT_CLASS}),
    )

    def clean(self) -> dict:
        data = super().clean()
        try:
            ends_first = data.get("start") and data.get("end") and data["end"] <= data["start"]
        except OverflowError:  # a year-1 or year-9999 time: the service refuses the range
            ends_first = False
        if ends_first:
            self.add_error("end", _("An absence must end after it starts."))
        return data


class ConsentForm(forms.Form):
    consent = forms.BooleanField(
        label=gettext_lazy("I agree to share my calendar's busy times."),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": CHECKBOX_CLASS}),
    )


class UploadForm(KernFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("ICS file"),
        help_text=gettext_lazy(
            "An export of your calendar (.ics) or of its free/busy times (.vfb), at most 5 MB."
        ),
        widget=forms.ClearableFileInput(
            attrs={"class": INPUT_CLASS, "accept": ".ics,.vfb,.ifb,text/calendar"}
        ),
    )


# --- views -----------------------------------------------------------------------------------------


def _with_remove_urls(absences: list[Absence], url_for) -> list[Absence]:
    for absence in absences:
        absence.remove_url = url_for(absence)
    return absences


def _sync_context(request: HttpRequest, calendar) -> dict:
    now = timezone.now()
    busy = BusyTime.objects.filter(user=request.user, end__gt=now)
    return {
        "calendar": calendar,
        "busy_count": busy.count(),
        "upload_count": busy.filter(source=BusySource.UPLOAD).count(),
    }


def _render_page(
    request: HttpRequest,
    *,
    settings_form: CalendarSettingsForm | None = None,
    absence_form: AbsenceForm | None = None,
    upload_form: UploadForm | None = None,
    status: int = 200,
) -> HttpResponse:
    calendar = staff_calendar_get_or_create(user=request.user)
    now = timezone.now()
    absences = absence_list_for_user(
        user=request.user, since=now - dt.timedelta(days=ABSENCE_LIST_PAST_DAYS)
    )
    context = {
        **_sync_context(request, calendar),
        "now": now,
        "settings_form": settings_form
        or CalendarSettingsForm(initial=CalendarSettingsForm.initial_for(calendar)),
        "absence_form": absence_form or AbsenceForm(),
        "absence_action": reverse("scheduling:absence_add"),
        "upload_form": upload_form or UploadForm(),
        "consent_form": ConsentForm(initial={"consent": calendar.has_consent}),
        "consent_text": CONSENT_TEXT,
        "absences": _with_remove_urls(
            absences, lambda absence: reverse("scheduling:absence_remove", args=[absence.pk])
        ),
        "absence_list_past_days": ABSENCE_LIST_PAST_DAYS,
        "appointments_to_move": appointments_to_move(user_id=request.user.pk, now=now),
        "channel_labels": [label for value, label in Channel.choices if value in calendar.channels],
        "feed_url": request.build_absolute_uri(
            reverse("scheduling:calendar_feed", kwargs={"token": calendar.feed_token})
        ),
        "max_upload_mb": MAX_ICS_BYTES // (1024 * 1024),
    }
    return render(request, TEMPLATE, context, status=status)


def _back() -> HttpResponse:
    return redirect("scheduling:calendar_detail")


def _warn_appointments_to_move(request: HttpRequest, appointments: list[Appointment]) -> None:
    """After recording an absence: the appointments inside it still stand and need moving."""
    if appointments:
        messages.warning(
            request,
            ngettext(
                "%(count)s appointment falls into this absence and still stands. Please move "
                "it: it is listed under “Appointments in absences”.",
                "%(count)s appointments fall into this absence and still stand. Please move "
                "them: they are listed under “Appointments in absences”.",
                len(appointments),
            )
            % {"count": len(appointments)},
        )


@login_required
@require_GET
def calendar_detail_view(request: HttpRequest) -> HttpResponse:
    return _render_page(request)


@login_required
@require_POST
def calendar_settings_update_view(request: HttpRequest) -> HttpResponse:
    form = CalendarSettingsForm(request.POST)
    if not form.is_valid():
        return _render_page(request, settings_form=form, status=400)
    working_hours = form.working_hours()
    if form.errors:
        return _render_page(request, settings_form=form, status=400)
    data = form.cleaned_data
    password = "" if data["caldav_password_clear"] else (data["caldav_password"] or None)
    try:
        staff_calendar_update(
            ctx=_ctx(request),
            user_id=request.user.pk,
            data={
                "working_hours": working_hours,
                "part_time_share": data["part_time_share"],
                "channels": list(data["channels"]),
                "location": data["location"].strip(),
                "rooms": [room.strip() for room in data["rooms"].split(",") if room.strip()],
                "walk_in_reserve_minutes": data["walk_in_reserve_minutes"],
                "daily_cap": data["daily_cap"],
                "caldav_url": data["caldav_url"],
                "caldav_username": data["caldav_username"].strip(),
                "ics_url": data["ics_url"],
            },
            caldav_password=password,
        )
    except ApplicationError as error:
        # Errors the service names a field for (a refused calendar address) go to that field.
        fields = {
            name: texts
            for name, texts in error.extra.get("fields", {}).items()
            if name in form.fields
        }
        for name, texts in fields.items():
            for text in texts:
                form.add_error(name, text)
        if not fields:
            form.add_error(None, error.message)
        return _render_page(request, settings_form=form, status=400)
    messages.success(request, _("Your calendar settings were saved."))
    return _back()


@login_required
@require_POST
def calendar_consent_view(request: HttpRequest) -> HttpResponse:
    form = ConsentForm(request.POST)
    given = form.is_valid() and form.cleaned_data["consent"]
    staff_calendar_consent_set(ctx=_ctx(request), user_id=request.user.pk, given=given)
    if given:
        messages.success(request, _("Thank you: your calendar is shared for planning."))
    else:
        messages.success(
            request,
            _("Calendar sharing is withdrawn; the busy times read so far were deleted."),
        )
    return _back()


@login_required
@require_POST
def absence_add_view(request: HttpRequest) -> HttpResponse:
    form = AbsenceForm(request.POST)
    if not form.is_valid():
        return _render_page(request, absence_form=form, status=400)
    try:
        absence = absence_add(
            ctx=_ctx(request),
            user_id=request.user.pk,
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            kind=form.cleaned_data["kind"],
            note=form.cleaned_data["note"],
        )
    except ApplicationError as error:
        form.add_error(None, error.message)
        return _render_page(request, absence_form=form, status=400)
    messages.success(request, _("The absence was recorded."))
    _warn_appointments_to_move(request, absence.appointments_to_move)
    return _back()


@login_required
@require_POST
def absence_remove_view(request: HttpRequest, absence_id: int) -> HttpResponse:
    # Only one's own absences from this page: someone else's is not found.
    if not Absence.objects.filter(pk=absence_id, user=request.user).exists():
        raise Http404
    absence_remove(ctx=_ctx(request), absence_id=absence_id)
    messages.success(request, _("The absence was removed."))
    return _back()


def _render_sync_state(
    request: HttpRequest, *, notice: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    """The status fragment (#calendar-sync-state): polls itself while a worker syncs."""
    calendar = staff_calendar_get_or_create(user=request.user)
    context = {**_sync_context(request, calendar), "sync_notice": notice, "sync_error": error}
    response = render(request, f"{TEMPLATE}#calendar-sync-state", context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_POST
def calendar_sync_view(request: HttpRequest) -> HttpResponse:
    """*Jetzt abgleichen*: sent to a worker where there is one (the status then polls), read in
    the request only with in-process tasks (each source within its fetch deadline)."""
    staff_calendar_get_or_create(user=request.user)
    try:
        result = calendar_sync_start(ctx=_ctx(request), user_id=request.user.pk)
    except ApplicationError as error:
        if request.htmx:
            return _render_sync_state(request, error=error.message, status=400)
        messages.error(request, error.message)
        return _back()
    if result is None:
        notice = _("The sync has started. The status below updates by itself.")
    else:
        total = sum(result.counts.values())
        notice = ngettext(
            "Calendar synced: %(count)s busy time read.",
            "Calendar synced: %(count)s busy times read.",
            total,
        ) % {"count": total}
    if request.htmx:
        return _render_sync_state(request, notice=notice)
    messages.success(request, notice)
    return _back()


@login_required
@require_GET
def calendar_sync_state_view(request: HttpRequest) -> HttpResponse:
    """The status fragment for htmx polling; without htmx, the page."""
    if not request.htmx:
        return _back()
    calendar = staff_calendar_get_or_create(user=request.user)
    error = ""
    if not calendar.sync_pending and calendar.last_sync_status == SyncStatus.ERROR:
        error = calendar.last_sync_message
    return _render_sync_state(request, error=error)


@login_required
@require_POST
def calendar_upload_remove_view(request: HttpRequest) -> HttpResponse:
    """*Hochgeladene Termine entfernen*: the busy times read from uploaded files."""
    count = calendar_upload_remove(ctx=_ctx(request), user_id=request.user.pk)
    messages.success(
        request,
        ngettext(
            "%(count)s uploaded busy time was removed.",
            "%(count)s uploaded busy times were removed.",
            count,
        )
        % {"count": count},
    )
    return _back()


@login_required
@require_POST
def calendar_feed_token_regenerate_view(request: HttpRequest) -> HttpResponse:
    staff_calendar_feed_token_regenerate(ctx=_ctx(request), user_id=request.user.pk)
    messages.success(
        request, _("A new feed address was made; the old one no longer works. Subscribe again.")
    )
    return _back()


@login_required
@require_POST
def calendar_upload_view(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_page(request, upload_form=form, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > MAX_ICS_BYTES:
        form.add_error(
            "file",
            _("The calendar file is too big: at most %(mb)s MB are allowed.")
            % {"mb": MAX_ICS_BYTES // (1024 * 1024)},
        )
        return _render_page(request, upload_form=form, status=400)
    try:
        count = calendar_upload_ics(ctx=_ctx(request), user_id=request.user.pk, data=upload.read())
    except ApplicationError as error:
        form.add_error("file", error.message)
        return _render_page(request, upload_form=form, status=400)
    messages.success(
        request,
        ngettext(
            "%(count)s busy time was read from the file.",
            "%(count)s busy times were read from the file.",
            count,
        )
        % {"count": count},
    )
    return _back()


@require_safe
def calendar_feed_view(request: HttpRequest, token: str) -> HttpResponse:
    """The private ICS feed; no login (calendar programs cannot log in), the token is the secret.
    GET and HEAD (calendar programs ask with HEAD whether the feed changed)."""
    calendar = staff_calendar_get_by_feed_token(token=token)
    if calendar is None:
        raise Http404
    body = ics_feed(
        events=staff_feed_events(user=calendar.user),
        name=_("Appointments %(name)s") % {"name": calendar.user},
        now=timezone.now(),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="termine.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


# --- the team calendar -------------------------------------------------------------------------


def _team_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("team", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404(_("There is no team with this number for you."))
    return int(raw)


@login_required
@require_GET
def team_calendar_view(request: HttpRequest) -> HttpResponse:
    """*Team-Kalender*: the team's staff with their calendar state and absences."""
    team = team_calendar_team_get_for_user(user=request.user, team_id=_team_id(request))
    teams = (
        team_calendar_teams_for_user(user=request.user) if request.user.role == Role.ADMIN else []
    )
    members = team_staff_list(team=team) if team is not None else []
    if members:
        # Colleagues' calendar state and absences are staff data: who looked is recorded.
        audit_record(
            ctx=_ctx(request),
            action=AuditAction.LIST,
            object_type="staff_calendar",
            detail={"team_id": team.pk, "user_ids": [member.pk for member in members]},
        )
    context = {"team": team, "teams": teams, "members": members, "now": timezone.now()}
    return render(request, TEAM_TEMPLATE, context)


def _member_url(member: User) -> str:
    return reverse("scheduling:team_member", args=[member.pk])


def _render_member(
    request: HttpRequest,
    member: User,
    *,
    absence_form: AbsenceForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "member": member,
        "calendar": member.calendar,
        "now": timezone.now(),
        "absences": _with_remove_urls(
            member.recent_absences,
            lambda absence: reverse(
                "scheduling:team_member_absence_remove", args=[member.pk, absence.pk]
            ),
        ),
        "absence_list_past_days": ABSENCE_LIST_PAST_DAYS,
        "appointments_to_move": member.appointments_to_move,
        "absence_form": absence_form or AbsenceForm(),
        "absence_action": reverse("scheduling:team_member_absence_add", args=[member.pk]),
        "team_url": reverse("scheduling:team_calendar")
        + (f"?team={member.team_id}" if request.user.role == Role.ADMIN else ""),
    }
    return render(request, MEMBER_TEMPLATE, context, status=status)


@login_required
@require_GET
def team_member_view(request: HttpRequest, user_id: int) -> HttpResponse:
    """One staff member of the team calendar: absences (record, remove) and what to move."""
    member = team_member_get_for_user(user=request.user, member_id=user_id)
    if member.pk != request.user.pk:
        audit_record(
            ctx=_ctx(request),
            action=AuditAction.VIEW,
            object_type="staff_calendar",
            object_id=member.calendar.pk if member.calendar else "",
            detail={"user_id": member.pk},
        )
    return _render_member(request, member)


@login_required
@require_POST
def team_member_absence_add_view(request: HttpRequest, user_id: int) -> HttpResponse:
    member = team_member_get_for_user(user=request.user, member_id=user_id)
    form = AbsenceForm(request.POST)
    if not form.is_valid():
        return _render_member(request, member, absence_form=form, status=400)
    try:
        absence = absence_add(
            ctx=_ctx(request),
            user_id=member.pk,
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            kind=form.cleaned_data["kind"],
            note=form.cleaned_data["note"],
        )
    except ApplicationError as error:
        form.add_error(None, error.message)
        return _render_member(request, member, absence_form=form, status=400)
    messages.success(request, _("The absence of %(name)s was recorded.") % {"name": member})
    _warn_appointments_to_move(request, absence.appointments_to_move)
    return redirect(_member_url(member))


@login_required
@require_POST
def team_member_absence_remove_view(
    request: HttpRequest, user_id: int, absence_id: int
) -> HttpResponse:
    member = team_member_get_for_user(user=request.user, member_id=user_id)
    # Only an absence of this staff member: another's id is not found here.
    if not Absence.objects.filter(pk=absence_id, user=member).exists():
        raise Http404
    absence_remove(ctx=_ctx(request), absence_id=absence_id)
    messages.success(request, _("The absence of %(name)s was removed.") % {"name": member})
    return redirect(_member_url(member))
