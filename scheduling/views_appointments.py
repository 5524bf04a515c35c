"""The case page's card "Termine und Einladungen" (appointments and invitations).

The card (templates/scheduling/partials/case_appointments_card.html, root element
#case-appointments) is part of the case page (cases.views.queue.case_page_context adds
`appointments_card_context`). It shows the effective contact agreement (own values or the customer
group's) with the next due date and an edit form, the case's appointments with what was sent
(invitation letters with their PDF, e-mails, cancellations, reminders: when, where to, status,
template version), the outcome, move and cancel forms, "Termin anlegen" (a new appointment made by
hand), the open missed-appointment reviews with the record of the invitation and the decision
form, and the open call-back requests with the form that marks them done. The free times for a
move are computed only for the appointment asked for (`?move=<id>`). Every form posts to a view here that calls the same service as the API
(scheduling.services_agreements / services_appointments). An htmx request gets the card back (a
refusal with its message inline, 400/409); a plain POST is redirected to the case page (303) or,
when refused, gets the case page with the message in the card. Only staff of the case's team:
another team's case or appointment is a 404, an admin gets a 403.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditAction, AuditChannel
from audit.services import AuditContext, audit_record
from cases.forms import CHECKBOX_CLASS, INPUT_CLASS, SELECT_CLASS, TEXTAREA_CLASS, KernFormMixin
from cases.models import Case, Channel, Phase
from cases.selectors import case_get_for_user, case_visible_to
from jobcenter.exceptions import ApplicationError
from organisation.models import Role, User
from scheduling.models import (
    CALENDAR_CHANNELS,
    CALLBACK_NOTE_MAX_LENGTH,
    Appointment,
    AppointmentStatus,
    CallbackRequest,
    MissedAppointmentReview,
    MissedReviewOutcome,
)
from scheduling.selectors import case_next_due, contact_agreement_effective
from scheduling.services_agreements import contact_agreement_get, contact_agreement_update
from scheduling.services_appointments import (
    AWAITING_OUTCOME_STATUSES,
    MAX_DURATION_MINUTES,
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    MIN_DURATION_MINUTES,
    OUTCOME_STATUSES,
    appointment_book,
    appointment_cancel,
    appointment_delivery_records,
    appointment_list_for_case,
    appointment_move,
    appointment_outcome_set,
    callback_request_handle,
    callback_request_list_open,
    invitation_proof,
    missed_review_decide,
    missed_review_list_open,
    rebooking_alternatives,
    slot_key_parse,
)

CARD = "scheduling/partials/case_appointments_card.html"
CARD_ID = "case-appointments"
APPOINTMENTS_SHOWN = 50
RADIO_CLASS = "kern-form-check__radio"


def _require_case_reader(request: HttpRequest) -> None:
    if not request.user.reads_cases:
        raise PermissionDenied(
            _("Your role configures the system and does not read case contents.")
        )


def _ctx(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.UI)


def _add_service_errors(form: forms.Form, error: ApplicationError) -> None:
    """The service's per-field messages next to their fields; others above the form."""
    fields = error.extra.get("fields") or {}
    for name, texts in fields.items():
        for text in texts:
            form.add_error(name if name in form.fields else None, text)
    if not fields:
        form.add_error(None, error.message)


# --- forms -----------------------------------------------------------------------------------------


