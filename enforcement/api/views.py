"""API views: thin. They parse with a serializer, load cases through the policy
(``enforcement.permissions`` / ``enforcement.queries``), call one service for every write, and
shape the answer. A case the user may not see answers 404; a visible case with a forbidden
action 403 (raised by the policy before the body is even looked at).
"""

from __future__ import annotations

import json

from django.db.models import Q, prefetch_related_objects
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, renderers, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from enforcement import permissions, queries, services
from enforcement.models import CaseParty, Court, EnforcementCase, Party, Role, User
from enforcement.permissions import Action

from . import filters, serializers
from .exceptions import LockedOut, lockout_wait_seconds, service_errors
from .permissions import IsSystemAdmin, ReadAnyWriteSystemAdmin

# Service field names -> API field names (dotted = nested object in the request body).
CASE_FIELDS = {
    "basis_document_number": "basis.document_number",
    "basis_issuing_court": "basis.issuing_court",
}


class Pagination(LimitOffsetPagination):
    max_limit = 500


class CountedPagination(Pagination):
    """For lists whose count is as costly as the page: both from one query
    (``queries.rows_and_total``)."""

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.offset = self.get_offset(request)
        rows, self.count = queries.rows_and_total(queryset, self.offset, self.limit)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        return rows


# --------------------------------------------------------------------------------------------
# auth
# --------------------------------------------------------------------------------------------


def _take_lockout_flag(request) -> bool:
    """Did django-axes lock this login out? Clears the flag so AxesMiddleware does not render
    its HTML lockout page over our JSON answer."""
    locked = False
    for obj in (request, getattr(request, "_request", None)):
        if obj is not None and vars(obj).pop("axes_locked_out", False):
            locked = True
    return locked


@extend_schema(
    tags=["auth"],
    auth=[],
    request=AuthTokenSerializer,
    responses={
        200: serializers.TokenSerializer,
        400: OpenApiResponse(description=_("用户名或密码错误")),
        429: OpenApiResponse(description=_("登录失败次数过多，账户暂时锁定")),
    },
)
class ObtainTokenView(ObtainAuthToken):
    """Exchange username and password for an API token. Failed attempts are throttled per
    username and address by django-axes (the first authentication backend)."""

    parser_classes = (JSONParser, FormParser, MultiPartParser)

    def post(self, request, *args, **kwargs):
        try:
            response = super().post(request, *args, **kwargs)
        except exceptions.ValidationError:
            if _take_lockout_flag(request):
                raise LockedOut(lockout_wait_seconds()) from None
            raise
        _take_lockout_flag(request)
        return response


# --------------------------------------------------------------------------------------------
# courts and users
# --------------------------------------------------------------------------------------------


