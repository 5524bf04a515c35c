"""The customer's rebooking page: no login, reached through the signed link in the invitation.

German by default; the fixed texts in the customer's preferred language where one exists.
A broken or expired link gives a page that says how to reach the jobcenter (400 / 410); a slot
taken a moment ago shows the page again with a message and fresh alternatives (409).
The customer can also confirm the appointment of the invitation ("Termin bestätigen", POST with
action=confirm): sent → confirmed; confirming again changes nothing.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from jobcenter.exceptions import ApplicationError, ConflictError
from scheduling.models import Appointment, AppointmentStatus, RebookingPolicy
from scheduling.services_appointments import (
    MAX_REASON_LENGTH,
    RebookingLinkError,
    appointment_confirm_by_customer,
    rebooking_alternatives,
    rebooking_callback,
    rebooking_choose,
    rebooking_refusal,
    rebooking_token_read,
    slot_key_parse,
)


def _language_for(appointment: Appointment | None) -> str:
    available = {code for code, _name in settings.LANGUAGES}
    if appointment is not None:
        preferred = (appointment.case.customer.preferred_language or "").lower()
        if preferred in available:
            return preferred
    return settings.LANGUAGE_CODE


def _page(
    request: HttpRequest,
    *,
    token: str,
    appointment: Appointment,
    status: int = 200,
    error: str = "",
    reason: str = "",
    confirmed_now: bool = False,
) -> HttpResponse:
    refusal = rebooking_refusal(appointment=appointment, policy=RebookingPolicy.load())
    alternatives = [] if refusal else rebooking_alternatives(appointment=appointment)
    return render(
        request,
        "scheduling/rebook.html",
        {
            "token": token,
            "appointment": appointment,
            "alternatives": alternatives,
            "refusal": refusal,
            "error": error,
            "reason": reason,
            "max_reason_length": MAX_REASON_LENGTH,
            "can_confirm": appointment.status == AppointmentStatus.SENT,
            "is_confirmed": appointment.status == AppointmentStatus.CONFIRMED,
            "confirmed_now": confirmed_now,
        },
        status=status,
    )


def _respond(request: HttpRequest, token: str, appointment: Appointment) -> HttpResponse:
    ip_address = request.META.get("REMOTE_ADDR")
    if request.method != "POST":
        return _page(request, token=token, appointment=appointment)
    if request.POST.get("action") == "confirm":
        try:
            appointment = appointment_confirm_by_customer(token=token, ip_address=ip_address)
        except RebookingLinkError:
            raise
        except ApplicationError as error:
            return _page(
                request, token=token, appointment=appointment, status=400, error=error.message
            )
        return _page(request, token=token, appointment=appointment, confirmed_now=True)
    if request.POST.get("action") == "callback":
        reason = request.POST.get("reason", "")
        try:
            rebooking_callback(token=token, reason=reason, ip_address=ip_address)
        except RebookingLinkError:
            raise
        except ApplicationError as error:
            return _page(
                request,
                token=token,
                appointment=appointment,
                status=400,
                error=error.message,
                reason=reason,
            )
        return render(
            request, "scheduling/rebook_done.html", {"appointment": appointment, "callback": True}
        )
    chosen = slot_key_parse(request.POST.get("slot", ""))
    if chosen is None:
        return _page(
            request,
            token=token,
            appointment=appointment,
            status=400,
            error=_("Please choose one of the times offered."),
        )
    staff_id, start = chosen
    try:
        moved = rebooking_choose(token=token, start=start, staff_id=staff_id, ip_address=ip_address)
    except RebookingLinkError:
        raise
    except ConflictError as error:
        return _page(request, token=token, appointment=appointment, status=409, error=error.message)
    except ApplicationError as error:
        return _page(request, token=token, appointment=appointment, status=400, error=error.message)
    return render(request, "scheduling/rebook_done.html", {"appointment": moved, "callback": False})


@never_cache
def rebook_view(request: HttpRequest, token: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    appointment = None
    try:
        with translation.override(settings.LANGUAGE_CODE):
            appointment = rebooking_token_read(token)
        language = _language_for(appointment)
        with translation.override(language):
            response = _respond(request, token, appointment)
    except RebookingLinkError as error:
        language = _language_for(appointment)
        with translation.override(language):
            response = render(
                request,
                "scheduling/rebook_invalid.html",
                {"message": error.message},
                status=error.status_code,
            )
    response.headers["Content-Language"] = language
    return response
