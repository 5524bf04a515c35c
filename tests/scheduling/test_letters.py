"""What the customer holds: the letter, the e-mails and the SMS say where the jobcenter is and how
to reach it, every link in them is absolute, and the letter's speed work (fonts parsed once per
process, cached widths and subsets, the notice measured instead of copied) changes nothing of how it
looks."""

import datetime as dt
import io
import re
import shutil
import subprocess

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.urls import set_script_prefix
from fpdf.bidi import BidiParagraph
from fpdf.output import OutputProducer
from PIL import Image, ImageChops
from pypdf import PdfReader

from audit.models import AuditEvent
from cases.models import Channel
from cases.pdf.render import FONTS
from scheduling import letters
from scheduling.models import Appointment, InvitationDelivery
from scheduling.services_invitations import (
    invitation_cancellation_send,
    invitation_render,
    invitation_send,
    invitation_translation,
    invitation_values,
)
from scheduling.services_reminders import reminder_email_message, reminder_sms_text
from tests.scheduling.test_customer_languages import translations_install
from tests.scheduling.test_invitations import START, appointment_make, staff_make

CONTACT = {
    "street": "Am Rathausplatz 4",
    "postal_code": "45127",
    "city": "Musterstadt",
    "phone": "030 23125 100",
    "email": "service@jobcenter-musterstadt.example",
    "opening_hours": "Mo, Di, Fr 8:00–12:30 Uhr\nDo 8:00–12:30 und 14:00–17:30 Uhr",
    "website": "https://www.jobcenter-musterstadt.example",
}
SITE = "https://termine.jobcenter-musterstadt.example"


@pytest.fixture(autouse=True)
def templates(db):
    translations_install()


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def staff(team):
    return staff_make(team)


@pytest.fixture
def appointment(team, staff):
    return appointment_make(team, staff)


@pytest.fixture
def ctx(staff):
    from audit.services import AuditContext

    return AuditContext(actor=staff, channel="ui")


@pytest.fixture
def contact(team):
    jobcenter = team.jobcenter
    for field, value in CONTACT.items():
        setattr(jobcenter, field, value)
    jobcenter.save()
    return jobcenter


def _pages(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def _text(data: bytes) -> str:
    return " ".join(_pages(data))


def _language(appointment: Appointment, language: str) -> None:
    customer = appointment.case.customer
    customer.preferred_language = language
    customer.save()


# --- where the jobcenter is and how to reach it -------------------------------------------------------


def test_the_letter_says_where_the_jobcenter_is_and_how_to_reach_it(appointment, ctx, contact):
    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)

    pages = _pages(result.letter_pdf)
    first = pages[0]
    # The sender line above the address field, and the information block beside it.
    assert "Jobcenter Musterstadt · Am Rathausplatz 4 · 45127 Musterstadt" in first
    for expected in (
        "Telefon: 030 23125 100",
        "service@jobcenter-musterstadt.example",
        "www.jobcenter-musterstadt.example",
        "Öffnungszeiten:",
        "Mo, Di, Fr 8:00–12:30 Uhr",
        "Do 8:00–12:30 und 14:00–17:30 Uhr",
        # The place: the room, then the street and town, so nobody has to ask where that is.
        "Ort: Jobcenter Mitte, Raum 2.14, Am Rathausplatz 4, 45127 Musterstadt",
    ):
        assert expected in first, expected
    # The footer of every page.
    footer = "Jobcenter Musterstadt · Am Rathausplatz 4 · 45127 Musterstadt · Telefon 030 23125 100"
    assert all(footer in page for page in pages)
    assert AuditEvent.objects.filter(object_type="invitation", object_id=str(appointment.pk))


def test_the_e_mails_and_the_reminder_show_how_to_reach_the_jobcenter(appointment, ctx, contact):
    _language(appointment, "en")
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    invitation = mail.outbox[0]
    german, english = invitation.body.split("----------------------------------------")
    for text, heading, phone in (
        (german, "So erreichen Sie uns", "Telefon: 030 23125 100"),
        (english, "How to reach us", "Phone: 030 23125 100"),
    ):
        assert heading in text
        assert phone in text
        assert "Mo, Di, Fr 8:00–12:30 Uhr" in text
    html = invitation.alternatives[0].content
    assert html.count('class="jobcenter-contact"') == 2
    assert "Am Rathausplatz 4, 45127 Musterstadt" in html

    reminder = reminder_email_message(appointment=appointment, to="jana.schulz@example.org")
    assert "So erreichen Sie uns" in reminder.body
    assert "How to reach us" in reminder.body
    assert "Ort: Jobcenter Mitte, Raum 2.14, Am Rathausplatz 4, 45127 Musterstadt" in reminder.body

    mail.outbox.clear()
    Appointment.objects.filter(pk=appointment.pk).update(status="cancelled")
    invitation_cancellation_send(ctx=ctx, appointment_id=appointment.pk)
    cancellation = mail.outbox[0]
    assert "Telefon: 030 23125 100" in cancellation.body
    assert "Phone: 030 23125 100" in cancellation.body
    letter = InvitationDelivery.objects.filter(appointment=appointment, channel="letter").last()
    assert "Telefon 030 23125 100" in _text(bytes(letter.document))


