"""Platform registry endpoints: read by any user, written by system admins (services check)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from enforcement.models import Court
from enforcement.services import require_system_admin
from platforms import services
from platforms.models import Platform


class PlatformSerializer(serializers.ModelSerializer):
    hq_court = serializers.PrimaryKeyRelatedField(queryset=Court.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Platform
        fields = ["id", "code", "name", "kind", "hq_court", "region"]
        extra_kwargs = {"code": {"validators": []}, "name": {"required": True}}


class PlatformListView(GenericAPIView):
    serializer_class = PlatformSerializer
    queryset = Platform.objects.order_by("code")

    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PlatformSerializer(page, many=True).data)

    @extend_schema(request=PlatformSerializer, responses=PlatformSerializer)
    def post(self, request):
        require_system_admin(request.user)
        serializer = PlatformSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        platform = services.create_platform(request.user, **serializer.validated_data)
        return Response(PlatformSerializer(platform).data, status=status.HTTP_201_CREATED)
