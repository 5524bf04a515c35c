"""The customer's rebooking page: no login, reached through the signed link in the invitation.

In the customer's language where it is one of settings.CUSTOMER_LANGUAGES (else German), with
`lang` and `dir` on <html> and links to German and back (`?lang=de`, `?lang=<theirs>`: a GET
parameter, so the token in the path keeps working and the forms post back to the same language).
The language is read from the link itself: an expired or outdated link is still ours (its
signature holds) and gets its page in the customer's language; a tampered one gets German with
links to every customer language. Every text on these pages, and every message the rebooking
services return, is a "customer"-context message (scheduling/languages.py).
A broken or expired link gives a page that says how to reach the jobcenter (400 / 410); a slot
taken a moment ago (or any well-formed time the rules do not offer now) shows the page again with
a message and fresh alternatives (409); a slot value that is no key of ours at all (malformed,
negative, out of range) the same with "please choose one of the times offered" (400).
The customer can also confirm the appointment of the invitation ("Termin bestätigen", POST with
action=confirm): sent → confirmed; confirming again changes nothing.
"""

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from jobcenter.exceptions import ApplicationError, ConflictError
from scheduling.languages import (
    GERMAN,
    customer_language,
    customer_languages,
    language_is_rtl,
    language_name_local,
)
from scheduling.models import Appointment, AppointmentStatus, RebookingPolicy
from scheduling.services_appointments import (
    MAX_REASON_LENGTH,
    REBOOK_SALT,
    RebookingLinkError,
    RebookingLinkOutdatedError,
    appointment_confirm_by_customer,
    rebooking_alternatives,
    rebooking_callback,
    rebooking_choose,
    rebooking_refusal,
    rebooking_token_read,
    slot_key_parse,
)
from scheduling.services_invitations import invitation_channel_words

LANGUAGE_PARAMETER = "lang"


def _customer_language_of_link(token: str) -> str | None:
    """The customer language of the customer a link was made for, or None (tampered, gone, or a
    language we have no texts in). The signature is checked, the age is not: an expired or
    outdated link is still one we made, and its page should be in the customer's language. Only
    the language is read, nothing else of the customer."""
    try:
        payload = signing.TimestampSigner(salt=REBOOK_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("a"), int):
        return None
    preferred = (
        Appointment.objects.filter(pk=payload["a"])
        .values_list("case__customer__preferred_language", flat=True)
        .first()
    )
    return customer_language(preferred)


def _page_language(request: HttpRequest, theirs: str | None) -> str:
    """The language chosen with the switch (`?lang=`), else the customer's, else German."""
    return customer_language(request.GET.get(LANGUAGE_PARAMETER)) or theirs or GERMAN


def _language_context(language: str, theirs: str | None) -> dict:
    """`lang`/`dir` of the page and the switch: German and the customer's language; every
    customer language when the link does not say whose it is."""
    offered = [GERMAN, theirs] if theirs and theirs != GERMAN else list(customer_languages())
    return {
        "page_language": language,
        "page_direction": "rtl" if language_is_rtl(language) else "ltr",
        "language_links": [
            {
                "code": code,
                "name": language_name_local(code),
                "direction": "rtl" if language_is_rtl(code) else "ltr",
            }
            for code in offered
            if code != language
        ],
    }


def _page(
    request: HttpRequest,
    *,
    languages: dict,
    token: str,
    appointment: Appointment,
    status: int = 200,
    error: str = "",
    reason: str = "",
    phone: str = "",
    confirmed_now: bool = False,
) -> HttpResponse:
    refusal = rebooking_refusal(appointment=appointment, policy=RebookingPolicy.load())
    alternatives = [] if refusal else rebooking_alternatives(appointment=appointment)
    return render(
        request,
        "scheduling/rebook.html",
        {
            **languages,
            "token": token,
            "channel_label": invitation_channel_words(
                appointment.channel, languages["page_language"]
            ),
            "appointment": appointment,
            "alternatives": alternatives,
            "refusal": refusal,
            "error": error,
            "reason": reason,
            "phone": phone,
            "max_reason_length": MAX_REASON_LENGTH,
            "can_confirm": appointment.status == AppointmentStatus.SENT,
            "is_confirmed": appointment.status == AppointmentStatus.CONFIRMED,
            "confirmed_now": confirmed_now,
        },
        status=status,
    )


def _respond(
    request: HttpRequest, token: str, appointment: Appointment, languages: dict
) -> HttpResponse:
    ip_address = request.META.get("REMOTE_ADDR")
    if request.method != "POST":
        # Whoever holds the link reads the appointment: logged like any read of social data.
        audit_record(
            ctx=AuditContext.customer(ip_address=ip_address),
            action=AuditAction.VIEW,
            object_type="appointment",
            object_id=appointment.pk,
            customer_id=appointment.case.customer_id,
            detail={"page": "rebook"},
        )
        return _page(request, languages=languages, token=token, appointment=appointment)
    if request.POST.get("action") == "confirm":
        try:
            appointment = appointment_confirm_by_customer(token=token, ip_address=ip_address)
        except RebookingLinkError:
            raise
        except ApplicationError as error:
            return _page(
                request,
                languages=languages,
                token=token,
                appointment=appointment,
                status=400,
                error=error.message,
            )
        return _page(
            request,
            languages=languages,
            token=token,
            appointment=appointment,
            confirmed_now=True,
        )
    if request.POST.get("action") == "callback":
        reason = request.POST.get("reason", "")
        phone = request.POST.get("phone", "")[:100]
        try:
            rebooking_callback(token=token, reason=reason, phone=phone, ip_address=ip_address)
        except RebookingLinkError:
            raise
        except ApplicationError as error:
            return _page(
                request,
                languages=languages,
                token=token,
                appointment=appointment,
                status=400,
                error=error.message,
                reason=reason,
                phone=phone,
            )
        return render(
            request,
            "scheduling/rebook_done.html",
            {**languages, "appointment": appointment, "callback": True},
        )
    chosen = slot_key_parse(request.POST.get("slot", ""))
    if chosen is None:
        return _page(
            request,
            languages=languages,
            token=token,
            appointment=appointment,
            status=400,
            error=pgettext("customer", "Please choose one of the times offered."),
        )
    try:
        moved = rebooking_choose(
            token=token,
            start=chosen.start,
            staff_id=chosen.staff_id,
            group_session_id=chosen.group_session_id,
            ip_address=ip_address,
        )
    except RebookingLinkError:
        raise
    except ConflictError as error:
        return _page(
            request,
            languages=languages,
            token=token,
            appointment=appointment,
            status=409,
            error=error.message,
        )
    except ApplicationError as error:
        return _page(
            request,
            languages=languages,
            token=token,
            appointment=appointment,
            status=400,
            error=error.message,
        )
    return render(
        request,
        "scheduling/rebook_done.html",
        {**languages, "appointment": moved, "callback": False},
    )


@never_cache
def rebook_view(request: HttpRequest, token: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    theirs = _customer_language_of_link(token)
    language = _page_language(request, theirs)
    languages = _language_context(language, theirs)
    # Everything below in the page's language, the services' messages included.
    with translation.override(language):
        try:
            appointment = rebooking_token_read(token)
            response = _respond(request, token, appointment, languages)
        except RebookingLinkError as error:
            response = render(
                request,
                "scheduling/rebook_invalid.html",
                {
                    **languages,
                    "message": error.message,
                    # Changed since the letter: "stays as stated in your letter" would be false.
                    "outdated": isinstance(error, RebookingLinkOutdatedError),
                },
                status=error.status_code,
            )
    response.headers["Content-Language"] = language
    return response
