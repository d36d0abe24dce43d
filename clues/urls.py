"""Routes of the clue and measure pages (included before ``enforcement.urls``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("cases/<int:pk>/clues/", views.case_clues, name="case_clues"),
    path("cases/<int:pk>/clues/<int:clue_id>/verify/", views.clue_verify, name="clue_verify"),
    path("cases/<int:pk>/clues/<int:clue_id>/invalidate/", views.clue_invalidate, name="clue_invalidate"),
    path("cases/<int:pk>/clues/<int:clue_id>/other-courts/", views.clue_other_courts, name="clue_other_courts"),
    path("cases/<int:pk>/measures/", views.case_measures, name="case_measures"),
    path("cases/<int:pk>/measures/<int:measure_id>/renew/", views.measure_renew, name="measure_renew"),
    path("cases/<int:pk>/measures/<int:measure_id>/release/", views.measure_release, name="measure_release"),
    path("cases/<int:pk>/measures/<int:measure_id>/visits/", views.measure_visit, name="measure_visit"),
    path("cases/<int:pk>/measures/<int:measure_id>/proceeds/", views.measure_proceeds, name="measure_proceeds"),
    path("cases/<int:pk>/visits/<int:visit_id>/", views.visit_record, name="visit_record"),
    path("clues/", views.clue_list, name="clue_list"),
    path("reminders/", views.reminder_list, name="reminder_list"),
]
