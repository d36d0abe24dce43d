from django.urls import path

from . import views

urlpatterns = [path("platforms/", views.PlatformListView.as_view(), name="api-platforms")]
