"""Transfer endpoints. Thin: parse, load through the policy, call one service, shape the answer.
A transfer of a case the user may not see answers 404; a forbidden action 403 (from the service)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from enforcement.api.exceptions import service_errors
from enforcement.api.views import CountedPagination, Pagination
from enforcement.models import EnforcementCase, Role
from enforcement.permissions import Action, get_case, require, sees_no_cases

from .. import queries, recommendation, services
from ..models import Art237ExcludedPeriod, FileAccessGrant, MaterialRequest, Transfer, TriggerConfig
from . import serializers as s


def _parse(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _transfer(pk, user=None) -> Transfer:
    """The transfer row (the service checks the policy on its case: 404 hidden, 403 forbidden).
    With ``user``: 404 at once when its case is hidden from the user, before the body is read, so
    that a 400 never tells another court the transfer exists."""
    transfer = Transfer.objects.select_related("case__court").filter(pk=pk).first()
    if transfer is None:
        raise Http404(_("交叉执行不存在"))
    if user is not None:
        require(user, Action.VIEW, transfer.case)
    return transfer


def _show(request, transfer, status_code=status.HTTP_200_OK) -> Response:
    return Response(s.TransferSerializer(queries.transfer_detail(request.user, transfer.pk)).data, status=status_code)


class TransferListView(GenericAPIView):
    """Transfers of cases the user may see; filters ``?state=`` and ``?role=deciding|receiving``."""

    queryset = Transfer.objects.none()

    serializer_class = s.TransferSerializer
    pagination_class = Pagination

    @extend_schema(operation_id="transfers_list", responses=s.TransferSerializer(many=True))
    def get(self, request):
        queryset = queries.transfers_for(
            request.user, state=request.query_params.get("state", ""), role=request.query_params.get("role", "")
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.TransferSerializer(page, many=True).data)

    @extend_schema(
        request=s.TransferCreateSerializer,
        responses={201: s.TransferSerializer, 404: OpenApiResponse(description=gettext_lazy("案件不存在或无权知悉"))},
    )
    def post(self, request):
        services.require_role(request.user, Role.JUDGE, Role.BUREAU_HEAD, Role.SUPERVISOR)
        data = _parse(s.TransferCreateSerializer, request.data)
        with service_errors():
            transfer = services.create_transfer(request.user, **data)
        return _show(request, transfer, status.HTTP_201_CREATED)


class TransferDetailView(GenericAPIView):
    queryset = Transfer.objects.none()
    serializer_class = s.TransferSerializer

    def get(self, request, pk):
        return _show(request, _transfer(pk))


class EligibleView(GenericAPIView):
    """For a supervisor: open cases of subordinate courts eligible under art. 237 or a trigger,
    each with its reasons. ``?sort=art237|-art237|filed_on|-filed_on|last_activity|-linked|court``,
    ``?reason=art237|same_respondent|undisposed|stalled``."""

    queryset = EnforcementCase.objects.none()

    serializer_class = s.EligibleCaseSerializer
    pagination_class = CountedPagination

    @extend_schema(operation_id="transfers_eligible_list", responses=s.EligibleCaseSerializer(many=True))
    def get(self, request):
        if sees_no_cases(request.user) or not request.user.has_role(Role.SUPERVISOR):
            raise PermissionDenied(_("只有上级法院的监督人员可以查看可交叉执行的案件"))
        queryset = queries.eligible_cases(
            request.user, sort=request.query_params.get("sort", ""), reason=request.query_params.get("reason", "")
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.EligibleCaseSerializer(page, many=True).data)


class RecommendationView(GenericAPIView):
    queryset = Transfer.objects.none()
    serializer_class = s.RecommendationSerializer

    def get(self, request, pk):
        transfer = queries.transfer_detail(request.user, pk)
        return Response(s.RecommendationSerializer({"candidates": recommendation.recommend(transfer)}).data)


def _action(service, input_serializer=None, *, answer=None):
    """A POST endpoint that parses its body and calls one transfer service."""
    created = getattr(answer, "serializer_class", None)  # what a ``_created`` answer shows, with 201

    class View(GenericAPIView):
        serializer_class = s.TransferSerializer
        queryset = Transfer.objects.none()

        @extend_schema(request=input_serializer, responses={201: created} if created else s.TransferSerializer)
        def post(self, request, pk):
            transfer = _transfer(pk, request.user)
            data = _parse(input_serializer, request.data) if input_serializer else {}
            with service_errors():
                result = service(request.user, transfer, **data)
            if answer is not None:
                return answer(request, transfer, result)
            return _show(request, transfer)

    View.__name__ = f"{service.__name__.title().replace('_', '')}View"
    View.__doc__ = service.__doc__
    return View


def _accepted(request, transfer, result) -> Response:
    body = s.TransferSerializer(queries.transfer_detail(request.user, transfer.pk)).data
    return Response({"receiving_case": body["receiving_case"], **body})


def _created(serializer_class):
    def answer(request, transfer, result) -> Response:
        return Response(serializer_class(result).data, status=status.HTTP_201_CREATED)

    answer.serializer_class = serializer_class
    return answer


ReviewView = _action(services.review_transfer)
ApproveView = _action(services.approve_transfer, s.ApproveSerializer)
RejectView = _action(services.reject_transfer, s.ReasonSerializer)
AcceptView = _action(services.accept_transfer, s.AcceptSerializer, answer=_accepted)
RefuseView = _action(services.refuse_transfer, s.ReasonSerializer)
ConcludeView = _action(services.conclude_transfer, s.ConcludeSerializer)
ReconsiderationView = _action(services.request_reconsideration, s.ReasonSerializer)
ReconsiderationAnswerView = _action(services.answer_reconsideration, s.AnswerSerializer)
StepView = _action(services.record_bankruptcy_step, s.StepSerializer, answer=_created(s.BankruptcyStepOutSerializer))
ReportView = _action(services.report_progress, s.ReportSerializer, answer=_created(s.ReportOutSerializer))
MaterialsView = _action(
    services.request_materials, s.MaterialRequestInputSerializer, answer=_created(s.MaterialRequestSerializer)
)


class SupplyView(GenericAPIView):
    queryset = MaterialRequest.objects.none()
    serializer_class = s.MaterialRequestSerializer

    @extend_schema(request=s.SupplySerializer, responses=s.MaterialRequestSerializer)
    def post(self, request, pk):
        material = MaterialRequest.objects.select_related("transfer__case__court").filter(pk=pk).first()
        if material is None:
            raise Http404
        require(request.user, Action.VIEW, material.transfer.case)  # 404 before the body is read
        data = _parse(s.SupplySerializer, request.data)
        with service_errors():
            material = services.supply_materials(request.user, material, **data)
        return Response(s.MaterialRequestSerializer(material).data)


class TriggerConfigView(GenericAPIView):
    """The trigger thresholds of the supervisor's province (read: its supervisors; write: the
    high court's supervisors)."""

    queryset = TriggerConfig.objects.none()

    serializer_class = s.TriggerConfigSerializer

    def _high_court(self, request):
        user = request.user
        if sees_no_cases(user) or not user.has_role(Role.SUPERVISOR):
            raise PermissionDenied(_("只有监督人员可以查看交叉执行触发条件"))
        high = services.high_court_of(user.court)
        if high is None:
            raise PermissionDenied(_("本院不属于任何高级人民法院辖区"))
        return high

    def get_object(self):
        """The province whose thresholds this view shows (DRF's OPTIONS asks for it before a PUT)."""
        return self._high_court(self.request)

    def _answer(self, high) -> Response:
        return Response({"high_court": high.pk, **services.trigger_values(high)})

    def get(self, request):
        return self._answer(self._high_court(request))

    @extend_schema(request=s.TriggerConfigSerializer, responses=s.TriggerConfigSerializer)
    def put(self, request):
        high = self._high_court(request)
        data = _parse(s.TriggerConfigSerializer, request.data)
        with service_errors():
            services.update_trigger_config(request.user, high, **data)
        return self._answer(high)

    patch = put


