"""The customer's pages (no login; the rebooking link) say how to reach the jobcenter: the page of
a link that cannot be used, the page after a move or a call-back request, and the footer of every
other page. Only what the jobcenter filled in appears. A tampered link (the persona who must not
see) gets the installation's contact details and nothing of the appointment."""

import pytest

from scheduling.models import AppointmentStatus
from scheduling.services_appointments import rebooking_token_make
from tests.cases.factories import CaseFactory
from tests.organisation.factories import JobcenterFactory
from tests.scheduling.test_appointments import local, make_appointment
from tests.scheduling.test_rebooking import anna, at_now  # noqa: F401 - the fixtures

CONTACT = {
    "street": "Am Rathausplatz 4",
    "postal_code": "45127",
    "city": "Musterstadt",
    "phone": "030 23125 100",
    "email": "service@jobcenter-musterstadt.example",
    "opening_hours": "Mo, Di, Fr 8:00–12:30 Uhr\nDo 8:00–12:30 und 14:00–17:30 Uhr",
    "website": "https://www.jobcenter-musterstadt.example",
}


@pytest.fixture
def contact(team):
    jobcenter = team.jobcenter
    for field, value in CONTACT.items():
        setattr(jobcenter, field, value)
    jobcenter.save()
    return jobcenter


@pytest.fixture
def link(team, anna, at_now):  # noqa: F811 - the imported fixtures
    case = CaseFactory(team=team, caseworker=anna)
    case.customer.first_name, case.customer.last_name = "Jana", "Schulz"
    case.customer.save()
    appointment = make_appointment(case, anna, local(25, 9), status=AppointmentStatus.SENT)
    return appointment, f"/scheduling/rebook/{rebooking_token_make(appointment)}/"


def _assert_contact(html: str) -> None:
    for expected in (
        "Jobcenter Musterstadt",
        "Am Rathausplatz 4, 45127 Musterstadt",
        'href="tel:03023125100"',
        'href="mailto:service@jobcenter-musterstadt.example"',
        "Mo, Di, Fr 8:00–12:30 Uhr<br>Do 8:00–12:30 und 14:00–17:30 Uhr",
        'href="https://www.jobcenter-musterstadt.example"',
    ):
        assert expected in html, expected


def test_a_link_that_cannot_be_used_says_how_to_reach_the_jobcenter(client, link, contact):
    _appointment, url = link

    response = client.get(url[:-3] + "xx/")

    assert response.status_code == 400
    html = response.content.decode()
    _assert_contact(html)
    assert 'id="jobcenter-contact"' in html
    assert 'id="rebook-footer"' not in html  # said once, in the text
    assert "die Nummer aus Ihrem Brief" not in html
    assert "the number in your letter" not in html


def test_a_tampered_link_shows_the_jobcenter_but_nothing_of_the_appointment(client, link, contact):
    # Who holds no valid link: the installation's contact details, no customer, no time.
    _appointment, url = link

    html = client.get(url[:-3] + "xx/").content.decode()

    assert "Jobcenter Musterstadt" in html
    assert "Schulz" not in html
    assert "09:00" not in html


def test_the_page_after_a_call_back_request_says_how_to_reach_the_jobcenter(client, link, contact):
    _appointment, url = link

    response = client.post(url, {"action": "callback", "reason": "Bitte anrufen"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="rebook-done"' in html
    _assert_contact(html)


def test_every_other_page_has_the_contact_in_its_footer(client, link, contact):
    _appointment, url = link

    html = client.get(url).content.decode()

    assert 'id="rebook-footer"' in html
    footer = html.split('id="rebook-footer"')[1]
    assert 'id="rebook-footer-contact"' in footer
    _assert_contact(footer)


def test_the_labels_follow_the_page_language(client, link, contact):
    _appointment, url = link

    html = client.get(url[:-3] + "xx/?lang=en").content.decode()

    assert "How to reach us" in html
    assert "Opening hours" in html
    assert 'lang="de"' in html.split("Opening hours")[1]  # the hours as the jobcenter wrote them


def test_what_the_jobcenter_did_not_fill_in_is_left_out(client, link, team):
    jobcenter = team.jobcenter
    jobcenter.phone = "030 23125 100"
    jobcenter.save()
    _appointment, url = link

    html = client.get(url[:-3] + "xx/").content.decode()

    assert 'href="tel:03023125100"' in html
    assert "mailto:" not in html
    assert "Am Rathausplatz" not in html
    assert "None" not in html
    section = html.split('id="jobcenter-contact"')[1].split("</section>")[0]
    assert section.count("kern-description-list-item__key") == 1


def test_the_page_shows_the_jobcenter_of_the_appointment(client, link, contact, team):
    # The installation's first jobcenter is `contact`; the appointment's team moved to another.
    team.jobcenter = JobcenterFactory(code="JC-ANDERS", name="Jobcenter Anderswo", phone="089 1")
    team.save()
    _appointment, url = link

    html = client.post(url, {"action": "callback", "reason": "Bitte anrufen"}).content.decode()

    assert "Jobcenter Anderswo" in html
    assert 'href="tel:0891"' in html
    assert "Am Rathausplatz" not in html
