"""Routes of the v1 API (included under /api/v1/ by config/urls.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

app_name = "api"

router = SimpleRouter()
router.register("courts", views.CourtViewSet, basename="court")
router.register("users", views.UserViewSet, basename="user")
router.register("parties", views.PartyViewSet, basename="party")
router.register("cases", views.CaseViewSet, basename="case")

urlpatterns = [
    path("auth/token/", views.ObtainTokenView.as_view(), name="token"),
    *router.urls,
]
