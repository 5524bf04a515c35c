from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET


def lockout_message() -> str:
    """The words for a locked-out login, on the page and in the API alike."""
    minutes = max(1, round(timedelta(hours=settings.AXES_COOLOFF_TIME).total_seconds() / 60))
    return ngettext(
        "Too many failed login attempts. Please wait %(minutes)d minute and try again.",
        "Too many failed login attempts. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, response=None, credentials=None, *args, **kwargs
) -> HttpResponse:
    """Too many failed logins on the login page (django-axes' AXES_LOCKOUT_CALLABLE): a 429 page.

    The token endpoint answers its own lockouts (organisation.apis.LoginLockedOut).
    """
    return render(
        request, "registration/login.html", {"lockout_message": lockout_message()}, status=429
    )


@require_GET
@login_required
def user_start_view(request: HttpRequest) -> HttpResponse:
    """Where a login lands: case workers and team leads on their work queue, admins in the admin.

    Admins configure the system and read no case contents, so the work queue would only refuse them.
    """
    user = request.user
    if user.reads_cases:
        return redirect("cases:work_queue")
    if user.is_staff:
        return redirect("admin:index")
    return render(request, "organisation/user_start.html")
