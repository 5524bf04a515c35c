"""Writes of the customer profile. The form, the API and any import call profile_update."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import AuditContext, audit_record
from cases.models import Case, CaseEvent, Customer
from cases.selectors import customer_visible_to
from jobcenter.exceptions import ApplicationError, ConflictError
from profiling.models import DIMENSIONS, PROFILE_FIELDS, Profile, ProfileVersion


class ProfileInvalidError(ApplicationError):
    """The data breaks a rule of the profile; `extra["fields"]` holds the messages per field."""


class ProfileConflictError(ConflictError):
    """Someone saved the profile after the version the change was based on."""


def profile_snapshot(profile: Profile) -> dict:
    """Every versioned field with its value, as JSON."""
    return {name: getattr(profile, name) for name in PROFILE_FIELDS}


def _customer_for_update(*, ctx: AuditContext, customer_id: int) -> Customer:
    # The system (seed, import) acts for every customer; a person only for those they may see.
    customers = Customer.objects.all() if ctx.actor is None else customer_visible_to(user=ctx.actor)
    try:
        # Locking the customer serialises every write of their profile, including the first
        # one, when there is no profile row yet to lock.
        return customers.select_for_update().get(pk=customer_id)
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise ApplicationError(
            _("There is no customer with this number for you."), extra={"customer_id": customer_id}
        ) from None


def _dimension_labels(keys: list[str]) -> str:
    labels = {d.key: str(d.label) for d in DIMENSIONS}
    return ", ".join(labels[key] for key in keys)


@transaction.atomic
def profile_update(
    *, ctx: AuditContext, customer_id: int, data: dict, expected_version: int
) -> Profile:
    """Create or change a customer's profile and record the result as a new version.

    `data` holds some or all of PROFILE_FIELDS; fields not given keep their value. A profile is
    created when the customer has none (`expected_version` 0 then). `expected_version` is the
    version the change was based on: if someone saved in between, ProfileConflictError (409) and
    nothing is written. Invalid data: ProfileInvalidError (400), nothing written. A change that
    changes nothing writes nothing and returns the profile as it is.
    """
    unknown = sorted(set(data) - set(PROFILE_FIELDS))
    if unknown:
        raise ProfileInvalidError(
            _("Unknown profile fields: %(names)s.") % {"names": ", ".join(unknown)},
            extra={"fields": {name: [_("Unknown field.")] for name in unknown}},
        )
    customer = _customer_for_update(ctx=ctx, customer_id=customer_id)
    profile = Profile.objects.filter(customer=customer).first()
    created = profile is None
    current_version = 0 if created else profile.version
    if expected_version != current_version:
        latest = (
            ProfileVersion.objects.filter(customer=customer)
            .select_related("author")
            .order_by("-version")
            .first()
        )
        who, when = _("the system"), "–"
        if latest is not None:
            when = date_format(timezone.localtime(latest.valid_from), "SHORT_DATETIME_FORMAT")
            if latest.author is not None:
                who = latest.author.get_full_name() or latest.author.get_username()
        raise ProfileConflictError(
            _(
                "The profile was changed in the meantime (now version %(current)d, by %(who)s "
                "on %(when)s); your changes were based on version %(expected)d and were not "
                "saved. Reload the profile and enter your changes again."
            )
            % {"current": current_version, "who": who, "when": when, "expected": expected_version},
            extra={"current_version": current_version, "expected_version": expected_version},
        )

    before = {} if created else profile_snapshot(profile)
    if created:
        profile = Profile(customer=customer)
    for name, value in data.items():
        setattr(profile, name, value)
    try:
        # The customer is set here and unique per profile; the lock above keeps it so.
        profile.full_clean(exclude=["customer", "version"])
    except ValidationError as error:
        raise ProfileInvalidError(
            _("The profile was not saved: please correct the marked fields."),
            extra={"fields": error.message_dict},
        ) from None
    after = profile_snapshot(profile)
    changed = [name for name in PROFILE_FIELDS if created or before.get(name) != after[name]]
    if not changed:
        return profile

    profile.version = current_version + 1
    profile.save()
    author = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    version = ProfileVersion.objects.create(
        customer=customer,
        version=profile.version,
        valid_from=profile.updated_at,
        author=author,
        snapshot=after,
        changed_fields=changed,
    )
    dimensions = version.changed_dimensions
    audit_record(
        ctx=ctx,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type="profile",
        object_id=profile.pk,
        customer_id=customer.pk,
        detail={"version": profile.version, "changed_fields": changed},
    )
    case = Case.objects.open().filter(customer=customer).first()
    if case is not None:
        if created:
            summary = _("Profile created (version %(version)d).") % {"version": profile.version}
        else:
            summary = _("Profile updated (version %(version)d): %(dimensions)s.") % {
                "version": profile.version,
                "dimensions": _dimension_labels(dimensions),
            }
        CaseEvent.objects.create(
            case=case,
            at=profile.updated_at,
            kind=CaseEvent.Kind.PROFILE_UPDATED,
            actor=author,
            summary=summary[:300],
            data={
                "version": profile.version,
                "changed_dimensions": dimensions,
                "changed_fields": changed,
            },
        )
    return profile
