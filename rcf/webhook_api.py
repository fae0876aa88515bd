"""``/api/v1/webhooks/``: webhook endpoints, their delivery log and "redeliver"
(administrators only: the ``rcf.*_webhookendpoint`` permissions of the role).
Every write goes through ``rcf.webhooks``; nothing here talks to the network."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from . import webhooks
from .api import (
    ETAG_HEADER,
    IF_MATCH,
    IF_MATCH_OPTIONAL,
    ConsistentReadsMixin,
    ModelPermissionsMixin,
    PreconditionRequired,
    error_responses,
    if_match_versions,
    record_etag,
    refuse_if_none_match,
)
from .models import WebhookDelivery, WebhookEndpoint
from .serializers import ApiModelSerializer, ErrorSerializer, UTCDateTimeField


class WebhookEndpointSerializer(ApiModelSerializer):
    events = serializers.ListField(
        child=serializers.CharField(), allow_empty=False,
        help_text=_("Event names: %(events)s.") % {"events": ", ".join(webhooks.EVENTS)})
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    secret_rotation_ends_at = UTCDateTimeField(
        source="previous_secret_expires_at", read_only=True, allow_null=True,
        help_text=_("Until then the previous secret signs too, beside the current one."))
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    admin_email = serializers.EmailField(
        required=False, allow_blank=True,
        help_text=_("Told when the endpoint is disabled after failing (default: whoever created it)."))

    class Meta:
        model = WebhookEndpoint
        fields = ("id", "url", "events", "description", "is_active", "admin_email", "disabled_reason",
                  "disabled_at", "failing_since", "secret_rotation_ends_at", "created_by", "created_at",
                  "updated_at")
        read_only_fields = ("id", "disabled_reason", "disabled_at", "failing_since", "created_by", "created_at",
                            "updated_at")

    def validate_events(self, value):
        problems = webhooks.webhook_endpoint_check(events=value).get("events")
        if problems:
            raise serializers.ValidationError(problems)
        return value


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text=_("The signing secret (whsec_…). Shown only in this answer: keep it."))

    class Meta(WebhookEndpointSerializer.Meta):
        fields = (*WebhookEndpointSerializer.Meta.fields, "secret")


class WebhookDeliverySerializer(ApiModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ("id", "webhook_id", "event", "resource", "object_id", "status", "attempts", "response_code",
                  "duration_ms", "last_error", "occurred_at", "created_at", "first_attempt_at", "last_attempt_at",
                  "next_attempt_at", "delivered_at", "payload")
        read_only_fields = fields


_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description=_("The endpoint's id."))
_DELIVERY_ID = OpenApiParameter("delivery_id", int, OpenApiParameter.PATH, description=_("The delivery's id."))
_READ = error_responses(401, 403, 429)
_WRITE = error_responses(400, 401, 403, 413, 415, 429)
_STALE = {412: OpenApiResponse(ErrorSerializer, description=_("The endpoint changed since the If-Match version.")),
          **error_responses(428)}


class PaginatedDeliveries(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WebhookDeliverySerializer(many=True)


@extend_schema_view(
    list=extend_schema(responses={200: WebhookEndpointSerializer(many=True), **_READ}),
    retrieve=extend_schema(parameters=[_ID, ETAG_HEADER], responses={200: WebhookEndpointSerializer, **_READ,
                                                                     **error_responses(404)}),
    create=extend_schema(
        responses={201: WebhookEndpointWithSecretSerializer, **_WRITE},
        examples=[OpenApiExample("Projects", request_only=True, value={
            "url": "https://hooks.example.org/rcf", "events": ["project.created", "project.updated"]})],
        description=_("Subscribe a URL to events. The answer carries the signing secret: the only time it is "
                      "shown."),
    ),
    partial_update=extend_schema(parameters=[_ID, IF_MATCH, ETAG_HEADER],
                                 responses={200: WebhookEndpointSerializer, **_WRITE, **_STALE,
                                            **error_responses(404)},
                                 description=_("Change the URL, the events, the e-mail or the active flag. "
                                               "Turning a disabled endpoint back on sends what waited, oldest "
                                               "first.")),
    destroy=extend_schema(parameters=[_ID, IF_MATCH], responses={204: None, **_READ, **_STALE,
                                                                 **error_responses(400, 404)}),
)
class WebhookEndpointViewSet(ConsistentReadsMixin, ModelPermissionsMixin, mixins.ListModelMixin,
                             mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Webhook endpoints (administrators): each receives the events it
    subscribes to, signed as the Standard Webhooks specification says."""

    queryset = WebhookEndpoint.objects.select_related("created_by").order_by("id")
    serializer_class = WebhookEndpointSerializer
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {**ModelPermissionsMixin.action_permissions, "rotate_secret": "change",
                          "deliveries": "view", "redeliver": "change"}

    def expected_version(self, request, endpoint, *, required: bool = True) -> int | None:
        """The version If-Match names, as on the records (rcf.api): required
        for PATCH and DELETE, so a change never overwrites one it has not seen."""
        from .services import VersionConflict

        refuse_if_none_match(request, endpoint.version)
        header = (request.headers.get("If-Match") or "").strip()
        if not header or header == "*":
            if required:
                raise PreconditionRequired()
            return None
        if endpoint.version not in if_match_versions(header):
            raise VersionConflict(endpoint)
        return endpoint.version

    def precondition_failed(self, current) -> Response:
        return Response({"detail": _("The endpoint has changed since you read it: read it again.")},
                        status=status.HTTP_412_PRECONDITION_FAILED,
                        headers={"ETag": record_etag(self.get_serializer(current).data, current.version)})

    def retrieve(self, request, *args, **kwargs):
        endpoint = self.get_object()
        data = self.get_serializer(endpoint).data
        return Response(data, headers={"ETag": record_etag(data, endpoint.version)})

    def destroy(self, request, *args, **kwargs):
        endpoint = self.get_object()
        webhooks.webhook_endpoint_delete(endpoint=endpoint, expected_version=self.expected_version(request, endpoint))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = webhooks.webhook_endpoint_create(by=request.user, **serializer.validated_data)
        data = WebhookEndpointWithSecretSerializer(endpoint).data
        data["secret"] = secret
        return Response(data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        expected = self.expected_version(request, endpoint)
        serializer = self.get_serializer(endpoint, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if not serializer.validated_data:
            raise serializers.ValidationError({"non_field_errors": [_("Give at least one field.")]})
        endpoint = webhooks.webhook_endpoint_update(endpoint=endpoint, by=request.user, expected_version=expected,
                                                    **serializer.validated_data)
        data = WebhookEndpointSerializer(endpoint).data
        return Response(data, headers={"ETag": record_etag(data, endpoint.version)})

    @extend_schema(request=None, parameters=[_ID, IF_MATCH_OPTIONAL, ETAG_HEADER],
                   responses={200: WebhookEndpointWithSecretSerializer, **_WRITE, **error_responses(404),
                              412: _STALE[412]},
                   description=_("A new signing secret (in this answer only). The previous one keeps signing "
                                 "beside it until secret_rotation_ends_at."))
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        endpoint = self.get_object()
        secret = webhooks.webhook_secret_rotate(endpoint=endpoint,
                                                expected_version=self.expected_version(request, endpoint,
                                                                                       required=False))
        endpoint.refresh_from_db()
        data = WebhookEndpointWithSecretSerializer(endpoint).data
        data["secret"] = secret
        return Response(data, headers={"ETag": record_etag(data, endpoint.version)})

    @extend_schema(parameters=[_ID], responses={200: PaginatedDeliveries, **_READ, **error_responses(404)},
                   description=_("The endpoint's delivery log, newest first."))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, *args, **kwargs):
        from .api_policies import PageNumberPagination

        endpoint = self.get_object()
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(endpoint.deliveries.order_by("-id"), request, view=self)
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(request=None, parameters=[_ID, _DELIVERY_ID],
                   responses={202: WebhookDeliverySerializer, **_WRITE, **error_responses(404)},
                   description=_("Send a delivery again, with the same webhook-id, before anything newer for "
                                 "this endpoint."))
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[0-9]{1,18})/redeliver")
    def redeliver(self, request, *args, delivery_id=None, **kwargs):
        endpoint = self.get_object()
        delivery = get_object_or_404(WebhookDelivery, pk=int(delivery_id), endpoint=endpoint)
        delivery = webhooks.webhook_redeliver(delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