class ExcludedPeriodsView(GenericAPIView):
    """The art. 237 excluded periods of a case (read: viewers; record: handlers)."""

    queryset = Art237ExcludedPeriod.objects.none()

    serializer_class = s.ExcludedPeriodSerializer
    pagination_class = None  # the list is answered whole

    @extend_schema(operation_id="cases_art237_exclusions_list", responses=s.ExcludedPeriodSerializer(many=True))
    def get(self, request, case_id):
        case = get_case(request.user, case_id, Action.VIEW)
        periods = Art237ExcludedPeriod.objects.filter(case=case).order_by("started_on", "pk")
        return Response(s.ExcludedPeriodSerializer(periods, many=True).data)

    @extend_schema(request=s.ExcludedPeriodInputSerializer, responses={201: s.ExcludedPeriodSerializer})
    def post(self, request, case_id):
        case = get_case(request.user, case_id, Action.HANDLE)
        data = _parse(s.ExcludedPeriodInputSerializer, request.data)
        with service_errors():
            period = services.record_excluded_period(request.user, case, **data)
        return Response(s.ExcludedPeriodSerializer(period).data, status=status.HTTP_201_CREATED)


class FileAccessListView(GenericAPIView):
    """The user's own file-access requests and those awaiting the user's decision (bureau head)."""

    queryset = FileAccessGrant.objects.none()

    serializer_class = s.FileAccessSerializer
    pagination_class = Pagination

    @extend_schema(operation_id="file_access_list", responses=s.FileAccessSerializer(many=True))
    def get(self, request):
        queryset = queries.file_grants_for(request.user)
        if request.query_params.get("state"):
            queryset = queryset.filter(state=request.query_params["state"])
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.FileAccessSerializer(page, many=True).data)

    @extend_schema(request=s.FileAccessInputSerializer, responses={201: s.FileAccessSerializer})
    def post(self, request):
        services.require_role(request.user, Role.JUDGE, Role.BUREAU_HEAD)
        data = _parse(s.FileAccessInputSerializer, request.data)
        with service_errors():
            grant = services.request_file_access(request.user, **data)
        return Response(s.FileAccessSerializer(grant).data, status=status.HTTP_201_CREATED)


def _grant_action(service, input_serializer):
    class View(GenericAPIView):
        serializer_class = s.FileAccessSerializer
        queryset = FileAccessGrant.objects.none()

        @extend_schema(request=input_serializer, responses=s.FileAccessSerializer)
        def post(self, request, pk):
            grant = FileAccessGrant.objects.select_related("case__court").filter(pk=pk).first()
            if grant is None:
                raise Http404
            if grant.requester_id != request.user.pk:
                require(request.user, Action.VIEW, grant.case)  # 404 before the body is read
            data = _parse(input_serializer, request.data)
            with service_errors():
                grant = service(request.user, grant, **data)
            return Response(s.FileAccessSerializer(grant).data)

    View.__name__ = f"{service.__name__.title().replace('_', '')}View"
    View.__doc__ = service.__doc__
    return View


FileAccessApproveView = _grant_action(services.approve_file_access, s.FileAccessDecisionSerializer)
FileAccessRefuseView = _grant_action(services.refuse_file_access, s.NoteSerializer)
FileAccessRevokeView = _grant_action(services.revoke_file_access, s.NoteSerializer)
