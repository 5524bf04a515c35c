import datetime

import factory
from django.utils import timezone

from cases.models import Case, CaseEvent, Citizenship, Customer, Household, Phase, Sex
from profiling.models import LanguageLevel, Motivation, Need, Profile, School, Vocational
from tests.organisation.factories import TeamFactory

_FAKE = factory.Faker._get_faker(locale="de_DE")


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    number = factory.Sequence(lambda n: f"BG{n:08d}")
    street = factory.Faker("street_address", locale="de_DE")
    postal_code = factory.Faker("postcode", locale="de_DE")
    city = factory.Faker("city", locale="de_DE")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    customer_number = factory.Sequence(lambda n: f"{100 + n % 800}D{n:06d}")
    first_name = factory.Faker("first_name", locale="de_DE")
    # A double name, so that a test asserting that a customer's name is *not* on a page cannot
    # be tripped by a staff member whose (single) first or last name happens to be the same.
    last_name = factory.LazyFunction(lambda: f"{_FAKE.last_name()}-{_FAKE.last_name()}")
    date_of_birth = datetime.date(1985, 5, 17)
    sex = Sex.FEMALE
    citizenship = Citizenship.GERMAN
    nationality = "DE"
    household = factory.SubFactory(HouseholdFactory)
    benefit_since = datetime.date(2024, 1, 1)


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    customer = factory.SubFactory(CustomerFactory)
    school = School.MIDDLE
    vocational = Vocational.APPRENTICESHIP
    german = LanguageLevel.NATIVE
    work_months_5y = 24
    months_unemployed = 12
    months_in_benefit = 12
    health = Need.NONE
    care = Need.NONE
    housing = Need.NONE
    debt = Need.NONE
    digital = Need.NONE
    motivation = Motivation.HIGH


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    customer = factory.SubFactory(CustomerFactory)
    team = factory.SubFactory(TeamFactory)
    phase = Phase.PROFILING
    review_due = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    closed_at = factory.LazyAttribute(lambda o: timezone.now() if o.phase == Phase.CLOSED else None)


class CaseEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseEvent

    case = factory.SubFactory(CaseFactory)
    kind = CaseEvent.Kind.OPENED
    summary = "Fall eröffnet"