class ContactAgreementForm(KernFormMixin, forms.Form):
    """The agreement's fields. Ranges are the service's rules (clear messages per field), so the
    form only checks that numbers are numbers."""

    cadence_days = forms.IntegerField(
        label=gettext_lazy("Invite every (days)"),
        help_text=gettext_lazy("Empty: the customer group's cadence."),
        required=False,
        widget=forms.NumberInput(attrs={"class": INPUT_CLASS, "inputmode": "numeric"}),
    )
    window_start_days = forms.IntegerField(
        label=gettext_lazy("Window starts (working days from the due date)"),
        help_text=gettext_lazy("Negative: before the due date, e.g. -3."),
        widget=forms.NumberInput(attrs={"class": INPUT_CLASS}),
    )
    window_end_days = forms.IntegerField(
        label=gettext_lazy("Window ends (working days from the due date)"),
        widget=forms.NumberInput(attrs={"class": INPUT_CLASS}),
    )
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels"),
        help_text=gettext_lazy("None chosen: the customer group's channels."),
        required=False,
        choices=[(channel.value, channel.label) for channel in CALENDAR_CHANNELS],
        widget=forms.CheckboxSelectMultiple(attrs={"class": CHECKBOX_CLASS}),
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Length of an appointment (minutes)"),
        widget=forms.NumberInput(attrs={"class": INPUT_CLASS}),
    )
    purpose = forms.CharField(
        label=gettext_lazy("Purpose of the invitations (Meldezweck)"),
        help_text=gettext_lazy("Empty: the standard purpose."),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"class": INPUT_CLASS}),
    )
    next_due = forms.DateField(
        label=gettext_lazy("Next invitation due on (once)"),
        required=False,
        widget=forms.DateInput(attrs={"class": INPUT_CLASS, "type": "date"}, format="%Y-%m-%d"),
    )
    agreed_with_customer = forms.BooleanField(
        label=gettext_lazy("Agreed with the customer today"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": CHECKBOX_CLASS}),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "id_agreement_%s")
        super().__init__(*args, **kwargs)

    @classmethod
    def for_case(cls, case: Case) -> "ContactAgreementForm":
        agreement = contact_agreement_get(case=case)
        if agreement is None:
            initial = {"window_start_days": -3, "window_end_days": 5, "duration_minutes": 30}
        else:
            initial = {
                "cadence_days": agreement.cadence_days,
                "window_start_days": agreement.window_start_days,
                "window_end_days": agreement.window_end_days,
                "channels": agreement.channels,
                "duration_minutes": agreement.duration_minutes,
                "purpose": agreement.purpose,
                "next_due": agreement.next_due,
            }
        return cls(initial=initial)


class OutcomeForm(KernFormMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=[(status.value, status.label) for status in OUTCOME_STATUSES],
        error_messages={"required": gettext_lazy("Choose attended, missed or excused.")},
    )
    note = forms.CharField(required=False, max_length=MAX_NOTE_LENGTH)


class CancelForm(KernFormMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the cancellation"),
        max_length=MAX_REASON_LENGTH,
        error_messages={"required": gettext_lazy("Please give a reason for the cancellation.")},
        widget=forms.TextInput(attrs={"class": INPUT_CLASS}),
    )


class ReviewDecisionForm(KernFormMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=MissedReviewOutcome.choices,
        widget=forms.RadioSelect(attrs={"class": RADIO_CLASS}),
        error_messages={
            "required": gettext_lazy(
                "Choose a decision: good reason, hearing or no further action."
            )
        },
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        help_text=gettext_lazy("Required for a hearing or no further action."),
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"class": TEXTAREA_CLASS, "rows": 3}),
    )

    def __init__(self, *args, review_id: int, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"id_review_{review_id}_%s")
        super().__init__(*args, **kwargs)


class CallbackHandleForm(KernFormMixin, forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What came of it?"),
        help_text=gettext_lazy("A short note, e.g. called, appointment moved, not reached."),
        max_length=CALLBACK_NOTE_MAX_LENGTH,
        error_messages={
            "required": gettext_lazy("Please add a short note: what came of the call-back?")
        },
        widget=forms.TextInput(attrs={"class": INPUT_CLASS}),
    )

    def __init__(self, *args, callback_id: int, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"id_callback_{callback_id}_%s")
        super().__init__(*args, **kwargs)


def _staff_choices(case: Case) -> list[tuple[int, str]]:
    """The staff appointments of the case can be made with: caseworkers and team leads of its
    team (the service checks again, and checks their calendar)."""
    staff = User.objects.filter(
        team_id=case.team_id, is_active=True, role__in=(Role.CASEWORKER, Role.TEAM_LEAD)
    ).order_by("last_name", "first_name", "username")
    return [(user.pk, user.get_full_name() or user.username) for user in staff]


