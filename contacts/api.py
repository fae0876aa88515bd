"""API resources: organisations and points of contact (every write through
contacts.services)."""

from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_view

from rcf.api import TrackedRecordViewSet, tracked_schema
from rcf.models import CountryGroup, Side

from . import services
from .models import Organization, OrganizationSide, PointOfContact
from .serializers import OrganizationSerializer, PointOfContactSerializer


class OrganizationFilter(filters.FilterSet):
    side = filters.ChoiceFilter(choices=OrganizationSide.choices)
    country = filters.CharFilter(field_name="country__iso2", lookup_expr="iexact", help_text="ISO alpha-2 code.")
    country_group = filters.ChoiceFilter(field_name="country__group", choices=CountryGroup.choices)
    search = filters.CharFilter(method="filter_search", help_text="Words in the name (either language) or notes.")

    class Meta:
        model = Organization
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(name_ko__icontains=value) | Q(notes__icontains=value))


@extend_schema_view(**tracked_schema(
    OrganizationSerializer,
    create_example={"name": "Example Shipbuilding Co.", "side": "industry", "country": None,
                    "website": "https://shipbuilding.example.org"},
    update_example={"notes": "MRO partner for patrol vessels."},
))
class OrganizationViewSet(TrackedRecordViewSet):
    """Organisations: ministries, commands and agencies of both sides,
    partner government bodies, and companies (B2B connections)."""

    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter

    def create_record(self, data):
        return services.organization_create(by=self.request.user, **data)

    def update_record(self, instance, expected_version, data):
        return services.organization_update(
            organization=instance, by=self.request.user, expected_version=expected_version, **data
        )

    def delete_record(self, instance, expected_version):
        return services.organization_delete(
            organization=instance, by=self.request.user, expected_version=expected_version
        )

    def restore_record(self, instance):
        return services.record_restore(instance=instance, by=self.request.user)


class PointOfContactFilter(filters.FilterSet):
    side = filters.ChoiceFilter(choices=Side.choices)
    is_lead = filters.BooleanFilter()
    active = filters.BooleanFilter()
    organization = filters.NumberFilter(field_name="organization_id", min_value=1, max_value=2**63 - 1)
    priority_area = filters.CharFilter(method="filter_area", help_text="A priority area code.")
    search = filters.CharFilter(method="filter_search", help_text="Words in the name, title or e-mail.")

    class Meta:
        model = PointOfContact
        fields = []

    def filter_area(self, queryset, name, value):
        through = PointOfContact.priority_areas.through
        return queryset.filter(pk__in=through.objects.filter(priorityarea__code=value).values("pointofcontact"))

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(full_name__icontains=value) | Q(full_name_ko__icontains=value) | Q(title__icontains=value)
            | Q(email__icontains=value)
        )


@extend_schema_view(**tracked_schema(
    PointOfContactSerializer,
    create_example={"full_name": "Alex Morgan", "side": "us", "organization": 1, "title": "Action officer",
                    "email": "alex.morgan@example.org", "priority_areas": ["information-sharing"]},
    update_example={"phone": "+1 703 555 0100"},
))
class PointOfContactViewSet(TrackedRecordViewSet):
    """Points of contact (POCs) named by the U.S. and ROK sides; lead POCs
    review opportunities and set project priorities."""

    serializer_class = PointOfContactSerializer
    filterset_class = PointOfContactFilter

    def create_record(self, data):
        return services.poc_create(by=self.request.user, **data)

    def update_record(self, instance, expected_version, data):
        return services.poc_update(poc=instance, by=self.request.user, expected_version=expected_version, **data)

    def delete_record(self, instance, expected_version):
        return services.poc_delete(poc=instance, by=self.request.user, expected_version=expected_version)

    def restore_record(self, instance):
        return services.record_restore(instance=instance, by=self.request.user)
