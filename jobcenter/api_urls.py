"""The REST API, version 1: /api/v1/... (schema at /api/schema/, docs at /api/docs/)."""

from django.urls import path

from cases.apis.cases import CaseDetailApi, CaseListApi, CustomerDetailApi, CustomerListApi
from cases.apis.lifecycle import CaseClaimApi, CaseReleaseApi, CaseTransitionApi
from cases.apis.notes import (
    CaseNoteChecklistUpdateApi,
    CaseNoteDetailApi,
    CaseNotesApi,
    NoteTemplateListApi,
    TagListApi,
)
from cases.apis.plans import (
    PlanAgreeApi,
    PlanApi,
    PlanPdfApi,
    PlanStepAddApi,
    PlanStepApi,
    PlanStepProgressApi,
    PlanVersionGetApi,
)
from organisation.apis import AuthTokenCreateApi
from profiling.apis import models as model_apis
from profiling.apis import segments as segment_apis
from profiling.apis import suggestions as suggestion_apis
from profiling.apis.profiles import ProfileDetailApi, ProfileVersionListApi
from scheduling import apis_appointments, apis_calendars, apis_group_sessions, apis_planning

app_name = "api"
urlpatterns = [
    path("auth/token/", AuthTokenCreateApi.as_view(), name="auth-token"),
    path("cases/", CaseListApi.as_view(), name="case-list"),
    path("cases/<int:case_id>/", CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<int:case_id>/transition/", CaseTransitionApi.as_view(), name="case-transition"),
    path("cases/<int:case_id>/claim/", CaseClaimApi.as_view(), name="case-claim"),
    path("cases/<int:case_id>/release/", CaseReleaseApi.as_view(), name="case-release"),
    path("cases/<int:case_id>/notes/", CaseNotesApi.as_view(), name="case-notes"),
    path(
        "cases/<int:case_id>/notes/<int:note_id>/",
        CaseNoteDetailApi.as_view(),
        name="case-note-detail",
    ),
    path(
        "cases/<int:case_id>/notes/<int:note_id>/checklist/",
        CaseNoteChecklistUpdateApi.as_view(),
        name="case-note-checklist",
    ),
    path("note-templates/", NoteTemplateListApi.as_view(), name="note-template-list"),
    path("tags/", TagListApi.as_view(), name="tag-list"),
    # The cooperation plan (cases/apis/plans.py).
    path("cases/<int:case_id>/cooperation-plan/", PlanApi.as_view(), name="cooperation-plan"),
    path(
        "cases/<int:case_id>/cooperation-plan/versions/<int:plan_id>/",
        PlanVersionGetApi.as_view(),
        name="cooperation-plan-version",
    ),
    path(
        "cases/<int:case_id>/cooperation-plan/steps/",
        PlanStepAddApi.as_view(),
        name="cooperation-plan-steps",
    ),
    path(
        "cases/<int:case_id>/cooperation-plan/steps/<int:step_id>/",
        PlanStepApi.as_view(),
        name="cooperation-plan-step",
    ),
    path(
        "cases/<int:case_id>/cooperation-plan/steps/<int:step_id>/progress/",
        PlanStepProgressApi.as_view(),
        name="cooperation-plan-step-progress",
    ),
    path(
        "cases/<int:case_id>/cooperation-plan/agree/",
        PlanAgreeApi.as_view(),
        name="cooperation-plan-agree",
    ),
    path(
        "cases/<int:case_id>/cooperation-plan/pdf/",
        PlanPdfApi.as_view(),
        name="cooperation-plan-pdf",
    ),
    path("customers/", CustomerListApi.as_view(), name="customer-list"),
    path("customers/<int:customer_id>/", CustomerDetailApi.as_view(), name="customer-detail"),
    path(
        "customers/<int:customer_id>/profile/",
        ProfileDetailApi.as_view(),
        name="customer-profile",
    ),
    path(
        "customers/<int:customer_id>/profile/versions/",
        ProfileVersionListApi.as_view(),
        name="customer-profile-versions",
    ),
    # The AI profiling (issue 4): each module lists its own operations.
    *model_apis.api_urlpatterns,
    *segment_apis.api_urlpatterns,
    *suggestion_apis.api_urlpatterns,
    # Invitations (issue 5).
    *apis_planning.api_urlpatterns,
    *apis_group_sessions.api_urlpatterns,
    *apis_appointments.api_urlpatterns,
    # Staff calendars and absences (scheduling/apis_calendars.py).
    *apis_calendars.api_urlpatterns,
]
