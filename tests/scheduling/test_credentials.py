"""The CalDAV password at rest: encrypted, readable after a key rotation, never in logs or audit."""

import datetime as dt
import importlib
import logging

import pytest
from django.apps import apps as django_apps
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from audit.models import AuditChannel, AuditEvent
from audit.services import AuditContext
from scheduling.credentials import (
    SecretUnreadableError,
    secret_decrypt,
    secret_encrypt,
    secret_needs_rotation,
)
from scheduling.models import BusySource, BusyTime, StaffCalendar, SyncStatus
from scheduling.services import CalendarSyncError, calendar_sync, staff_calendar_update
from tests.scheduling.conftest import NOW, consenting_calendar

pytestmark = pytest.mark.django_db

OLD_KEY = "old-secret-key-" + "o" * 40
NEW_KEY = "new-secret-key-" + "n" * 40
CREDENTIALS_KEY = "credentials-key-" + "c" * 40
TUESDAY_9 = dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)


def ui(user) -> AuditContext:
    return AuditContext(actor=user, channel=AuditChannel.UI)


def stored(user) -> str:
    return StaffCalendar.objects.values_list("caldav_password_encrypted", flat=True).get(user=user)


def test_the_password_is_stored_encrypted_and_read_back_through_the_model(caseworker):
    staff_calendar_update(
        ctx=ui(caseworker), user_id=caseworker.pk, data={}, caldav_password="geheim-äöü"
    )

    token = stored(caseworker)
    assert "geheim" not in token
    assert token.startswith("gAAAAA")  # a Fernet token
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert calendar.caldav_password == "geheim-äöü"
    assert calendar.has_caldav_password


def test_the_same_password_twice_gives_two_different_tokens():
    assert secret_encrypt("geheim") != secret_encrypt("geheim")
    assert secret_encrypt("") == ""
    assert secret_decrypt("") == ""


def test_another_key_cannot_read_it():
    with override_settings(SECRET_KEY=OLD_KEY):
        token = secret_encrypt("geheim")

    with override_settings(SECRET_KEY=NEW_KEY), pytest.raises(SecretUnreadableError):
        secret_decrypt(token)
    with pytest.raises(SecretUnreadableError):
        secret_decrypt("no token at all")


def test_an_old_secret_key_in_the_fallbacks_still_reads_it_and_asks_for_rotation():
    with override_settings(SECRET_KEY=OLD_KEY):
        token = secret_encrypt("geheim")

    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        assert secret_decrypt(token) == "geheim"
        assert secret_needs_rotation(token)
        assert not secret_needs_rotation(secret_encrypt("geheim"))


def test_a_credentials_key_takes_over_and_the_secret_key_still_reads_older_tokens():
    with override_settings(SECRET_KEY=OLD_KEY):
        before = secret_encrypt("geheim")
    with override_settings(SECRET_KEY=OLD_KEY, CREDENTIALS_KEY=CREDENTIALS_KEY):
        after = secret_encrypt("geheim")
        assert secret_decrypt(before) == secret_decrypt(after) == "geheim"
        assert secret_needs_rotation(before)
    # The credentials key is independent of SECRET_KEY: a new SECRET_KEY does not lose it.
    with override_settings(SECRET_KEY=NEW_KEY, CREDENTIALS_KEY=CREDENTIALS_KEY):
        assert secret_decrypt(after) == "geheim"
    with (
        override_settings(
            SECRET_KEY=NEW_KEY,
            CREDENTIALS_KEY="next-credentials-key-" + "x" * 40,
            CREDENTIALS_KEY_FALLBACKS=[CREDENTIALS_KEY],
        ),
    ):
        assert secret_decrypt(after) == "geheim"


