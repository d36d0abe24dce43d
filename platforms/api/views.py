"""Platform registry endpoints: read by any user, written by system admins (services check)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from enforcement.models import Court
from enforcement.permissions import Action, get_case, require
from enforcement.services import require_system_admin
from platforms import services, signing
from platforms.models import Connector, DeliveryAttempt, Notice, Platform


class PlatformSerializer(serializers.ModelSerializer):
    hq_court = serializers.PrimaryKeyRelatedField(queryset=Court.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Platform
        fields = ["id", "code", "name", "kind", "hq_court", "region"]
        extra_kwargs = {"code": {"validators": []}, "name": {"required": True}}


class PlatformListView(GenericAPIView):
    serializer_class = PlatformSerializer
    queryset = Platform.objects.order_by("code")

    @extend_schema(responses=PlatformSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PlatformSerializer(page, many=True).data)

    @extend_schema(request=PlatformSerializer, responses={201: PlatformSerializer})
    def post(self, request):
        require_system_admin(request.user)
        serializer = PlatformSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        platform = services.create_platform(request.user, **serializer.validated_data)
        return Response(PlatformSerializer(platform).data, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------------------------
# connectors (system admins)
# --------------------------------------------------------------------------------------------


class ConnectorSerializer(serializers.ModelSerializer):
    platform = serializers.SlugRelatedField(slug_field="code", queryset=Platform.objects.all())
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True)
    capabilities = serializers.ListField(child=serializers.CharField(), required=False, default=list)

    class Meta:
        model = Connector
        fields = [
            "id",
            "platform",
            "base_url",
            "key_id",
            "secret",
            "capabilities",
            "enabled",
            "timeout_s",
            "max_attempts",
            "last_health_at",
            "last_health_ok",
            "last_error",
        ]
        read_only_fields = ["last_health_at", "last_health_ok", "last_error"]
        extra_kwargs = {"base_url": {"validators": []}, "platform": {"validators": []}}


class ConnectorListView(GenericAPIView):
    serializer_class = ConnectorSerializer

    def get_queryset(self):
        return Connector.objects.select_related("platform").order_by("platform__code")

    @extend_schema(operation_id="connectors_list", responses=ConnectorSerializer(many=True))
    def get(self, request):
        require_system_admin(request.user)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ConnectorSerializer(page, many=True).data)

    @extend_schema(request=ConnectorSerializer, responses={201: ConnectorSerializer})
    def post(self, request):
        require_system_admin(request.user)
        serializer = ConnectorSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        platform = data.pop("platform")
        if Connector.objects.filter(platform=platform).exists():
            raise DjangoValidationError({"platform": [_("该平台已有连接器，请修改它")]})
        connector = services.save_connector(request.user, platform, **data)
        return Response(ConnectorSerializer(connector).data, status=status.HTTP_201_CREATED)


class ConnectorDetailView(GenericAPIView):
    serializer_class = ConnectorSerializer

    def _get(self, request, pk):
        require_system_admin(request.user)
        try:
            return Connector.objects.select_related("platform").get(pk=pk)
        except Connector.DoesNotExist:
            raise Http404 from None

    def get(self, request, pk):
        return Response(ConnectorSerializer(self._get(request, pk)).data)

    @extend_schema(request=ConnectorSerializer, responses=ConnectorSerializer)
    def patch(self, request, pk):
        connector = self._get(request, pk)
        serializer = ConnectorSerializer(connector, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {
            "base_url": connector.base_url,
            "key_id": connector.key_id,
            "capabilities": connector.capabilities,
            "enabled": connector.enabled,
            "timeout_s": connector.timeout_s,
            "max_attempts": connector.max_attempts,
            **serializer.validated_data,
        }
        data.pop("platform", None)
        connector = services.save_connector(request.user, connector.platform, **data)
        return Response(ConnectorSerializer(connector).data)


class ConnectorHealthView(GenericAPIView):
    serializer_class = ConnectorSerializer

    @extend_schema(request=None, responses=ConnectorSerializer)
    def post(self, request, pk):
        require_system_admin(request.user)
        connector = Connector.objects.select_related("platform").filter(pk=pk).first()
        if connector is None:
            raise Http404
        return Response(ConnectorSerializer(services.check_connector_health(request.user, connector)).data)


# --------------------------------------------------------------------------------------------
# notices
# --------------------------------------------------------------------------------------------


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "started_at", "duration_ms", "http_status", "error_class", "outcome", "response_excerpt"]


class NoticeSerializer(serializers.ModelSerializer):
    platform = serializers.SlugRelatedField(slug_field="code", read_only=True)
    delivery_attempts = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Notice
        fields = [
            "id",
            "case",
            "platform",
            "kind",
            "batch",
            "state",
            "idempotency_key",
            "respondent",
            "holder_name",
            "account",
            "amount",
            "freeze_mode",
            "document_number",
            "clue",
            "measure",
            "attempts",
            "next_attempt_at",
            "last_error",
            "result",
            "cancel_reason",
            "created_at",
            "approved_at",
            "sent_at",
            "acknowledged_at",
            "completed_at",
            "delivery_attempts",
        ]


class NoticeRequestSerializer(serializers.Serializer):
    kind = serializers.CharField()
    platforms = serializers.JSONField(required=False, default="all")
    respondent = serializers.IntegerField(required=False, allow_null=True)
    clue = serializers.IntegerField(required=False, allow_null=True)
    measure = serializers.IntegerField(required=False, allow_null=True)
    account = serializers.CharField(required=False, allow_blank=True, default="")
    amount = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    freeze_mode = serializers.CharField(required=False, default="amount")


def _notices_of_case(case):
    return Notice.objects.filter(case=case).select_related("platform").prefetch_related("delivery_attempts")


def _visible_notice(request, pk, action) -> Notice:
    notice = Notice.objects.select_related("case__court", "platform").filter(pk=pk).first()
    if notice is None:
        raise Http404
    require(request.user, action, notice.case)
    return notice


class CaseNoticesView(GenericAPIView):
    serializer_class = NoticeSerializer
    queryset = Notice.objects.none()  # the schema's model; reads go through the policy below
    pagination_class = None  # the list is answered whole

    @extend_schema(responses=NoticeSerializer(many=True))
    def get(self, request, case_id):
        case = get_case(request.user, case_id, Action.VIEW)
        return Response(NoticeSerializer(_notices_of_case(case), many=True).data)

    @extend_schema(request=NoticeRequestSerializer, responses={201: NoticeSerializer(many=True)})
    def post(self, request, case_id):
        case = get_case(request.user, case_id, Action.HANDLE)
        serializer = NoticeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        notices = services.request_notices(request.user, case, **serializer.validated_data)
        fresh = _notices_of_case(case).filter(pk__in=[n.pk for n in notices]).order_by("platform__code")
        return Response(NoticeSerializer(fresh, many=True).data, status=status.HTTP_201_CREATED)


class NoticeDetailView(GenericAPIView):
    serializer_class = NoticeSerializer

    def get(self, request, pk):
        notice = _visible_notice(request, pk, Action.VIEW)
        return Response(NoticeSerializer(_notices_of_case(notice.case).get(pk=notice.pk)).data)


class NoticeApproveView(GenericAPIView):
    serializer_class = NoticeSerializer

    @extend_schema(request=None, responses=NoticeSerializer)
    def post(self, request, pk):
        notice = _visible_notice(request, pk, Action.VIEW)
        notice = services.approve_notice(request.user, notice)
        return Response(NoticeSerializer(_notices_of_case(notice.case).get(pk=notice.pk)).data)


class NoticeReplayView(GenericAPIView):
    serializer_class = NoticeSerializer

    @extend_schema(request=None, responses=NoticeSerializer)
    def post(self, request, pk):
        notice = _visible_notice(request, pk, Action.VIEW)
        notice = services.replay_notice(request.user, notice)
        return Response(NoticeSerializer(_notices_of_case(notice.case).get(pk=notice.pk)).data)


class NoticeCallbackView(APIView):
    """Signed asynchronous answers from platforms (Standard Webhooks); no session or token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses=None)
    def post(self, request, code):
        try:
            outcome = services.receive_callback(code, request.headers, request.body)
        except signing.SignatureError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_401_UNAUTHORIZED)
        return Response({"outcome": outcome})
