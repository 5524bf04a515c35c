"""Invitations: the versioned text with its notice of legal consequences, the letter PDF, the
e-mail with the ICS file, and the record of delivery."""

import datetime as dt
import importlib
import io
import logging
import threading
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from pypdf import PdfReader

from audit.models import AuditEvent
from audit.services import AuditContext
from jobcenter.exceptions import ApplicationError, ConflictError
from organisation.models import Role
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    DeliveryStatus,
    InvitationChannel,
    InvitationDelivery,
    InvitationTemplate,
    RecordUnchangeableError,
    Reminder,
)
from scheduling.services_appointments import appointment_rebook, rebooking_token_read
from scheduling.services_invitations import (
    invitation_cancellation_send,
    invitation_render,
    invitation_send,
    invitation_send_if_due,
    invitation_template_publish,
)
from tests.cases.factories import CaseFactory
from tests.organisation.factories import UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=BERLIN)  # a Wednesday
PURPOSE = "Besprechung Ihrer beruflichen Situation"


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail relay not reachable")


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _ics(message) -> icalendar.Calendar:
    for name, content, mimetype in message.attachments:
        if name.endswith(".ics"):
            assert mimetype == "text/calendar; method=REQUEST"
            return icalendar.Calendar.from_ical(content)
    raise AssertionError("no ICS attachment")


def _pdf(message) -> bytes:
    pdfs = [content for name, content, mimetype in message.attachments if name.endswith(".pdf")]
    assert len(pdfs) == 1
    return pdfs[0]


def german_v1_install() -> None:
    """Version 1 as the migration creates it (a transactional test elsewhere may have flushed it)."""
    migration = importlib.import_module("scheduling.migrations.0004_invitations")
    if not InvitationTemplate.objects.filter(language="de").exists():
        InvitationTemplate.objects.create(
            version=1,
            language="de",
            subject=migration.GERMAN_V1_SUBJECT,
            body=migration.GERMAN_V1_BODY,
            legal_notice=migration.GERMAN_V1_LEGAL_NOTICE,
            valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )


def staff_make(team):
    return UserFactory(
        username="anna", first_name="Anna", last_name="Berg", role=Role.CASEWORKER, team=team
    )


def appointment_make(team, staff) -> Appointment:
    """Jana Schulz's approved appointment with Anna Berg on Wednesday 2 December 2026, 9:00."""
    case = CaseFactory(team=team, caseworker=staff)
    customer = case.customer
    customer.first_name, customer.last_name = "Jana", "Schulz"
    customer.email = "jana.schulz@example.org"
    customer.save()
    household = customer.household
    household.street, household.postal_code, household.city = "Hauptstraße 5", "10115", "Berlin"
    household.save()
    return Appointment.objects.create(
        case=case,
        staff=staff,
        start=START,
        end=START + dt.timedelta(minutes=30),
        channel="in_person",
        location="Jobcenter Mitte, Raum 2.14",
        purpose=PURPOSE,
        status=AppointmentStatus.APPROVED,
    )


@pytest.fixture(autouse=True)
def german_v1(db):
    german_v1_install()


@pytest.fixture
def staff(team):
    return staff_make(team)


@pytest.fixture
def appointment(team, staff):
    return appointment_make(team, staff)


@pytest.fixture
def ctx(staff):
    return AuditContext(actor=staff, channel="ui")


# --- the template ----------------------------------------------------------------------------------


def test_version_1_of_the_german_text_names_the_legal_basis_and_the_possible_consequence(db):
    template = InvitationTemplate.objects.current(language="de")
    assert template.version == 1
    assert "§ 59 Zweites Buch Sozialgesetzbuch (SGB II)" in template.body
    assert "§ 309 Drittes Buch Sozialgesetzbuch (SGB III)" in template.body
    notice = template.legal_notice
    assert notice.startswith("Rechtsfolgenbelehrung")
    assert "ohne wichtigen Grund" in notice
    assert "kann Ihr Bürgergeld nach § 32 SGB II gemindert werden" in notice
    assert "10 Prozent" in notice
    assert "einem Monat" in notice
    assert "vor dem Termin mit" in notice


