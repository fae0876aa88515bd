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


class CountedFactory(factory.django.DjangoModelFactory):
    """A row written directly that still counts on the dashboard: written in
    ``projects.counts.tracking`` as the services write (issue 14). Many-to-many
    rows a test sets directly afterwards are not counted."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from projects import counts

        project = kwargs.get("project")
        with counts.tracking([project.pk] if isinstance(project, CooperativeProject) else []) as tracker:
            obj = super()._create(model_class, *args, **kwargs)
            if isinstance(obj, CooperativeProject):
                tracker.add(obj.pk, new=True)
        return obj


class ProjectFactory(CountedFactory):
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


class ProgressUpdateFactory(CountedFactory):
    class Meta:
        model = ProgressUpdate
        skip_postgeneration_save = True  # latest_health below writes the project, not the update

    project = factory.SubFactory(ProjectFactory)
    date = factory.Faker("date_this_year")
    health = "on_track"
    narrative = "Work goes to plan."

    @factory.post_generation
    def latest_health(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy passes the object
        # As the progress update services do (issue 14): the project's latest health follows its updates.
        if create:
            from projects.services import current_health_refresh

            current_health_refresh(project_id=obj.project_id)


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    due_on = factory.Faker("date_this_year")


class ResourceLineFactory(CountedFactory):
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


def _concurrence():
    """Issue 10: a U.S. proposal to prioritise."""
    from projects.models import Concurrence

    return Concurrence.objects.create(project=ProjectFactory(), step="prioritized", from_status="under_review",
                                      project_version=1, priority=2, side="us")


def _scm_cycle():
    import datetime

    return SCMCycle.objects.create(number=90, year=2058, meeting_date=datetime.date(2058, 11, 1))


def _presentation():
    """Issue 10: a presentation at the (seeded) 57th SCM."""
    from scm_reports.models import SCMPresentation

    return SCMPresentation.objects.create(project=ProjectFactory(), scm_cycle=SCMCycle.objects.get(number=57),
                                          outcome="noted")


# One record of every tracked model (rcf.models.TrackedModel): the tests of
# the database triggers every tracked table carries (sync stamps, version
# guard) write one of each; a new tracked model must be added here.
TRACKED_MODEL_MAKERS = {
    "contacts.Organization": OrganizationFactory,
    "contacts.PointOfContact": PointOfContactFactory,
    "projects.CooperativeProject": ProjectFactory,
    "projects.Engagement": EngagementFactory,
    "projects.Concurrence": _concurrence,
    # Issue 11: implementation tracking.
    "projects.ActionItem": ActionItemFactory,
    "projects.ProgressUpdate": ProgressUpdateFactory,
    "projects.Milestone": MilestoneFactory,
    "projects.ResourceLine": ResourceLineFactory,
    "projects.Document": DocumentFactory,
    "scm_reports.SCMCycle": _scm_cycle,
    "scm_reports.SCMPresentation": _presentation,
}
