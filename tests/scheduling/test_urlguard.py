"""The guard against server-side request forgery through calendar addresses (scheduling.urlguard)."""

import ipaddress
import socket

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import translation

from scheduling import urlguard
from scheduling.urlguard import UrlRefusedError, address_refused, guarded_session, url_check
from tests.scheduling.servers import *  # noqa: F403 - the server fixtures

NO_LIST = override_settings(CALENDAR_ALLOWED_HOSTS=[])


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "169.254.169.254",  # cloud metadata
        "169.254.1.1",
        "fe80::1",
        "224.0.0.1",
        "ff02::1",
        "0.0.0.0",  # noqa: S104 - the address under test
        "0.1.2.3",
        "::",
        "240.0.0.1",
        "255.255.255.255",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata address
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "fd00:ec2::254",  # AWS metadata over IPv6
        "100.100.100.200",  # Alibaba Cloud metadata
    ],
)
def test_special_addresses_are_refused(address):
    assert address_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "172.16.0.5", "192.168.178.20", "fd12:3456::1", "193.99.144.80", "2a00:1450::1"],
)
def test_public_and_private_lan_addresses_are_allowed(address):
    # The jobcenter's groupware usually sits in its own network: private ranges stay reachable.
    assert not address_refused(ipaddress.ip_address(address))


@NO_LIST
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5232/",
        "http://localhost/",
        "https://LOCALHOST./cal.ics",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:8000/",
        "http://2130706433/",  # 127.0.0.1 as one number, as some resolvers read it
        "webcal://127.0.0.1/feed.ics",
    ],
)
def test_addresses_of_this_server_and_special_networks_are_refused(url):
    with translation.override("en"), pytest.raises(UrlRefusedError) as error:
        url_check(url)

    assert "cannot be read from there" in error.value.message or "not be found" in (
        error.value.message
    )


@NO_LIST
@pytest.mark.parametrize(
    "url",
    ["ftp://dav.example.de/", "file:///etc/passwd", "gopher://x/", "dav.example.de/kalender"],
)
def test_only_http_and_https_are_allowed(url):
    with translation.override("en"), pytest.raises(UrlRefusedError) as error:
        url_check(url)

    assert "https://" in error.value.message


@NO_LIST
def test_an_address_without_host_or_with_a_bad_port_is_refused():
    with pytest.raises(UrlRefusedError):
        url_check("https:///kalender.ics")
    with pytest.raises(UrlRefusedError):
        url_check("https://dav.example.de:99999/")


@NO_LIST
@pytest.mark.parametrize("host", ["kalender.example.invalid", "nirgends.invalid", "-.example"])
def test_a_host_name_that_cannot_be_resolved_is_refused(host):
    with translation.override("en"), pytest.raises(UrlRefusedError) as error:
        url_check(f"https://{host}/kalender.ics")

    assert "could not be found" in error.value.message


@NO_LIST
def test_a_name_resolving_to_a_private_address_is_allowed(monkeypatch):
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *args, **kwargs: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443))],
    )

    assert url_check("webcal://groupware.intern/anna.ics") == "https://groupware.intern/anna.ics"


@NO_LIST
def test_a_name_with_one_refused_address_among_its_answers_is_refused(monkeypatch):
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 443, 0, 0)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)

    with pytest.raises(UrlRefusedError):
        url_check("https://groupware.intern/")


@override_settings(CALENDAR_ALLOWED_HOSTS=["dav.example.de", "*.kalender.example.org", "10.0.0.7"])
@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://dav.example.de/", True),
        ("https://DAV.example.de./", True),
        ("https://other.example.de/", False),
        ("https://a.kalender.example.org/x.ics", True),
        ("https://a.b.kalender.example.org/x.ics", True),
        ("https://kalender.example.org/x.ics", False),  # the wildcard means the subdomains
        ("https://evilkalender.example.org/x.ics", False),
        ("http://10.0.0.7:8080/", True),
        ("http://10.0.0.8/", False),
        ("http://127.0.0.1/", False),
        ("ftp://dav.example.de/", False),
    ],
)
def test_with_an_allow_list_only_its_hosts_are_allowed(url, allowed):
    # No name here is resolved: with a list, names decide (the unlisted ones do not exist).
    if allowed:
        assert url_check(url)
    else:
        with pytest.raises(UrlRefusedError):
            url_check(url)