def test_where_the_location_names_the_address_or_is_empty(appointment, contact):
    Appointment.objects.filter(pk=appointment.pk).update(location="Am Rathausplatz 4, Raum 7")
    appointment.refresh_from_db()
    assert invitation_values(appointment=appointment, language="de")["place"] == (
        "Am Rathausplatz 4, Raum 7"
    )

    Appointment.objects.filter(pk=appointment.pk).update(location="")
    appointment.refresh_from_db()
    assert invitation_values(appointment=appointment, language="de")["place"] == (
        "Jobcenter Musterstadt, Am Rathausplatz 4, 45127 Musterstadt"
    )

    # By phone the place is the customer's phone, not the jobcenter's address.
    Appointment.objects.filter(pk=appointment.pk).update(channel=Channel.PHONE)
    appointment.refresh_from_db()
    assert "Rathausplatz" not in invitation_values(appointment=appointment, language="de")["place"]


def test_without_contact_details_the_texts_still_read_well(appointment, ctx):
    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)

    letter = _text(result.letter_pdf)
    body = mail.outbox[0].body
    for text in (letter, body):
        assert "None" not in text
        assert "Telefon:" not in text
        assert "Öffnungszeiten" not in text
    assert "So erreichen Sie uns" not in body
    assert "Ort: Jobcenter Mitte, Raum 2.14 " in letter
    assert invitation_values(appointment=appointment, language="de")["place"] == (
        "Jobcenter Mitte, Raum 2.14"
    )


def test_with_only_a_phone_number_only_the_phone_number_is_shown(appointment, ctx, team):
    jobcenter = team.jobcenter
    jobcenter.phone = "030 23125 100"
    jobcenter.save()

    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)

    letter = _text(result.letter_pdf)
    assert "Telefon: 030 23125 100" in letter
    assert "Jobcenter Musterstadt · Telefon 030 23125 100" in letter  # the footer
    assert "Anschrift" not in letter
    body = mail.outbox[0].body
    assert "Telefon: 030 23125 100" in body
    assert "Anschrift:" not in body
    assert "E-Mail:" not in body
    assert "None" not in body + letter


# --- absolute links ------------------------------------------------------------------------------


REBOOK = re.compile(r"(\S*)/scheduling/rebook/")


def _links(text: str) -> list[str]:
    return [match.group(1) for match in REBOOK.finditer(text)]


def test_every_link_in_letter_e_mails_and_sms_is_absolute(appointment, ctx, contact, settings):
    settings.SITE_URL = "https://www.jobcenter-musterstadt.example/termine"
    _language(appointment, "uk")
    customer = appointment.case.customer
    customer.phone = "0170 1234567"
    customer.save()

    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)
    reminder = reminder_email_message(appointment=appointment, to=customer.email)
    sms = reminder_sms_text(appointment=appointment)

    site = "https://www.jobcenter-musterstadt.example/termine"
    texts = {
        "letter": _text(result.letter_pdf).replace("\u200e", ""),
        "invitation text": mail.outbox[0].body,
        "invitation html": mail.outbox[0].alternatives[0].content,
        "reminder text": reminder.body,
        "reminder html": reminder.alternatives[0].content,
        "sms": sms,
    }
    for name, text in texts.items():
        links = _links(text)
        assert links, name
        assert all(link.endswith(site) for link in links), (name, links)
    assert 'href="/' not in texts["invitation html"] + texts["reminder html"]


def test_without_a_site_address_nothing_goes_out_with_a_relative_link(appointment, ctx, settings):
    settings.SITE_URL = ""
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SITE_URL"):
        invitation_send(ctx=ctx, appointment_id=appointment.pk)
    assert mail.outbox == []
    assert not InvitationDelivery.objects.exists()


def test_a_path_prefix_of_the_site_is_not_doubled(appointment, settings):
    settings.SITE_URL = "https://www.jobcenter-musterstadt.example/termine"
    set_script_prefix("/termine/")  # as in a request to the site served under /termine/
    try:
        url = invitation_values(appointment=appointment, language="de")["rebook_url"]
    finally:
        set_script_prefix("/")
    assert url.startswith("https://www.jobcenter-musterstadt.example/termine/scheduling/rebook/")


def test_the_sms_reminder_offers_no_cancelling(appointment, ctx, contact):
    _language(appointment, "en")
    text = reminder_sms_text(appointment=appointment)
    assert "Verschieben oder Rückruf: https://" in text
    assert "Absagen" not in text
    assert "cancel" not in text
    assert "To move it or ask for a call-back" in text