def test_the_newest_valid_version_is_used_and_old_deliveries_keep_their_version(
    appointment, ctx, staff
):
    first = invitation_send(ctx=ctx, appointment_id=appointment.pk)
    v1 = InvitationTemplate.objects.get(language="de", version=1)
    assert {delivery.template_id for delivery in first.deliveries} == {v1.pk}

    v2 = invitation_template_publish(
        ctx=ctx,
        language="de",
        subject="Einladung: {date}",
        body="Guten Tag {name}, Termin am {date} um {time}: {purpose}. {rebook_url}",
        legal_notice=v1.legal_notice,
    )
    invitation_template_publish(
        ctx=ctx,
        language="de",
        subject="Zukunft",
        body="Noch nicht gültig",
        legal_notice=v1.legal_notice,
        valid_from=timezone.now() + dt.timedelta(days=30),
    )
    assert v2.version == 2
    assert v2.created_by == staff
    rendered = invitation_render(appointment=appointment)
    assert (rendered["version"], rendered["subject"]) == (2, "Einladung: Mittwoch, 02.12.2026")

    second = invitation_send(ctx=ctx, appointment_id=appointment.pk, resend=True)
    assert {delivery.template_id for delivery in second.deliveries} == {v2.pk}
    for delivery in first.deliveries:
        delivery.refresh_from_db()
        assert delivery.template_id == v1.pk


def test_a_template_with_an_unknown_placeholder_or_without_a_legal_notice_is_refused(db, ctx):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        invitation_template_publish(
            ctx=ctx, language="de", subject="Termin {datum}", body="Text", legal_notice=" "
        )
    assert set(error.value.message_dict) == {"subject", "legal_notice"}
    assert InvitationTemplate.objects.filter(language="de").count() == 1


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("{name!r:>1000000000} {rebook_url}", "{name!r:>1000000000}"),
        ("Guten Tag {name:>40}", "{name:>40}"),
        ("Guten Tag {name!s}", "{name!s}"),
        ("{name.__class__}", "{name.__class__}"),
        ("{name[0]}", "{name[0]}"),
        ("{0} {}", "{0}"),
        ("{ name }", "{ name }"),
        ("Termin {datum}", "{datum}"),
        ("Bitte { mitbringen", "{"),
        ("Bitte } mitbringen", "}"),
    ],
)
def test_a_placeholder_other_than_a_plain_name_is_refused_naming_it(db, ctx, body, named):
    from django.core.exceptions import ValidationError

    legal = InvitationTemplate.objects.get(language="de", version=1).legal_notice
    with pytest.raises(ValidationError) as error:
        invitation_template_publish(
            ctx=ctx, language="de", subject="Einladung", body=body, legal_notice=legal
        )
    assert list(error.value.message_dict) == ["body"]
    assert f"“{named}”" in " ".join(error.value.message_dict["body"]) or named in " ".join(
        error.value.message_dict["body"]
    )
    assert InvitationTemplate.objects.filter(language="de").count() == 1
    assert not AuditEvent.objects.filter(object_type="invitation_template").exists()


def test_double_braces_write_a_brace(appointment, ctx):
    legal = InvitationTemplate.objects.get(language="de", version=1).legal_notice
    invitation_template_publish(
        ctx=ctx,
        language="de",
        subject="Einladung {{intern}}",
        body="Guten Tag {name}, {{ bitte Ausweis mitbringen }}",
        legal_notice=legal,
    )
    rendered = invitation_render(appointment=appointment)
    assert rendered["subject"] == "Einladung {intern}"
    assert rendered["body"] == "Guten Tag Jana Schulz, { bitte Ausweis mitbringen }"
    assert AuditEvent.objects.get(object_type="invitation_template").detail == {
        "language": "de",
        "version": 2,
    }


