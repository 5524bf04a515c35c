import factory

from organisation.models import FederalState, Jobcenter, Role, Team, User


class JobcenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Jobcenter
        django_get_or_create = ("code",)

    name = "Jobcenter Musterstadt"
    code = "JC-TEST"
    federal_state = FederalState.NW


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    jobcenter = factory.SubFactory(JobcenterFactory)
    name = factory.Sequence(lambda n: f"Team {n + 1}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="de_DE")
    last_name = factory.Faker("last_name", locale="de_DE")
    role = Role.CASEWORKER
    team = factory.SubFactory(TeamFactory)
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class AdminFactory(UserFactory):
    role = Role.ADMIN
    team = None
    is_staff = True
