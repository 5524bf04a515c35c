from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from jobcenter.health import healthz

urlpatterns = [
    path("", include("cases.urls")),
    path("", include("profiling.urls")),
    path("scheduling/", include("scheduling.urls")),
    path("accounts/", include("organisation.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("jobcenter.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

admin.site.site_header = "Jobcenter"
# Addresses under /api/ that match no route answer in the API's JSON error shape.
handler404 = "jobcenter.api.not_found_view"