def test_a_stored_template_with_a_format_spec_is_copied_not_executed(appointment):
    # A row saved before templates were checked: the renderer cannot do more than copy it.
    InvitationTemplate.objects.create(
        version=2,
        language="de",
        subject="{name!r:>1000000000}",
        body="{name!r:>1000000000} {name.__class__} {name} {rebook_url}",
        legal_notice="Rechtsfolgenbelehrung {name:>99999999}",
        valid_from=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
    )

    rendered = invitation_render(appointment=appointment)

    assert rendered["version"] == 2
    assert rendered["subject"] == "{name!r:>1000000000}"
    assert rendered["body"].startswith("{name!r:>1000000000} {name.__class__} Jana Schulz http")
    assert rendered["legal_notice"] == "Rechtsfolgenbelehrung {name:>99999999}"
    assert len(rendered["body"]) < 500


@pytest.mark.parametrize("language", ["xx", "de-DE", "ti", ""])
def test_a_template_language_must_be_german_or_a_customer_language(db, ctx, language):
    from django.core.exceptions import ValidationError

    with pytest.raises((ValidationError, ApplicationError)):
        invitation_template_publish(
            ctx=ctx, language=language, subject="S", body="{name}", legal_notice="Hinweis"
        )
    assert not InvitationTemplate.objects.filter(language=language.lower()).exists()
    assert not AuditEvent.objects.filter(object_type="invitation_template").exists()


def test_a_customer_language_is_accepted_in_any_case(db, ctx):
    template = invitation_template_publish(
        ctx=ctx, language=" UK ", subject="S", body="{name}", legal_notice="Hinweis"
    )
    assert template.language == "uk"


def test_render_fills_every_placeholder(appointment):
    rendered = invitation_render(appointment=appointment)
    assert rendered["language"] == "de"
    assert rendered["subject"] == "Einladung zu einem Termin am Mittwoch, 02.12.2026 um 09:00 Uhr"
    body = rendered["body"]
    assert body.startswith("Guten Tag Jana Schulz,")
    for expected in (
        "Datum: Mittwoch, 02.12.2026",
        "Uhrzeit: 09:00 Uhr",
        "Art des Termins: persönlich im Jobcenter",
        "Ort: Jobcenter Mitte, Raum 2.14",
        "Ihre Ansprechperson: Anna Berg",
        f"Zweck des Termins: {PURPOSE}",
    ):
        assert expected in body
    assert "{" not in body
    url = rendered["values"]["rebook_url"]
    assert url.startswith("http://127.0.0.1:8000/scheduling/rebook/")  # settings.SITE_URL
    assert url in body
    token = url.removeprefix("http://127.0.0.1:8000/scheduling/rebook/").rstrip("/")
    assert rebooking_token_read(token) == appointment


def test_render_uses_the_customers_language_where_a_template_exists(appointment, ctx):
    customer = appointment.case.customer
    customer.preferred_language = "sq"  # no template in Albanian
    customer.save()
    assert invitation_render(appointment=appointment)["language"] == "de"
    customer.preferred_language = "en"
    customer.save()

    invitation_template_publish(
        ctx=ctx,
        language="en",
        subject="Invitation on {date} at {time}",
        body="Dear {name}, {channel}, {place}.",
        legal_notice="Notice of legal consequences: ...",
    )
    rendered = invitation_render(appointment=appointment)
    assert rendered["language"] == "en"
    assert rendered["subject"] == "Invitation on Wednesday, 02 December 2026 at 09:00"
    assert rendered["body"] == (
        "Dear Jana Schulz, in person at the jobcenter, Jobcenter Mitte, Raum 2.14."
    )
    assert invitation_render(appointment=appointment, language="de")["language"] == "de"