def test_a_password_no_key_reads_gives_a_clear_sync_error_and_keeps_the_busy_times(
    caseworker, client
):
    with override_settings(SECRET_KEY=OLD_KEY):
        consenting_calendar(
            caseworker,
            caldav_url="http://127.0.0.1:9/",
            caldav_username="anna",
            caldav_password="geheim",
        )
    BusyTime.objects.create(
        user=caseworker,
        start=TUESDAY_9,
        end=TUESDAY_9 + dt.timedelta(hours=1),
        source=BusySource.CALDAV,
        synced_at=NOW,
    )

    with translation.override("en"), pytest.raises(CalendarSyncError) as error:
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert "enter the CalDAV password again" in error.value.extra["errors"]["caldav"]
    calendar = StaffCalendar.objects.get(user=caseworker)
    assert calendar.last_sync_status == SyncStatus.ERROR
    assert BusyTime.objects.filter(user=caseworker).count() == 1
    # The page still works and says a password is stored (it cannot be read, but it is there).
    client.force_login(caseworker)
    page = client.get(reverse("scheduling:calendar_detail"))
    assert page.status_code == 200
    assert 'id="caldav-password-state"' in page.content.decode()


def test_an_unreadable_password_can_be_replaced_or_removed(caseworker):
    with override_settings(SECRET_KEY=OLD_KEY):
        consenting_calendar(caseworker, caldav_password="alt")

    staff_calendar_update(ctx=ui(caseworker), user_id=caseworker.pk, data={}, caldav_password="neu")
    assert StaffCalendar.objects.get(user=caseworker).caldav_password == "neu"

    with override_settings(SECRET_KEY=OLD_KEY):
        consenting_calendar(caseworker, caldav_password="alt")
    staff_calendar_update(ctx=ui(caseworker), user_id=caseworker.pk, data={}, caldav_password="")
    assert not StaffCalendar.objects.get(user=caseworker).has_caldav_password


def test_a_sync_after_a_key_rotation_logs_in_and_re_encrypts_with_the_new_key(
    caseworker, radicale_htpasswd_url
):
    with override_settings(SECRET_KEY=OLD_KEY):
        consenting_calendar(
            caseworker,
            caldav_url=radicale_htpasswd_url,
            caldav_username="anna",
            caldav_password="richtig",  # the htpasswd server's password: a wrong key fails login
        )
    old_token = stored(caseworker)

    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        calendar_sync(user_id=caseworker.pk, now=NOW)

    assert StaffCalendar.objects.get(user=caseworker).last_sync_status == SyncStatus.OK
    assert stored(caseworker) != old_token
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        assert StaffCalendar.objects.get(user=caseworker).caldav_password == "richtig"


def test_the_password_never_reaches_logs_or_audit_rows(caseworker, radicale_htpasswd_url, caplog):
    with caplog.at_level(logging.DEBUG):
        staff_calendar_update(
            ctx=ui(caseworker),
            user_id=caseworker.pk,
            data={"caldav_url": radicale_htpasswd_url, "caldav_username": "anna"},
            caldav_password="falsch-Passwort-42",
        )
        StaffCalendar.objects.filter(user=caseworker).update(consent_given_at=NOW)
        with pytest.raises(CalendarSyncError):
            calendar_sync(user_id=caseworker.pk, now=NOW)

    assert "falsch-Passwort-42" not in caplog.text
    token = stored(caseworker)
    for event in AuditEvent.objects.all():
        assert "falsch-Passwort-42" not in str(event.detail)
        assert token not in str(event.detail)


def test_the_migration_encrypts_plain_text_passwords_and_decrypts_them_going_back(caseworker):
    migration = importlib.import_module("scheduling.migrations.0007_caldav_password_encrypted")
    StaffCalendar.objects.create(user=caseworker)
    StaffCalendar.objects.filter(user=caseworker).update(caldav_password_encrypted="klartext")

    migration.encrypt_existing(django_apps, None)

    assert stored(caseworker).startswith("gAAAAA")
    assert StaffCalendar.objects.get(user=caseworker).caldav_password == "klartext"

    migration.decrypt_existing(django_apps, None)

    assert stored(caseworker) == "klartext"