# --- the letter's speed work: same look --------------------------------------------------------------


def _plain_fpdf2(monkeypatch) -> None:
    """Letters made as fpdf2 makes them on its own: fonts parsed for each letter, no caches,
    every font embedded, fpdf2's own writer."""

    def fonts_add(pdf, *, arabic):
        for family, style, filename in letters._FONT_FILES:
            pdf.add_font(family, style, FONTS / filename)

    def bidi(text, direction, alias):
        paragraph = BidiParagraph(
            text=text, base_direction=direction, preserve_bn_chars=True, alias=alias
        )
        return tuple(paragraph.get_bidi_fragments())

    monkeypatch.setattr(letters, "_letter_fonts_add", fonts_add)
    monkeypatch.setattr(letters, "_bidi_fragments", bidi)
    monkeypatch.setattr(letters, "_LetterOutput", OutputProducer)


def _images(data: bytes, folder, name: str) -> list[Image.Image]:
    path = folder / f"{name}.pdf"
    path.write_bytes(data)
    subprocess.run(  # noqa: S603 - poppler's pdftoppm on our own file
        [shutil.which("pdftoppm"), "-r", "60", "-png", str(path), str(folder / name)], check=True
    )
    return [Image.open(page).convert("RGB") for page in sorted(folder.glob(f"{name}-*.png"))]


@pytest.mark.parametrize(
    ("language", "name"), [("de", "Jana Schulz"), ("ar", "Jana Schulz"), ("de", "Rana حداد")]
)
def test_the_letter_looks_as_fpdf2_draws_it_without_the_speed_work(
    appointment, contact, monkeypatch, tmp_path, language, name
):
    _language(appointment, language)
    customer = appointment.case.customer
    customer.first_name, customer.last_name = name.split(" ")
    customer.save()
    rendered = invitation_render(appointment=appointment, language="de")
    translation = invitation_translation(appointment=appointment)

    def letter() -> bytes:
        with time_machine.travel(START - dt.timedelta(days=7), tick=False):
            return letters.invitation_letter_pdf(
                appointment=appointment, rendered=rendered, translation=translation
            )

    letter()  # fills the caches: the next one is made with them
    fast = [letter(), letter()]
    with monkeypatch.context() as patched:
        _plain_fpdf2(patched)
        plain = letter()

    assert [_pages(pdf) for pdf in fast] == [_pages(plain)] * 2
    if shutil.which("pdftoppm"):  # and pixel for pixel where poppler is installed
        expected = _images(plain, tmp_path, "plain")
        for number, pdf in enumerate(fast):
            pages = _images(pdf, tmp_path, f"fast{number}")
            assert len(pages) == len(expected)
            for page, want in zip(pages, expected, strict=True):
                assert ImageChops.difference(page, want).getbbox() is None


def test_letters_share_the_parsed_fonts_and_embed_arabic_only_when_used(appointment, contact):
    rendered = invitation_render(appointment=appointment, language="de")
    letters.invitation_letter_pdf(appointment=appointment, rendered=rendered)
    hits = letters._shaped_width.cache_info().hits
    german = letters.invitation_letter_pdf(appointment=appointment, rendered=rendered)
    assert letters._shaped_width.cache_info().hits > hits  # the same text is measured once

    customer = appointment.case.customer
    customer.last_name = "حداد"
    customer.save()
    rendered = invitation_render(appointment=appointment, language="de")
    arabic_name = letters.invitation_letter_pdf(appointment=appointment, rendered=rendered)

    def fonts(data: bytes) -> set[str]:
        names = set()
        for page in PdfReader(io.BytesIO(data)).pages:
            for font in page["/Resources"]["/Font"].values():
                names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
        return names

    assert fonts(german) == {"NotoSans", "NotoSansBold"}
    assert "NotoSansArabic" in fonts(arabic_name)
    assert "حداد" in _text(arabic_name) or "دادح" in _text(arabic_name)


@pytest.mark.parametrize("extra_lines", range(0, 40, 3))
def test_the_notice_of_legal_consequences_stays_on_one_page(appointment, extra_lines):
    rendered = invitation_render(appointment=appointment, language="de")
    rendered["body"] += "\n" + "\n".join(f"Zeile {n}" for n in range(extra_lines))

    pdf = letters.invitation_letter_pdf(appointment=appointment, rendered=rendered)

    pages = _pages(pdf)
    heading = [i for i, page in enumerate(pages) if "Rechtsfolgenbelehrung Wenn Sie" in page]
    end = [i for i, page in enumerate(pages) if "deshalb vor dem Termin mit" in page]
    assert heading == end, pages
    link = [i for i, page in enumerate(pages) if "Termin ändern oder Rückruf erbitten:" in page]
    assert len(link) == 1
    assert "/scheduling/rebook/" in pages[link[0]].split("Rückruf erbitten:")[1]