# --- sending ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [AppointmentStatus.PLANNED, AppointmentStatus.CANCELLED])
def test_sending_is_refused_before_a_person_approved_it(appointment, ctx, status):
    Appointment.objects.filter(pk=appointment.pk).update(status=status)
    with pytest.raises(ApplicationError) as error:
        invitation_send(ctx=ctx, appointment_id=appointment.pk)
    if status == AppointmentStatus.PLANNED:
        assert "needs approval first" in error.value.message or "Freigabe" in str(error.value)
    assert not InvitationDelivery.objects.exists()
    assert mail.outbox == []
    appointment.refresh_from_db()
    assert appointment.status == status


def test_send_with_e_mail_sends_the_ics_and_the_letter_and_records_both(appointment, ctx, staff):
    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SENT
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jana.schulz@example.org"]
    assert message.subject == "Einladung zu einem Termin am Mittwoch, 02.12.2026 um 09:00 Uhr"
    assert "Rechtsfolgenbelehrung" in message.body
    assert message.alternatives[0].mimetype == "text/html"

    calendar = _ics(message)
    assert str(calendar["METHOD"]) == "REQUEST"
    event = calendar.walk("VEVENT")[0]
    assert str(event["UID"]) == appointment.uid
    assert int(event["SEQUENCE"]) == appointment.sequence == 0
    assert event.decoded("DTSTART") == START

    text = _text(_pdf(message))
    assert _pdf(message) == result.letter_pdf
    for expected in (
        "Mittwoch, 02.12.2026",
        "09:00 Uhr",
        PURPOSE,
        "§ 59 Zweites Buch Sozialgesetzbuch (SGB II)",
        "Rechtsfolgenbelehrung",
        "§ 32 SGB II",
        "Hauptstraße 5",
        "10115 Berlin",
        "Anna Berg",
        "/scheduling/rebook/",
    ):
        assert expected in text, expected

    deliveries = list(InvitationDelivery.objects.filter(appointment=appointment))
    assert {(d.channel, d.status) for d in deliveries} == {
        (InvitationChannel.LETTER, DeliveryStatus.SENT),
        (InvitationChannel.EMAIL, DeliveryStatus.SENT),
    }
    by_channel = {d.channel: d for d in deliveries}
    assert by_channel[InvitationChannel.EMAIL].recipient == "jana.schulz@example.org"
    assert "Hauptstraße 5\n10115 Berlin" in by_channel[InvitationChannel.LETTER].recipient
    assert all(d.sent_by == staff and d.ics_sequence == 0 for d in deliveries)

    audit = AuditEvent.objects.get(object_type="invitation", object_id=str(appointment.pk))
    assert audit.actor == staff
    assert audit.customer_id == appointment.case.customer_id
    assert audit.detail["template"] == {"language": "de", "version": 1}
    assert audit.detail["status"] == {"from": "approved", "to": "sent"}


def test_send_without_e_mail_address_makes_the_letter_only(appointment, ctx):
    customer = appointment.case.customer
    customer.email = ""
    customer.save()

    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)

    assert mail.outbox == []
    assert [(d.channel, d.status) for d in result.deliveries] == [
        (InvitationChannel.LETTER, DeliveryStatus.SENT)
    ]
    assert "Rechtsfolgenbelehrung" in _text(result.letter_pdf)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SENT


def test_a_mail_server_failure_is_recorded_and_the_appointment_stays_approved(
    appointment, ctx, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"

    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)

    email = InvitationDelivery.objects.get(appointment=appointment, channel="email")
    assert email.status == DeliveryStatus.FAILED
    assert "mail relay not reachable" in email.error
    letter = InvitationDelivery.objects.get(appointment=appointment, channel="letter")
    assert letter.status == DeliveryStatus.SENT
    assert result.letter_pdf.startswith(b"%PDF")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.APPROVED
    audit = AuditEvent.objects.get(object_type="invitation")
    assert audit.detail["status"] == {"from": "approved", "to": "approved"}

    # Once the relay is back, the invitation can be sent again.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SENT
    assert len(mail.outbox) == 1


