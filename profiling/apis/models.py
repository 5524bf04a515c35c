"""API views: models (issue 4). `api_urlpatterns` is included by jobcenter/api_urls.py."""

api_urlpatterns: list = []
