"""The jobcenter's address, phone, e-mail, opening hours and web address: kept in /admin/ by
administrators, printed on letters and shown to customers (tests/scheduling/test_letters.py,
tests/scheduling/test_customer_contact_pages.py)."""

import pytest

from organisation.models import Jobcenter
from organisation.selectors import jobcenter_get_for_customers
from organisation.services import admin_grant_configuration_permissions
from tests.organisation.factories import JobcenterFactory


@pytest.fixture
def admin_client(client, admin_user):
    admin_grant_configuration_permissions(user=admin_user)
    client.force_login(admin_user)
    return client


def test_an_administrator_keeps_the_contact_details_in_the_admin(admin_client, team):
    jobcenter = team.jobcenter
    url = f"/admin/organisation/jobcenter/{jobcenter.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "How customers reach the jobcenter" in page or "So erreichen Kund*innen" in page

    response = admin_client.post(
        url,
        {
            "name": jobcenter.name,
            "code": jobcenter.code,
            "federal_state": jobcenter.federal_state,
            "region_unemployment_rate": "6.0",
            "street": "Am Rathausplatz 4",
            "postal_code": "45127",
            "city": "Musterstadt",
            "phone": "030 23125 100",
            "email": "service@jobcenter-musterstadt.example",
            "opening_hours": "Mo–Fr 8:00–12:30 Uhr\nDo 14:00–17:30 Uhr",
            "website": "https://www.jobcenter-musterstadt.example",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    jobcenter.refresh_from_db()
    assert jobcenter.postal_address == "Am Rathausplatz 4, 45127 Musterstadt"
    assert jobcenter.opening_hours_lines == ["Mo–Fr 8:00–12:30 Uhr", "Do 14:00–17:30 Uhr"]


def test_a_malformed_e_mail_or_web_address_is_refused(admin_client, team):
    jobcenter = team.jobcenter
    response = admin_client.post(
        f"/admin/organisation/jobcenter/{jobcenter.pk}/change/",
        {
            "name": jobcenter.name,
            "code": jobcenter.code,
            "federal_state": jobcenter.federal_state,
            "region_unemployment_rate": "6.0",
            "email": "kein-mail",
            "website": "javascript:alert(1)",
        },
    )
    assert response.status_code == 200
    jobcenter.refresh_from_db()
    assert jobcenter.email == ""
    assert jobcenter.website == ""


@pytest.mark.parametrize("persona", ["caseworker", "team_lead"])
def test_case_roles_cannot_change_the_jobcenter(client, request, persona, team):
    client.force_login(request.getfixturevalue(persona))
    response = client.post(
        f"/admin/organisation/jobcenter/{team.jobcenter.pk}/change/", {"phone": "0800 666"}
    )
    assert response.status_code == 302
    team.jobcenter.refresh_from_db()
    assert team.jobcenter.phone == ""


@pytest.mark.parametrize(
    ("fields", "address"),
    [
        ({}, ""),
        ({"street": "Am Rathausplatz 4"}, "Am Rathausplatz 4"),
        ({"city": "Musterstadt"}, "Musterstadt"),
        ({"postal_code": "45127", "city": "Musterstadt"}, "45127 Musterstadt"),
        (
            {"street": " Am Rathausplatz 4 ", "postal_code": "45127", "city": "Musterstadt"},
            "Am Rathausplatz 4, 45127 Musterstadt",
        ),
    ],
)
def test_the_postal_address_leaves_out_what_is_missing(db, fields, address):
    assert JobcenterFactory.build(**fields).postal_address == address


def test_customers_see_the_first_jobcenter_of_the_installation(db):
    assert jobcenter_get_for_customers() is None
    first = JobcenterFactory(code="JC-1")
    JobcenterFactory(code="JC-2")
    assert jobcenter_get_for_customers() == first
    assert Jobcenter.objects.count() == 2


def test_the_demo_jobcenter_has_plausible_synthetic_contact_details(db):
    from cases import synthetic

    synthetic.write(data=synthetic.generate(customers=20, seed=3))

    jobcenter = Jobcenter.objects.get(code=synthetic.JOBCENTER_CODE)
    assert jobcenter.postal_address == "Am Rathausplatz 4, 45127 Musterstadt"
    assert jobcenter.phone.startswith(synthetic.FICTION_PHONE_PREFIXES)  # kept free for fiction
    assert jobcenter.email.endswith(".example")
    assert jobcenter.website.startswith("https://")
    assert ".example" in jobcenter.website
    assert len(jobcenter.opening_hours_lines) == 3