def test_a_second_send_without_a_change_is_refused_unless_asked_for(appointment, ctx):
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    with pytest.raises(ConflictError):
        invitation_send(ctx=ctx, appointment_id=appointment.pk)
    assert len(mail.outbox) == 1
    assert InvitationDelivery.objects.count() == 2

    invitation_send(ctx=ctx, appointment_id=appointment.pk, resend=True)
    assert len(mail.outbox) == 2
    assert InvitationDelivery.objects.count() == 4


def test_resending_after_a_change_raises_the_ics_sequence(appointment, ctx):
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    appointment_rebook(
        ctx=ctx, appointment_id=appointment.pk, new_start=START + dt.timedelta(hours=2)
    )

    invitation_send(ctx=ctx, appointment_id=appointment.pk)

    first, second = (_ics(message).walk("VEVENT")[0] for message in mail.outbox)
    assert str(first["UID"]) == str(second["UID"]) == appointment.uid
    assert (int(first["SEQUENCE"]), int(second["SEQUENCE"])) == (0, 1)
    assert second.decoded("DTSTART") == START + dt.timedelta(hours=2)
    assert "11:00 Uhr" in mail.outbox[1].subject
    sequences = InvitationDelivery.objects.filter(channel="email").values_list(
        "ics_sequence", flat=True
    )
    assert sorted(sequences) == [0, 1]


@pytest.mark.django_db(transaction=True)
def test_two_sends_at_the_same_moment_send_once(appointment, ctx):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises all writes; the race needs PostgreSQL's row locks.")
    barrier = threading.Barrier(2)
    results: list[str] = []

    def send() -> None:
        try:
            barrier.wait(timeout=30)
            invitation_send(ctx=ctx, appointment_id=appointment.pk)
            results.append("sent")
        except ConflictError:
            results.append("conflict")
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            results.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["conflict", "sent"]
    assert len(mail.outbox) == 1
    assert InvitationDelivery.objects.filter(appointment=appointment).count() == 2


# --- the record cannot be changed ------------------------------------------------------------------


def test_delivery_rows_and_template_versions_cannot_be_changed_or_deleted(appointment, ctx):
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    delivery = InvitationDelivery.objects.filter(channel="email").first()
    template = InvitationTemplate.objects.get(language="de", version=1)

    delivery.status = DeliveryStatus.FAILED
    with pytest.raises(RecordUnchangeableError):
        delivery.save()
    with pytest.raises(RecordUnchangeableError):
        delivery.delete()
    with pytest.raises(RecordUnchangeableError):
        InvitationDelivery.objects.filter(pk=delivery.pk).update(status="failed")
    template.body = "anders"
    with pytest.raises(RecordUnchangeableError):
        template.save()
    with pytest.raises(RecordUnchangeableError):
        InvitationTemplate.objects.all().delete()

    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE scheduling_invitationdelivery SET status = 'failed' WHERE id = %s",
                [delivery.pk],
            )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


# --- the letter kept, the customer's language beside German -------------------------------------

ENGLISH = {
    "subject": "Invitation on {date} at {time}",
    "body": "Dear {name}, please come on {date} at {time} to {place}. Change: {rebook_url}",
    "legal_notice": "Notice of legal consequences\nIf you do not come without good reason ...",
}


def _last_page(data: bytes) -> str:
    return " ".join(PdfReader(io.BytesIO(data)).pages[-1].extract_text().split())


def _customer_language(appointment, language: str) -> None:
    customer = appointment.case.customer
    customer.preferred_language = language
    customer.save()


def test_the_letter_is_kept_on_its_delivery_row(appointment, ctx):
    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)
    letter = InvitationDelivery.objects.get(appointment=appointment, channel="letter")
    assert bytes(letter.document) == result.letter_pdf
    assert letter.language == "de"
    email = InvitationDelivery.objects.get(appointment=appointment, channel="email")
    assert email.document is None


