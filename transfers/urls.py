"""Routes of the transfer pages (included before ``enforcement.urls``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("transfers/eligible/", views.eligible_list, name="transfer_eligible"),
    path("transfers/pending/", views.pending_list, name="transfer_pending"),
    path("transfers/decided/", views.decided_list, name="transfer_decided"),
    path("transfers/overdue/", views.overdue_list, name="transfer_overdue"),
    path("transfers/incoming/", views.incoming_list, name="transfer_incoming"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer_detail"),
    path("transfers/<int:pk>/review/", views.transfer_review, name="transfer_review"),
    path("transfers/<int:pk>/approve/", views.transfer_approve, name="transfer_approve"),
    path("transfers/<int:pk>/reject/", views.transfer_reject, name="transfer_reject"),
    path("transfers/<int:pk>/accept/", views.transfer_accept, name="transfer_accept"),
    path("transfers/<int:pk>/reports/", views.transfer_report, name="transfer_report"),
    path("transfers/<int:pk>/materials/", views.transfer_materials, name="transfer_materials"),
    path("transfers/<int:pk>/materials/<int:material_id>/supply/", views.materials_supply, name="transfer_supply"),
    path("transfers/<int:pk>/conclude/", views.transfer_conclude, name="transfer_conclude"),
    path("transfers/<int:pk>/reconsider/", views.transfer_reconsider, name="transfer_reconsider"),
    path(
        "transfers/<int:pk>/reconsider/answer/",
        views.transfer_reconsider_answer,
        name="transfer_reconsider_answer",
    ),
    path("transfers/<int:pk>/bankruptcy-steps/", views.transfer_bankruptcy_step, name="transfer_bankruptcy_step"),
    path("transfers/<int:pk>/refuse/", views.transfer_refuse, name="transfer_refuse"),
    path("transfers/triggers/", views.trigger_config, name="transfer_triggers"),
    path("cases/<int:pk>/transfers/", views.case_transfers, name="case_transfers"),
    path("cases/<int:pk>/transfers/new/", views.transfer_create, name="transfer_create"),
    path("cases/<int:pk>/transfers/excluded/", views.excluded_period_create, name="excluded_period_create"),
    path("notifications/<int:pk>/acknowledge/", views.notification_acknowledge, name="notification_acknowledge"),
    path("file-access/", views.file_access, name="file_access"),
    path("file-access/<int:grant_id>/approve/", views.file_access_approve, name="file_access_approve"),
    path("file-access/<int:grant_id>/refuse/", views.file_access_refuse, name="file_access_refuse"),
    path("file-access/<int:grant_id>/revoke/", views.file_access_revoke, name="file_access_revoke"),
]
