"""Staff views of invitations: the letter PDF exactly as it was made (kept on the delivery row)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from audit.models import AuditChannel
from audit.services import AuditContext
from scheduling.services_invitations import InvitationLetterNotFoundError, invitation_letter_get


@require_GET
@login_required
def invitation_letter_view(request: HttpRequest, appointment_id: int, delivery_id: int):
    """Download a letter (invitation or cancellation) for a caseworker or team lead of the case's
    team; everyone else gets 404 (another team's letter looks like a missing one). Audit-logged."""
    try:
        letter = invitation_letter_get(
            ctx=AuditContext.from_request(request, channel=AuditChannel.UI),
            appointment_id=appointment_id,
            delivery_id=delivery_id,
        )
    except InvitationLetterNotFoundError:
        raise Http404 from None
    response = HttpResponse(letter.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{letter.filename}"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns: list = [
    path(
        "appointments/<int:appointment_id>/letters/<int:delivery_id>.pdf",
        invitation_letter_view,
        name="invitation_letter",
    ),
]