def test_an_english_template_adds_the_translation_after_the_binding_german_text(appointment, ctx):
    _customer_language(appointment, "en")
    invitation_template_publish(ctx=ctx, language="en", **ENGLISH)

    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)

    assert {d.language for d in result.deliveries} == {"en"}
    assert result.rendered["language"] == "de"  # the binding text
    text = _text(result.letter_pdf)
    german = text.index("Rechtsfolgenbelehrung")
    mark = text.index("only the German text is binding")
    assert (
        german < mark < text.index("Dear Jana Schulz, please come on Wednesday, 02 December 2026")
    )
    assert "Notice of legal consequences" in text
    assert "Rechtsfolgenbelehrung" not in _last_page(result.letter_pdf)  # a page of its own

    message = mail.outbox[0]
    assert message.subject.startswith("Einladung zu einem Termin am Mittwoch")
    body = message.body
    assert body.index("Rechtsfolgenbelehrung") < body.index("Dear Jana Schulz")
    assert "only the German text is binding" in body
    assert "/scheduling/rebook/" in body.split("Dear Jana Schulz")[1]
    assert 'id="invitation-translation" lang="en"' in message.alternatives[0].content
    audit = AuditEvent.objects.get(object_type="invitation")
    # Version 1 of the English text comes with the migrations (0008); the one published here is 2.
    assert audit.detail["translation"] == {"language": "en", "version": 2}


def test_a_language_without_a_template_gets_german_only(appointment, ctx):
    _customer_language(appointment, "sq")  # Albanian: no template
    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)
    assert {d.language for d in result.deliveries} == {"de"}
    assert "binding" not in _text(result.letter_pdf)
    assert "binding" not in mail.outbox[0].body


@pytest.mark.parametrize(
    ("language", "body"),
    [
        ("uk", "Шановна {name}, запрошуємо вас {date} о {time}."),
        ("tr", "Sayın {name}, {date} tarihinde saat {time} görüşmeye davetlisiniz."),
        ("ar", "السيدة {name}، ندعوك إلى موعد في {date} الساعة {time}."),
    ],
)
def test_cyrillic_turkish_and_arabic_translations_are_drawn(appointment, ctx, language, body):
    _customer_language(appointment, language)
    invitation_template_publish(
        ctx=ctx, language=language, subject="{date}", body=body, legal_notice=body
    )
    result = invitation_send(ctx=ctx, appointment_id=appointment.pk)
    assert {d.language for d in result.deliveries} == {language}
    last_page = _last_page(result.letter_pdf)
    assert "verbindlich ist allein der deutsche Text" in last_page
    assert "Rechtsfolgenbelehrung" not in last_page
    if language != "ar":  # shaped Arabic comes out of pypdf in presentation forms
        assert body.split(",")[0].format(name="Jana Schulz") in _text(result.letter_pdf)


def test_a_script_the_fonts_cannot_draw_falls_back_to_german_with_a_notice(
    appointment, ctx, caplog, settings
):
    # An installation that writes to its customers in Tigrinya too (the letter fonts cannot).
    settings.CUSTOMER_LANGUAGES = (*settings.CUSTOMER_LANGUAGES, "ti")
    _customer_language(appointment, "ti")
    invitation_template_publish(
        ctx=ctx, language="ti", subject="{date}", body="ሰላም {name}", legal_notice="ሕጊ"
    )
    with caplog.at_level(logging.WARNING, logger="scheduling.services_invitations"):
        result = invitation_send(ctx=ctx, appointment_id=appointment.pk)
    assert {d.language for d in result.deliveries} == {"de"}
    assert "verbindlich ist allein" not in _text(result.letter_pdf)
    assert "ሰላም" not in mail.outbox[0].body
    assert any("cannot draw" in r.getMessage() for r in caplog.records)


# --- the task's service --------------------------------------------------------------------------


def test_send_if_due_sends_once_then_skips(appointment):
    assert invitation_send_if_due(appointment_id=appointment.pk) == "sent"
    assert invitation_send_if_due(appointment_id=appointment.pk) == "skipped"
    assert len(mail.outbox) == 1
    audit = AuditEvent.objects.get(object_type="invitation")
    assert audit.actor is None
    assert audit.channel == "system"
    assert InvitationDelivery.objects.filter(sent_by__isnull=True).count() == 2


