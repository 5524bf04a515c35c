"""Profiles with their first version, as profile_update and the seed leave them."""

from audit.services import AuditContext
from profiling.models import Profile
from profiling.services import profile_update
from tests.cases.factories import CustomerFactory

VALID = {
    "school": "middle",
    "vocational": "apprenticeship",
    "foreign_qualification": False,
    "qualification_need": "none",
    "qualification_note": "",
    "work_months_5y": 24,
    "months_unemployed": 12,
    "months_in_benefit": 14,
    "target_kldb": "82102",
    "target_occupation": "Altenpflegehelferin",
    "work_experience_need": "some",
    "work_experience_note": "",
    "german": "B1",
    "other_languages": [{"code": "tr", "level": "native"}],
    "language_need": "some",
    "language_note": "Sprachkurs B2 läuft",
    "health": "none",
    "health_note": "",
    "care": "high",
    "care_note": "Zwei Kinder, Kita-Platz fehlt",
    "housing": "none",
    "housing_note": "",
    "debt": "none",
    "debt_note": "",
    "driving_licence": False,
    "public_transport": True,
    "mobility_need": "none",
    "mobility_note": "",
    "digital": "some",
    "digital_note": "",
    "motivation": "high",
    "motivation_note": "",
    "own_goals": "Teilzeit in der Pflege",
}


def profile_with_version(*, customer=None, **changes) -> Profile:
    """A customer's profile recorded through the service by the system: version 1."""
    customer = customer or CustomerFactory()
    return profile_update(
        ctx=AuditContext.system(),
        customer_id=customer.pk,
        data={**VALID, **changes},
        expected_version=0,
    )
