from django.contrib.auth import views as auth_views
from django.urls import path

from organisation import views

urlpatterns = [
    path(
        "login/",
        # After login every role lands where it works (LOGIN_REDIRECT_URL = user_start_view).
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("start/", views.user_start_view, name="start"),
]
