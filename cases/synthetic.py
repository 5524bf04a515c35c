"""A synthetic jobcenter: staff in teams, households, customers, profiles, histories, cases, timelines.

Used by `manage.py seed_demo` (the demo) and by the benchmarks. Two steps:

* `generate(...)` builds the whole jobcenter in memory as plain dataclasses, from
  `random.Random` streams derived from the seed and from Faker instances seeded the same way.
  The same seed, number of customers and `today` give exactly the same records; every date and
  time is relative to `today` (events fall on working hours of past days).
* `write(...)` bulk-inserts the records in one transaction, with one audit row per created
  customer, cooperation plan and case note.

Cases that reached implementation have the agreed cooperation plan of their (first) cycle with its
steps; some cases in planning have a draft. Cases have a few case notes, answered against the note
templates of migration 0005 (about one in ten misses a required checklist item). Plans and notes
come from random streams of their own, so adding them left everything else unchanged for a seed.

Each customer record also carries a latent "true" integration probability computed by
`integration_probability()` from the profile features alone. It is the oracle a later model is
trained and checked against; it is kept in memory only and never written to the database.

The profile and the employment history are a snapshot as of `CustomerRecord.as_of`: today for open
cases, the closing day for closed ones (a jobcenter does not follow a customer after the case ends).
"""

from __future__ import annotations

import importlib
import math
import random
import unicodedata
from bisect import bisect
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from itertools import accumulate
from typing import Generic, Protocol, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from faker import Faker

from audit.models import AuditAction
from audit.services import AuditContext, audit_record_many
from cases.models import (
    Case,
    CaseEvent,
    CaseNote,
    Channel,
    Citizenship,
    CooperationPlan,
    Customer,
    CustomerGroup,
    EmploymentSpell,
    Household,
    NoteTemplate,
    NoteType,
    Phase,
    PlanStatus,
    PlanStep,
    Sex,
    StepResponsible,
    StepStatus,
    Tag,
)
from cases.services.plans import case_open_steps_due_fill
from jobcenter.exceptions import ApplicationError
from organisation.models import FederalState, Jobcenter, Role, Team, User
from organisation.services import admin_grant_configuration_permissions
from profiling.models import (
    PROFILE_FIELDS,
    LanguageLevel,
    Motivation,
    Need,
    Profile,
    ProfileVersion,
    School,
    Vocational,
    derived_need_levels,
)

T = TypeVar("T")

BATCH_SIZE = 5000
MAX_CUSTOMERS = 500_000
CUSTOMERS_PER_TEAM = 4000
CUSTOMERS_PER_CASEWORKER = 150
MIN_TEAMS = 2
MIN_CASEWORKERS_PER_TEAM = 2

# The three demo logins. They exist only in data written by this module, which refuses to write
# unless settings.DEMO_MODE is true.
DEMO_CASEWORKER = "caseworker"
DEMO_TEAM_LEAD = "teamlead"
DEMO_ADMIN = "admin"
DEMO_USERNAMES = (DEMO_CASEWORKER, DEMO_TEAM_LEAD, DEMO_ADMIN)

JOBCENTER_NAME = "Jobcenter Musterstadt"
JOBCENTER_CODE = "JC-MUSTERSTADT"
JOBCENTER_CITY = "Musterstadt"
JOBCENTER_STATE = FederalState.NW
REGION_UNEMPLOYMENT_RATE = Decimal("7.4")
# How customers reach the synthetic jobcenter (letters, e-mails, the customer's pages): the phone
# number from a range kept free for fiction, addresses under .example.
JOBCENTER_CONTACT = {
    "street": "Am Rathausplatz 4",
    "postal_code": "45127",
    "city": JOBCENTER_CITY,
    "phone": "030 23125 100",
    "email": "service@jobcenter-musterstadt.example",
    "opening_hours": (
        "Mo, Di, Fr 8:00–12:30 Uhr\nDo 8:00–12:30 und 14:00–17:30 Uhr\nMi nur mit Termin"
    ),
    "website": "https://www.jobcenter-musterstadt.example",
}
AGENCY_PREFIX = 452  # first part of the customer number: the home employment agency
STAFF_MAIL_DOMAIN = "jobcenter-musterstadt.example"
CUSTOMER_MAIL_DOMAINS = ("example.com", "example.net", "example.org")
# Ranges the Bundesnetzagentur keeps free for film and fiction, so no real person is ever called.
FICTION_PHONE_PREFIXES = ("030 23125", "069 90009", "040 66969", "089 99998", "0221 4710")
FICTION_MOBILE_PREFIX = "0171 39200"

DISTRICTS = (
    "Innenstadt",
    "Nord",
    "Süd",
    "Ost",
    "West",
    "Altstadt",
    "Hafen",
    "Bahnhofsviertel",
    "Am Stadtpark",
    "Neustadt",
    "Kreuzviertel",
    "Rosenhügel",
    "Lindenhof",
    "Talsiedlung",
    "Feldmark",
    "Brückenfeld",
)

# German labels for timeline summaries (fixtures are German, like the staff who read them).
PHASE_LABELS_DE = {
    Phase.PROFILING: "Profiling",
    Phase.PLANNING: "Ziel- und Handlungsplanung",
    Phase.IMPLEMENTATION: "Umsetzung",
    Phase.REVIEW: "Zielüberprüfung",
    Phase.CLOSED: "Abgeschlossen",
}
GROUP_LABELS_DE = {
    CustomerGroup.MARKET_NEAR: "marktnahe Kund*in",
    CustomerGroup.POTENTIAL: "Potenzialkund*in",
    CustomerGroup.ADMINISTRATIVE: "Verwaltungskund*in",
}


class SyntheticDataError(ApplicationError):
    """Synthetic data cannot be written here (not demo mode, or the database already holds data)."""


class Weighted(Generic[T]):
    """A fixed discrete distribution. Picks like random.choices, with the sums computed once."""

    def __init__(self, weights: dict[T, float]) -> None:
        self.values = list(weights)
        self.cumulative = list(accumulate(weights.values()))

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


# --- Reference data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occupation:
    kldb: str  # KldB 2010, five digits; the last digit is the requirement level
    name: str
    female_share: float
    weight: float

    @property
    def level(self) -> int:
        """1 helper, 2 skilled, 3 specialist, 4 expert (the fifth KldB digit)."""
        return int(self.kldb[-1])


