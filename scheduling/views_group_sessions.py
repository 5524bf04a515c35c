"""Group sessions in the browser: the team's sessions, setting one up, its page, cancel, held.

Caseworkers and team leads see the sessions of their own team (another team's session is a 404);
only the team lead sets one up or cancels it; the host or the team lead marks it held. Every form
works as a plain POST (redirect on success, the page again with the message on an error); with
htmx the form's fragment is swapped in place (`page.html#partial`) and a success redirects the
browser (HX-Redirect). All writes go through scheduling.services_group_sessions, as the API does.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record_many
from cases.forms import INPUT_CLASS, SELECT_CLASS, KernFormMixin
from jobcenter.exceptions import ApplicationError
from organisation.models import Role
from scheduling.models import GROUP_SESSION_CHANNELS, GroupSession, GroupSessionStatus
from scheduling.selectors import MAX_DAYS_AHEAD, date_beyond_reach
from scheduling.services_group_sessions import (
    MAX_REASON_LENGTH,
    GroupSessionPermissionError,
    group_session_cancel,
    group_session_create,
    group_session_free_places,
    group_session_get_for_user,
    group_session_host_choices,
    group_session_list_for_user,
    group_session_mark_held,
    group_session_participant_list,
)

LIST_TEMPLATE = "scheduling/group_session_list.html"
DETAIL_TEMPLATE = "scheduling/group_session_detail.html"


def _ctx(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.UI)


def _require_team_staff(request: HttpRequest) -> None:
    if not request.user.reads_cases:
        raise PermissionDenied(
            _("Your role configures the system and does not read case contents.")
        )


def _is_team_lead(user) -> bool:
    return user.reads_cases and user.role == Role.TEAM_LEAD


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _render(
    request: HttpRequest, template: str, partial: str, context: dict, status: int = 200
) -> HttpResponse:
    """The full page, or only the named fragment for an htmx request."""
    if _is_htmx(request):
        template = f"{template}#{partial}"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _done(request: HttpRequest, url: str) -> HttpResponse:
    if _is_htmx(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _error_status(error: ApplicationError) -> int:
    return error.status_code if error.status_code in (400, 409) else 400


# --- forms -----------------------------------------------------------------------------------------


class GroupSessionForm(KernFormMixin, forms.Form):
    host = forms.TypedChoiceField(
        label=gettext_lazy("Host"),
        coerce=int,
        help_text=gettext_lazy("Staff of the team who share their calendar."),
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    day = forms.DateField(
        label=gettext_lazy("Date"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=forms.DateInput(attrs={"class": INPUT_CLASS, "type": "date"}),
    )
    start_time = forms.TimeField(
        label=gettext_lazy("From"),
        input_formats=["%H:%M"],
        widget=forms.TimeInput(attrs={"class": INPUT_CLASS, "type": "time"}, format="%H:%M"),
    )
    end_time = forms.TimeField(
        label=gettext_lazy("To"),
        input_formats=["%H:%M"],
        widget=forms.TimeInput(attrs={"class": INPUT_CLASS, "type": "time"}, format="%H:%M"),
    )
    capacity = forms.IntegerField(
        label=gettext_lazy("Places"),
        min_value=2,
        max_value=100,
        initial=8,
        widget=forms.NumberInput(attrs={"class": INPUT_CLASS, "inputmode": "numeric"}),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[(c.value, c.label) for c in GROUP_SESSION_CHANNELS],
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    location = forms.CharField(
        label=gettext_lazy("Room"),
        help_text=gettext_lazy("Needed for a session in person."),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": INPUT_CLASS}),
    )
    video_link = forms.URLField(
        label=gettext_lazy("Video link"),
        help_text=gettext_lazy("Needed for a session by video."),
        assume_scheme="https",
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"class": INPUT_CLASS}),
    )
    topic = forms.CharField(
        label=gettext_lazy("Topic (purpose)"),
        max_length=300,
        widget=forms.TextInput(attrs={"class": INPUT_CLASS}),
    )

    def __init__(self, *args, hosts=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["host"].choices = [("", _("Please choose"))] + [
            (user.pk, str(user)) for user in hosts
        ]

    def clean(self) -> dict:
        data = super().clean()
        day = data.get("day")
        if day is not None and date_beyond_reach(day):
            self.add_error(
                "day",
                _("A group session can be set up at most %(days)s days ahead.")
                % {"days": MAX_DAYS_AHEAD},
            )
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("A group session must end after it starts."))
        if data.get("channel") == "in_person" and not (data.get("location") or "").strip():
            self.add_error("location", _("A group session in person needs a room."))
        if data.get("channel") == "video" and not data.get("video_link"):
            self.add_error("video_link", _("A group session by video needs a link."))
        return data

    def times(self) -> tuple[dt.datetime, dt.datetime]:
        tz = ZoneInfo(settings.TIME_ZONE)
        day = self.cleaned_data["day"]
        return (
            dt.datetime.combine(day, self.cleaned_data["start_time"], tzinfo=tz),
            dt.datetime.combine(day, self.cleaned_data["end_time"], tzinfo=tz),
        )


class CancelForm(KernFormMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the cancellation"),
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"class": INPUT_CLASS, "rows": 3}),
    )


# --- views -----------------------------------------------------------------------------------------


def _list_context(request: HttpRequest, form: GroupSessionForm | None = None) -> dict:
    user = request.user
    sessions = list(group_session_list_for_user(user=user, since=timezone.now()))
    for session in sessions:
        session.free = group_session_free_places(session)
    can_create = _is_team_lead(user)
    if can_create and form is None:
        form = GroupSessionForm(hosts=group_session_host_choices(team_id=user.team_id))
    return {"sessions": sessions, "form": form, "can_create": can_create}


@login_required
@require_GET
def group_session_list_view(request: HttpRequest) -> HttpResponse:
    _require_team_staff(request)
    return render(request, LIST_TEMPLATE, _list_context(request))


@login_required
@require_POST
def group_session_create_view(request: HttpRequest) -> HttpResponse:
    _require_team_staff(request)
    if not _is_team_lead(request.user):
        raise PermissionDenied(_("Only the team lead sets up group sessions."))
    hosts = group_session_host_choices(team_id=request.user.team_id)
    form = GroupSessionForm(request.POST, hosts=hosts)
    status = 400
    if form.is_valid():
        start, end = form.times()
        data = form.cleaned_data
        try:
            session = group_session_create(
                ctx=_ctx(request),
                team_id=request.user.team_id,
                host_id=data["host"],
                start=start,
                end=end,
                capacity=data["capacity"],
                channel=data["channel"],
                topic=data["topic"],
                location=data["location"],
                video_link=data["video_link"],
            )
        except GroupSessionPermissionError as error:
            raise PermissionDenied(error.message) from error
        except ApplicationError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(request, _("The group session was set up."))
            return _done(request, reverse("scheduling:group_session_detail", args=[session.pk]))
    return _render(
        request,
        LIST_TEMPLATE,
        "group-session-create",
        _list_context(request, form=form),
        status=status,
    )


def _detail_context(
    request: HttpRequest, session: GroupSession, cancel_form: CancelForm | None = None
) -> dict:
    user = request.user
    participants = group_session_participant_list(session=session)
    audit_record_many(
        ctx=_ctx(request),
        action=AuditAction.LIST,
        object_type="appointment",
        items=[(a.pk, a.case.customer_id) for a in participants],
        detail={"view": "group_session_detail", "group_session_id": session.pk},
    )
    is_open = session.status == GroupSessionStatus.OPEN
    is_lead = _is_team_lead(user) and user.team_id == session.team_id
    return {
        "session": session,
        "free": group_session_free_places(session),
        "participants": participants,
        "can_cancel": is_open and is_lead,
        "can_mark_held": is_open
        and (is_lead or user.pk == session.host_id)
        and timezone.now() >= session.start,
        "cancel_form": cancel_form or CancelForm(),
    }


@login_required
@require_GET
def group_session_detail_view(request: HttpRequest, session_id: int) -> HttpResponse:
    _require_team_staff(request)
    session = group_session_get_for_user(user=request.user, session_id=session_id)
    return render(request, DETAIL_TEMPLATE, _detail_context(request, session))


@login_required
@require_POST
def group_session_cancel_view(request: HttpRequest, session_id: int) -> HttpResponse:
    _require_team_staff(request)
    session = group_session_get_for_user(user=request.user, session_id=session_id)
    form = CancelForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            group_session_cancel(
                ctx=_ctx(request), session_id=session.pk, reason=form.cleaned_data["reason"]
            )
        except GroupSessionPermissionError as error:
            raise PermissionDenied(error.message) from error
        except ApplicationError as error:
            form.add_error(None, error.message)
            status = _error_status(error)
        else:
            messages.success(request, _("The group session was cancelled with all its places."))
            return _done(request, reverse("scheduling:group_session_detail", args=[session.pk]))
    session = group_session_get_for_user(user=request.user, session_id=session_id)
    return _render(
        request,
        DETAIL_TEMPLATE,
        "group-session-actions",
        _detail_context(request, session, cancel_form=form),
        status=status,
    )


@login_required
@require_POST
def group_session_mark_held_view(request: HttpRequest, session_id: int) -> HttpResponse:
    _require_team_staff(request)
    session = group_session_get_for_user(user=request.user, session_id=session_id)
    try:
        group_session_mark_held(ctx=_ctx(request), session_id=session.pk)
    except GroupSessionPermissionError as error:
        raise PermissionDenied(error.message) from error
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The group session is recorded as held."))
    return _done(request, reverse("scheduling:group_session_detail", args=[session.pk]))


urlpatterns = [
    path("group-sessions/", group_session_list_view, name="group_session_list"),
    path("group-sessions/new/", group_session_create_view, name="group_session_create"),
    path(
        "group-sessions/<int:session_id>/",
        group_session_detail_view,
        name="group_session_detail",
    ),
    path(
        "group-sessions/<int:session_id>/cancel/",
        group_session_cancel_view,
        name="group_session_cancel",
    ),
    path(
        "group-sessions/<int:session_id>/held/",
        group_session_mark_held_view,
        name="group_session_mark_held",
    ),
]
