import factory
from django.contrib.auth import get_user_model

from contacts.models import Organization, PointOfContact
from projects.models import (
    ActionItem,
    CooperativeProject,
    Document,
    Engagement,
    Milestone,
    ProgressUpdate,
    ResourceLine,
)
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
    """An engagement about one new project, unless ``projects=[...]`` is given
    (``projects=[]``: about none)."""

    class Meta:
        model = Engagement
        skip_postgeneration_save = True

    date = factory.Faker("date_this_year")
    kind = "meeting"
    summary = "Coordination meeting."

    @factory.post_generation
    def projects(self, create, extracted, **kwargs):
        if not create:
            return
        self.projects.set([ProjectFactory()] if extracted is None else extracted)


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    title = factory.Sequence(lambda n: f"Action {n}")
    owner = factory.SubFactory(PointOfContactFactory)
    due_on = factory.Faker("date_this_year")


class ProgressUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressUpdate

    project = factory.SubFactory(ProjectFactory)
    date = factory.Faker("date_this_year")
    health = "on_track"
    narrative = "Work goes to plan."


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    due_on = factory.Faker("date_this_year")


class ResourceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResourceLine

    project = factory.SubFactory(ProjectFactory)
    side = "us"
    fiscal_year = 2026
    kind = "planned"
    amount = "1000.00"
    currency = "USD"


class DocumentFactory(factory.django.DjangoModelFactory):
    """A small text document on a new project (stored through the default storage)."""

    class Meta:
        model = Document

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Document {n}")
    file = factory.django.FileField(filename="minutes.txt", data=b"Minutes of the meeting.\n")
    original_name = "minutes.txt"
    content_type = "text/plain"
    size = 24
    sha256 = "0" * 64
    marking = "UNCLASSIFIED"


class SCMCycleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SCMCycle

    number = factory.Sequence(lambda n: 100 + n)
    year = factory.LazyAttribute(lambda c: c.meeting_date.year)
    location = "Seoul"
