"""Two saves of the same profile at the same moment, on PostgreSQL with two connections."""

import threading

import pytest
from django.db import connection, connections

from audit.models import AuditChannel
from audit.services import AuditContext
from profiling.models import Profile, ProfileVersion
from profiling.services import ProfileConflictError, profile_update
from tests.profiling.factories import profile_with_version

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Row locks (SELECT ... FOR UPDATE) need PostgreSQL; SQLite locks the whole database. "
    "CI runs this on PostgreSQL.",
)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_saves_based_on_the_same_version_exactly_one_wins(caseworker, team_lead, case):
    profile_with_version(customer=case.customer)
    results: dict = {}
    start = threading.Barrier(2)

    def save(user, data) -> None:
        try:
            start.wait(timeout=10)
            results[user.username] = profile_update(
                ctx=AuditContext(actor=user, channel=AuditChannel.UI),
                customer_id=case.customer_id,
                data=data,
                expected_version=1,
            )
        except Exception as error:  # noqa: BLE001 - the outcome is what the test inspects
            results[user.username] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=save, args=(caseworker, {"debt": "high"})),
        threading.Thread(target=save, args=(team_lead, {"health": "high"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    winners = [name for name, outcome in results.items() if isinstance(outcome, Profile)]
    losers = [o for o in results.values() if isinstance(o, ProfileConflictError)]
    assert (len(winners), len(losers)) == (1, 1), results
    profile = Profile.objects.get(customer=case.customer)
    assert profile.version == 2
    assert ProfileVersion.objects.filter(customer=case.customer).count() == 2
    # Only the winner's change is in: the loser's was not written over it, nor merged in.
    assert (profile.debt == "high") != (profile.health == "high")
