"""The REST API, version 1: /api/v1/... (schema at /api/schema/, docs at /api/docs/)."""

from django.urls import path

from cases.apis.cases import CaseDetailApi, CaseListApi, CustomerDetailApi, CustomerListApi
from organisation.apis import AuthTokenCreateApi

app_name = "api"
urlpatterns = [
    path("auth/token/", AuthTokenCreateApi.as_view(), name="auth-token"),
    path("cases/", CaseListApi.as_view(), name="case-list"),
    path("cases/<int:case_id>/", CaseDetailApi.as_view(), name="case-detail"),
    path("customers/", CustomerListApi.as_view(), name="customer-list"),
    path("customers/<int:customer_id>/", CustomerDetailApi.as_view(), name="customer-detail"),
]
