from django.urls import path

from cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list_view, name="work_queue"),
    path("cases/<int:case_id>/", views.case_detail_view, name="case_detail"),
]
