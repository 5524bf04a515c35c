"""HTML views: segments (issue 4). `urlpatterns` is included by profiling/urls.py."""

urlpatterns: list = []
