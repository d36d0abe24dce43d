from django.urls import path

from . import views

urlpatterns = [
    path("cases/<int:case_id>/clues/", views.CaseCluesView.as_view(), name="api-case-clues"),
    path("cases/<int:case_id>/measures/", views.CaseMeasuresView.as_view(), name="api-case-measures"),
    path("clues/<int:pk>/", views.ClueDetailView.as_view(), name="api-clue"),
    path("clues/<int:pk>/verify/", views.ClueVerifyView.as_view(), name="api-clue-verify"),
    path("clues/<int:pk>/invalidate/", views.ClueInvalidateView.as_view(), name="api-clue-invalidate"),
    path("measures/<int:pk>/", views.MeasureDetailView.as_view(), name="api-measure"),
    path("measures/<int:pk>/renew/", views.MeasureRenewView.as_view(), name="api-measure-renew"),
    path("measures/<int:pk>/release/", views.MeasureReleaseView.as_view(), name="api-measure-release"),
    path("measures/<int:pk>/visits/", views.MeasureVisitsView.as_view(), name="api-measure-visits"),
    path("measures/<int:pk>/proceeds/", views.MeasureProceedsView.as_view(), name="api-measure-proceeds"),
    path("visits/<int:pk>/record/", views.VisitRecordView.as_view(), name="api-visit-record"),
]
