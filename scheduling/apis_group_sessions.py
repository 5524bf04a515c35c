"""(being written)"""

api_urlpatterns: list = []
