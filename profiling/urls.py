from django.urls import path

from profiling import views

app_name = "profiling"
urlpatterns = [
    path("cases/<int:case_id>/profile/", views.profile_detail_view, name="profile_detail"),
    path("cases/<int:case_id>/profile/save/", views.profile_update_view, name="profile_update"),
]