def _local_start(day: dt.date, time: dt.time) -> dt.datetime:
    """A date and a wall-clock time in the jobcenter's time zone."""
    return dt.datetime.combine(day, time, tzinfo=ZoneInfo(settings.TIME_ZONE))


class AppointmentBookForm(KernFormMixin, forms.Form):
    """The form "Termin anlegen": a new appointment for the case, made by hand."""

    staff = forms.TypedChoiceField(
        label=gettext_lazy("With"),
        coerce=int,
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    day = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(attrs={"class": INPUT_CLASS, "type": "date"}, format="%Y-%m-%d"),
    )
    time = forms.TimeField(
        label=gettext_lazy("Time"),
        widget=forms.TimeInput(attrs={"class": INPUT_CLASS, "type": "time"}, format="%H:%M"),
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Length (minutes)"),
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
        widget=forms.NumberInput(attrs={"class": INPUT_CLASS, "inputmode": "numeric"}),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[(channel.value, channel.label) for channel in CALENDAR_CHANNELS],
        widget=forms.Select(attrs={"class": SELECT_CLASS}),
    )
    purpose = forms.CharField(
        label=gettext_lazy("Purpose of the appointment (Meldezweck)"),
        max_length=300,
        widget=forms.TextInput(attrs={"class": INPUT_CLASS}),
    )
    location = forms.CharField(
        label=gettext_lazy("Place or room"),
        help_text=gettext_lazy("Empty: the place in the staff member's calendar."),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": INPUT_CLASS}),
    )

    def __init__(self, *args, staff_choices: list[tuple[int, str]], **kwargs) -> None:
        kwargs.setdefault("auto_id", "id_book_%s")
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = staff_choices

    @classmethod
    def for_case(cls, request: HttpRequest, case: Case, effective, staff_choices):
        own = {pk for pk, _label in staff_choices}
        default_staff = next(
            (pk for pk in (case.caseworker_id, request.user.pk) if pk in own), None
        )
        return cls(
            initial={
                "staff": default_staff,
                "duration_minutes": effective.duration_minutes,
                "channel": effective.channels[0] if effective.channels else "",
                "purpose": effective.purpose,
            },
            staff_choices=staff_choices,
        )

    @property
    def start(self) -> dt.datetime:
        return _local_start(self.cleaned_data["day"], self.cleaned_data["time"])