def test_send_if_due_sends_a_changed_appointment_again(appointment, ctx):
    assert invitation_send_if_due(appointment_id=appointment.pk) == "sent"
    appointment_rebook(
        ctx=ctx, appointment_id=appointment.pk, new_start=START + dt.timedelta(hours=2)
    )
    assert invitation_send_if_due(appointment_id=appointment.pk) == "sent"
    assert invitation_send_if_due(appointment_id=appointment.pk) == "skipped"
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(
    "status", [AppointmentStatus.PLANNED, AppointmentStatus.CANCELLED, AppointmentStatus.MISSED]
)
def test_send_if_due_skips_what_is_not_to_be_sent(appointment, status):
    Appointment.objects.filter(pk=appointment.pk).update(status=status)
    assert invitation_send_if_due(appointment_id=appointment.pk) == "skipped"
    assert invitation_send_if_due(appointment_id=999999) == "skipped"
    assert mail.outbox == []
    assert not InvitationDelivery.objects.exists()


def test_send_if_due_reports_a_refused_e_mail_as_failed(appointment, settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    assert invitation_send_if_due(appointment_id=appointment.pk) == "failed"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert invitation_send_if_due(appointment_id=appointment.pk) == "sent"


def test_send_if_due_schedules_the_reminders(appointment):
    customer = appointment.case.customer
    customer.phone = "0170 1234567"
    customer.save()
    with time_machine.travel(dt.datetime(2026, 11, 25, 8, tzinfo=dt.UTC), tick=False):
        invitation_send_if_due(appointment_id=appointment.pk)
    assert sorted(
        Reminder.objects.filter(appointment=appointment).values_list("channel", flat=True)
    ) == ["email", "sms"]


# --- cancellation of an invitation sent ----------------------------------------------------------


def _cancel_ics(message) -> icalendar.Calendar:
    for name, content, mimetype in message.attachments:
        if name.endswith(".ics"):
            assert mimetype == "text/calendar; method=CANCEL"
            return icalendar.Calendar.from_ical(content)
    raise AssertionError("no ICS attachment")


@pytest.mark.parametrize("raised_by_the_cancel", [True, False])
def test_a_cancelled_appointment_withdraws_its_invitation_once(
    appointment, ctx, raised_by_the_cancel
):
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    mail.outbox.clear()
    # The cancelling service (H3) sets the status and should raise the sequence; either way the
    # CANCEL goes out with a sequence above the one sent.
    Appointment.objects.filter(pk=appointment.pk).update(
        status=AppointmentStatus.CANCELLED, sequence=1 if raised_by_the_cancel else 0
    )

    assert invitation_send_if_due(appointment_id=appointment.pk) == "sent"
    assert invitation_send_if_due(appointment_id=appointment.pk) == "skipped"

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Absage Ihres Termins am Mittwoch, 02.12.2026 um 09:00 Uhr"
    assert "findet nicht statt" in message.body
    calendar = _cancel_ics(message)
    assert str(calendar["METHOD"]) == "CANCEL"
    event = calendar.walk("VEVENT")[0]
    assert str(event["UID"]) == appointment.uid
    assert int(event["SEQUENCE"]) == 1
    assert str(event["STATUS"]) == "CANCELLED"

    appointment.refresh_from_db()
    assert appointment.sequence == 1
    rows = InvitationDelivery.objects.filter(appointment=appointment, ics_sequence=1)
    assert {(d.channel, d.status) for d in rows} == {("letter", "sent"), ("email", "sent")}
    letter = rows.get(channel="letter")
    assert "findet nicht statt" in _text(bytes(letter.document))
    audit = AuditEvent.objects.get(object_type="invitation_cancellation")
    assert audit.customer_id == appointment.case.customer_id
    assert audit.detail["sequence"] == 1


def test_nothing_is_withdrawn_that_was_never_sent(appointment, ctx):
    Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.CANCELLED)
    assert invitation_cancellation_send(ctx=ctx, appointment_id=appointment.pk) is None
    assert invitation_send_if_due(appointment_id=appointment.pk) == "skipped"
    assert not InvitationDelivery.objects.exists()


