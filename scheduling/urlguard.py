"""Addresses typed in by staff (CalDAV, ICS feed) that the worker fetches: no requests into places
the staff member could not reach themselves (server-side request forgery).

Allowed: http and https (webcal:// is read as https://). Refused: host names resolving to loopback,
link-local (169.254.0.0/16 with the cloud metadata service, fe80::/10), multicast, unspecified,
reserved addresses and known metadata addresses. `settings.CALENDAR_ALLOWED_HOSTS`
(DJANGO_CALENDAR_ALLOWED_HOSTS) lists names (`cal.example.de`), wildcards (`*.example.de`, the
subdomains) and IP addresses; when it is set, ONLY those hosts are reachable, whatever they resolve
to.

Checked three times: when the address is saved (`url_check`), before each request of a fetch,
including every redirect (`guarded_session`), and on the connected socket itself, so a DNS answer
that changes between the check and the connection (DNS rebinding) cannot lead elsewhere.

A guarded session also has a total deadline (`deadline_seconds`): connect and read timeouts only
bound each socket operation, so a server sending one byte per second would keep a fetch busy for
hours. At the deadline every connection of the session is shut down, whatever it is doing (the
handshake, the headers, the body), and the request raises FetchDeadlineExceededError.
"""

import contextlib
import ipaddress
import socket
import threading
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from jobcenter.exceptions import ApplicationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Private LAN ranges (10/8, 172.16/12, 192.168/16, fc00::/7) stay allowed by default: a jobcenter's
# groupware server (Exchange, Nextcloud, SOGo) usually sits inside its own network; set
# DJANGO_CALENDAR_ALLOWED_HOSTS to narrow the reachable hosts down to exactly that server.
# Cloud metadata services outside the link-local range: AWS over IPv6 (a ULA), Alibaba Cloud.
_METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # 0.x.x.x reaches the local host on Linux
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UrlRefusedError(ApplicationError):
    """An address the calendar sync must not fetch; the message says why."""


def url_normalize(url: str) -> str:
    """webcal:// is the https:// of calendar subscriptions; everything else stays as typed."""
    url = url.strip()
    if url.lower().startswith("webcal://"):
        return "https://" + url[len("webcal://") :]
    return url


def _ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # fe80::1%eth0: the zone is no part
    except ValueError:
        return None


def _host_allowed(host: str, allowed: list[str]) -> bool:
    host_ip = _ip(host)
    for entry in allowed:
        entry = entry.strip().lower().rstrip(".")
        entry_ip = _ip(entry.strip("[]"))
        if entry_ip is not None:
            if host_ip is not None and host_ip == entry_ip:
                return True
        elif entry.startswith("*."):
            if host.endswith(entry[1:]):  # "*.example.de": the subdomains, not example.de itself
                return True
        elif host == entry:
            return True
    return False


def address_refused(address: IPAddress) -> bool:
    """Whether the worker must not connect to this address (unless its host is allow-listed)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and address_refused(embedded):
            return True
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or address in _METADATA
        or (isinstance(address, ipaddress.IPv4Address) and address in _THIS_NETWORK)
    )


def _resolve(host: str, port: int) -> list[IPAddress]:
    literal = _ip(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as error:
        raise UrlRefusedError(
            _("The host name %(host)s could not be found.") % {"host": host}
        ) from error
    addresses = [address for info in infos if (address := _ip(str(info[4][0]))) is not None]
    if not addresses:
        raise UrlRefusedError(_("The host name %(host)s could not be found.") % {"host": host})
    return addresses


def _refused_message(host: str, address: str) -> str:
    return _(
        "%(host)s leads to an address of this server or of a special network (%(address)s); "
        "calendars cannot be read from there."
    ) % {"host": host, "address": address}


def url_check(url: str) -> str:
    """The normalised address if the sync may fetch it; raises UrlRefusedError otherwise.

    Resolves the host name (a name that cannot be resolved is refused, as nothing could be read).
    """
    url = url_normalize(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UrlRefusedError(_("The address is not valid.")) from error
    if parts.scheme.lower() not in ("http", "https"):
        raise UrlRefusedError(_("Only addresses starting with https:// or http:// can be used."))
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UrlRefusedError(_("The address has no host name."))
    allowed = list(getattr(settings, "CALENDAR_ALLOWED_HOSTS", []))
    if allowed:
        if _host_allowed(host, allowed):
            return url
        raise UrlRefusedError(
            _(
                "%(host)s is not one of the calendar servers this installation may connect to; "
                "ask your administrator."
            )
            % {"host": host}
        )
    port = port or (443 if parts.scheme.lower() == "https" else 80)
    for address in _resolve(host, port):
        if address_refused(address):
            raise UrlRefusedError(_refused_message(host, str(address)))
    return url


# --- requests: every request and every redirect checked, and the connected peer too ----------------


def _peer_check(host: str, sock: socket.socket) -> None:
    allowed = list(getattr(settings, "CALENDAR_ALLOWED_HOSTS", []))
    if allowed:
        return  # url_check already limited the host names to the list (by name, not address)
    address = _ip(str(sock.getpeername()[0]))
    if address is not None and address_refused(address):
        sock.close()
        raise UrlRefusedError(_refused_message(host, str(address)))


# A network error this close to the deadline counts as the deadline (timeouts are cut to it).
DEADLINE_MARGIN_SECONDS = 0.25


class FetchDeadlineExceededError(Exception):
    """The fetch did not finish within the session's total deadline."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"The fetch took longer than {seconds:g} s and was stopped.")


