"""The contact agreement of a case: how often and how the customer is invited (issue 5).

Written only by `contact_agreement_update` (the case page's card and the API call it). Each rule
broken gives a German message per field (`ApplicationError.extra["fields"]`) and nothing is saved:
a cadence of zero, a window that ends before it starts, an unknown channel, a length out of range.
The database refuses the first two as well (check constraints on ContactAgreement).
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from cases.models import Case, CaseEvent
from jobcenter.exceptions import ApplicationError, ConflictError
from scheduling.models import (
    CALENDAR_CHANNELS,
    MAX_CADENCE_DAYS,
    MAX_WINDOW_OFFSET_DAYS,
    ContactAgreement,
)
from scheduling.selectors import MAX_DAYS_AHEAD, date_beyond_reach

AGREEMENT_OBJECT = "contact_agreement"
MIN_DURATION, MAX_DURATION = 15, 240
MAX_PURPOSE_LENGTH = 300
# The fields a change is reported with (audit detail and timeline).
AGREEMENT_FIELDS = (
    "cadence_days",
    "window_start_days",
    "window_end_days",
    "channels",
    "duration_minutes",
    "purpose",
    "next_due",
)


def require_case_staff(ctx: AuditContext, case: Case) -> None:
    """A caseworker or team lead of the case's team (a person: these decisions are not the
    planner's). Views and APIs answer 404 for other teams before calling a service; this is the
    service's own guard."""
    actor = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    if actor is None or not (actor.reads_cases and actor.team_id == case.team_id):
        raise ApplicationError(_("Only staff of the case's team may do this."))


def contact_agreement_get(*, case: Case) -> ContactAgreement | None:
    """The case's own agreement, or None (then everything follows the customer group)."""
    return ContactAgreement.objects.filter(case_id=case.pk).select_related("updated_by").first()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate(
    *,
    cadence_days: int | None,
    window_start_days: int,
    window_end_days: int,
    channels: list[str],
    duration_minutes: int,
    purpose: str,
    next_due: dt.date | None,
) -> dict[str, list[str]]:
    """Every broken rule, per field (empty: all good)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if cadence_days is not None:
        if not _is_int(cadence_days) or cadence_days < 1:
            add("cadence_days", _("The cadence must be at least one day."))
        elif cadence_days > MAX_CADENCE_DAYS:
            add(
                "cadence_days",
                _("The cadence can be at most %(max)s days.") % {"max": MAX_CADENCE_DAYS},
            )
    offsets_ok = True
    for field, value in (
        ("window_start_days", window_start_days),
        ("window_end_days", window_end_days),
    ):
        if not _is_int(value) or abs(value) > MAX_WINDOW_OFFSET_DAYS:
            offsets_ok = False
            add(
                field,
                _("The window can reach at most %(max)s working days from the due date.")
                % {"max": MAX_WINDOW_OFFSET_DAYS},
            )
    if offsets_ok and window_end_days < window_start_days:
        add("window_end_days", _("The window ends before it starts."))
    allowed = {channel.value for channel in CALENDAR_CHANNELS}
    if not isinstance(channels, list | tuple):
        add("channels", _("Appointments are in person, by phone, by video or outreach."))
    else:
        for channel in channels:
            if channel not in allowed:
                add(
                    "channels",
                    _(
                        "Unknown channel %(channel)s: appointments are in person, by phone, by "
                        "video or outreach."
                    )
                    % {"channel": str(channel)[:40]},
                )
    if not _is_int(duration_minutes) or not MIN_DURATION <= duration_minutes <= MAX_DURATION:
        add(
            "duration_minutes",
            _("An appointment lasts between %(min)s and %(max)s minutes.")
            % {"min": MIN_DURATION, "max": MAX_DURATION},
        )
    if len(purpose) > MAX_PURPOSE_LENGTH:
        add(
            "purpose",
            _("The purpose can be at most %(max)s characters long.") % {"max": MAX_PURPOSE_LENGTH},
        )
    if next_due is not None and next_due < timezone.localdate():
        add("next_due", _("The next due date cannot be in the past."))
    elif next_due is not None and date_beyond_reach(next_due):
        add(
            "next_due",
            _("The next due date can be at most %(days)s days ahead.") % {"days": MAX_DAYS_AHEAD},
        )
    return errors


def _refuse(errors: dict[str, list[str]]) -> ApplicationError:
    first = next(iter(errors.values()))[0]
    return ApplicationError(first, extra={"fields": errors})


def _shown(value: object) -> object:
    """A value as the audit detail keeps it (JSON)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@transaction.atomic
