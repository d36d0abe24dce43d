"""Routes of the transfer endpoints (included under /api/v1/ by config/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("transfers/", views.TransferListView.as_view(), name="api-transfers"),
    path("transfers/eligible/", views.EligibleView.as_view(), name="api-transfers-eligible"),
    path("transfers/triggers/", views.TriggerConfigView.as_view(), name="api-transfer-triggers"),
    path("transfers/<int:pk>/", views.TransferDetailView.as_view(), name="api-transfer"),
    path("transfers/<int:pk>/recommendation/", views.RecommendationView.as_view(), name="api-transfer-recommendation"),
    path("transfers/<int:pk>/review/", views.ReviewView.as_view(), name="api-transfer-review"),
    path("transfers/<int:pk>/approve/", views.ApproveView.as_view(), name="api-transfer-approve"),
    path("transfers/<int:pk>/reject/", views.RejectView.as_view(), name="api-transfer-reject"),
    path("transfers/<int:pk>/accept/", views.AcceptView.as_view(), name="api-transfer-accept"),
    path("transfers/<int:pk>/refuse/", views.RefuseView.as_view(), name="api-transfer-refuse"),
    path("transfers/<int:pk>/conclude/", views.ConcludeView.as_view(), name="api-transfer-conclude"),
    path(
        "transfers/<int:pk>/reconsideration/", views.ReconsiderationView.as_view(), name="api-transfer-reconsideration"
    ),
    path(
        "transfers/<int:pk>/reconsideration/answer/",
        views.ReconsiderationAnswerView.as_view(),
        name="api-transfer-reconsideration-answer",
    ),
    path("transfers/<int:pk>/steps/", views.StepView.as_view(), name="api-transfer-steps"),
    path("transfers/<int:pk>/reports/", views.ReportView.as_view(), name="api-transfer-reports"),
    path("transfers/<int:pk>/materials/", views.MaterialsView.as_view(), name="api-transfer-materials"),
    path("transfer-materials/<int:pk>/supply/", views.SupplyView.as_view(), name="api-transfer-materials-supply"),
    path("cases/<int:case_id>/art237-exclusions/", views.ExcludedPeriodsView.as_view(), name="api-case-exclusions"),
    path("file-access/", views.FileAccessListView.as_view(), name="api-file-access"),
    path("file-access/<int:pk>/approve/", views.FileAccessApproveView.as_view(), name="api-file-access-approve"),
    path("file-access/<int:pk>/refuse/", views.FileAccessRefuseView.as_view(), name="api-file-access-refuse"),
    path("file-access/<int:pk>/revoke/", views.FileAccessRevokeView.as_view(), name="api-file-access-revoke"),
]