class AppointmentMoveForm(forms.Form):
    """The form "Termin verschieben": one of the free times offered (`slot`), or a date, time and
    staff member entered. Rendered by hand in the card (one form per appointment)."""

    slot = forms.CharField(required=False)
    day = forms.DateField(required=False)
    time = forms.TimeField(required=False)
    staff = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(self, *args, staff_choices: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [("", "-"), *staff_choices]

    def clean(self):
        data = super().clean()
        if data.get("slot"):
            parsed = slot_key_parse(data["slot"])
            if parsed is None or parsed.staff_id is None:
                raise forms.ValidationError(_("Please choose one of the times offered."))
            data["staff"], data["start"] = parsed.staff_id, parsed.start
        elif data.get("day") and data.get("time"):
            data["start"] = _local_start(data["day"], data["time"])
        elif not self.errors:
            raise forms.ValidationError(
                _("Choose one of the free times, or enter a date and a time.")
            )
        return data


# --- the card --------------------------------------------------------------------------------------


def _channel_labels(values) -> list[str]:
    labels = dict(Channel.choices)
    return [str(labels.get(value, value)) for value in values]


MOVE_PARAMETER = "move"
ALTERNATIVES_SHOWN = 12
_CHANNEL_WORDS = {
    "letter": gettext_lazy("letter"),
    "email": gettext_lazy("e-mail"),
    "sms": gettext_lazy("SMS"),
}
_KIND_WORDS = {
    "invitation": gettext_lazy("Invitation"),
    "cancellation": gettext_lazy("Cancellation"),
    "reminder": gettext_lazy("Reminder"),
}
_STATUS_WORDS = {
    "sent": gettext_lazy("sent"),
    "failed": gettext_lazy("failed"),
    "not_sent": gettext_lazy("not sent: no SMS gateway"),
}


def _labelled(records: list[dict]) -> list[dict]:
    """The delivery records with the words the card shows."""
    return [
        {
            **record,
            "kind_label": _KIND_WORDS.get(record["kind"], record["kind"]),
            "channel_label": _CHANNEL_WORDS.get(record["channel"], record["channel"]),
            "status_label": _STATUS_WORDS.get(record["status"], record["status"]),
        }
        for record in records
    ]


def _move_requested(request: HttpRequest) -> int | None:
    """The appointment whose free times the user asked for (`?move=<id>` on the case page or the
    card): only that one's alternatives are computed, so the card stays cheap."""
    value = request.GET.get(MOVE_PARAMETER, "") if request.method == "GET" else ""
    return int(value) if value.isdigit() else None


def appointments_card_context(
    request: HttpRequest,
    case: Case,
    *,
    error: str = "",
    message: str = "",
    agreement_form: ContactAgreementForm | None = None,
    row_errors: dict | None = None,
    review_forms: dict | None = None,
    callback_forms: dict | None = None,
    book_form: "AppointmentBookForm | None" = None,
    move_open: int | None = None,
) -> dict:
    """What the card shows. A fixed number of queries whatever the number of appointments (the
    free times are computed only for the one appointment asked for with `?move=<id>`).

    `row_errors` maps an appointment id to a refusal shown in its row; `review_forms` a review id
    to its bound decision form with errors; `callback_forms` a call-back request id to its bound
    form; `book_form` is the bound "new appointment" form with errors; `move_open` the
    appointment whose move form stays open."""
    row_errors = row_errors or {}
    review_forms = review_forms or {}
    callback_forms = callback_forms or {}
    move_open = move_open or _move_requested(request)
    agreement = contact_agreement_get(case=case)
    effective = contact_agreement_effective(case=case, agreement=agreement)
    due = case_next_due(case=case)
    now = timezone.now()
    staff_choices = _staff_choices(case)
    rows = []
    for appointment in appointment_list_for_case(case=case)[:APPOINTMENTS_SHOWN]:
        can_move = (
            appointment.is_active and appointment.end > now and appointment.group_session_id is None
        )
        alternatives = []
        if can_move and appointment.pk == move_open:
            names = dict(staff_choices)
            alternatives = [
                {
                    "key": slot.key,
                    "start": slot.start,
                    "end": slot.end,
                    "staff_name": names.get(slot.staff_id, ""),
                }
                for slot in rebooking_alternatives(
                    appointment=appointment, limit=ALTERNATIVES_SHOWN
                )
                # Individual times only: a staff move never puts anyone into a group session.
                if getattr(slot, "group_session_id", None) is None
            ]
        rows.append(
            {
                "appointment": appointment,
                "can_cancel": appointment.is_active,
                "can_record": appointment.start <= now
                and appointment.status in (*AWAITING_OUTCOME_STATUSES, *OUTCOME_STATUSES),
                "not_started": appointment.start > now
                and appointment.status in AWAITING_OUTCOME_STATUSES,
                "error": row_errors.get(appointment.pk, ""),
                "review": getattr(appointment, "missed_review", None),
                "deliveries": _labelled(appointment_delivery_records(appointment)),
                "callbacks_open": sum(
                    1 for request_ in appointment.callback_requests.all() if request_.is_open
                ),
                "can_move": can_move,
                "move_open": appointment.pk == move_open,
                "alternatives": alternatives,
            }
        )
    reviews = [
        {
            "review": review,
            "form": review_forms.get(review.pk) or ReviewDecisionForm(review_id=review.pk),
            # The sent invitations of the missed version (a hearing needs one).
            "proof": invitation_proof(review.appointment),
        }
        for review in missed_review_list_open(case=case)
    ]
    callbacks = [
        {
            "callback": callback,
            "form": callback_forms.get(callback.pk) or CallbackHandleForm(callback_id=callback.pk),
        }
        for callback in callback_request_list_open(case=case)
    ]
    return {
        "appt_case": case,
        "appt_open": case.phase != Phase.CLOSED,
        "appt_agreement": agreement,
        "appt_effective": effective,
        "appt_channels": _channel_labels(effective.channels),
        "appt_due": due,
        "appt_form": agreement_form or ContactAgreementForm.for_case(case),
        "appt_form_open": agreement_form is not None,
        "appt_rows": rows,
        "appt_outcomes": [(status.value, status.label) for status in OUTCOME_STATUSES],
        "appt_reviews": reviews,
        "appt_callbacks": callbacks,
        "appt_customer_phone": case.customer.phone,
        "appt_staff": staff_choices,
        "appt_book_form": book_form
        or AppointmentBookForm.for_case(request, case, effective, staff_choices),
        "appt_book_open": book_form is not None,
        "appt_error": error,
        "appt_message": message,
        "appt_max_reason": MAX_REASON_LENGTH,
        "appt_move_parameter": MOVE_PARAMETER,
    }


def _respond(
    request: HttpRequest,
    case: Case,
    *,
    error: ApplicationError | None = None,
    message: str = "",
    **card,
) -> HttpResponse:
    """The card for htmx; for a plain POST the case page (refused) or a redirect to it (done)."""
    status = error.status_code if error is not None else 200
    if error is not None and not card:
        card["error"] = error.message  # no form or row to show it at: above the card's content
    if request.htmx:
        context = {
            **appointments_card_context(request, case, message=message, **card),
            "appt_oob": True,
        }
        response = render(request, CARD, context, status=status)
        patch_vary_headers(response, ("HX-Request",))
        return response
    if error is None:
        messages.success(request, message)
        response = redirect(reverse("cases:case_detail", args=[case.pk]) + f"#{CARD_ID}")
        response.status_code = 303
        return response
    # Refused: the case page, with the message in the card (a read of the case, so logged).
    from cases.views.queue import case_page_context  # the case page includes this card

    audit_record(
        ctx=_ctx(request),
        action=AuditAction.VIEW,
        object_type="case",
        object_id=case.pk,
        customer_id=case.customer_id,
    )
    context = case_page_context(request, case)
    context.update(appointments_card_context(request, case, message=message, **card))
    return render(request, "cases/case_detail.html", context, status=status)


def _appointment_for(request: HttpRequest, appointment_id: int) -> Appointment:
    """An appointment of a case the user may see, or 404 (another team's looks like none)."""
    _require_case_reader(request)
    appointment = (
        Appointment.objects.filter(case__in=case_visible_to(user=request.user))
        .select_related("case")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        raise Http404
    return appointment


@require_GET
@login_required
def case_appointments_card_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """The card alone (htmx, e.g. to refresh it); without htmx the case page at the card."""
    _require_case_reader(request)
    case = case_get_for_user(user=request.user, case_id=case_id)
    if not request.htmx:
        return redirect(reverse("cases:case_detail", args=[case.pk]) + f"#{CARD_ID}")
    audit_record(
        ctx=_ctx(request),
        action=AuditAction.VIEW,
        object_type="case",
        object_id=case.pk,
        customer_id=case.customer_id,
        detail={"view": "case_appointments"},
    )
    response = render(request, CARD, appointments_card_context(request, case))
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
@login_required
def contact_agreement_update_view(request: HttpRequest, case_id: int) -> HttpResponse:
    _require_case_reader(request)
    case = case_get_for_user(user=request.user, case_id=case_id)
    form = ContactAgreementForm(request.POST)
    if not form.is_valid():
        return _respond(
            request,
            case,
            error=ApplicationError(_("Check the contact agreement.")),
            agreement_form=form,
        )
    data = form.cleaned_data
    try:
        contact_agreement_update(
            ctx=_ctx(request),
            case_id=case.pk,
            cadence_days=data["cadence_days"],
            window_start_days=data["window_start_days"],
            window_end_days=data["window_end_days"],
            channels=list(data["channels"]),
            duration_minutes=data["duration_minutes"],
            purpose=data["purpose"],
            next_due=data["next_due"],
            agreed_with_customer=data["agreed_with_customer"],
        )
    except ApplicationError as error:
        _add_service_errors(form, error)
        return _respond(request, case, error=error, agreement_form=form)
    return _respond(request, case, message=_("The contact agreement has been saved."))


@require_POST
@login_required
def appointment_outcome_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _appointment_for(request, appointment_id)
    case = appointment.case
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        error = ApplicationError(_("Choose attended, missed or excused."))
        return _respond(request, case, error=error, row_errors={appointment.pk: error.message})
    try:
        appointment_outcome_set(
            ctx=_ctx(request),
            appointment_id=appointment.pk,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
        )
    except ApplicationError as error:
        return _respond(request, case, error=error, row_errors={appointment.pk: error.message})
    if form.cleaned_data["outcome"] == AppointmentStatus.MISSED:
        text = _(
            "Recorded as missed. Please review it below: was there a good reason, is a hearing "
            "needed? Nothing happens automatically."
        )
    else:
        text = _("The outcome has been recorded.")
    return _respond(request, case, message=text)


@require_POST
@login_required
def appointment_cancel_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _appointment_for(request, appointment_id)
    case = appointment.case
    form = CancelForm(request.POST)
    if not form.is_valid():
        error = ApplicationError(form.errors["reason"][0])
        return _respond(request, case, error=error, row_errors={appointment.pk: error.message})
    try:
        appointment_cancel(
            ctx=_ctx(request), appointment_id=appointment.pk, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as error:
        return _respond(request, case, error=error, row_errors={appointment.pk: error.message})
    return _respond(request, case, message=_("The appointment has been cancelled."))


@require_POST
@login_required
def missed_review_decide_view(request: HttpRequest, review_id: int) -> HttpResponse:
    _require_case_reader(request)
    review = (
        MissedAppointmentReview.objects.filter(case__in=case_visible_to(user=request.user))
        .select_related("case")
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        raise Http404
    case = review.case
    form = ReviewDecisionForm(request.POST, review_id=review.pk)
    if not form.is_valid():
        return _respond(
            request,
            case,
            error=ApplicationError(_("Check the decision.")),
            review_forms={review.pk: form},
        )
    try:
        missed_review_decide(
            ctx=_ctx(request),
            review_id=review.pk,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
        )
    except ApplicationError as error:
        if error.extra.get("fields"):
            _add_service_errors(form, error)
            return _respond(request, case, error=error, review_forms={review.pk: form})
        return _respond(request, case, error=error)
    return _respond(request, case, message=_("The decision has been recorded."))


@require_POST
@login_required
def appointment_book_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """The form "Termin anlegen": a new appointment made by hand (approved by the person making
    it, so the invitation goes out)."""
    _require_case_reader(request)
    case = case_get_for_user(user=request.user, case_id=case_id)
    form = AppointmentBookForm(request.POST, staff_choices=_staff_choices(case))
    if not form.is_valid():
        return _respond(
            request, case, error=ApplicationError(_("Check the appointment.")), book_form=form
        )
    data = form.cleaned_data
    try:
        appointment = appointment_book(
            ctx=_ctx(request),
            case_id=case.pk,
            staff_id=data["staff"],
            start=form.start,
            duration_minutes=data["duration_minutes"],
            channel=data["channel"],
            purpose=data["purpose"],
            location=data["location"],
        )
    except ApplicationError as error:
        _add_service_errors(form, _book_fields(error))
        return _respond(request, case, error=error, book_form=form)
    return _respond(
        request,
        case,
        message=_("The appointment on %(when)s has been made; the invitation goes out.")
        % {"when": date_format(timezone.localtime(appointment.start), "SHORT_DATETIME_FORMAT")},
    )


def _book_fields(error: ApplicationError) -> ApplicationError:
    """The service names `start`; the form has `day` and `time`: its message goes to the date."""
    fields = dict(error.extra.get("fields") or {})
    if "start" in fields:
        fields["day"] = fields.pop("start")
    return ApplicationError(error.message, extra={"fields": fields})


@require_POST
@login_required
def appointment_move_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """The form "Termin verschieben": to one of the free times offered, or a date, time and staff
    member entered. The refusal shows in the appointment's row, with the move form open."""
    appointment = _appointment_for(request, appointment_id)
    case = appointment.case
    form = AppointmentMoveForm(request.POST, staff_choices=_staff_choices(case))
    if not form.is_valid():
        message = " ".join(str(text) for texts in form.errors.values() for text in texts) or _(
            "Choose one of the free times, or enter a date and a time."
        )
        return _respond(
            request,
            case,
            error=ApplicationError(message),
            row_errors={appointment.pk: message},
            move_open=appointment.pk,
        )
    try:
        moved = appointment_move(
            ctx=_ctx(request),
            appointment_id=appointment.pk,
            start=form.cleaned_data["start"],
            staff_id=form.cleaned_data.get("staff"),
        )
    except ApplicationError as error:
        return _respond(
            request,
            case,
            error=error,
            row_errors={appointment.pk: error.message},
            move_open=appointment.pk,
        )
    when = date_format(timezone.localtime(moved.start), "SHORT_DATETIME_FORMAT")
    if moved.status == AppointmentStatus.SENT:
        text = _("The appointment has been moved to %(when)s; the new invitation goes out.")
    else:
        text = _("The appointment has been moved to %(when)s.")
    return _respond(request, case, message=text % {"when": when})


@require_POST
@login_required
def callback_request_handle_view(request: HttpRequest, callback_id: int) -> HttpResponse:
    """Mark a call-back request done, with a short note."""
    _require_case_reader(request)
    callback = (
        CallbackRequest.objects.filter(case__in=case_visible_to(user=request.user))
        .select_related("case__customer")
        .filter(pk=callback_id)
        .first()
    )
    if callback is None:
        raise Http404
    case = callback.case
    form = CallbackHandleForm(request.POST, callback_id=callback.pk)
    if not form.is_valid():
        return _respond(
            request,
            case,
            error=ApplicationError(_("Please add a short note: what came of the call-back?")),
            callback_forms={callback.pk: form},
        )
    try:
        callback_request_handle(
            ctx=_ctx(request), callback_id=callback.pk, note=form.cleaned_data["note"]
        )
    except ApplicationError as error:
        if error.extra.get("fields"):
            _add_service_errors(form, error)
            return _respond(request, case, error=error, callback_forms={callback.pk: form})
        return _respond(request, case, error=error)
    return _respond(request, case, message=_("The call-back request has been marked as done."))


urlpatterns = [
    path(
        "cases/<int:case_id>/appointments/",
        case_appointments_card_view,
        name="case_appointments",
    ),
    path(
        "cases/<int:case_id>/contact-agreement/",
        contact_agreement_update_view,
        name="contact_agreement_update",
    ),
    path(
        "appointments/<int:appointment_id>/outcome/",
        appointment_outcome_view,
        name="appointment_outcome",
    ),
    path(
        "appointments/<int:appointment_id>/cancel/",
        appointment_cancel_view,
        name="appointment_cancel",
    ),
    path(
        "missed-reviews/<int:review_id>/decide/",
        missed_review_decide_view,
        name="missed_review_decide",
    ),
    path(
        "cases/<int:case_id>/appointments/new/",
        appointment_book_view,
        name="appointment_book",
    ),
    path(
        "appointments/<int:appointment_id>/move/",
        appointment_move_view,
        name="appointment_move",
    ),
    path(
        "callback-requests/<int:callback_id>/handle/",
        callback_request_handle_view,
        name="callback_request_handle",
    ),
]
