from django.urls import path

from profiling.views import models, profiles, segments, suggestions

app_name = "profiling"
urlpatterns = [
    path("cases/<int:case_id>/profile/", profiles.profile_detail_view, name="profile_detail"),
    path("cases/<int:case_id>/profile/save/", profiles.profile_update_view, name="profile_update"),
    *models.urlpatterns,
    *segments.urlpatterns,
    *suggestions.urlpatterns,
]
