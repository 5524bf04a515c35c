from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(
    request: HttpRequest, response=None, credentials=None, *args, **kwargs
) -> HttpResponse:
    """Too many failed logins: the UI shows the login page with the reason, the API answers 429."""
    message = _("Too many failed login attempts. Please wait 15 minutes and try again.")
    if request.path.startswith("/api/"):
        return JsonResponse({"message": message, "extra": {}}, status=429)
    return render(request, "registration/login.html", {"lockout_message": message}, status=429)