def contact_agreement_update(
    *,
    ctx: AuditContext,
    case_id: int,
    cadence_days: int | None,
    window_start_days: int,
    window_end_days: int,
    channels: list[str],
    duration_minutes: int,
    purpose: str,
    next_due: dt.date | None = None,
    agreed_with_customer: bool = False,
) -> ContactAgreement:
    """Set the case's contact agreement. `cadence_days=None` and `channels=[]` follow the customer
    group; `agreed_with_customer` records that the customer agreed now. Nothing changed and not
    agreed anew: nothing is written."""
    case = Case.objects.select_related("team").get(pk=case_id)
    require_case_staff(ctx, case)
    purpose = (purpose or "").strip()
    errors = _validate(
        cadence_days=cadence_days,
        window_start_days=window_start_days,
        window_end_days=window_end_days,
        channels=channels,
        duration_minutes=duration_minutes,
        purpose=purpose,
        next_due=next_due,
    )
    if errors:
        raise _refuse(errors)
    # Locked: two people saving at once write one after the other, each audit row exact.
    agreement = ContactAgreement.objects.select_for_update().filter(case=case).first()
    created = agreement is None
    if created:
        agreement = ContactAgreement(case=case)
    # Unique, in the order given (the first is the preferred one).
    channels = list(dict.fromkeys(channels))
    new = {
        "cadence_days": cadence_days,
        "window_start_days": window_start_days,
        "window_end_days": window_end_days,
        "channels": channels,
        "duration_minutes": duration_minutes,
        "purpose": purpose,
        "next_due": next_due,
    }
    changes = {
        field: {"from": _shown(getattr(agreement, field)), "to": _shown(value)}
        for field, value in new.items()
        if created or getattr(agreement, field) != value
    }
    if not changes and not agreed_with_customer:
        return agreement
    for field, value in new.items():
        setattr(agreement, field, value)
    if agreed_with_customer:
        agreement.agreed_with_customer_at = timezone.now()
    # A person looked at the agreement again: a hold from a rejected invitation ends here.
    hold_lifted = agreement.hold_set_at is not None
    if hold_lifted:
        _clear_hold(agreement)
    agreement.updated_by = ctx.actor
    try:
        agreement.full_clean()
    except ValidationError as error:
        raise _refuse(
            {field: list(messages) for field, messages in error.message_dict.items()}
        ) from error
    agreement.save()
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type=AGREEMENT_OBJECT,
        object_id=agreement.pk,
        customer_id=case.customer_id,
        detail={
            "changed": changes,
            "agreed_with_customer": agreed_with_customer,
            "hold_lifted": hold_lifted,
        },
    )
    names = ", ".join(
        str(ContactAgreement._meta.get_field(field).verbose_name) for field in changes
    )
    if agreed_with_customer:
        summary = _("Contact agreement agreed with the customer: %(fields)s")
    else:
        summary = _("Contact agreement changed: %(fields)s")
    CaseEvent.objects.create(
        case=case,
        # No kind of its own (cases.models.CaseEvent.Kind): the agreement is about contacts.
        kind=CaseEvent.Kind.CONTACT,
        actor=ctx.actor,
        summary=(summary % {"fields": names or "–"})[:300],
        data={"contact_agreement": {"changed": changes}},
    )
    return agreement


# --- holds: a rejected invitation keeps the case from being invited again ---------------------------


def _clear_hold(agreement: ContactAgreement) -> None:
    agreement.hold_set_at = None
    agreement.hold_until = None
    agreement.hold_set_by = None
    agreement.hold_reason = ""


def contact_agreement_hold_validate(*, until: dt.date | None, today: dt.date) -> None:
    """Refuse a hold date that is not after today or lies more than MAX_DAYS_AHEAD ahead."""
    if until is None:
        return
    if until <= today:
        raise ApplicationError(
            _("The date before which the case is not invited again must lie in the future."),
            extra={"fields": {"hold_until": ["past"]}},
        )
    if date_beyond_reach(until, today=today):
        raise ApplicationError(
            _(
                "The date before which the case is not invited again can be at most %(days)s "
                "days ahead."
            )
            % {"days": MAX_DAYS_AHEAD},
            extra={"fields": {"hold_until": ["too_far"]}},
        )


def contact_agreement_hold(
    *, ctx: AuditContext, case: Case, until: dt.date | None, reason: str
) -> ContactAgreement:
    """Hold the case back from invitations (called by planning_item_reject inside its
    transaction): until `until`, or without a date until a person lifts the hold or changes the
    agreement. Creates the agreement with the group's defaults if the case has none."""
    now = timezone.now()
    contact_agreement_hold_validate(until=until, today=timezone.localdate(now))
    agreement = ContactAgreement.objects.select_for_update().filter(case=case).first()
    created = agreement is None
    if created:
        agreement = ContactAgreement(case=case)
    agreement.hold_set_at = now
    agreement.hold_until = until
    agreement.hold_set_by = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    agreement.hold_reason = reason[:1000]
    agreement.save()
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type=AGREEMENT_OBJECT,
        object_id=agreement.pk,
        customer_id=case.customer_id,
        detail={"hold": {"until": _shown(until), "reason": agreement.hold_reason}},
    )
    if until is None:
        summary = _(
            "Invitation rejected; no further invitations until the hold is lifted: %(reason)s"
        )
    else:
        summary = _("Invitation rejected; no further invitations before %(date)s: %(reason)s")
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.CONTACT,
        actor=agreement.hold_set_by,
        summary=(
            summary
            % {
                "reason": agreement.hold_reason,
                "date": date_format(until, "SHORT_DATE_FORMAT") if until else "",
            }
        )[:300],
        data={
            "contact_agreement": {"hold": {"until": _shown(until), "reason": agreement.hold_reason}}
        },
    )
    return agreement


@transaction.atomic
def contact_agreement_hold_lift(*, ctx: AuditContext, case_id: int) -> ContactAgreement:
    """A person lifts the hold: the case is invited again at its cadence from the next run."""
    case = Case.objects.select_related("team").get(pk=case_id)
    require_case_staff(ctx, case)
    agreement = ContactAgreement.objects.select_for_update().filter(case=case).first()
    if agreement is None or agreement.hold_set_at is None:
        raise ConflictError(_("Invitations of this case are not held back."))
    previous = {"until": _shown(agreement.hold_until), "reason": agreement.hold_reason}
    _clear_hold(agreement)
    agreement.updated_by = ctx.actor
    agreement.save()
    audit_record(
        ctx=ctx,
        action=AuditAction.UPDATE,
        object_type=AGREEMENT_OBJECT,
        object_id=agreement.pk,
        customer_id=case.customer_id,
        detail={"hold_lifted": previous},
    )
    CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.CONTACT,
        actor=ctx.actor,
        summary=_("Invitations are no longer held back.")[:300],
        data={"contact_agreement": {"hold_lifted": previous}},
    )
    return agreement
