"""The API representation of organisations and points of contact."""

from rest_framework import serializers

from rcf.models import PartnerCountry, PriorityArea
from rcf.serializers import ApiModelSerializer, CodeField

from .models import Organization, PointOfContact

TRACKED_READ_ONLY = ("id", "version", "created_at", "updated_at")


class OrganizationSerializer(ApiModelSerializer):
    country = CodeField(
        slug_field="iso2", queryset=PartnerCountry.objects.all(), allow_null=True, required=False,
        help_text="ISO 3166-1 alpha-2 code (partner governments and foreign industry).",
    )

    class Meta:
        model = Organization
        fields = ("id", "name", "name_ko", "side", "country", "website", "notes", *TRACKED_READ_ONLY[1:])
        read_only_fields = TRACKED_READ_ONLY


class PointOfContactSerializer(ApiModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    priority_areas = CodeField(
        slug_field="code", queryset=PriorityArea.objects.all(), many=True, required=False,
        help_text="Priority area codes.",
    )

    class Meta:
        model = PointOfContact
        fields = (
            "id", "full_name", "full_name_ko", "title", "organization", "side", "email", "phone", "is_lead",
            "active", "priority_areas", "preferred_language", *TRACKED_READ_ONLY[1:],
        )
        read_only_fields = TRACKED_READ_ONLY
