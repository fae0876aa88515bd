import factory
from django.contrib.auth import get_user_model

from contacts.models import Organization, PointOfContact
from projects.models import CooperativeProject, Engagement
from rcf.models import PartnerCountry, PriorityArea
from scm_reports.models import SCMCycle


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw-for-tests-1")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    side = "us"


class PointOfContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PointOfContact

    full_name = factory.Sequence(lambda n: f"POC {n}")
    side = "us"
    organization = factory.SubFactory(OrganizationFactory, side=factory.SelfAttribute("..side"))
    email = factory.Sequence(lambda n: f"poc{n}@example.org")
    is_lead = False


def area(code="maritime-security"):
    return PriorityArea.objects.get(code=code)


def country(iso2="PH"):
    return PartnerCountry.objects.get(iso2=iso2)


class ProjectFactory(factory.django.DjangoModelFactory):
    """A project row written directly (for set-up); tests of rules go through
    projects.services."""

    class Meta:
        model = CooperativeProject

    title = factory.Sequence(lambda n: f"Project {n}")
    summary = "A cooperative project."
    priority_area = factory.LazyFunction(area)
    lead_side = "joint"


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    project = factory.SubFactory(ProjectFactory)
    date = factory.Faker("date_this_year")
    kind = "meeting"
    summary = "Coordination meeting."


class SCMCycleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SCMCycle

    number = factory.Sequence(lambda n: 100 + n)
    year = factory.LazyAttribute(lambda c: c.meeting_date.year)
    location = "Seoul"