def test_the_cancellation_follows_the_language_of_the_invitation(appointment, ctx):
    _customer_language(appointment, "en")
    invitation_template_publish(ctx=ctx, language="en", **ENGLISH)
    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    Appointment.objects.filter(pk=appointment.pk).update(
        status=AppointmentStatus.CANCELLED, sequence=1
    )
    result = invitation_cancellation_send(ctx=ctx, appointment_id=appointment.pk)
    body = mail.outbox[-1].body
    assert body.index("findet nicht statt") < body.index("will not take place")
    assert {d.language for d in result.deliveries} == {"en"}
    assert "will not take place" in _text(result.letter_pdf)


def test_cancelling_a_sent_appointment_sends_the_cancellation_after_commit(
    appointment, ctx, django_capture_on_commit_callbacks
):
    from scheduling.services_appointments import appointment_cancel

    invitation_send(ctx=ctx, appointment_id=appointment.pk)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(ctx=ctx, appointment_id=appointment.pk, reason="Krankheit")

    assert len(mail.outbox) == 1
    event = _cancel_ics(mail.outbox[0]).walk("VEVENT")[0]
    assert str(event["UID"]) == appointment.uid
    assert int(event["SEQUENCE"]) == 1
    assert invitation_send_if_due(appointment_id=appointment.pk) == "skipped"


# --- the sweep for invitations whose sending was lost ---------------------------------------------


def _another_approved(appointment, start) -> Appointment:
    """An approved appointment of another customer with the same caseworker at `start`."""
    case = CaseFactory(team=appointment.case.team, caseworker=appointment.staff)
    case.customer.email = f"customer{case.pk}@example.org"
    case.customer.save()
    return Appointment.objects.create(
        case=case,
        staff=appointment.staff,
        start=start,
        end=start + dt.timedelta(minutes=30),
        channel="in_person",
        location="Jobcenter Mitte, Raum 2.14",
        purpose=PURPOSE,
        status=AppointmentStatus.APPROVED,
    )


def test_an_approved_invitation_whose_task_was_lost_is_sent_by_the_sweep_once(
    appointment, settings
):
    from scheduling.tasks import scheduling_invitations_send_unsent

    now = dt.datetime(2026, 11, 25, 8, tzinfo=dt.UTC)
    long_ago = now - dt.timedelta(hours=1)
    just_now = now - dt.timedelta(minutes=2)
    # Approved an hour ago, never sent: lost. Another approved a moment ago: its task may still run.
    recent = _another_approved(appointment, START + dt.timedelta(hours=1))
    # One whose e-mail was refused: a person sees it on the case page; the sweep leaves it.
    refused = _another_approved(appointment, START + dt.timedelta(hours=2))
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    assert invitation_send_if_due(appointment_id=refused.pk) == "failed"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Appointment.objects.filter(pk__in=[appointment.pk, refused.pk]).update(updated_at=long_ago)
    Appointment.objects.filter(pk=recent.pk).update(updated_at=just_now)

    with time_machine.travel(now, tick=False):
        assert scheduling_invitations_send_unsent.delay().get() == 1
        assert scheduling_invitations_send_unsent.delay().get() == 0

    assert [message.to for message in mail.outbox] == [["jana.schulz@example.org"]]
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SENT
    assert Appointment.objects.get(pk=recent.pk).status == AppointmentStatus.APPROVED


def test_the_sweep_never_sends_an_invitation_for_a_time_that_has_passed(appointment):
    from scheduling.tasks import scheduling_invitations_send_unsent

    Appointment.objects.filter(pk=appointment.pk).update(updated_at=START - dt.timedelta(days=9))
    with time_machine.travel(START + dt.timedelta(hours=1), tick=False):
        assert scheduling_invitations_send_unsent.delay().get() == 0
    assert mail.outbox == []