@override_settings(CALENDAR_ALLOWED_HOSTS=["127.0.0.1", "::1"])
def test_an_allow_list_admits_loopback_on_purpose():
    assert url_check("http://127.0.0.1:5232/") == "http://127.0.0.1:5232/"
    assert url_check("http://[::1]:5232/")


@NO_LIST
def test_the_session_refuses_before_connecting(redirector):
    url = redirector.body(b"geheim")
    seen_before = len(redirector.requests)

    with pytest.raises(UrlRefusedError):
        guarded_session().get(url, timeout=5)

    assert len(redirector.requests) == seen_before


@override_settings(CALENDAR_ALLOWED_HOSTS=["127.0.0.1"])
def test_the_session_checks_every_redirect(redirector):
    session = guarded_session()
    target = "http://169.254.169.254/latest/meta-data/"

    with pytest.raises(UrlRefusedError):
        session.get(redirector.redirect(target), timeout=5)

    assert session.get(redirector.redirect(redirector.body(b"ok")), timeout=5).content == b"ok"
    with pytest.raises(requests.TooManyRedirects):
        session.get(redirector.chain(redirector.body(b"ok"), hops=4), timeout=5)


@NO_LIST
def test_a_dns_answer_that_changes_after_the_check_is_caught_at_the_connection(
    redirector,
    monkeypatch,
):
    # DNS rebinding: the check sees a public address, the connection then goes to 127.0.0.1.
    public = [ipaddress.ip_address("193.99.144.80")]
    monkeypatch.setattr(urlguard, "_resolve", lambda host, port: public)
    url = redirector.body(b"geheim").replace("127.0.0.1", "localhost")
    seen_before = len(redirector.requests)

    with pytest.raises(UrlRefusedError):
        guarded_session().get(url, timeout=5)

    assert len(redirector.requests) == seen_before  # refused before a request was sent


@override_settings(CALENDAR_ALLOWED_HOSTS=["127.0.0.1"])
def test_a_response_over_the_limit_is_cut_off(redirector):
    url = redirector.body(b"x" * 5000)

    with pytest.raises(urlguard.ResponseTooBigError):
        guarded_session(max_bytes=1000).get(url, timeout=5)
    assert len(guarded_session(max_bytes=5000).get(url, timeout=5).content) == 5000


@pytest.mark.parametrize(
    ("raw", "hosts"),
    [
        ("", []),
        ("dav.example.de", ["dav.example.de"]),
        (
            " DAV.example.de. , *.example.org,10.0.0.7,::1",
            ["dav.example.de", "*.example.org", "10.0.0.7", "::1"],
        ),
    ],
)
def test_the_allow_list_is_read_from_the_environment(monkeypatch, raw, hosts):
    from jobcenter.settings.base import env_calendar_hosts

    monkeypatch.setenv("DJANGO_CALENDAR_ALLOWED_HOSTS", raw)

    assert env_calendar_hosts("DJANGO_CALENDAR_ALLOWED_HOSTS") == hosts


@pytest.mark.parametrize("raw", ["https://dav.example.de", "dav example", "*", "a.*.example.de"])
def test_a_bad_allow_list_stops_the_start_naming_the_variable(monkeypatch, raw):
    from jobcenter.settings.base import env_calendar_hosts

    monkeypatch.setenv("DJANGO_CALENDAR_ALLOWED_HOSTS", raw)

    with pytest.raises(ImproperlyConfigured, match="DJANGO_CALENDAR_ALLOWED_HOSTS"):
        env_calendar_hosts("DJANGO_CALENDAR_ALLOWED_HOSTS")
