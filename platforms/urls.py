"""Routes of the notice and connector pages (included before ``enforcement.urls``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("cases/<int:pk>/notices/", views.case_notices, name="case_notices"),
    path("cases/<int:pk>/notices/query-all/", views.query_all, name="notice_query_all"),
    path("cases/<int:pk>/notices/batches/<uuid:batch>/", views.notice_batch, name="notice_batch"),
    path("cases/<int:pk>/notices/batches/<uuid:batch>/rows/", views.notice_batch_rows, name="notice_batch_rows"),
    path("cases/<int:pk>/notices/batches/<uuid:batch>/freeze/", views.notice_batch_freeze, name="notice_batch_freeze"),
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/approvals/", views.approval_list, name="approval_list"),
    path("notices/<int:notice_id>/approve/", views.notice_approve, name="notice_approve"),
    path("notices/<int:notice_id>/replay/", views.notice_replay, name="notice_replay"),
    path("notices/<int:notice_id>/cancel/", views.notice_cancel, name="notice_cancel"),
    path("notices/<int:notice_id>/pdf/", views.notice_pdf, name="notice_pdf"),
    path("manage/platforms/", views.admin_platforms, name="admin_platforms"),
    path("manage/platforms/<slug:code>/connector/", views.admin_connector, name="admin_connector"),
    path("manage/platforms/<slug:code>/connector/rotate/", views.admin_connector_rotate, name="admin_connector_rotate"),
    path("manage/platforms/<slug:code>/connector/test/", views.admin_connector_test, name="admin_connector_test"),
]