class FetchDeadline:
    """One total deadline for all requests of a session, enforced by a timer thread.

    Every socket the session opens is registered (as a duplicate of its descriptor: TLS takes the
    original over). When the time is up the timer shuts them all down, which ends any read or
    write blocked on them at once; the adapter then raises FetchDeadlineExceededError instead of
    passing on a cut-off answer as if it were complete.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.0, self.ends_at - time.monotonic())

    def check(self) -> None:
        if self.expired or self.remaining() <= 0:
            raise FetchDeadlineExceededError(self.seconds)

    def register(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                sock.close()
                raise FetchDeadlineExceededError(self.seconds)
            self._sockets.append(sock.dup())

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                with contextlib.suppress(OSError):  # closed meanwhile
                    sock.shutdown(socket.SHUT_RDWR)  # the connection itself, not just this fd

    def close(self) -> None:
        self._timer.cancel()
        if threading.current_thread() is not self._timer:
            self._timer.join(timeout=1)
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


class _GuardedConnectionMixin:
    fetch_deadline: FetchDeadline | None = None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _peer_check(self.host, sock)
        if self.fetch_deadline is not None:
            self.fetch_deadline.register(sock)
        return sock


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


def _pool_classes(deadline: FetchDeadline | None) -> dict[str, type]:
    """Pool classes whose connections register with `deadline` (one set per session)."""
    if deadline is None:
        return {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
    http_conn = type("_DeadlineHTTPConnection", (_GuardedHTTPConnection,), {})
    https_conn = type("_DeadlineHTTPSConnection", (_GuardedHTTPSConnection,), {})
    http_conn.fetch_deadline = https_conn.fetch_deadline = deadline
    return {
        "http": type("_DeadlineHTTPPool", (_GuardedHTTPPool,), {"ConnectionCls": http_conn}),
        "https": type("_DeadlineHTTPSPool", (_GuardedHTTPSPool,), {"ConnectionCls": https_conn}),
    }


class ResponseTooBigError(Exception):
    """The server sent more than the session's `max_bytes`."""


class GuardedAdapter(HTTPAdapter):
    """Checks every request it sends (requests sends each redirect through it too), reads at
    most `max_bytes` of a response body (a hostile server cannot fill the worker's memory), and
    keeps to the session's total `deadline`. `last_status` is the HTTP status of the last answer
    (to explain a failure in words)."""

    def __init__(
        self, *, max_bytes: int | None = None, deadline: FetchDeadline | None = None, **kwargs
    ) -> None:
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.last_status: int | None = None
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        # Direct connections only; a proxy configured by the administrator is trusted as such.
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.deadline)

    def _timeout(self, timeout):
        """The caller's connect/read timeouts, each at most the time left before the deadline."""
        if self.deadline is None:
            return timeout
        left = max(self.deadline.remaining(), 0.001)
        if timeout is None:
            return (left, left)
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        return tuple(left if value is None else min(value, left) for value in (connect, read))

    def send(self, request, stream=False, timeout=None, **kwargs):
        url_check(request.url)
        if self.deadline is not None:
            self.deadline.check()
        try:
            response = super().send(request, stream=True, timeout=self._timeout(timeout), **kwargs)
            self.last_status = response.status_code
            if stream or self.max_bytes is None:
                return response
            chunks, size = [], 0
            for chunk in response.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > self.max_bytes:
                    response.close()
                    raise ResponseTooBigError(request.url)
                chunks.append(chunk)
        except (OSError, requests.RequestException) as error:
            # A connection shut down at the deadline surfaces as any network error, and a timeout
            # cut to the time left ends a moment before it: say why.
            if self.deadline is not None and (
                self.deadline.expired or self.deadline.remaining() < DEADLINE_MARGIN_SECONDS
            ):
                raise FetchDeadlineExceededError(self.deadline.seconds) from error
            raise
        if self.deadline is not None and self.deadline.expired:
            # The shutdown may look like the normal end of the body: never pass it on as complete.
            raise FetchDeadlineExceededError(self.deadline.seconds)
        # What Response.content does, with the limit above.
        response._content = b"".join(chunks)
        response._content_consumed = True
        return response

    def close(self) -> None:
        super().close()
        if self.deadline is not None:
            self.deadline.close()


def guarded_session(
    *,
    max_redirects: int = 3,
    max_bytes: int | None = None,
    deadline_seconds: float | None = None,
) -> requests.Session:
    """A requests session that refuses addresses url_check refuses, on every hop (at most
    `max_redirects` of them), response bodies over `max_bytes` unless read as a stream, and
    anything still running `deadline_seconds` after the session was made (connections are shut
    down then: FetchDeadlineExceededError). Close the session when done (it stops the timer)."""
    session = requests.Session()
    session.max_redirects = max_redirects
    deadline = FetchDeadline(deadline_seconds) if deadline_seconds else None
    adapter = GuardedAdapter(max_bytes=max_bytes, deadline=deadline, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def session_last_status(session: requests.Session) -> int | None:
    """The HTTP status of the last answer the guarded session received (None: none yet)."""
    adapter = session.get_adapter("https://")
    return adapter.last_status if isinstance(adapter, GuardedAdapter) else None
