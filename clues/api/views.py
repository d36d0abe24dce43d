"""Clue and measure endpoints. Thin: load through the policy, parse, call a service, shape."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from clues import queries, services
from clues.models import LiveSeizureVisit, Measure, PropertyClue
from clues.presenters import clue_context
from enforcement.permissions import Action, get_case, require

from .serializers import (
    ClueInputSerializer,
    ClueSerializer,
    InvalidateSerializer,
    MeasureInputSerializer,
    MeasureSerializer,
    ProceedsSerializer,
    ReleaseSerializer,
    RenewSerializer,
    VisitRecordedSerializer,
    VisitRecordSerializer,
    VisitScheduleSerializer,
    VisitSerializer,
)


def _parse(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _clue_context(request, case, clues) -> dict:
    """Other courts for the listed assets in one query; audit reads of sensitive clue content."""
    return clue_context(request.user, case, clues)


def _object_in_visible_case(request, model, pk, action, related="case"):
    """Load a clue/measure/visit and check the policy on its case (404 if the case is hidden)."""
    try:
        obj = model.objects.select_related(f"{related}__court").get(pk=pk)
    except (model.DoesNotExist, ValueError):
        raise Http404 from None
    case = obj
    for part in related.split("__"):
        case = getattr(case, part)
    require(request.user, action, case)
    return obj, case


class CaseCluesView(GenericAPIView):
    serializer_class = ClueSerializer
    queryset = PropertyClue.objects.none()  # the schema's model; reads go through the policy
    pagination_class = None  # the list is answered whole

    @extend_schema(responses=ClueSerializer(many=True))
    def get(self, request, case_id):
        case = get_case(request.user, case_id, Action.VIEW)
        clues = list(queries.clues_of(case))
        return Response(ClueSerializer(clues, many=True, context=_clue_context(request, case, clues)).data)

    @extend_schema(request=ClueInputSerializer, responses={201: ClueSerializer})
    def post(self, request, case_id):
        case = get_case(request.user, case_id, Action.HANDLE)
        data = _parse(ClueInputSerializer, request.data)
        clue = services.add_clue(request.user, case, **data)
        context = _clue_context(request, case, [clue])
        return Response(ClueSerializer(clue, context=context).data, status=status.HTTP_201_CREATED)


class ClueDetailView(GenericAPIView):
    serializer_class = ClueSerializer

    def get(self, request, pk):
        clue, case = _object_in_visible_case(request, PropertyClue, pk, Action.VIEW)
        return Response(ClueSerializer(clue, context=_clue_context(request, case, [clue])).data)


class ClueVerifyView(GenericAPIView):
    serializer_class = ClueSerializer

    @extend_schema(request=None, responses=ClueSerializer)
    def post(self, request, pk):
        clue, case = _object_in_visible_case(request, PropertyClue, pk, Action.VIEW)
        clue = services.verify_clue(request.user, clue)
        return Response(ClueSerializer(clue, context=_clue_context(request, case, [clue])).data)


class ClueInvalidateView(GenericAPIView):
    serializer_class = ClueSerializer

    @extend_schema(request=InvalidateSerializer, responses=ClueSerializer)
    def post(self, request, pk):
        clue, case = _object_in_visible_case(request, PropertyClue, pk, Action.VIEW)
        data = _parse(InvalidateSerializer, request.data)
        clue = services.invalidate_clue(request.user, clue, reason=data["reason"])
        return Response(ClueSerializer(clue, context=_clue_context(request, case, [clue])).data)


class CaseMeasuresView(GenericAPIView):
    serializer_class = MeasureSerializer
    queryset = Measure.objects.none()  # the schema's model; reads go through the policy
    pagination_class = None  # the list is answered whole

    @extend_schema(responses=MeasureSerializer(many=True))
    def get(self, request, case_id):
        case = get_case(request.user, case_id, Action.VIEW)
        return Response(MeasureSerializer(queries.measures_of(case), many=True).data)

    @extend_schema(request=MeasureInputSerializer, responses={201: MeasureSerializer})
    def post(self, request, case_id):
        case = get_case(request.user, case_id, Action.HANDLE)
        data = _parse(MeasureInputSerializer, request.data)
        measure = services.record_measure(request.user, case, **data)
        return Response(MeasureSerializer(measure).data, status=status.HTTP_201_CREATED)


class MeasureDetailView(GenericAPIView):
    serializer_class = MeasureSerializer

    def get(self, request, pk):
        measure, _case = _object_in_visible_case(request, Measure, pk, Action.VIEW)
        return Response(MeasureSerializer(measure).data)


class MeasureRenewView(GenericAPIView):
    serializer_class = MeasureSerializer

    @extend_schema(request=RenewSerializer, responses={201: MeasureSerializer})
    def post(self, request, pk):
        measure, _case = _object_in_visible_case(request, Measure, pk, Action.VIEW)
        data = _parse(RenewSerializer, request.data)
        renewal = services.renew_measure(request.user, measure, effective_on=data.get("effective_on"))
        return Response(MeasureSerializer(renewal).data, status=status.HTTP_201_CREATED)


class MeasureReleaseView(GenericAPIView):
    serializer_class = MeasureSerializer

    @extend_schema(request=ReleaseSerializer, responses=MeasureSerializer)
    def post(self, request, pk):
        measure, _case = _object_in_visible_case(request, Measure, pk, Action.VIEW)
        data = _parse(ReleaseSerializer, request.data)
        released, promoted = services.release_measure(request.user, measure, reason=data["reason"])
        body = MeasureSerializer(released).data
        body["promoted"] = MeasureSerializer(promoted).data if promoted else None
        return Response(body)


class MeasureVisitsView(GenericAPIView):
    serializer_class = VisitScheduleSerializer

    @extend_schema(request=VisitScheduleSerializer, responses={201: VisitSerializer})
    def post(self, request, pk):
        measure, _case = _object_in_visible_case(request, Measure, pk, Action.VIEW)
        data = _parse(VisitScheduleSerializer, request.data)
        visit = services.schedule_visit(request.user, measure, scheduled_on=data["scheduled_on"])
        return Response({"id": visit.pk, "scheduled_on": visit.scheduled_on}, status=status.HTTP_201_CREATED)


class VisitRecordView(GenericAPIView):
    serializer_class = VisitRecordSerializer

    @extend_schema(request=VisitRecordSerializer, responses=VisitRecordedSerializer)
    def post(self, request, pk):
        visit, _case = _object_in_visible_case(request, LiveSeizureVisit, pk, Action.VIEW, related="measure__case")
        data = _parse(VisitRecordSerializer, request.data)
        visit = services.record_visit(request.user, visit, **data)
        return Response(
            {
                "id": visit.pk,
                "visited_on": visit.visited_on,
                "count": visit.count,
                "photos": sorted(visit.photos.values_list("pk", flat=True)),
            }
        )


class MeasureProceedsView(GenericAPIView):
    serializer_class = MeasureSerializer

    @extend_schema(request=ProceedsSerializer, responses=MeasureSerializer)
    def post(self, request, pk):
        measure, _case = _object_in_visible_case(request, Measure, pk, Action.VIEW)
        data = _parse(ProceedsSerializer, request.data)
        measure = services.record_sale_proceeds(request.user, measure, amount=data["amount"])
        return Response(MeasureSerializer(measure).data)
