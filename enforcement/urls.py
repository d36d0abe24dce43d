"""Routes of the HTML side."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("workbench/", views.workbench, name="workbench"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/parties/", views.case_parties, name="case_parties"),
    path("cases/<int:pk>/log/", views.case_log, name="case_log"),
    path("cases/<int:pk>/documents/", views.case_documents, name="case_documents"),
    path("cases/<int:pk>/documents/<int:doc_id>/", views.document_download, name="document_download"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:pk>/assign/", views.case_assign, name="case_assign"),
    path("cases/<int:pk>/status/", views.case_transition, name="case_transition"),
    path("cases/<int:pk>/resume/", views.case_resume, name="case_resume"),
    path("assign/", views.assign_list, name="assign_list"),
    path("manage/courts/", views.admin_courts, name="admin_courts"),
    path("manage/users/", views.admin_users, name="admin_users"),
]
