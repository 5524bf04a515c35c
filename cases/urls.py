from django.urls import path

from cases.views import queue

app_name = "cases"
urlpatterns = [
    path("", queue.case_list_view, name="work_queue"),
    path("cases/<int:case_id>/", queue.case_detail_view, name="case_detail"),
]
