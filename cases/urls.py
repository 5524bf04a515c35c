from django.urls import path

from cases.views import lifecycle, notes, plans, queue

app_name = "cases"
urlpatterns = [
    path("", queue.case_list_view, name="work_queue"),
    path("cases/<int:case_id>/", queue.case_detail_view, name="case_detail"),
    path("cases/<int:case_id>/notes/", notes.case_note_list_view, name="note_list"),
    path("cases/<int:case_id>/notes/new/", notes.case_note_create_view, name="note_create"),
    path("cases/<int:case_id>/notes/card/", notes.case_note_card_view, name="note_card"),
    path(
        "cases/<int:case_id>/notes/<int:note_id>/", notes.case_note_detail_view, name="note_detail"
    ),
    path(
        "cases/<int:case_id>/notes/<int:note_id>/checklist/",
        notes.case_note_checklist_view,
        name="note_checklist",
    ),
    path("cases/<int:case_id>/transition/", lifecycle.case_transition_view, name="case_transition"),
    path("cases/<int:case_id>/claim/", lifecycle.case_claim_view, name="case_claim"),
    path("cases/<int:case_id>/release/", lifecycle.case_release_view, name="case_release"),
    # The cooperation plan (cases/views/plans.py).
    path("cases/<int:case_id>/plan/", plans.plan_detail_view, name="plan_detail"),
    path("cases/<int:case_id>/plan/draft/", plans.plan_draft_create_view, name="plan_draft_create"),
    path(
        "cases/<int:case_id>/plan/draft/edit/",
        plans.plan_draft_update_view,
        name="plan_draft_update",
    ),
    path("cases/<int:case_id>/plan/steps/", plans.plan_step_add_view, name="plan_step_add"),
    path(
        "cases/<int:case_id>/plan/steps/<int:step_id>/",
        plans.plan_step_update_view,
        name="plan_step_update",
    ),
    path(
        "cases/<int:case_id>/plan/steps/<int:step_id>/delete/",
        plans.plan_step_delete_view,
        name="plan_step_delete",
    ),
    path(
        "cases/<int:case_id>/plan/steps/<int:step_id>/progress/",
        plans.plan_step_progress_view,
        name="plan_step_progress",
    ),
    path("cases/<int:case_id>/plan/agree/", plans.plan_agree_view, name="plan_agree"),
    path(
        "cases/<int:case_id>/plan/versions/<int:plan_id>/",
        plans.plan_version_view,
        name="plan_version",
    ),
    path("cases/<int:case_id>/plan/pdf/<str:language>/", plans.plan_pdf_view, name="plan_pdf"),
]
