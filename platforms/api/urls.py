from django.urls import path

from . import views

urlpatterns = [
    path("platforms/", views.PlatformListView.as_view(), name="api-platforms"),
    path("platforms/callbacks/<slug:code>/", views.NoticeCallbackView.as_view(), name="api-notice-callback"),
    path("connectors/", views.ConnectorListView.as_view(), name="api-connectors"),
    path("connectors/<int:pk>/", views.ConnectorDetailView.as_view(), name="api-connector"),
    path("connectors/<int:pk>/test/", views.ConnectorHealthView.as_view(), name="api-connector-test"),
    path("cases/<int:case_id>/notices/", views.CaseNoticesView.as_view(), name="api-case-notices"),
    path("notices/<int:pk>/", views.NoticeDetailView.as_view(), name="api-notice"),
    path("notices/<int:pk>/approve/", views.NoticeApproveView.as_view(), name="api-notice-approve"),
    path("notices/<int:pk>/replay/", views.NoticeReplayView.as_view(), name="api-notice-replay"),
]