@extend_schema(tags=["courts"])
@extend_schema_view(create=extend_schema(responses={201: serializers.CourtSerializer}))
class CourtViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Courts (read: every signed-in user; register: system administrators)."""

    queryset = Court.objects.order_by("path", "pk")
    serializer_class = serializers.CourtSerializer
    permission_classes = [ReadAnyWriteSystemAdmin]
    filterset_class = filters.CourtFilter
    pagination_class = Pagination

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors():
            court = services.create_court(
                request.user,
                code=data["code"],
                name=data["name"],
                level=data["level"],
                parent=data.get("parent"),
                region=data["region"],
            )
        return Response(self.get_serializer(court).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["users"])
@extend_schema_view(create=extend_schema(responses={201: serializers.UserSerializer}))
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Users of the system (system administrators only)."""

    queryset = User.objects.select_related("court").prefetch_related("roles").order_by("pk")
    serializer_class = serializers.UserSerializer
    permission_classes = [IsSystemAdmin]
    filterset_class = filters.UserFilter
    pagination_class = Pagination

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors():
            user = services.create_user(
                request.user,
                username=data["username"],
                password=data["password"],
                display_name=data["display_name"],
                court=data.get("court"),
                roles=data["role_codes"],
            )
        user = self.get_queryset().get(pk=user.pk)
        return Response(self.get_serializer(user).data, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------------------------
# parties
# --------------------------------------------------------------------------------------------


def visible_parties(user):
    """Parties of cases the user may view, plus those the user registered (SQL, via the policy)."""
    if permissions.sees_no_cases(user):
        return Party.objects.none()
    in_visible_cases = CaseParty.objects.filter(case__in=permissions.cases_for(user, Action.VIEW)).values("party_id")
    return Party.objects.filter(Q(created_by=user) | Q(pk__in=in_visible_cases)).order_by("-pk")


def usable_party_ids(user, ids) -> set[int]:
    """Of ``ids``, the parties the user may name in a new case: those the user may see (parties of
    visible cases, parties the user registered) and parties of no case yet registered in the
    user's court (or by the system). Another court's parties are not: naming them by id would put
    them in the user's case and show their names and ID numbers in the answer."""
    ids = {pk for pk in ids if isinstance(pk, int)}
    if not ids:
        return set()
    visible = set(visible_parties(user).filter(pk__in=ids).values_list("pk", flat=True))
    unattached = Party.objects.filter(pk__in=ids - visible, case_roles__isnull=True).filter(
        Q(created_by__isnull=True) | Q(created_by__court_id=user.court_id)
    )
    return visible | set(unattached.values_list("pk", flat=True))


@extend_schema(tags=["parties"])
@extend_schema_view(
    list=extend_schema(parameters=[filters.PartyListParams]),
    create=extend_schema(responses={201: serializers.PartySerializer}),
)
class PartyViewSet(viewsets.GenericViewSet):
    """Parties (当事人). Listed only where the user may see them: parties of visible cases and
    parties the user registered."""

    serializer_class = serializers.PartySerializer
    queryset = Party.objects.none()
    pagination_class = Pagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Party.objects.none()
        return visible_parties(self.request.user)

    def list(self, request):
        params = filters.parse_params(filters.PartyListParams, request)
        page = self.paginate_queryset(filters.search_parties(self.get_queryset(), params["q"]))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        try:
            party = self.get_queryset().get(pk=int(pk))
        except (Party.DoesNotExist, TypeError, ValueError):
            raise Http404 from None
        return Response(self.get_serializer(party).data)

    def create(self, request):
        services.require_role(request.user, Role.JUDGE, Role.BUREAU_HEAD)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            party = services.create_party(request.user, **serializer.validated_data)
        return Response(self.get_serializer(party).data, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------------------------


class DownloadRenderer(renderers.BaseRenderer):
    """Lets a download answer whatever the client accepts; errors still come out as JSON."""

    media_type = "*/*"
    format = "download"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


_CASE_404 = OpenApiResponse(description=_("案件不存在或无权知悉"))
_CASE_403 = OpenApiResponse(description=_("无权对该案件执行此操作"))


@extend_schema(tags=["cases"])
@extend_schema_view(
    list=extend_schema(parameters=[filters.CaseListParams]),
    create=extend_schema(request=serializers.CaseCreateSerializer, responses={201: serializers.CaseSerializer}),
    retrieve=extend_schema(responses={200: serializers.CaseSerializer, 404: _CASE_404}),
    partial_update=extend_schema(
        request=serializers.CaseUpdateSerializer,
        responses={200: serializers.CaseSerializer, 403: _CASE_403, 404: _CASE_404},
    ),
)
class CaseViewSet(viewsets.GenericViewSet):
    """Enforcement cases (执行案件), always through the permission policy."""

    serializer_class = serializers.CaseSerializer
    queryset = EnforcementCase.objects.none()
    pagination_class = Pagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EnforcementCase.objects.none()
        params = filters.parse_params(filters.CaseListParams, self.request)
        return queries.case_list(self.request.user, **params)

    def _show(self, case: EnforcementCase, status_code=status.HTTP_200_OK) -> Response:
        """The case as the user sees it now (re-read through the policy, prefetched)."""
        try:
            case = queries.case_detail(self.request.user, case.pk)
        except Http404:
            # The actor just filed it but handles none of it (e.g. filed for a colleague):
            # answer with what was written, once.
            prefetch_related_objects([case], "case_parties__party", "user_grants__user", "user_grants__permission")
        return Response(self.get_serializer(case).data, status=status_code)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(queries.case_detail(request.user, pk)).data)

    def create(self, request):
        services.require_role(request.user, Role.JUDGE, Role.BUREAU_HEAD)
        serializer = serializers.CaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        usable = usable_party_ids(request.user, [*data["applicants"], *data["respondents"]])
        with service_errors(CASE_FIELDS):
            case = services.open_case(
                request.user,
                court=data.get("court"),
                type_code=data["type_code"],
                # an unusable id becomes 0, which no party has: the service's "不存在的当事人"
                # answers it together with the body's other errors, as for an unknown id
                applicants=[pk if pk in usable else 0 for pk in data["applicants"]],
                respondents=[pk if pk in usable else 0 for pk in data["respondents"]],
                basis_document_number=data["basis"]["basis_document_number"],
                basis_issuing_court=data["basis"]["basis_issuing_court"],
                amount_due=data["amount_due"],
                filed_on=data.get("filed_on"),
                assigned_judges=data["assigned_judges"],
            )
        return self._show(case, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        case = permissions.get_case(request.user, pk, Action.HANDLE)
        serializer = serializers.CaseUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(CASE_FIELDS):
            case = services.update_case(request.user, case, **serializer.changes())
        return self._show(case)

    @extend_schema(
        request=serializers.TransitionSerializer,
        responses={200: serializers.CaseSerializer, 403: _CASE_403, 404: _CASE_404},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the case along the transition table (start, suspend, close with a method, ...)."""
        case = permissions.get_case(request.user, pk, Action.HANDLE)
        serializer = serializers.TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors():
            case = services.transition_case(
                request.user, case, data["status"], closing_method=data["closing_method"], reason=data["reason"]
            )
        return self._show(case)

    @extend_schema(
        request=serializers.AssignSerializer,
        responses={200: serializers.CaseSerializer, 403: _CASE_403, 404: _CASE_404},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Set the judges handling the case (bureau head of the case's court)."""
        case = permissions.get_case(request.user, pk, Action.ASSIGN)
        serializer = serializers.AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.assign_judges(request.user, case, serializer.validated_data["assigned_judges"])
        return self._show(case)

    @extend_schema(
        request=serializers.ResumeSerializer,
        responses={201: serializers.CaseSerializer, 403: _CASE_403, 404: _CASE_404},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """执恢: resume a case closed for now; answers the new case."""
        case = permissions.get_case(request.user, pk, Action.HANDLE)
        serializer = serializers.ResumeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            new = services.resume_case(request.user, case, reason=serializer.validated_data["reason"])
        return self._show(new, status.HTTP_201_CREATED)

    @extend_schema(responses={200: serializers.CaseEventSerializer(many=True), 404: _CASE_404})
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        """The case timeline (办案日志), newest first."""
        case = permissions.get_case(request.user, pk, Action.VIEW)
        page = self.paginate_queryset(queries.case_events(case))
        return self.get_paginated_response(serializers.CaseEventSerializer(page, many=True).data)

    @extend_schema(
        methods=["GET"],
        responses={200: serializers.DocumentSerializer(many=True), 403: _CASE_403, 404: _CASE_404},
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": serializers.DocumentUploadSerializer},
        responses={201: serializers.DocumentSerializer, 403: _CASE_403, 404: _CASE_404},
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser])
    def documents(self, request, pk=None):
        """The case file (案卷材料): list (reading the file is audited) or upload a document."""
        if request.method == "POST":
            case = permissions.get_case(request.user, pk, Action.HANDLE)
            serializer = serializers.DocumentUploadSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            with service_errors():
                document = services.add_document(
                    request.user, case, doc_type=data["doc_type"], title=data["title"], upload=data["file"]
                )
            return Response(serializers.DocumentSerializer(document).data, status=status.HTTP_201_CREATED)
        case = permissions.get_case(request.user, pk, Action.VIEW_FILE)
        services.record_file_read(request.user, case, "documents")
        page = self.paginate_queryset(case.documents.order_by("-uploaded_at", "-id"))
        return self.get_paginated_response(serializers.DocumentSerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("doc_id", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("材料编号"))],
        responses={
            # the document's own type (application/pdf, image/jpeg, ...)
            (200, "*/*"): OpenApiTypes.BINARY,
            403: _CASE_403,
            404: _CASE_404,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"documents/(?P<doc_id>[^/.]+)/download",
        url_name="document-download",
        renderer_classes=[renderers.JSONRenderer, DownloadRenderer],
        pagination_class=None,
    )
    def download(self, request, pk=None, doc_id=None):
        """Download one document of the case file (the read is audited)."""
        case = permissions.get_case(request.user, pk, Action.VIEW_FILE)
        try:
            document = get_object_or_404(case.documents, pk=int(doc_id))
        except (TypeError, ValueError):
            raise Http404 from None
        services.record_file_read(request.user, case, "document", obj=document)
        return FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type or "application/octet-stream",
        )