OCCUPATIONS: tuple[Occupation, ...] = (
    Occupation("62101", "Verkaufshilfe", 0.65, 4),
    Occupation("62102", "Verkäufer/in", 0.7, 6),
    Occupation("62112", "Kassierer/in", 0.8, 2),
    Occupation("51311", "Lagerhelfer/in", 0.2, 7),
    Occupation("51312", "Fachkraft für Lagerlogistik", 0.15, 3),
    Occupation("51321", "Paketzusteller/in", 0.15, 3),
    Occupation("52112", "Kurierfahrer/in (Pkw)", 0.15, 2),
    Occupation("52122", "Berufskraftfahrer/in (Lkw)", 0.05, 3),
    Occupation("54101", "Reinigungskraft", 0.75, 7),
    Occupation("29301", "Küchenhilfe", 0.6, 5),
    Occupation("29302", "Koch/Köchin", 0.3, 3),
    Occupation("63301", "Servicekraft in der Gastronomie", 0.6, 4),
    Occupation("63302", "Restaurantfachmann/-frau", 0.55, 1),
    Occupation("82101", "Altenpflegehelfer/in", 0.8, 4),
    Occupation("82102", "Altenpfleger/in", 0.8, 2),
    Occupation("81301", "Pflegehelfer/in", 0.75, 3),
    Occupation("81302", "Gesundheits- und Krankenpfleger/in", 0.8, 1),
    Occupation("81102", "Medizinische/r Fachangestellte/r", 0.95, 1),
    Occupation("83112", "Erzieher/in", 0.85, 1),
    Occupation("71401", "Bürohilfskraft", 0.7, 2),
    Occupation("71402", "Kaufmann/-frau für Büromanagement", 0.7, 3),
    Occupation("72213", "Buchhalter/in", 0.7, 1),
    Occupation("73202", "Verwaltungsfachangestellte/r", 0.7, 1),
    Occupation("43412", "Fachinformatiker/in Anwendungsentwicklung", 0.15, 1),
    Occupation("43104", "Informatiker/in", 0.2, 0.5),
    Occupation("25101", "Produktionshelfer/in", 0.35, 6),
    Occupation("26112", "Mechatroniker/in", 0.05, 1),
    Occupation("25212", "Kfz-Mechatroniker/in", 0.04, 1.5),
    Occupation("24412", "Metallbauer/in", 0.03, 1),
    Occupation("26212", "Elektroniker/in für Energie- und Gebäudetechnik", 0.03, 1),
    Occupation("34212", "Anlagenmechaniker/in Sanitär-, Heizungs- und Klimatechnik", 0.02, 1),
    Occupation("32101", "Bauhelfer/in", 0.03, 4),
    Occupation("32122", "Maurer/in", 0.02, 1),
    Occupation("22342", "Tischler/in", 0.1, 1),
    Occupation("12122", "Gärtner/in (Garten- und Landschaftsbau)", 0.2, 1),
    Occupation("53111", "Sicherheitsmitarbeiter/in", 0.15, 2),
    Occupation("53112", "Fachkraft für Schutz und Sicherheit", 0.2, 1),
    Occupation("82312", "Friseur/in", 0.85, 1.5),
    Occupation("71314", "Betriebswirt/in (Unternehmensorganisation)", 0.5, 0.5),
    Occupation("83124", "Sozialarbeiter/in", 0.75, 0.5),
    Occupation("31104", "Bauingenieur/in", 0.2, 0.3),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Latin transliterations as in passports, for the origins Faker has no Latin-script names for.
UKRAINIAN_NAMES = {
    "m": _words(
        "Oleksandr Andrii Dmytro Serhii Volodymyr Mykola Ivan Yurii Vasyl Oleh Mykhailo Taras "
        "Bohdan Maksym Artem Viktor Ihor Roman Denys Vitalii"
    ),
    "f": _words(
        "Olena Nataliia Tetiana Iryna Oksana Svitlana Yuliia Mariia Kateryna Anastasiia Halyna "
        "Liudmyla Viktoriia Olha Alina Daria Khrystyna Sofiia Valentyna Inna"
    ),
    "last": _words(
        "Shevchenko Kovalenko Bondarenko Tkachenko Kravchenko Boiko Melnyk Shevchuk Polishchuk "
        "Lysenko Marchenko Moroz Savchenko Rudenko Petrenko Kovalchuk Oliinyk Ponomarenko Tkachuk "
        "Klymenko Pavlenko Honcharenko Hrytsenko Zaitsev Kuzmenko"
    ),
}
ARABIC_NAMES = {
    "m": _words(
        "Mohammad Ahmad Mahmoud Omar Ali Hassan Hussein Khaled Mustafa Abdullah Yousef Ibrahim "
        "Bilal Tarek Samer Fadi Walid Karim Rami Jamal"
    ),
    "f": _words(
        "Fatima Aisha Mariam Noor Rania Huda Layla Amina Sara Hiba Rasha Dima Lina Yasmin Zainab "
        "Ghada Salma Nour Reem Hanan"
    ),
    "last": _words(
        "Al-Hassan Al-Ahmad Haddad Khalil Mansour Hamdan Saleh Darwish Nasser Al-Khatib Ibrahim "
        "Othman Youssef Qasim Al-Jabouri Hamoud Shaker Al-Obaidi Kurdi Aziz Abbas Hussein Mahmoud "
        "Suleiman Al-Ali"
    ),
}
AFGHAN_NAMES = {
    "m": _words(
        "Ahmad Mohammad Abdul Farid Hamid Jawad Mustafa Rahim Sayed Wahid Zabihullah Naveed Habib "
        "Khalid Omid Shafiq Sohrab Rahmatullah"
    ),
    "f": _words(
        "Fatima Zahra Maryam Parwana Shabnam Nargis Farida Habiba Mina Roya Sahar Malalai Laila "
        "Nilofar Soraya Freshta"
    ),
    "last": _words(
        "Ahmadi Rahimi Hashimi Karimi Sultani Haidari Noori Sharifi Popal Azizi Amiri Hakimi "
        "Nazari Rezaei Mohammadi Yousufi Stanikzai Safi Wardak Jalali"
    ),
}
CURATED_NAMES = {"uk": UKRAINIAN_NAMES, "ar": ARABIC_NAMES, "fa": AFGHAN_NAMES}
FAKER_LOCALES = {"de": "de_DE", "tr": "tr_TR", "pl": "pl_PL", "ro": "ro_RO", "it": "it_IT"}


@dataclass(frozen=True)
class Origin:
    """Where a customer comes from; drives names, languages and the realistic spread of features."""

    nationality: str  # ISO 3166
    citizenship: str
    names: str  # key of FAKER_LOCALES or CURATED_NAMES
    mother_tongues: tuple[str, ...]  # ISO 639-1, first is the most common
    weight: float  # share among customers
    immigrated_share: float  # share who came as adults (the rest grew up in Germany)
    arrived_years_ago: tuple[int, int]  # range for those who immigrated
    german_levels: Weighted[str]  # for those who immigrated
    licence_rate: float
    school_shift: float  # added to the latent school score


IMMIGRANT_GERMAN = Weighted({"A0": 2, "A1": 13, "A2": 25, "B1": 33, "B2": 18, "C1": 7, "C2": 2})
EU_GERMAN = Weighted({"A1": 8, "A2": 20, "B1": 32, "B2": 25, "C1": 12, "C2": 3})
NO_GERMAN_COURSE = Weighted({LanguageLevel.NATIVE: 1})
ORIGINS: tuple[Origin, ...] = (
    Origin("DE", Citizenship.GERMAN, "de", ("de",), 52, 0.0, (0, 0), NO_GERMAN_COURSE, 0.62, 0.0),
    Origin(
        "UA", Citizenship.NON_EU, "uk", ("uk", "ru"), 13, 1.0, (2, 4), IMMIGRANT_GERMAN, 0.4, 0.5
    ),
    Origin("SY", Citizenship.NON_EU, "ar", ("ar",), 9, 1.0, (7, 11), IMMIGRANT_GERMAN, 0.25, -0.3),
    Origin("TR", Citizenship.NON_EU, "tr", ("tr",), 5, 0.45, (3, 25), EU_GERMAN, 0.55, -0.2),
    Origin(
        "AF", Citizenship.NON_EU, "fa", ("fa", "ps"), 4, 1.0, (2, 10), IMMIGRANT_GERMAN, 0.2, -0.6
    ),
    Origin(
        "IQ", Citizenship.NON_EU, "ar", ("ar", "ku"), 3, 1.0, (6, 12), IMMIGRANT_GERMAN, 0.25, -0.4
    ),
    Origin("RO", Citizenship.EU, "ro", ("ro",), 3, 0.9, (1, 12), EU_GERMAN, 0.45, -0.3),
    Origin("PL", Citizenship.EU, "pl", ("pl",), 2, 0.85, (2, 20), EU_GERMAN, 0.6, 0.1),
    Origin("IT", Citizenship.EU, "it", ("it",), 2, 0.6, (2, 25), EU_GERMAN, 0.55, 0.0),
)
ORIGIN_CHOICE = Weighted({origin: origin.weight for origin in ORIGINS})
# German citizens whose family came from elsewhere carry names of that origin.
GERMAN_NAME_ORIGINS = Weighted({"de": 90, "tr": 5, "pl": 2.5, "ar": 1.5, "uk": 1})

SCHOOL_ORDER = (School.NONE, School.LOWER, School.MIDDLE, School.UPPER)
LANGUAGE_ORDER = tuple(LanguageLevel.values)


# --- The oracle --------------------------------------------------------------------------------------


class ProfileFeatures(Protocol):
    """What `integration_probability` reads: a ProfileRecord or a saved profiling.Profile."""

    school: str
    vocational: str
    foreign_qualification: bool
    german: str
    work_months_5y: int
    months_unemployed: int
    health: str
    care: str
    housing: str
    debt: str
    digital: str
    motivation: str
    driving_licence: bool


ORACLE_INTERCEPT = -1.15
ORACLE_SCHOOL = {School.NONE: -0.45, School.LOWER: 0.0, School.MIDDLE: 0.2, School.UPPER: 0.3}
ORACLE_VOCATIONAL = {
    Vocational.NONE: -0.45,
    Vocational.APPRENTICESHIP: 0.3,
    Vocational.UNIVERSITY: 0.5,
}
ORACLE_FOREIGN_QUALIFICATION = -0.2  # not (yet) recognised, so worth less on the market
ORACLE_GERMAN = {
    "A0": -1.3,
    "A1": -1.0,
    "A2": -0.7,
    "B1": -0.3,
    "B2": 0.0,
    "C1": 0.15,
    "C2": 0.2,
    "native": 0.2,
}
ORACLE_PER_WORK_MONTH_5Y = 0.025
ORACLE_LONG_UNEMPLOYMENT = -0.55  # times log(1 + years unemployed)
ORACLE_NEED = {
    "health": {Need.NONE: 0.0, Need.SOME: -0.35, Need.HIGH: -1.1},
    "care": {Need.NONE: 0.0, Need.SOME: -0.3, Need.HIGH: -0.9},
    "housing": {Need.NONE: 0.0, Need.SOME: -0.2, Need.HIGH: -0.7},
    "debt": {Need.NONE: 0.0, Need.SOME: -0.15, Need.HIGH: -0.45},
    "digital": {Need.NONE: 0.0, Need.SOME: -0.1, Need.HIGH: -0.3},
}
ORACLE_MOTIVATION = {Motivation.LOW: -0.9, Motivation.MEDIUM: 0.0, Motivation.HIGH: 0.45}
ORACLE_DRIVING_LICENCE = 0.25
ORACLE_PER_POINT_REGIONAL_UNEMPLOYMENT = -0.12  # per percentage point above 6 %


def integration_probability(
    *, profile: ProfileFeatures, region_unemployment_rate: float | Decimal
) -> float:
    """The latent chance that the customer takes up work within twelve months (the oracle).

    Logistic in the profile features and the regional labour market only. Sex, citizenship and age
    are deliberately not inputs: they reach the probability only through the features they are
    correlated with in the synthetic population (for example German level or work history).
    """
    logit = ORACLE_INTERCEPT
    logit += ORACLE_SCHOOL[profile.school]
    logit += ORACLE_VOCATIONAL[profile.vocational]
    if profile.foreign_qualification:
        logit += ORACLE_FOREIGN_QUALIFICATION
    logit += ORACLE_GERMAN[profile.german]
    logit += ORACLE_PER_WORK_MONTH_5Y * profile.work_months_5y
    logit += ORACLE_LONG_UNEMPLOYMENT * math.log1p(profile.months_unemployed / 12)
    for need, weights in ORACLE_NEED.items():
        logit += weights[getattr(profile, need)]
    logit += ORACLE_MOTIVATION[profile.motivation]
    if profile.driving_licence:
        logit += ORACLE_DRIVING_LICENCE
    logit += ORACLE_PER_POINT_REGIONAL_UNEMPLOYMENT * (float(region_unemployment_rate) - 6.0)
    return 1.0 / (1.0 + math.exp(-logit))


# --- Generated records -----------------------------------------------------------------------------


@dataclass
class TeamRecord:
    name: str
    district: str
    postal_codes: tuple[str, ...]


@dataclass
class StaffRecord:
    username: str
    first_name: str
    last_name: str
    role: str
    team: int | None  # index into SyntheticJobcenter.teams
    is_staff: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@{STAFF_MAIL_DOMAIN}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class HouseholdRecord:
    number: str
    kind: str  # single, single_parent, couple, family
    street: str
    postal_code: str
    city: str
    adults: int
    children: int
    youngest_child_age: int | None
    team: int


@dataclass
class SpellRecord:
    kind: str
    occupation: str
    kldb: str
    start: date
    end: date | None


@dataclass
class ProfileRecord:
    school: str
    vocational: str
    foreign_qualification: bool
    german: str
    other_languages: list[dict[str, str]]
    work_months_5y: int
    months_unemployed: int
    months_in_benefit: int
    target_kldb: str
    target_occupation: str
    health: str
    care: str
    housing: str
    debt: str
    driving_licence: bool
    digital: str
    motivation: str
    own_goals: str
    # The levels of the dimensions added with profile versioning, and the notes (left empty).
    qualification_need: str = Need.NONE
    work_experience_need: str = Need.NONE
    language_need: str = Need.NONE
    mobility_need: str = Need.NONE
    public_transport: bool | None = None
    qualification_note: str = ""
    work_experience_note: str = ""
    language_note: str = ""
    health_note: str = ""
    care_note: str = ""
    housing_note: str = ""
    debt_note: str = ""
    mobility_note: str = ""
    digital_note: str = ""
    motivation_note: str = ""


@dataclass
class EventRecord:
    at: datetime
    kind: str
    summary: str
    actor: int | None  # index into SyntheticJobcenter.staff
    data: dict
    # The plan or note the entry is about: write() adds its primary key to data under ref_key.
    ref: PlanRecord | NoteRecord | None = None
    ref_key: str = ""


@dataclass
class StepRecord:
    position: int
    responsible: str
    responsible_name: str
    description: str
    due_date: date
    status: str
    status_changed_at: datetime | None
    follow_up: str = ""


@dataclass
class PlanRecord:
    cycle: int
    version: int
    status: str
    integration_goal: str
    review_date: date
    created_at: datetime
    created_by: int  # index into staff
    agreed_at: datetime | None
    agreed_by: int | None  # index into staff
    agreement_note: str
    steps: list[StepRecord]

    @property
    def label(self) -> str:
        return f"{self.cycle}.{self.version}"


@dataclass
class NoteRecord:
    author: int  # index into staff
    note_type: str
    channel: str
    occurred_on: date
    text: str
    tags: list[str]  # names from the tag vocabulary of migration 0005
    checklist: dict[str, bool]  # answered against the default template of the note type
    missing_items: list[str]
    created_at: datetime

    @property
    def is_incomplete(self) -> bool:
        return bool(self.missing_items)


@dataclass
class CaseRecord:
    team: int
    phase: str
    customer_group: str
    opened_at: datetime
    phase_since: datetime
    review_due: date | None
    closed_at: datetime | None
    transitions: list[tuple[datetime, str, str]]  # (when, from phase, to phase)
    closing_reason: str = ""
    closing_summary: str = ""
    caseworker: int | None = None  # index into staff; only potential customers have one
    events: list[EventRecord] = field(default_factory=list)
    transition_actors: list[int] = field(default_factory=list)  # who made each transition
    plans: list[PlanRecord] = field(default_factory=list)
    notes: list[NoteRecord] = field(default_factory=list)

    def is_overdue(self, today: date) -> bool:
        return (
            self.phase != Phase.CLOSED and self.review_due is not None and self.review_due < today
        )


@dataclass
class CustomerRecord:
    customer_number: str
    first_name: str
    last_name: str
    date_of_birth: date
    sex: str
    citizenship: str
    nationality: str
    severe_disability: bool
    preferred_language: str
    email: str
    phone: str
    household: int  # index into SyntheticJobcenter.households
    benefit_since: date
    created_at: datetime
    as_of: date  # the day profile and history describe
    profile: ProfileRecord
    employment: list[SpellRecord]
    case: CaseRecord
    integration_probability: float  # the oracle; in memory only, never written


@dataclass
class SyntheticJobcenter:
    seed: int
    today: date
    name: str
    code: str
    federal_state: str
    region_unemployment_rate: Decimal
    teams: list[TeamRecord]
    staff: list[StaffRecord]
    households: list[HouseholdRecord]
    customers: list[CustomerRecord]

    def counts_by_team(self) -> dict[str, dict[str, int]]:
        rows = {
            team.name: {"customers": 0, "open_cases": 0, "caseworkers": 0} for team in self.teams
        }
        for customer in self.customers:
            row = rows[self.teams[customer.case.team].name]
            row["customers"] += 1
            row["open_cases"] += customer.case.phase != Phase.CLOSED
        for member in self.staff:
            if member.role == Role.CASEWORKER and member.team is not None:
                rows[self.teams[member.team].name]["caseworkers"] += 1
        return rows

    def counts_by_phase(self) -> Counter[str]:
        return Counter(customer.case.phase for customer in self.customers)

    def counts_by_group(self) -> Counter[str]:
        return Counter(customer.case.customer_group for customer in self.customers)

    def overdue_count(self) -> int:
        return sum(customer.case.is_overdue(self.today) for customer in self.customers)

    def plan_counts(self) -> dict[str, int]:
        """Plans by status, their steps, and the open cases with an open step past its date."""
        counts = {"agreed": 0, "draft": 0, "steps": 0, "cases_with_steps_overdue": 0}
        for customer in self.customers:
            case = customer.case
            overdue = False
            for plan in case.plans:
                counts[plan.status] += 1
                counts["steps"] += len(plan.steps)
                overdue = overdue or (
                    plan.status == PlanStatus.AGREED
                    and case.phase != Phase.CLOSED
                    and any(
                        s.status == StepStatus.OPEN and s.due_date < self.today for s in plan.steps
                    )
                )
            counts["cases_with_steps_overdue"] += overdue
        return counts

    def note_counts(self) -> dict[str, int]:
        notes = [note for customer in self.customers for note in customer.case.notes]
        return {"notes": len(notes), "incomplete": sum(note.is_incomplete for note in notes)}


@dataclass(frozen=True)
class WriteResult:
    jobcenter_id: int
    counts: dict[str, int]


# --- Small helpers ---------------------------------------------------------------------------------


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _years_after(day: date, years: int) -> date:
    return _years_before(day, -years)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def months_between(start: date, end: date) -> int:
    """Whole months from start to end; 0 if end is not after start."""
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    return max(0, months)


def months_worked(
    spells: Iterable[SpellRecord | EmploymentSpell], *, since: date, until: date
) -> int:
    """Whole months (30.44 days) covered by at least one spell between since and until."""
    intervals = sorted(
        (max(spell.start, since), min(spell.end or until, until))
        for spell in spells
        if spell.start <= until and (spell.end is None or spell.end >= since)
    )
    days = 0
    current_start: date | None = None
    current_end: date | None = None
    for start, end in intervals:
        if current_end is None or start > current_end:
            if current_start is not None and current_end is not None:
                days += (current_end - current_start).days + 1
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_start is not None and current_end is not None:
        days += (current_end - current_start).days + 1
    return min(60, int(days / 30.44))


def _ascii(text: str) -> str:
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain).replace(umlaut.upper(), plain.capitalize())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch in ".-")


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Names:
    """First and last names by origin, deterministic for the seed."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"{seed}:names")
        self._fakers: dict[str, Faker] = {}
        for key, locale in FAKER_LOCALES.items():
            fake = Faker(locale)
            fake.seed_instance(f"{seed}:faker:{locale}")
            self._fakers[key] = fake

    def first(self, origin: str, sex: str) -> str:
        if origin in CURATED_NAMES:
            key = "f" if sex == Sex.FEMALE else "m"
            if sex == Sex.DIVERSE:
                key = self._rng.choice("fm")
            return self._rng.choice(CURATED_NAMES[origin][key])
        fake = self._fakers[origin]
        if sex == Sex.FEMALE:
            return fake.first_name_female()
        if sex == Sex.MALE:
            return fake.first_name_male()
        return fake.first_name()

    def last(self, origin: str, sex: str) -> str:
        if origin in CURATED_NAMES:
            return self._rng.choice(CURATED_NAMES[origin]["last"])
        fake = self._fakers[origin]
        if sex == Sex.FEMALE:
            return fake.last_name_female()
        if sex == Sex.MALE:
            return fake.last_name_male()
        return fake.last_name()

    def street(self) -> str:
        return self._fakers["de"].street_name()


# --- Generation ------------------------------------------------------------------------------------


def team_count_for(customers: int) -> int:
    return max(MIN_TEAMS, math.ceil(customers / CUSTOMERS_PER_TEAM))


def caseworker_count_for(team_customers: int) -> int:
    return max(MIN_CASEWORKERS_PER_TEAM, round(team_customers / CUSTOMERS_PER_CASEWORKER))


def generate(*, customers: int, seed: int, today: date | None = None) -> SyntheticJobcenter:
    """Build a whole synthetic jobcenter in memory. Same arguments, same records."""
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS}, got {customers}")
    today = today or timezone.localdate()
    names = _Names(seed)
    teams = _generate_teams(customers=customers)
    people = _PeopleGenerator(seed=seed, today=today, names=names, teams=teams)
    households, customer_records = people.generate(customers)
    staff = _generate_staff(seed=seed, teams=teams, customers=customer_records, names=names)
    _assign_and_narrate(
        seed=seed, today=today, teams=teams, staff=staff, customers=customer_records
    )
    _plans_and_notes(seed=seed, today=today, staff=staff, customers=customer_records)
    return SyntheticJobcenter(
        seed=seed,
        today=today,
        name=JOBCENTER_NAME,
        code=JOBCENTER_CODE,
        federal_state=JOBCENTER_STATE,
        region_unemployment_rate=REGION_UNEMPLOYMENT_RATE,
        teams=teams,
        staff=staff,
        households=households,
        customers=customer_records,
    )


def _generate_teams(*, customers: int) -> list[TeamRecord]:
    teams = []
    for index in range(team_count_for(customers)):
        district = DISTRICTS[index % len(DISTRICTS)]
        if index >= len(DISTRICTS):
            district = f"{district} {index // len(DISTRICTS) + 1}"
        base = 45100 + 8 * index
        teams.append(
            TeamRecord(
                name=f"Team {index + 1} – {district}",
                district=district,
                postal_codes=tuple(f"{base + offset:05d}" for offset in (1, 3, 5)),
            )
        )
    return teams


def _generate_staff(
    *, seed: int, teams: list[TeamRecord], customers: list[CustomerRecord], names: _Names
) -> list[StaffRecord]:
    """One team lead per team and about one caseworker per 150 customers (at least two)."""
    rng = random.Random(f"{seed}:staff")
    per_team = Counter(customer.case.team for customer in customers)
    taken = set(DEMO_USERNAMES)
    staff: list[StaffRecord] = []

    def person(role: str, team: int | None, username: str | None = None) -> StaffRecord:
        sex = Sex.FEMALE if rng.random() < 0.62 else Sex.MALE
        origin = "tr" if rng.random() < 0.08 else "de"
        first, last = names.first(origin, sex), names.last(origin, sex)
        if username is None:
            base = _ascii(f"{first.split('-')[0]}.{last}")
            username, suffix = base, 1
            while username in taken:
                suffix += 1
                username = f"{base}{suffix}"
            taken.add(username)
        return StaffRecord(username, first, last, role, team)

    for team in range(len(teams)):
        staff.append(person(Role.TEAM_LEAD, team, DEMO_TEAM_LEAD if team == 0 else None))
        for number in range(caseworker_count_for(per_team[team])):
            demo = DEMO_CASEWORKER if team == 0 and number == 0 else None
            staff.append(person(Role.CASEWORKER, team, demo))
    admin = person(Role.ADMIN, None, DEMO_ADMIN)
    admin.is_staff = True
    staff.append(admin)
    return staff


@dataclass
class _Timeline:
    phase: str
    dates: list[tuple[date, str]]  # (day the phase began, phase), oldest first
    planned_days: int
    closed_on: date | None
    closed_from: str


PHASE_WEIGHTS = Weighted(
    {
        Phase.PROFILING: 14,
        Phase.PLANNING: 13,
        Phase.IMPLEMENTATION: 40,
        Phase.REVIEW: 15,
        Phase.CLOSED: 18,
    }
)
OPEN_PHASES = (Phase.PROFILING, Phase.PLANNING, Phase.IMPLEMENTATION, Phase.REVIEW)
PHASE_DAYS = {
    Phase.PROFILING: (10, 35),
    Phase.PLANNING: (10, 40),
    Phase.IMPLEMENTATION: (60, 240),
    Phase.REVIEW: (7, 28),
}
CLOSED_FROM_WEIGHTS = Weighted(
    {Phase.PROFILING: 8, Phase.PLANNING: 7, Phase.IMPLEMENTATION: 45, Phase.REVIEW: 40}
)
HOUSEHOLD_KINDS = Weighted({"single": 48, "single_parent": 20, "couple": 10, "family": 22})
CHILDREN = Weighted({1: 45, 2: 32, 3: 15, 4: 6, 5: 2})
AGE_BANDS = Weighted({(18, 24): 11, (25, 34): 25, (35, 44): 24, (45, 54): 20, (55, 66): 20})


class _PeopleGenerator:
    """Households and their members: demographics, profile, history and the case's course."""

    def __init__(self, *, seed: int, today: date, names: _Names, teams: list[TeamRecord]) -> None:
        self.today = today
        self.names = names
        self.teams = teams
        self.rng = random.Random(f"{seed}:people")
        # Its own stream, so the fields added later leave everything drawn from `rng` unchanged.
        self.mobility_rng = random.Random(f"{seed}:mobility")
        self.tz = timezone.get_default_timezone()
        self.streets = {team.district: [names.street() for _ in range(60)] for team in teams}

    # -- households -------------------------------------------------------------------------------

    def generate(self, total: int) -> tuple[list[HouseholdRecord], list[CustomerRecord]]:
        rng = self.rng
        numbers = rng.sample(range(1, 1_000_000), total)
        household_numbers = iter(rng.sample(range(1, 10_000_000), total))
        households: list[HouseholdRecord] = []
        customers: list[CustomerRecord] = []
        while len(customers) < total:
            index = len(households)
            household, members = self._household(index, f"45201BG{next(household_numbers):07d}")
            households.append(household)
            for member in members[: total - len(customers)]:
                serial = numbers[len(customers)]
                prefix = AGENCY_PREFIX if rng.random() < 0.8 else rng.randint(100, 999)
                member.customer_number = f"{prefix}D{serial:06d}"
                customers.append(member)
        return households, customers

    def _household(self, index: int, number: str) -> tuple[HouseholdRecord, list[CustomerRecord]]:
        rng = self.rng
        kind = HOUSEHOLD_KINDS.pick(rng)
        team = rng.randrange(len(self.teams))
        district = self.teams[team]
        children, youngest = 0, None
        if kind in ("single_parent", "family"):
            children = CHILDREN.pick(rng)
            youngest = min(17, int(rng.triangular(0, 17, 2)))
        eldest = (
            None
            if youngest is None
            else min(17, youngest + sum(rng.randint(1, 4) for _ in range(children - 1)))
        )

        origin = ORIGIN_CHOICE.pick(rng)
        head_sex = Sex.FEMALE if (kind == "single_parent" and rng.random() < 0.88) else None
        if head_sex is None:
            head_sex = Sex.DIVERSE if rng.random() < 0.003 else rng.choice((Sex.FEMALE, Sex.MALE))
        head_age = self._age_for(eldest)
        name_origin = origin.names if origin.nationality != "DE" else GERMAN_NAME_ORIGINS.pick(rng)
        family_name = self.names.last(name_origin, head_sex)

        members = [
            self._customer(
                household=index,
                team=team,
                origin=origin,
                name_origin=name_origin,
                sex=head_sex,
                age=head_age,
                last_name=family_name,
                kind=kind,
                children=children,
                youngest=youngest,
            )
        ]
        adults = 1
        if kind in ("couple", "family"):
            adults = 2
            if rng.random() < 0.88:  # otherwise the partner is not employable (illness, age)
                partner_origin = origin if rng.random() < 0.85 else ORIGINS[0]
                partner_sex = {Sex.FEMALE: Sex.MALE, Sex.MALE: Sex.FEMALE}.get(head_sex, Sex.MALE)
                if rng.random() < 0.04:
                    partner_sex = head_sex
                partner_age = max(18, min(66, head_age + rng.randint(-6, 6)))
                if eldest is not None:
                    partner_age = max(partner_age, eldest + 18)
                partner_names = (
                    partner_origin.names if partner_origin is not origin else name_origin
                )
                if partner_origin.nationality == "DE" and partner_origin is not origin:
                    partner_names = "de"
                shared = rng.random() < 0.7 and partner_origin is origin
                members.append(
                    self._customer(
                        household=index,
                        team=team,
                        origin=partner_origin,
                        name_origin=partner_names,
                        sex=partner_sex,
                        age=partner_age,
                        last_name=family_name if shared else None,
                        kind=kind,
                        children=children,
                        youngest=youngest,
                    )
                )
            if kind == "family" and head_age >= 38 and rng.random() < 0.15:
                adults = 3  # an adult child under 25 lives in the benefit unit
                members.append(
                    self._customer(
                        household=index,
                        team=team,
                        origin=origin,
                        name_origin=name_origin,
                        sex=rng.choice((Sex.FEMALE, Sex.MALE)),
                        age=rng.randint(18, min(24, head_age - 19)),
                        last_name=family_name,
                        kind="adult_child",
                        children=0,
                        youngest=None,
                    )
                )
        street = rng.choice(self.streets[district.district])
        house_number = f"{rng.randint(1, 140)}{'a' if rng.random() < 0.06 else ''}"
        household = HouseholdRecord(
            number=number,
            kind=kind,
            street=f"{street} {house_number}",
            postal_code=rng.choice(district.postal_codes),
            city=JOBCENTER_CITY,
            adults=adults,
            children=children,
            youngest_child_age=youngest,
            team=team,
        )
        return household, members

    def _age_for(self, eldest_child: int | None) -> int:
        rng = self.rng
        if eldest_child is not None:
            return max(18, min(62, eldest_child + rng.randint(19, 38)))
        low, high = AGE_BANDS.pick(rng)
        return rng.randint(low, high)

    # -- one customer -----------------------------------------------------------------------------

    def _customer(
        self,
        *,
        household: int,
        team: int,
        origin: Origin,
        name_origin: str,
        sex: str,
        age: int,
        last_name: str | None,
        kind: str,
        children: int,
        youngest: int | None,
    ) -> CustomerRecord:
        rng = self.rng
        today = self.today
        first_name = self.names.first(name_origin, sex)
        last_name = last_name or self.names.last(name_origin, sex)
        dob = _years_before(today, age + 1) + timedelta(days=1)
        dob += timedelta(days=rng.randrange((_years_before(today, age) - dob).days + 1))

        immigrated = rng.random() < origin.immigrated_share and age >= 18
        arrived: date | None = None
        if immigrated:
            low, high = origin.arrived_years_ago
            years_ago = min(rng.uniform(low, high), age - 16)
            arrived = today - timedelta(days=int(years_ago * 365.25))
        # Distance to the labour market: one latent score the features are drawn around.
        z = rng.gauss(0, 1) + (0.3 if kind == "adult_child" else 0.0) - max(0, age - 50) * 0.03

        earliest_case = max(_years_after(dob, 18), arrived or dob)
        timeline = self._fit_timeline(self._timeline(earliest_case), earliest=earliest_case)
        as_of = timeline.closed_on or today
        school_score = 0.55 * z + 0.8 * rng.gauss(0, 1) + origin.school_shift
        school = SCHOOL_ORDER[sum(school_score > cut for cut in (-1.4, -0.2, 0.65))]
        vocational_score = 0.6 * z + 0.4 * SCHOOL_ORDER.index(school) + rng.gauss(0, 0.8) - 0.6
        if vocational_score > 1.35 and school == School.UPPER:
            vocational = Vocational.UNIVERSITY
        elif vocational_score > 0.45:
            vocational = Vocational.APPRENTICESHIP
        else:
            vocational = Vocational.NONE
        if kind == "adult_child" and age < 21 and vocational == Vocational.UNIVERSITY:
            vocational = Vocational.NONE
        foreign_qualification = vocational != Vocational.NONE and (
            (immigrated and rng.random() < 0.85) or rng.random() < 0.02
        )
        german = (
            origin.german_levels.pick(rng)
            if immigrated
            else (LanguageLevel.NATIVE if rng.random() < 0.93 else rng.choice(("C1", "C2")))
        )
        if immigrated and arrived and (today - arrived).days > 8 * 365 and german in ("A0", "A1"):
            german = "A2"
        other_languages = self._languages(origin, german, school)
        preferred_language = (
            "de"
            if german in ("C1", "C2", LanguageLevel.NATIVE) or origin.nationality == "DE"
            else origin.mother_tongues[0]
        )

        history = _EmploymentHistory(
            rng=rng,
            as_of=as_of,
            dob=dob,
            z=z,
            sex=sex,
            school=school,
            vocational=vocational,
            foreign_qualification=foreign_qualification,
            arrived=arrived,
        )
        spells, last_end, entered_market = history.build()
        months_unemployed = months_between(last_end or entered_market, as_of)
        work_months = months_worked(spells, since=_years_before(as_of, 5), until=as_of)
        benefit_since = self._benefit_since(spells, last_end, entered_market, as_of, dob)
        benefit_since = min(benefit_since, timeline.dates[0][0])  # the case opens in receipt

        care = self._care(kind, sex, youngest, children)
        health = self._need(0.045 * (age - 40) - 0.35 * z, (0.25, 1.35))
        severe_disability = (
            rng.random() < {Need.NONE: 0.01, Need.SOME: 0.05, Need.HIGH: 0.25}[health]
        )
        housing = self._need(-0.3 * z + (0.4 if kind == "single" and age < 30 else 0), (1.0, 1.9))
        debt = self._need(-0.35 * z, (0.25, 1.2))
        digital = self._need(
            0.04 * (age - 40) - 0.35 * SCHOOL_ORDER.index(school) + 0.5, (0.55, 1.5)
        )
        motivation_score = 0.5 * z - 0.35 * math.log1p(months_unemployed / 12) + rng.gauss(0, 0.9)
        motivation = (
            Motivation.LOW
            if motivation_score < -1.15
            else Motivation.HIGH
            if motivation_score > 0.35
            else Motivation.MEDIUM
        )
        licence_chance = origin.licence_rate * (0.5 if age < 21 else 1.0) * (1 + 0.15 * z)
        driving_licence = rng.random() < licence_chance
        target = self._target(spells, history.career, foreign_qualification)
        profile = ProfileRecord(
            school=school,
            vocational=vocational,
            foreign_qualification=foreign_qualification,
            german=german,
            other_languages=other_languages,
            work_months_5y=work_months,
            months_unemployed=months_unemployed,
            months_in_benefit=months_between(benefit_since, as_of),
            target_kldb=target.kldb if target else "",
            target_occupation=target.name if target else "",
            health=health,
            care=care,
            housing=housing,
            debt=debt,
            driving_licence=driving_licence,
            digital=digital,
            motivation=motivation,
            own_goals="",
        )
        self._dimension_levels(profile)
        probability = integration_probability(
            profile=profile, region_unemployment_rate=REGION_UNEMPLOYMENT_RATE
        )
        profile.own_goals = self._own_goals(profile, target, age, timeline.phase)
        case = self._case(timeline, team, profile, probability, target, age)
        email = ""
        if rng.random() < 0.55:
            email = (
                f"{_ascii(first_name.split(' ')[0])}.{_ascii(last_name)}"
                f"{rng.randint(1, 99) if rng.random() < 0.5 else ''}@{rng.choice(CUSTOMER_MAIL_DOMAINS)}"
            )
        phone = ""
        if rng.random() < 0.8:
            if rng.random() < 0.6:
                phone = f"{FICTION_MOBILE_PREFIX}{rng.randint(0, 99):02d}"
            else:
                phone = f"{rng.choice(FICTION_PHONE_PREFIXES)} {rng.randint(0, 999):03d}"
        created = datetime.combine(benefit_since, time(9, rng.randint(0, 59)), self.tz)
        return CustomerRecord(
            customer_number="",
            first_name=first_name,
            last_name=last_name,
            date_of_birth=dob,
            sex=sex,
            citizenship=origin.citizenship,
            nationality=origin.nationality,
            severe_disability=severe_disability,
            preferred_language=preferred_language,
            email=email,
            phone=phone,
            household=household,
            benefit_since=benefit_since,
            created_at=created,
            as_of=as_of,
            profile=profile,
            employment=spells,
            case=case,
            integration_probability=probability,
        )

    def _languages(self, origin: Origin, german: str, school: str) -> list[dict[str, str]]:
        rng = self.rng
        languages: list[dict[str, str]] = []
        if origin.nationality != "DE" and (german != LanguageLevel.NATIVE or rng.random() < 0.7):
            languages.append({"code": origin.mother_tongues[0], "level": "native"})
            for extra in origin.mother_tongues[1:]:
                if rng.random() < 0.4:
                    languages.append({"code": extra, "level": rng.choice(("native", "C1", "B2"))})
        english = {School.NONE: 0.05, School.LOWER: 0.2, School.MIDDLE: 0.45, School.UPPER: 0.75}
        if rng.random() < english[school]:
            languages.append({"code": "en", "level": rng.choice(("A2", "B1", "B1", "B2", "C1"))})
        return languages

    def _dimension_levels(self, profile: ProfileRecord) -> None:
        """Qualification, work experience, language and mobility levels, read off the facts."""
        levels = derived_need_levels(
            school=profile.school,
            vocational=profile.vocational,
            german=profile.german,
            work_months_5y=profile.work_months_5y,
        )
        for name, value in levels.items():
            setattr(profile, name, value)
        roll = self.mobility_rng.random()
        profile.public_transport = True if roll < 0.82 else False if roll < 0.95 else None
        if not profile.driving_licence and profile.public_transport is False:
            profile.mobility_need = Need.HIGH
        elif not profile.driving_licence and self.mobility_rng.random() < 0.3:
            profile.mobility_need = Need.SOME
        else:
            profile.mobility_need = Need.NONE

    def _need(self, shift: float, cuts: tuple[float, float]) -> str:
        score = shift + self.rng.gauss(0, 1)
        if score > cuts[1]:
            return Need.HIGH
        if score > cuts[0]:
            return Need.SOME
        return Need.NONE

    def _care(self, kind: str, sex: str, youngest: int | None, children: int) -> str:
        rng = self.rng
        if youngest is None:
            return Need.SOME if rng.random() < 0.05 else Need.NONE  # caring for a relative
        load = (3 if youngest < 3 else 2 if youngest < 7 else 1 if youngest < 13 else 0) + (
            children >= 3
        )
        if kind == "family":
            load -= 1 if sex == Sex.FEMALE and rng.random() < 0.7 else 2
        if load >= 3 or (load == 2 and rng.random() < 0.4):
            return Need.HIGH
        if load >= 1:
            return Need.SOME
        return Need.NONE

    def _benefit_since(
        self,
        spells: list[SpellRecord],
        last_end: date | None,
        entered_market: date,
        as_of: date,
        dob: date,
    ) -> date:
        rng = self.rng
        ended = [s for s in spells if s.end is not None]
        if last_end is None:
            since = entered_market + timedelta(days=rng.randint(0, 120))
        elif (
            ended
            and ended[0].kind == EmploymentSpell.Kind.INSURED
            and ((ended[0].end - ended[0].start).days >= 365)
        ):
            # Unemployment benefit (SGB III) first, then basic income support.
            since = add_months(last_end, min(12, months_between(last_end, as_of)))
        else:
            since = last_end + timedelta(days=rng.randint(1, 45))
        return max(_years_after(dob, 15), min(since, as_of - timedelta(days=14)))

    def _target(
        self, spells: list[SpellRecord], career: Occupation, foreign_qualification: bool
    ) -> Occupation | None:
        """The occupation the customer aims for: mostly their career one, else their last job."""
        roll = self.rng.random()
        if roll < 0.2:
            return None
        if foreign_qualification or not spells or roll < 0.65:
            return career
        return next((o for o in OCCUPATIONS if o.kldb == spells[0].kldb), career)

    def _own_goals(
        self, profile: ProfileRecord, target: Occupation | None, age: int, phase: str
    ) -> str:
        rng = self.rng
        if phase == Phase.PROFILING and rng.random() < 0.4:
            return ""
        goals: list[str] = []
        if profile.care == Need.HIGH:
            goals.append("Eine Teilzeitstelle finden, die zur Kinderbetreuung passt.")
        if profile.german in ("A0", "A1", "A2"):
            goals.append("Deutsch lernen, mindestens bis B1, und danach arbeiten.")
        if profile.foreign_qualification:
            goals.append("Meinen Abschluss aus dem Ausland anerkennen lassen.")
        if profile.health == Need.HIGH:
            goals.append("Erst gesundheitlich stabil werden, dann schrittweise einsteigen.")
        if profile.debt == Need.HIGH:
            goals.append("Die Schulden mit der Schuldnerberatung ordnen.")
        if target and profile.vocational == Vocational.NONE and age < 30:
            goals.append(f"Eine Ausbildung als {target.name} beginnen.")
        elif target:
            hours = "in Vollzeit" if profile.care == Need.NONE else "in Teilzeit"
            goals.append(f"Wieder als {target.name} arbeiten, am liebsten {hours}.")
        if not profile.driving_licence and rng.random() < 0.3:
            goals.append("Den Führerschein machen, um auch Schichtarbeit annehmen zu können.")
        if profile.motivation == Motivation.LOW and rng.random() < 0.5:
            return "Zurzeit keine eigenen Ziele genannt."
        rng.shuffle(goals)
        return " ".join(goals[:2])

    # -- the case ---------------------------------------------------------------------------------

    def _timeline(self, earliest: date) -> _Timeline:
        """Which phase the case is in and when each phase began, counted back from today."""
        rng = self.rng
        phase = PHASE_WEIGHTS.pick(rng)
        if phase == Phase.CLOSED:
            last_open = CLOSED_FROM_WEIGHTS.pick(rng)
            longest_ago = max(1, min(540, (self.today - earliest).days // 2))
            closed_on = self.today - timedelta(days=rng.randint(1, longest_ago))
            end = closed_on
        else:
            last_open = phase
            closed_on = None
            end = None
        path = OPEN_PHASES[: OPEN_PHASES.index(last_open) + 1]
        planned = {p: rng.randint(*PHASE_DAYS[p]) for p in path}
        if end is None:
            # Days in the current phase so far: up to a fifth past the plan, so some are overdue.
            elapsed = rng.randint(1, max(2, int(planned[phase] * 1.2)))
            start = self.today - timedelta(days=elapsed)
        else:
            start = end - timedelta(days=max(1, int(planned[last_open] * rng.uniform(0.3, 1.1))))
        dates = [(start, last_open)]
        for previous in reversed(path[:-1]):
            actual = max(5, int(planned[previous] * rng.uniform(0.8, 1.3)))
            start = start - timedelta(days=actual)
            dates.append((start, previous))
        dates.reverse()
        return _Timeline(phase, dates, planned[last_open], closed_on, last_open)

    @staticmethod
    def _fit_timeline(timeline: _Timeline, *, earliest: date) -> _Timeline:
        """Squeeze a case's course so it does not begin before the customer could be a customer."""
        first = timeline.dates[0][0]
        if first >= earliest:
            return timeline
        last = timeline.closed_on or timeline.dates[-1][0]
        span = max(1, (last - first).days)
        room = max(0, (last - earliest).days)
        squeezed = [
            (last - timedelta(days=(last - day).days * room // span), phase)
            for day, phase in timeline.dates
        ]
        return _Timeline(
            timeline.phase,
            squeezed,
            timeline.planned_days,
            timeline.closed_on,
            timeline.closed_from,
        )

    def _at(self, day: date) -> datetime:
        """A moment in office hours on that day."""
        rng = self.rng
        return datetime.combine(
            day, time(rng.randint(8, 15), rng.choice((0, 10, 20, 30, 40, 50))), self.tz
        )

    def _case(
        self,
        timeline: _Timeline,
        team: int,
        profile: ProfileRecord,
        probability: float,
        target: Occupation | None,
        age: int,
    ) -> CaseRecord:
        moments = [self._at(day) for day, _ in timeline.dates]
        for i in range(1, len(moments)):  # same-day phases keep their order
            moments[i] = max(moments[i], moments[i - 1] + timedelta(minutes=5))
        transitions = [
            (moments[i], timeline.dates[i - 1][1], timeline.dates[i][1])
            for i in range(1, len(moments))
        ]
        profiled = timeline.closed_from != Phase.PROFILING
        group = self._group(profile, probability) if profiled else ""
        if timeline.phase == Phase.CLOSED:
            closed_at = max(self._at(timeline.closed_on), moments[-1] + timedelta(minutes=5))
            reason, summary = self._closing(probability, target, age)
            return CaseRecord(
                team=team,
                phase=Phase.CLOSED,
                customer_group=group,
                opened_at=moments[0],
                phase_since=closed_at,
                review_due=None,
                closed_at=closed_at,
                transitions=transitions,
                closing_reason=reason,
                closing_summary=summary,
            )
        review_due = timeline.dates[-1][0] + timedelta(days=timeline.planned_days)
        return CaseRecord(
            team=team,
            phase=timeline.phase,
            customer_group=group,
            opened_at=moments[0],
            phase_since=moments[-1],
            review_due=review_due,
            closed_at=None,
            transitions=transitions,
        )

    def _group(self, profile: ProfileRecord, probability: float) -> str:
        """The segment a caseworker would most likely have chosen: close to, not equal to, the oracle."""
        rng = self.rng
        score = probability + rng.gauss(0, 0.06)
        if score < 0.04 or (profile.motivation == Motivation.LOW and rng.random() < 0.3):
            return CustomerGroup.ADMINISTRATIVE
        if score > 0.3:
            return CustomerGroup.MARKET_NEAR
        return CustomerGroup.POTENTIAL

    def _closing(self, probability: float, target: Occupation | None, age: int) -> tuple[str, str]:
        rng = self.rng
        if rng.random() < probability:
            occupation = (target or rng.choice(OCCUPATIONS)).name
            if age < 25 and rng.random() < 0.35:
                return "training", f"Fall abgeschlossen: Beginn einer Ausbildung als {occupation}"
            return "integration", f"Fall abgeschlossen: Arbeitsaufnahme als {occupation}"
        reasons = {
            "moved": "Fall abgeschlossen: Umzug in einen anderen Jobcenterbezirk",
            "household_income": "Fall abgeschlossen: kein Leistungsanspruch mehr (Einkommen in der Bedarfsgemeinschaft)",
            "other_benefit": "Fall abgeschlossen: Wechsel in eine vorrangige Leistung",
        }
        if age >= 63:
            reasons["pension"] = "Fall abgeschlossen: Übergang in die Altersrente"
        reason = rng.choice(sorted(reasons))
        return reason, reasons[reason]


# Requirement levels (the fifth KldB digit) of the jobs people with a degree end up in.
LEVELS_DEGREE = Weighted({4: 60, 3: 15, 2: 15, 1: 10})
LEVELS_FOREIGN_DEGREE = Weighted({4: 20, 2: 30, 1: 50})  # degree not (yet) recognised
SPELL_KINDS_HELPER = Weighted(
    {
        EmploymentSpell.Kind.INSURED: 72,
        EmploymentSpell.Kind.MINIJOB: 24,
        EmploymentSpell.Kind.SELF_EMPLOYED: 1,
    }
)
SPELL_KINDS_SKILLED = Weighted(
    {
        EmploymentSpell.Kind.INSURED: 72,
        EmploymentSpell.Kind.MINIJOB: 24,
        EmploymentSpell.Kind.SELF_EMPLOYED: 4,
    }
)


@cache
def _occupations(level: int, sex: str) -> Weighted[Occupation]:
    """The occupations of one requirement level, weighted by how common they are for the sex."""
    candidates = [o for o in OCCUPATIONS if o.level == level] or list(OCCUPATIONS)
    return Weighted(
        {
            o: o.weight
            * (
                0.5
                if sex == Sex.DIVERSE
                else o.female_share
                if sex == Sex.FEMALE
                else 1 - o.female_share
            )
            for o in candidates
        }
    )


class _EmploymentHistory:
    """Spells worked in Germany, counted back from the last one, consistent with the profile."""

    MAX_SPELLS = 6
    MAX_YEARS = 15

    def __init__(
        self,
        *,
        rng: random.Random,
        as_of: date,
        dob: date,
        z: float,
        sex: str,
        school: str,
        vocational: str,
        foreign_qualification: bool,
        arrived: date | None,
    ) -> None:
        self.rng = rng
        self.as_of = as_of
        self.dob = dob
        self.sex = sex
        self.vocational = vocational
        self.foreign_qualification = foreign_qualification
        self.attachment = 1 / (1 + math.exp(-(1.2 * z + 0.2)))  # share of time spent working
        start_age = {School.NONE: 16, School.LOWER: 16, School.MIDDLE: 17, School.UPPER: 19}[school]
        trained_at_home = vocational == Vocational.APPRENTICESHIP and not foreign_qualification
        self.training_start: date | None = None
        if trained_at_home:
            self.training_start = _years_after(dob, start_age)
            start_age += 3
        if vocational == Vocational.UNIVERSITY and not foreign_qualification:
            start_age = 25
        entered = _years_after(dob, max(18, start_age))
        if arrived is not None:
            entered = max(entered, arrived + timedelta(days=180))  # language course first
            self.training_start = None
        self.entered_market = min(entered, as_of - timedelta(days=30))
        self.career = self._occupation(self._level())

    def _level(self) -> int:
        rng = self.rng
        if self.vocational == Vocational.NONE:
            return 1 if rng.random() < 0.9 else 2
        if self.vocational == Vocational.APPRENTICESHIP:
            if self.foreign_qualification:
                return 1 if rng.random() < 0.45 else 2
            return 2 if rng.random() < 0.85 else (1 if rng.random() < 0.7 else 3)
        if self.foreign_qualification:
            return LEVELS_FOREIGN_DEGREE.pick(rng)
        return LEVELS_DEGREE.pick(rng)

    def _occupation(self, level: int) -> Occupation:
        return _occupations(level, self.sex).pick(self.rng)

    def build(self) -> tuple[list[SpellRecord], date | None, date]:
        """Spells newest first, the end of the last finished one, and when work could begin."""
        rng = self.rng
        as_of = self.as_of
        history_start = max(self.entered_market, _years_before(as_of, self.MAX_YEARS))
        available_days = (as_of - history_start).days
        recent_arrival = self.entered_market > _years_before(as_of, 2)
        never_worked = 0.08 + 0.3 * (1 - self.attachment) + (0.45 if recent_arrival else 0.0)
        spells: list[SpellRecord] = []
        last_end: date | None = None
        if available_days > 60 and rng.random() > never_worked:
            mean_months = 3 + 40 * (1 - self.attachment) ** 1.5
            unemployed_days = int(rng.expovariate(1 / mean_months) * 30.44)
            last_end = as_of - timedelta(days=min(unemployed_days, available_days - 30))
            cursor = last_end
            while len(spells) < self.MAX_SPELLS and (cursor - history_start).days > 20:
                length = int(rng.lognormvariate(math.log(90 + 700 * self.attachment), 0.75))
                start = max(history_start, cursor - timedelta(days=length))
                occupation = (
                    self.career
                    if rng.random() < 0.75
                    else self._occupation(min(2, self.career.level))
                )
                kind = (SPELL_KINDS_SKILLED if occupation.level > 1 else SPELL_KINDS_HELPER).pick(
                    rng
                )
                spells.append(SpellRecord(kind, occupation.name, occupation.kldb, start, cursor))
                gap = int(rng.expovariate(1 / (20 + 400 * (1 - self.attachment))))
                cursor = start - timedelta(days=gap + 1)
            if self.training_start is not None:
                training_end = _years_after(self.training_start, 3) - timedelta(days=1)
                oldest = spells[-1].start if spells else last_end
                if training_end < oldest and self.training_start >= _years_before(
                    as_of, self.MAX_YEARS
                ):
                    spells.append(
                        SpellRecord(
                            EmploymentSpell.Kind.TRAINING,
                            f"Ausbildung {self.career.name}",
                            self.career.kldb,
                            self.training_start,
                            training_end,
                        )
                    )
        # Some customers top up a minijob that is still running (Aufstocker).
        if rng.random() < 0.12:
            earliest = (last_end or self.entered_market) + timedelta(days=1)
            start = as_of - timedelta(days=rng.randint(20, 700))
            if start > earliest:
                occupation = self._occupation(1)
                spells.insert(
                    0,
                    SpellRecord(
                        EmploymentSpell.Kind.MINIJOB, occupation.name, occupation.kldb, start, None
                    ),
                )
        return spells, last_end, self.entered_market


# --- Assignment and timelines ------------------------------------------------------------------


CONTACT_TOPICS = (
    "Kooperationsplan besprochen",
    "Bewerbungsunterlagen überarbeitet",
    "Vermittlungsvorschläge besprochen",
    "Stand der Maßnahme besprochen",
    "Kinderbetreuung geklärt",
    "Anerkennung des Berufsabschlusses besprochen",
    "Berufssprachkurs vereinbart",
    "Gesundheitliche Situation besprochen",
    "Termin bei der Schuldnerberatung vermittelt",
    "Rückmeldung zu laufenden Bewerbungen",
)
PROFILING_TOPICS = (
    "Erstgespräch zur Potenzialanalyse",
    "Fragebogen zur Potenzialanalyse besprochen",
    "Zeugnisse und Nachweise angefordert",
)
GROUP_FORMATS = (
    "Bewerbungstraining",
    "Digitale Jobsuche",
    "Informationsveranstaltung Weiterbildung",
)
CHANNELS_BY_GROUP = {
    CustomerGroup.POTENTIAL: Weighted({"in_person": 50, "video": 20, "phone": 30}),
    CustomerGroup.MARKET_NEAR: Weighted({"digital": 50, "phone": 25, "video": 25}),
    CustomerGroup.ADMINISTRATIVE: Weighted({"group": 55, "digital": 30, "phone": 15}),
    "": Weighted({"in_person": 70, "phone": 30}),
}
CHANNEL_LABELS_DE = {
    "in_person": "Persönliches Beratungsgespräch",
    "video": "Videoberatung",
    "phone": "Telefonat",
    "digital": "Nachricht im Postfach",
    "group": "Gruppenformat",
}
CONTACTS_BY_PHASE = {
    Phase.PROFILING: (0, 1),
    Phase.PLANNING: (1, 2),
    Phase.IMPLEMENTATION: (1, 4),
    Phase.REVIEW: (2, 4),
    Phase.CLOSED: (1, 4),
}


def _assign_and_narrate(
    *,
    seed: int,
    today: date,
    teams: list[TeamRecord],
    staff: list[StaffRecord],
    customers: list[CustomerRecord],
) -> None:
    """Give potential customers a fixed caseworker of their team and write every case's timeline."""
    rng = random.Random(f"{seed}:cases")
    tz = timezone.get_default_timezone()

    def actor(case: CaseRecord, pool: list[int]) -> int:
        """Potential customers' fixed caseworker; in the team queue, whoever took the task."""
        return case.caseworker if case.caseworker is not None else rng.choice(pool)

    caseworkers: dict[int, list[int]] = {team: [] for team in range(len(teams))}
    for index, member in enumerate(staff):
        if member.role == Role.CASEWORKER and member.team is not None:
            caseworkers[member.team].append(index)

    for customer in customers:
        case = customer.case
        pool = caseworkers[case.team]
        if case.customer_group == CustomerGroup.POTENTIAL:
            case.caseworker = rng.choice(pool)

        events = [
            EventRecord(
                case.opened_at,
                CaseEvent.Kind.OPENED,
                f"Fall eröffnet, zuständig: {teams[case.team].name}",
                None,
                {"team": teams[case.team].name},
            )
        ]
        for when, old, new in case.transitions:
            who = actor(case, pool)
            case.transition_actors.append(who)
            events.append(
                EventRecord(
                    when,
                    CaseEvent.Kind.PHASE_CHANGED,
                    f"Phasenwechsel: {PHASE_LABELS_DE[old]} → {PHASE_LABELS_DE[new]}",
                    who,
                    {"from": old, "to": new},
                )
            )
            if old == Phase.PROFILING and case.customer_group:
                events.append(
                    EventRecord(
                        when + timedelta(minutes=1),
                        CaseEvent.Kind.GROUP_CHANGED,
                        f"Kundengruppe festgelegt: {GROUP_LABELS_DE[case.customer_group]}",
                        who,
                        {"from": "", "to": case.customer_group},
                    )
                )
                if case.caseworker is not None:
                    named = staff[case.caseworker]
                    events.append(
                        EventRecord(
                            when + timedelta(minutes=2),
                            CaseEvent.Kind.ASSIGNED,
                            f"Feste Fallzuordnung: {named.full_name}",
                            who,
                            {"caseworker": named.username},
                        )
                    )
        last_day = (case.closed_at.date() if case.closed_at else today) - timedelta(days=1)
        first_day = case.opened_at.date() + timedelta(days=1)
        # Until profiling ends there is no group yet, and contacts are about the anamnesis.
        profiled_on = case.transitions[0][0].date() if case.transitions else None
        if last_day >= first_day:
            low, high = CONTACTS_BY_PHASE[case.phase]
            for _ in range(rng.randint(low, high)):
                day = first_day + timedelta(days=rng.randint(0, (last_day - first_day).days))
                profiling = profiled_on is None or day <= profiled_on
                channel = CHANNELS_BY_GROUP["" if profiling else case.customer_group].pick(rng)
                if profiling:
                    summary = f"{CHANNEL_LABELS_DE[channel]}: {rng.choice(PROFILING_TOPICS)}"
                    who = rng.choice(pool)
                elif channel == "group":
                    summary = f"{CHANNEL_LABELS_DE[channel]}: {rng.choice(GROUP_FORMATS)}"
                    who = actor(case, pool)
                else:
                    summary = f"{CHANNEL_LABELS_DE[channel]}: {rng.choice(CONTACT_TOPICS)}"
                    who = actor(case, pool)
                at = datetime.combine(
                    day, time(rng.randint(8, 15), rng.choice((0, 15, 30, 45))), tz
                )
                events.append(
                    EventRecord(at, CaseEvent.Kind.CONTACT, summary, who, {"channel": channel})
                )
        if case.closed_at is not None:
            events.append(
                EventRecord(
                    case.closed_at,
                    CaseEvent.Kind.CLOSED,
                    case.closing_summary,
                    actor(case, pool),
                    {"reason": case.closing_reason},
                )
            )
        events.sort(key=lambda event: event.at)
        case.events = events


# --- Cooperation plans and case notes ------------------------------------------------------------

# The note templates and the tag vocabulary that migration 0005 creates. The generator answers the
# checklists against these; write() re-reads the templates and tags actually in the database.
_STARTER_DATA = importlib.import_module("cases.migrations.0005_note_templates_and_tags")
DEFAULT_NOTE_TEMPLATES: dict[str, dict] = _STARTER_DATA.TEMPLATES
DEFAULT_TAGS: tuple[str, ...] = tuple(_STARTER_DATA.TAGS)

NOTE_TYPE_LABELS_DE = {
    NoteType.CONVERSATION: "Gespräch",
    NoteType.PHONE_CALL: "Telefonat",
    NoteType.VIDEO: "Videoberatung",
    NoteType.OUTREACH_VISIT: "Hausbesuch / aufsuchender Kontakt",
    NoteType.DOCUMENT_RECEIVED: "Unterlage eingegangen",
    NoteType.OTHER: "Sonstiges",
}
DRAFT_SHARE_IN_PLANNING = 0.55
INCOMPLETE_NOTE_SHARE = 0.1
PLAN_REVIEW_MONTHS = 6  # CasePolicy.plan_review_months by default
AGREEMENT_NOTES = Weighted(
    {
        "Im persönlichen Gespräch besprochen und vereinbart.": 50,
        "Im persönlichen Gespräch besprochen und vereinbart, Ausfertigung ausgehändigt.": 20,
        "In der Videoberatung besprochen; Zustimmung per Nachricht im Postfach erteilt.": 15,
        "Telefonisch besprochen; Zustimmung in Textform per E-Mail eingegangen.": 15,
    }
)
STEP_FOLLOW_UP_DONE = (
    "",
    "",
    "Nachweis liegt vor.",
    "Erledigt, Bescheinigung in der Akte.",
    "Im Gespräch bestätigt.",
)
STEP_FOLLOW_UP_DROPPED = (
    "Nicht mehr erforderlich.",
    "Entfällt nach Rücksprache.",
    "Zurückgestellt, wird im nächsten Plan neu vereinbart.",
)
STEP_FOLLOW_UP_DROPPED_CLOSED = "Entfällt mit dem Abschluss des Falls."
# (responsible, third party, description)
GENERIC_STEPS = (
    (StepResponsible.CUSTOMER, "", "Bewerbungsunterlagen überarbeiten"),
    (StepResponsible.CUSTOMER, "", "Stellenangebote in der Jobbörse wöchentlich prüfen"),
    (StepResponsible.JOBCENTER, "", "Bewerbungskosten auf Antrag erstatten"),
    (StepResponsible.CUSTOMER, "", "Profil in der Jobbörse anlegen und aktuell halten"),
    (StepResponsible.JOBCENTER, "", "Fahrtkosten zu Vorstellungsgesprächen übernehmen"),
)
NOTE_DOCUMENTS = (
    "Arbeitsunfähigkeitsbescheinigung",
    "Bewerbungsnachweise",
    "Teilnahmebescheinigung",
    "Arbeitsvertrag",
    "Mietvertrag",
    "Kita-Bescheinigung",
    "Zeugnisse in Kopie",
    "Lebenslauf",
)
TOPIC_TAGS = {
    "Kooperationsplan besprochen": (),
    "Bewerbungsunterlagen überarbeitet": ("Bewerbung",),
    "Vermittlungsvorschläge besprochen": ("Vermittlung",),
    "Stand der Maßnahme besprochen": ("Qualifizierung",),
    "Kinderbetreuung geklärt": ("Kinderbetreuung",),
    "Anerkennung des Berufsabschlusses besprochen": ("Anerkennung ausländischer Abschlüsse",),
    "Berufssprachkurs vereinbart": ("Sprachkurs",),
    "Gesundheitliche Situation besprochen": ("Gesundheit",),
    "Termin bei der Schuldnerberatung vermittelt": ("Schulden",),
    "Rückmeldung zu laufenden Bewerbungen": ("Bewerbung", "Vermittlung"),
}
NOTE_AGREEMENTS = (
    "Bewerbungsunterlagen bis zum nächsten Termin überarbeiten",
    "drei Vermittlungsvorschläge ausgehändigt, Rückmeldung innerhalb von zwei Wochen",
    "Nachweise über die Eigenbemühungen zum nächsten Termin mitbringen",
    "Stellenangebote in der Jobbörse gemeinsam durchgesehen, zwei Bewerbungen vereinbart",
    "Rückmeldung der Kundin/des Kunden bis Monatsende",
)
NOTE_SITUATIONS = (
    "Die Situation ist im Wesentlichen unverändert",
    "Bewirbt sich regelmäßig, bisher ohne Zusage",
    "Hatte seit dem letzten Termin ein Vorstellungsgespräch",
    "Wirkt motiviert und hat eigene Stellenangebote mitgebracht",
)


def _addressed(customer: CustomerRecord) -> str:
    if customer.sex == Sex.FEMALE:
        return f"Frau {customer.last_name}"
    if customer.sex == Sex.MALE:
        return f"Herr {customer.last_name}"
    return f"{customer.first_name} {customer.last_name}"


def _age_on(customer: CustomerRecord, day: date) -> int:
    born = customer.date_of_birth
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _need_items(customer: CustomerRecord) -> list[tuple[str, str, str, str, str]]:
    """What the profile calls for: (responsible, third party, step, tag, situation), most pressing
    first."""
    profile = customer.profile
    items: list[tuple[str, str, str, str, str]] = []
    german = profile.german
    if german in ("A0", "A1", "A2"):
        items.append(
            (
                StepResponsible.THIRD_PARTY,
                "Volkshochschule Musterstadt",
                "Sprachkurs B1 beginnen (Integrationskurs)",
                "Sprachkurs",
                "Der Integrationskurs läuft, Verständigung auf Deutsch noch eingeschränkt",
            )
        )
    elif german == "B1":
        items.append(
            (
                StepResponsible.CUSTOMER,
                "",
                "Zum Berufssprachkurs B2 anmelden",
                "Sprachkurs",
                "Gute Fortschritte im Deutschen, Berufssprachkurs B2 ist der nächste Schritt",
            )
        )
    if profile.care in (Need.SOME, Need.HIGH):
        items.append(
            (
                StepResponsible.CUSTOMER,
                "",
                "Kinderbetreuung klären (Kita-Platz beim Jugendamt beantragen)",
                "Kinderbetreuung",
                "Die Kinderbetreuung ist noch nicht verlässlich geregelt",
            )
        )
    if profile.foreign_qualification:
        items.append(
            (
                StepResponsible.THIRD_PARTY,
                "IQ-Anerkennungsberatung Musterstadt",
                "Anerkennung des ausländischen Berufsabschlusses prüfen",
                "Anerkennung ausländischer Abschlüsse",
                "Der Berufsabschluss aus dem Herkunftsland ist noch nicht anerkannt",
            )
        )
    if profile.health == Need.HIGH:
        items.append(
            (
                StepResponsible.JOBCENTER,
                "",
                "Gutachten beim Ärztlichen Dienst in Auftrag geben",
                "Gesundheit",
                "Berichtet von gesundheitlichen Einschränkungen, die die Arbeitssuche erschweren",
            )
        )
    elif profile.health == Need.SOME:
        items.append(
            (
                StepResponsible.CUSTOMER,
                "",
                "Ärztliche Bescheinigung zur Belastbarkeit vorlegen",
                "Gesundheit",
                "Gesundheitlich eingeschränkt, aber für leichtere Tätigkeiten belastbar",
            )
        )
    if profile.debt in (Need.SOME, Need.HIGH):
        items.append(
            (
                StepResponsible.THIRD_PARTY,
                "Schuldnerberatung der Caritas Musterstadt",
                "Erstgespräch bei der Schuldnerberatung wahrnehmen",
                "Schulden",
                "Offene Forderungen belasten die Situation",
            )
        )
    if profile.housing == Need.HIGH:
        items.append(
            (
                StepResponsible.THIRD_PARTY,
                "Fachstelle Wohnen der Stadt Musterstadt",
                "Drohenden Wohnungsverlust mit der Fachstelle Wohnen abwenden",
                "Wohnen",
                "Die Wohnung ist gekündigt, eine neue Unterkunft wird gesucht",
            )
        )
    if profile.digital == Need.HIGH:
        items.append(
            (
                StepResponsible.THIRD_PARTY,
                "Bildungswerk Musterstadt",
                "Kurs „Digitale Jobsuche“ besuchen",
                "Qualifizierung",
                "Online-Bewerbungen fallen noch schwer",
            )
        )
    if profile.mobility_need == Need.HIGH:
        items.append(
            (
                StepResponsible.JOBCENTER,
                "",
                "Förderung des Führerscheins prüfen",
                "Mobilität",
                "Ohne Führerschein sind viele Stellen im Schichtdienst nicht erreichbar",
            )
        )
    if profile.target_occupation and profile.vocational == Vocational.NONE:
        if _age_on(customer, customer.as_of) < 30:
            items.append(
                (
                    StepResponsible.THIRD_PARTY,
                    "Berufsberatung der Agentur für Arbeit",
                    f"Beratung zur Ausbildung als {profile.target_occupation} wahrnehmen",
                    "Qualifizierung",
                    "Interesse an einer Ausbildung",
                )
            )
        else:
            items.append(
                (
                    StepResponsible.JOBCENTER,
                    "",
                    "Bildungsgutschein für eine Teilqualifizierung prüfen",
                    "Qualifizierung",
                    "Ohne Berufsabschluss, eine Teilqualifizierung wird erwogen",
                )
            )
    if profile.motivation == Motivation.LOW:
        items.append(
            (
                StepResponsible.THIRD_PARTY,
                "Coaching-Zentrum Musterstadt",
                "Ganzheitliches Coaching (§ 16k SGB II) beginnen",
                "",
                "Wirkt entmutigt nach langer Arbeitslosigkeit",
            )
        )
    return items


def _integration_goal(customer: CustomerRecord, agreed_on: date) -> str:
    profile = customer.profile
    target = profile.target_occupation
    hours = "in Teilzeit" if profile.care == Need.HIGH else "in Vollzeit"
    if not target:
        return (
            "Berufliche Orientierung klären und eine sozialversicherungspflichtige Beschäftigung "
            "aufnehmen."
        )
    if profile.vocational == Vocational.NONE and _age_on(customer, agreed_on) < 30:
        return f"Beginn einer Ausbildung als {target} zum nächsten Ausbildungsjahr."
    if profile.german in ("A0", "A1", "A2"):
        return (
            f"Deutschkenntnisse auf Niveau B1 verbessern und danach eine Beschäftigung als {target} "
            "aufnehmen."
        )
    if profile.health == Need.HIGH:
        return (
            f"Gesundheitliche Stabilisierung und schrittweiser Einstieg in eine Beschäftigung als "
            f"{target}."
        )
    if profile.care == Need.HIGH:
        return (
            f"Aufnahme einer Beschäftigung als {target} in Teilzeit, vereinbar mit der "
            "Kinderbetreuung."
        )
    return f"Aufnahme einer sozialversicherungspflichtigen Beschäftigung als {target} {hours}."


def _note_summary(note_type: str, occurred_on: date, missing: list[str]) -> str:
    summary = f"{NOTE_TYPE_LABELS_DE[note_type]} vom {occurred_on:%d.%m.%Y} vermerkt."
    if missing:
        summary += f" Unvollständig: {'; '.join(missing)}."
    return summary if len(summary) <= 300 else summary[:299] + "…"


def _note_event_data(note: NoteRecord, tags: list[str], missing: list[str]) -> dict:
    return {
        "note_type": note.note_type,
        "channel": note.channel,
        "occurred_on": note.occurred_on.isoformat(),
        "tags": tags,
        "missing_items": missing,
    }


class _PlansAndNotes:
    """Cooperation plans with steps and case notes for every case, from two streams of their own."""

    def __init__(self, *, seed: int, today: date) -> None:
        self.plans_rng = random.Random(f"{seed}:plans")
        self.notes_rng = random.Random(f"{seed}:notes")
        self.today = today
        self.tz = timezone.get_default_timezone()

    def _at(self, rng: random.Random, day: date) -> datetime:
        return datetime.combine(
            day, time(rng.randint(8, 15), rng.choice((0, 10, 20, 30, 40, 50))), self.tz
        )

    def _day_between(self, rng: random.Random, first: date, last: date) -> date:
        return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))

    # -- plans ----------------------------------------------------------------------------------

    def plan(self, customer: CustomerRecord) -> None:
        case = customer.case
        reached = [new for _when, _old, new in case.transitions]
        if Phase.IMPLEMENTATION in reached:
            self._agreed_plan(customer, reached.index(Phase.IMPLEMENTATION))
        elif case.phase == Phase.PLANNING and self.plans_rng.random() < DRAFT_SHARE_IN_PLANNING:
            self._draft_plan(customer)

    def _steps(
        self,
        customer: CustomerRecord,
        *,
        count: int,
        first_due: date,
        last_due: date,
    ) -> list[StepRecord]:
        rng = self.plans_rng
        needs = _need_items(customer)
        chosen = [item[:3] for item in needs[:count]]
        target = customer.profile.target_occupation
        generic = list(GENERIC_STEPS)
        if target:
            generic.insert(
                0,
                (
                    StepResponsible.CUSTOMER,
                    "",
                    f"Monatlich mindestens vier Bewerbungen als {target} schreiben und nachweisen",
                ),
            )
            generic.insert(
                1,
                (
                    StepResponsible.JOBCENTER,
                    "",
                    f"Passende Vermittlungsvorschläge als {target} unterbreiten",
                ),
            )
        while len(chosen) < count and generic:
            # The first generic step is the most common one; the others by chance.
            chosen.append(generic.pop(0 if rng.random() < 0.5 else rng.randrange(len(generic))))
        dues = sorted(self._day_between(rng, first_due, last_due) for _ in chosen)
        return [
            StepRecord(
                position=index + 1,
                responsible=responsible,
                responsible_name=name,
                description=description,
                due_date=due,
                status=StepStatus.OPEN,
                status_changed_at=None,
            )
            for index, ((responsible, name, description), due) in enumerate(
                zip(chosen, dues, strict=True)
            )
        ]

    def _agreed_plan(self, customer: CustomerRecord, index: int) -> None:
        rng = self.plans_rng
        case = customer.case
        when, _old, _new = case.transitions[index]
        who = case.transition_actors[index]
        planning_since = case.transitions[index - 1][0] if index > 0 else case.opened_at
        agreed_at = max(planning_since + timedelta(minutes=2), when - timedelta(minutes=3))
        created_at = self._at(rng, self._day_between(rng, planning_since.date(), agreed_at.date()))
        created_at = min(max(created_at, planning_since + timedelta(minutes=1)), agreed_at)
        agreed_on = timezone.localtime(agreed_at, self.tz).date()
        if case.phase != Phase.CLOSED and case.review_due is None:
            case.review_due = add_months(agreed_on, PLAN_REVIEW_MONTHS)  # never without one
        review_date = case.review_due or add_months(agreed_on, PLAN_REVIEW_MONTHS)
        first_due = agreed_on + timedelta(days=7)
        last_due = max(first_due + timedelta(days=7), review_date - timedelta(days=3))
        steps = self._steps(
            customer, count=rng.randint(2, 5), first_due=first_due, last_due=last_due
        )
        closed_on = timezone.localtime(case.closed_at, self.tz).date() if case.closed_at else None
        for step in steps:
            self._progress(step, agreed_at=agreed_at, closed_at=case.closed_at, closed_on=closed_on)
        plan = PlanRecord(
            cycle=1,
            version=1,
            status=PlanStatus.AGREED,
            integration_goal=_integration_goal(customer, agreed_on),
            review_date=review_date,
            created_at=created_at,
            created_by=who,
            agreed_at=agreed_at,
            agreed_by=who,
            agreement_note=AGREEMENT_NOTES.pick(rng),
            steps=steps,
        )
        case.plans.append(plan)
        case.events.append(
            EventRecord(
                created_at,
                CaseEvent.Kind.PLAN_DRAFTED,
                f"Kooperationsplan {plan.label} entworfen.",
                who,
                {"version": plan.label},
                plan,
                "plan_id",
            )
        )
        case.events.append(
            EventRecord(
                agreed_at,
                CaseEvent.Kind.PLAN_AGREED,
                f"Kooperationsplan {plan.label} mit der Kundin/dem Kunden vereinbart: "
                f"{plan.agreement_note[:200]}",
                who,
                {
                    "version": plan.label,
                    "superseded_plan_id": None,
                    "review_date": review_date.isoformat(),
                },
                plan,
                "plan_id",
            )
        )

    def _progress(
        self,
        step: StepRecord,
        *,
        agreed_at: datetime,
        closed_at: datetime | None,
        closed_on: date | None,
    ) -> None:
        """Done, dropped or still open, as of today (or as of the closing day)."""
        rng = self.plans_rng
        roll = rng.random()
        until = closed_on or self.today
        if step.due_date < until:
            status = (
                StepStatus.DONE
                if roll < 0.82
                else StepStatus.DROPPED
                if roll < 0.88 or closed_on
                else StepStatus.OPEN
            )
        elif closed_on is not None:
            status = StepStatus.DONE if roll < 0.3 else StepStatus.DROPPED
        else:
            status = StepStatus.DONE if roll < 0.15 else StepStatus.OPEN
        if status == StepStatus.OPEN:
            return
        agreed_on = timezone.localtime(agreed_at, self.tz).date()
        latest = min(until - timedelta(days=1), step.due_date + timedelta(days=14))
        earliest = min(
            max(agreed_on + timedelta(days=1), step.due_date - timedelta(days=30)), latest
        )
        changed = self._at(rng, self._day_between(rng, earliest, latest))
        if status == StepStatus.DROPPED and closed_at is not None and step.due_date >= until:
            changed = closed_at - timedelta(minutes=1)
            step.follow_up = STEP_FOLLOW_UP_DROPPED_CLOSED
        elif status == StepStatus.DROPPED:
            step.follow_up = rng.choice(STEP_FOLLOW_UP_DROPPED)
        else:
            step.follow_up = rng.choice(STEP_FOLLOW_UP_DONE)
        changed = max(changed, agreed_at + timedelta(minutes=30))
        if closed_at is not None:
            changed = min(changed, closed_at - timedelta(minutes=1))
        step.status = status
        step.status_changed_at = changed

    def _draft_plan(self, customer: CustomerRecord) -> None:
        rng = self.plans_rng
        case = customer.case
        index = len(case.transitions) - 1
        planning_since, who = case.transitions[index][0], case.transition_actors[index]
        yesterday = self.today - timedelta(days=1)
        created_at = self._at(rng, self._day_between(rng, planning_since.date(), yesterday))
        created_at = max(created_at, planning_since + timedelta(minutes=10))
        created_on = timezone.localtime(created_at, self.tz).date()
        review_date = add_months(created_on, PLAN_REVIEW_MONTHS)
        first_due = max(self.today + timedelta(days=7), created_on + timedelta(days=14))
        steps = self._steps(
            customer,
            count=rng.randint(1, 3),
            first_due=first_due,
            last_due=max(first_due, review_date - timedelta(days=7)),
        )
        goal = _integration_goal(customer, created_on)
        plan = PlanRecord(
            cycle=1,
            version=1,
            status=PlanStatus.DRAFT,
            integration_goal=goal,
            review_date=review_date,
            created_at=created_at,
            created_by=who,
            agreed_at=None,
            agreed_by=None,
            agreement_note="",
            steps=steps,
        )
        case.plans.append(plan)
        case.events.append(
            EventRecord(
                created_at,
                CaseEvent.Kind.PLAN_DRAFTED,
                f"Kooperationsplan {plan.label} entworfen.",
                who,
                {"version": plan.label},
                plan,
                "plan_id",
            )
        )

    # -- notes ----------------------------------------------------------------------------------

    def notes(self, customer: CustomerRecord, pool: list[int]) -> None:
        rng = self.notes_rng
        case = customer.case
        end = timezone.localtime(case.closed_at, self.tz).date() if case.closed_at else self.today
        last_day = end - timedelta(days=1)
        first_day = timezone.localtime(case.opened_at, self.tz).date() + timedelta(days=1)
        if last_day < first_day:
            return
        age = (end - first_day).days
        count = (
            rng.randint(0, 1) if age < 60 else rng.randint(0, 2) if age < 200 else rng.randint(1, 3)
        )
        if not count:
            return
        contacts = [
            event
            for event in case.events
            if event.kind == CaseEvent.Kind.CONTACT and event.data["channel"] != "group"
        ]
        rng.shuffle(contacts)
        needs = _need_items(customer)
        for number in range(count):
            if number < len(contacts):
                contact = contacts[number]
                channel = contact.data["channel"]
                topic = contact.summary.split(": ", 1)[1]
                author = contact.actor if contact.actor is not None else rng.choice(pool)
                day = timezone.localtime(contact.at, self.tz).date()
                created_at = contact.at + timedelta(minutes=rng.randint(10, 90))
                if channel == "in_person":
                    outreach = case.customer_group == CustomerGroup.POTENTIAL and rng.random() < 0.1
                    note_type = NoteType.OUTREACH_VISIT if outreach else NoteType.CONVERSATION
                    channel = Channel.OUTREACH if outreach else Channel.IN_PERSON
                elif channel == "phone":
                    note_type = NoteType.PHONE_CALL
                elif channel == "video":
                    note_type = NoteType.VIDEO
                else:
                    note_type = NoteType.OTHER
            else:
                topic = ""
                note_type = NoteType.DOCUMENT_RECEIVED
                channel = Channel.LETTER if rng.random() < 0.5 else Channel.DIGITAL
                author = case.caseworker if case.caseworker is not None else rng.choice(pool)
                day = self._day_between(rng, first_day, last_day)
                created_at = self._at(rng, day)
            need = rng.choice(needs) if needs and rng.random() < 0.6 else None
            text, tags = self._text(customer, note_type, channel, topic, need)
            checklist, missing = self._checklist(note_type, topic)
            note = NoteRecord(
                author=author,
                note_type=note_type,
                channel=channel,
                occurred_on=day,
                text=text,
                tags=tags,
                checklist=checklist,
                missing_items=missing,
                created_at=created_at,
            )
            case.notes.append(note)
            case.events.append(
                EventRecord(
                    created_at,
                    CaseEvent.Kind.NOTE_ADDED,
                    _note_summary(note_type, day, missing),
                    author,
                    _note_event_data(note, tags, missing),
                    note,
                    "note_id",
                )
            )

    def _text(
        self,
        customer: CustomerRecord,
        note_type: str,
        channel: str,
        topic: str,
        need: tuple[str, str, str, str, str] | None,
    ) -> tuple[str, list[str]]:
        rng = self.notes_rng
        who = _addressed(customer)
        situation = need[4] if need else rng.choice(NOTE_SITUATIONS)
        agreement = rng.choice(NOTE_AGREEMENTS)
        weeks = rng.choice((2, 3, 4, 6))
        candidates = list(TOPIC_TAGS.get(topic, ()))
        if need and need[3] and need[3] not in candidates:
            candidates.append(need[3])
        if note_type == NoteType.DOCUMENT_RECEIVED:
            document = rng.choice(NOTE_DOCUMENTS)
            via = "per Post" if channel == Channel.LETTER else "über das Postfach"
            text = (
                f"{document} von {who} {via} eingegangen. Unterlagen auf Vollständigkeit geprüft, "
                "Frist notiert. Zur Akte genommen."
            )
            if document == "Bewerbungsnachweise":
                candidates.insert(0, "Bewerbung")
            elif document == "Kita-Bescheinigung":
                candidates.insert(0, "Kinderbetreuung")
        elif note_type == NoteType.PHONE_CALL:
            text = (
                f"Anruf von {who}. Anliegen: {topic}. {situation}. Ergebnis: {agreement}. "
                f"Rückruf in {weeks} Wochen."
            )
        elif note_type == NoteType.VIDEO:
            text = (
                f"Videoberatung mit {who}, Einverständnis liegt vor. Anlass: {topic}. "
                f"{situation}. Vereinbart: {agreement}. Nächster Termin in {weeks} Wochen."
            )
        elif note_type == NoteType.OUTREACH_VISIT:
            text = (
                f"Hausbesuch bei {who} in der Wohnung. Anlass: {topic}. {situation}. "
                f"Vereinbart: {agreement}. Nächster Kontakt in {weeks} Wochen."
            )
        elif note_type == NoteType.OTHER:
            text = f"Nachricht von {who} im Postfach: {topic}. Beantwortet; {agreement}."
        else:
            text = (
                f"Anlass des Gesprächs: {topic}. {situation}. Vereinbart: {agreement}. "
                f"Nächster Kontakt in {weeks} Wochen."
            )
        size = Weighted({0: 30, 1: 50, 2: 20}).pick(rng) if candidates else 0
        return text, sorted(set(candidates[:size]))

    def _checklist(self, note_type: str, topic: str) -> tuple[dict[str, bool], list[str]]:
        rng = self.notes_rng
        items = DEFAULT_NOTE_TEMPLATES[note_type]["checklist"]
        answers = {
            item["key"]: (
                item["required"]
                or (item["key"] == "plan_discussed" and topic == "Kooperationsplan besprochen")
                or rng.random() < 0.5
            )
            for item in items
        }
        if rng.random() < INCOMPLETE_NOTE_SHARE:
            required = [item["key"] for item in items if item["required"]]
            for key in rng.sample(required, 2 if len(required) > 2 and rng.random() < 0.3 else 1):
                answers[key] = False
        missing = [item["label"] for item in items if item["required"] and not answers[item["key"]]]
        return answers, missing


def _plans_and_notes(
    *, seed: int, today: date, staff: list[StaffRecord], customers: list[CustomerRecord]
) -> None:
    """Give every case the plan its phase history calls for, and a few notes; then resort events."""
    generator = _PlansAndNotes(seed=seed, today=today)
    caseworkers: dict[int, list[int]] = {}
    for index, member in enumerate(staff):
        if member.role == Role.CASEWORKER and member.team is not None:
            caseworkers.setdefault(member.team, []).append(index)
    for customer in customers:
        case = customer.case
        generator.plan(customer)
        generator.notes(customer, caseworkers[case.team])
        if case.plans or case.notes:
            case.events.sort(key=lambda event: event.at)


# --- Writing -------------------------------------------------------------------------------------


def _check_can_write(data: SyntheticJobcenter) -> None:
    if not getattr(settings, "DEMO_MODE", False):
        raise SyntheticDataError(
            "Synthetic data and demo logins are only written with DEMO_MODE on "
            "(jobcenter.settings.demo); this installation runs without it."
        )
    if Customer.objects.exists() or Household.objects.exists():
        raise SyntheticDataError(
            "The database already holds customers; synthetic data is only seeded into an empty "
            "database. Use a fresh database (or flush this one) to seed again."
        )
    if Jobcenter.objects.filter(code=data.code).exists():
        raise SyntheticDataError(f"A jobcenter with code {data.code} already exists.")
    usernames = [member.username for member in data.staff]
    clash = sorted(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    if clash:
        raise SyntheticDataError(
            f"Staff accounts the demo would create already exist: {', '.join(clash[:5])}."
        )


def _bulk(model: type, objects: Iterable, *, batch_size: int = BATCH_SIZE) -> list:
    """bulk_create in batches from an iterable; returns the saved objects (with primary keys)."""
    saved: list = []
    for chunk in _chunks(objects, batch_size):
        saved.extend(model.objects.bulk_create(chunk, batch_size=batch_size))
    return saved


@transaction.atomic
def write(
    *,
    data: SyntheticJobcenter,
    demo_password: str | None = None,
    source: str = "seed_demo",
) -> WriteResult:
    """Insert the generated jobcenter in one transaction, with one audit row per created customer.

    The demo logins get `demo_password` if given; every other account has an unusable password.
    Refuses (SyntheticDataError) outside demo mode or when the database already holds customers.
    """
    _check_can_write(data)
    jobcenter = Jobcenter.objects.create(
        name=data.name,
        code=data.code,
        federal_state=data.federal_state,
        region_unemployment_rate=data.region_unemployment_rate,
        **JOBCENTER_CONTACT,
    )
    teams = Team.objects.bulk_create(
        [Team(jobcenter=jobcenter, name=team.name) for team in data.teams]
    )
    users = []
    for member in data.staff:
        user = User(
            username=member.username,
            first_name=member.first_name,
            last_name=member.last_name,
            email=member.email,
            role=member.role,
            team=teams[member.team] if member.team is not None else None,
            is_staff=member.is_staff,
        )
        if demo_password and member.username in DEMO_USERNAMES:
            user.set_password(demo_password)
        else:
            user.set_unusable_password()
        users.append(user)
    users = _bulk(User, users, batch_size=1000)
    for user in users:
        if user.role == Role.ADMIN:
            admin_grant_configuration_permissions(user=user)

    households = _bulk(
        Household,
        (
            Household(
                number=h.number,
                street=h.street,
                postal_code=h.postal_code,
                city=h.city,
                adults=h.adults,
                children=h.children,
                youngest_child_age=h.youngest_child_age,
            )
            for h in data.households
        ),
    )
    customers = _bulk(
        Customer,
        (
            Customer(
                customer_number=c.customer_number,
                first_name=c.first_name,
                last_name=c.last_name,
                date_of_birth=c.date_of_birth,
                sex=c.sex,
                citizenship=c.citizenship,
                nationality=c.nationality,
                severe_disability=c.severe_disability,
                preferred_language=c.preferred_language,
                email=c.email,
                phone=c.phone,
                household_id=households[c.household].pk,
                benefit_since=c.benefit_since,
                created_at=c.created_at,
            )
            for c in data.customers
        ),
    )
    pairs = list(zip(data.customers, customers, strict=True))
    profiles = _bulk(
        Profile,
        (
            Profile(customer_id=saved.pk, version=1, **vars(record.profile))
            for record, saved in pairs
        ),
    )
    # Version 1 of every profile, by the system, valid from when the case was opened.
    profile_versions = _bulk(
        ProfileVersion,
        (
            ProfileVersion(
                customer_id=profile.customer_id,
                version=1,
                valid_from=record.case.opened_at,
                author=None,
                snapshot={name: getattr(profile, name) for name in PROFILE_FIELDS},
                changed_fields=list(PROFILE_FIELDS),
            )
            for (record, _saved), profile in zip(pairs, profiles, strict=True)
        ),
    )
    spells = _bulk(
        EmploymentSpell,
        (
            EmploymentSpell(
                customer_id=saved.pk,
                kind=spell.kind,
                occupation=spell.occupation,
                kldb=spell.kldb,
                start=spell.start,
                end=spell.end,
            )
            for record, saved in pairs
            for spell in record.employment
        ),
    )
    cases = _bulk(
        Case,
        (
            Case(
                customer_id=saved.pk,
                team_id=teams[record.case.team].pk,
                caseworker_id=(
                    users[record.case.caseworker].pk if record.case.caseworker is not None else None
                ),
                phase=record.case.phase,
                customer_group=record.case.customer_group,
                opened_at=record.case.opened_at,
                phase_since=record.case.phase_since,
                review_due=record.case.review_due,
                closed_at=record.case.closed_at,
            )
            for record, saved in pairs
        ),
    )
    plan_records = [
        (plan, case)
        for record, case in zip(data.customers, cases, strict=True)
        for plan in record.case.plans
    ]
    plans = _bulk(
        CooperationPlan,
        (
            CooperationPlan(
                case_id=case.pk,
                cycle=plan.cycle,
                version=plan.version,
                status=plan.status,
                integration_goal=plan.integration_goal,
                review_date=plan.review_date,
                created_at=plan.created_at,
                created_by_id=users[plan.created_by].pk,
                agreed_at=plan.agreed_at,
                agreed_by_id=users[plan.agreed_by].pk if plan.agreed_by is not None else None,
                agreement_note=plan.agreement_note,
            )
            for plan, case in plan_records
        ),
    )
    steps = _bulk(
        PlanStep,
        (
            PlanStep(
                plan_id=saved.pk,
                position=step.position,
                responsible=step.responsible,
                responsible_name=step.responsible_name,
                description=step.description,
                due_date=step.due_date,
                status=step.status,
                follow_up=step.follow_up,
                status_changed_at=step.status_changed_at,
            )
            for (plan, _case), saved in zip(plan_records, plans, strict=True)
            for step in plan.steps
        ),
    )
    case_open_steps_due_fill(cases=Case.objects.filter(pk__in=[case.pk for case in cases]))
    notes, note_tags, resolved = _write_notes(data=data, cases=cases, users=users)
    pks = {id(plan): saved.pk for (plan, _case), saved in zip(plan_records, plans, strict=True)}
    pks.update({key: saved.pk for key, saved in zip(resolved, notes, strict=True)})

    def event_data(event: EventRecord) -> tuple[str, dict]:
        if event.ref is None:
            return event.summary, event.data
        if isinstance(event.ref, NoteRecord):
            tags, missing = resolved[id(event.ref)]
            summary = _note_summary(event.ref.note_type, event.ref.occurred_on, missing)
            return summary, {
                event.ref_key: pks[id(event.ref)],
                **_note_event_data(event.ref, tags, missing),
            }
        return event.summary, {event.ref_key: pks[id(event.ref)], **event.data}

    def case_events() -> Iterator[CaseEvent]:
        for record, case in zip(data.customers, cases, strict=True):
            for event in record.case.events:
                summary, payload = event_data(event)
                yield CaseEvent(
                    case_id=case.pk,
                    at=event.at,
                    kind=event.kind,
                    actor_id=users[event.actor].pk if event.actor is not None else None,
                    summary=summary,
                    data=payload,
                )

    events = _bulk(CaseEvent, case_events())
    detail = {"source": source, "seed": data.seed}
    audit_record_many(
        ctx=AuditContext.system(),
        action=AuditAction.CREATE,
        object_type="customer",
        items=[(customer.pk, customer.pk) for customer in customers],
        detail=detail,
    )
    customer_of_case = {case.pk: case.customer_id for case in cases}
    audit_record_many(
        ctx=AuditContext.system(),
        action=AuditAction.CREATE,
        object_type="cooperation_plan",
        items=[(plan.pk, customer_of_case[plan.case_id]) for plan in plans],
        detail=detail,
    )
    audit_record_many(
        ctx=AuditContext.system(),
        action=AuditAction.CREATE,
        object_type="case_note",
        items=[(note.pk, customer_of_case[note.case_id]) for note in notes],
        detail=detail,
    )
    return WriteResult(
        jobcenter_id=jobcenter.pk,
        counts={
            "teams": len(teams),
            "staff": len(users),
            "households": len(households),
            "customers": len(customers),
            "profile_versions": len(profile_versions),
            "employment_spells": len(spells),
            "cases": len(cases),
            "case_events": len(events),
            "cooperation_plans": len(plans),
            "plan_steps": len(steps),
            "case_notes": len(notes),
            "note_tags": note_tags,
            "audit_events": len(customers) + len(plans) + len(notes),
        },
    )


def _write_notes(
    *, data: SyntheticJobcenter, cases: list[Case], users: list[User]
) -> tuple[list[CaseNote], int, dict[int, tuple[list[str], list[str]]]]:
    """Insert the notes, checklists answered against the templates in the database, and their tags.

    A template that is missing (e.g. flushed by a test) falls back to the default of migration
    0005. An item an admin added to a template counts as ticked on notes generated complete. Tags
    that do not exist (or are inactive) are left off. Returns the saved notes, the number of tag
    links, and per note record (by id, in order) the tags and missing items it got.
    """
    templates = {
        **{key: value["checklist"] for key, value in DEFAULT_NOTE_TEMPLATES.items()},
        **dict(NoteTemplate.objects.values_list("note_type", "checklist")),
    }
    tag_ids = dict(Tag.objects.filter(active=True).values_list("name", "pk"))
    resolved: dict[int, tuple[list[str], list[str]]] = {}
    rows: list[CaseNote] = []
    for record, case in zip(data.customers, cases, strict=True):
        for note in record.case.notes:
            items = templates.get(note.note_type) or []
            answers = {
                item["key"]: note.checklist.get(item["key"], not note.is_incomplete)
                for item in items
            }
            missing = [
                item["label"] for item in items if item.get("required") and not answers[item["key"]]
            ]
            tags = [name for name in note.tags if name in tag_ids]
            resolved[id(note)] = (tags, missing)
            rows.append(
                CaseNote(
                    case_id=case.pk,
                    author_id=users[note.author].pk,
                    note_type=note.note_type,
                    channel=note.channel,
                    occurred_on=note.occurred_on,
                    text=note.text,
                    checklist=answers,
                    missing_items=missing,
                    is_incomplete=bool(missing),
                    created_at=note.created_at,
                )
            )
    notes = _bulk(CaseNote, rows)
    links = _bulk(
        CaseNote.tags.through,
        (
            CaseNote.tags.through(casenote_id=saved.pk, tag_id=tag_ids[name])
            for (tags, _missing), saved in zip(resolved.values(), notes, strict=True)
            for name in tags
        ),
    )
    return notes, len(links), resolved
