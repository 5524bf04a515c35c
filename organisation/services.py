"""Writes on the organisation: the jobcenter, its teams and its staff."""

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from jobcenter.exceptions import ApplicationError
from organisation.authentication import token_is_expired
from organisation.models import Role, User

# What an administrator needs in /admin/ to configure the organisation. No delete: a member of
# staff who leaves is deactivated (the audit log keeps pointing at the row); teams are renamed.
CONFIGURATION_PERMISSIONS = (
    ("organisation", "add_jobcenter"),
    ("organisation", "change_jobcenter"),
    ("organisation", "view_jobcenter"),
    ("organisation", "add_team"),
    ("organisation", "change_team"),
    ("organisation", "view_team"),
    ("organisation", "add_user"),
    ("organisation", "change_user"),
    ("organisation", "view_user"),
    # Case work configuration: the tag vocabulary of case notes, the note templates with their
    # checklists, and the case work rules (one row). No delete here either (see cases/admin.py).
    ("cases", "add_tag"),
    ("cases", "change_tag"),
    ("cases", "view_tag"),
    ("cases", "add_notetemplate"),
    ("cases", "change_notetemplate"),
    ("cases", "view_notetemplate"),
    ("cases", "add_casepolicy"),
    ("cases", "change_casepolicy"),
    ("cases", "view_casepolicy"),
    # The AI profiling: the catalogue of action strategies and the customer groups' service
    # models (profiling/admin.py). Rules and model versions have pages of their own for admins.
    ("profiling", "add_actionstrategy"),
    ("profiling", "change_actionstrategy"),
    ("profiling", "view_actionstrategy"),
    ("profiling", "change_segmentconfig"),
    ("profiling", "view_segmentconfig"),
    # Staff calendars (read-only in the admin; never the CalDAV password or the feed token).
    ("scheduling", "view_staffcalendar"),
    ("scheduling", "view_absence"),
    ("scheduling", "add_rebookingpolicy"),
    ("scheduling", "change_rebookingpolicy"),
    ("scheduling", "view_rebookingpolicy"),
    # The planner's weights and horizon, and when reminders go out (one row each).
    ("scheduling", "add_planningsettings"),
    ("scheduling", "change_planningsettings"),
    ("scheduling", "view_planningsettings"),
    ("scheduling", "add_reminderpolicy"),
    ("scheduling", "change_reminderpolicy"),
    ("scheduling", "view_reminderpolicy"),
    ("scheduling", "add_invitationtemplate"),
    ("scheduling", "view_invitationtemplate"),
    # The audit log shows who accessed which customer, never case contents (see audit/admin.py).
    ("audit", "view_auditevent"),
)


class NotAnAdministratorError(ApplicationError):
    pass


@transaction.atomic
def admin_grant_configuration_permissions(*, user: User) -> None:
    """Let an administrator configure the organisation in /admin/. Idempotent.

    Only the admin role: caseworkers and team leads read case contents, and one person should not
    both read cases and decide who may read them.
    """
    if user.role != Role.ADMIN:
        raise NotAnAdministratorError(
            _("Only administrators may configure the organisation; %(user)s is not one.")
            % {"user": user.get_username()}
        )
    permissions = [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in CONFIGURATION_PERMISSIONS
    ]
    user.user_permissions.add(*permissions)
    # The permission cache of this instance is stale now.
    for cache in ("_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(cache, None)


@transaction.atomic
def token_issue(*, user: User) -> Token:
    """The user's valid token, or a fresh one in place of an expired or missing one."""
    # Lock the user row: two logins at once would otherwise both replace the token and the
    # second insert would break the one-token-per-user constraint.
    User.objects.select_for_update().filter(pk=user.pk).first()
    token = Token.objects.filter(user=user).first()
    if token is not None and not token_is_expired(token):
        return token
    if token is not None:
        token.delete()
    return Token.objects.create(user=user)
