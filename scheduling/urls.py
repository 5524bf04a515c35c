from django.urls import path

from scheduling import (
    views,
    views_appointments,
    views_group_sessions,
    views_invitations,
    views_planning,
    views_rebooking,
)

app_name = "scheduling"
urlpatterns = [
    path("calendar/", views.calendar_detail_view, name="calendar_detail"),
    path(
        "calendar/settings/", views.calendar_settings_update_view, name="calendar_settings_update"
    ),
    path("calendar/consent/", views.calendar_consent_view, name="calendar_consent"),
    path("calendar/absences/", views.absence_add_view, name="absence_add"),
    path(
        "calendar/absences/<int:absence_id>/remove/",
        views.absence_remove_view,
        name="absence_remove",
    ),
    path("calendar/sync/", views.calendar_sync_view, name="calendar_sync"),
    path("calendar/sync/state/", views.calendar_sync_state_view, name="calendar_sync_state"),
    path(
        "calendar/feed-token/",
        views.calendar_feed_token_regenerate_view,
        name="calendar_feed_token_regenerate",
    ),
    path("calendar/upload/", views.calendar_upload_view, name="calendar_upload"),
    path(
        "calendar/upload/remove/",
        views.calendar_upload_remove_view,
        name="calendar_upload_remove",
    ),
    # The team calendar of team leads and admins.
    path("team/", views.team_calendar_view, name="team_calendar"),
    path("team/staff/<int:user_id>/", views.team_member_view, name="team_member"),
    path(
        "team/staff/<int:user_id>/absences/",
        views.team_member_absence_add_view,
        name="team_member_absence_add",
    ),
    path(
        "team/staff/<int:user_id>/absences/<int:absence_id>/remove/",
        views.team_member_absence_remove_view,
        name="team_member_absence_remove",
    ),
    path("feed/<str:token>.ics", views.calendar_feed_view, name="calendar_feed"),
    # The customer's rebooking link (signed, expiring; no login).
    path("rebook/<str:token>/", views_rebooking.rebook_view, name="rebook"),
    *views_planning.urlpatterns,
    *views_group_sessions.urlpatterns,
    *views_appointments.urlpatterns,
    *views_invitations.urlpatterns,
]
