"""Servers on 127.0.0.1 for the calendar fetch tests, besides the plain Radicale of conftest.py.

- `radicale_freebusy_only_url`: Radicale whose rights let the account see its calendars' free/busy
  times but not their events (permission "f" without "r"), as a groupware may grant a service.
- `radicale_without_freebusy_url`: the real Radicale application behind a WSGI layer that answers
  the free-busy-query REPORT with 501, as a server without that report does; all else is Radicale.
- `redirector`: answers the paths a test sets up with redirects (or a body), to test the guard.
"""

import io
import threading
import uuid
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import radicale
import radicale.config

from tests.scheduling.conftest import _start_radicale, _stop

# Imported with * by the test modules that use them (fixtures are found by name).
__all__ = ["radicale_freebusy_only_url", "radicale_without_freebusy_url", "redirector"]

# Each account may create and fill calendars below its own principal, but read only their free/busy
# times: "w" without "r" on the calendars, "f" for the free-busy-query.
FREEBUSY_ONLY_RIGHTS = """
[root]
user: .+
collection:
permissions: R

[principal]
user: .+
collection: {user}
permissions: RW

[calendars]
user: .+
collection: {user}/[^/]+
permissions: wf
"""


@pytest.fixture(scope="session")
def radicale_freebusy_only_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("radicale_freebusy_only")
    rights = folder / "rights"
    rights.write_text(FREEBUSY_ONLY_RIGHTS)
    process, url = _start_radicale(
        folder,
        "--auth-type",
        "none",
        "--rights-type",
        "from_file",
        "--rights-file",
        str(rights),
    )
    yield url
    _stop(process)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class _ThreadingServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request, client_address):
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        thread.start()

    def process_request_thread(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


def serve(app):
    """Serve a WSGI app on a free port of 127.0.0.1 in a thread; returns (server, base URL)."""
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def _without_freebusy(app):
    def wrapped(environ, start_response):
        if environ["REQUEST_METHOD"] == "REPORT":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            if b"free-busy-query" in body:
                start_response("501 Not Implemented", [("Content-Type", "text/plain")])
                return [b"REPORT free-busy-query is not implemented here."]
            environ["wsgi.input"] = io.BytesIO(body)
        return app(environ, start_response)

    return wrapped


@pytest.fixture(scope="session")
def radicale_without_freebusy_url(tmp_path_factory):
    configuration = radicale.config.load()
    configuration.update(
        {
            "auth": {"type": "none"},
            "storage": {
                "filesystem_folder": str(tmp_path_factory.mktemp("radicale_no_fb") / "collections")
            },
        },
        "tests",
        privileged=True,
    )
    server, url = serve(_without_freebusy(radicale.Application(configuration)))
    yield url
    server.shutdown()
    server.server_close()


class Redirector:
    """Paths answered with a redirect (status, Location) or a body; everything else is 404."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, list[tuple[str, str]], bytes]] = {}
        self.requests: list[str] = []
        self.server, self.base_url = serve(self._app)

    def redirect(self, to: str, *, status: str = "302 Found") -> str:
        path = f"/r/{uuid.uuid4().hex[:12]}"
        self.routes[path] = (status, [("Location", to)], b"")
        return self.base_url.rstrip("/") + path

    def chain(self, to: str, hops: int) -> str:
        """An address that reaches `to` after `hops` redirects."""
        url = to
        for _hop in range(hops):
            url = self.redirect(url)
        return url

    def body(self, data: bytes, content_type: str = "text/calendar") -> str:
        path = f"/b/{uuid.uuid4().hex[:12]}.ics"
        self.routes[path] = ("200 OK", [("Content-Type", content_type)], data)
        return self.base_url.rstrip("/") + path

    def _app(self, environ, start_response):
        path = environ["PATH_INFO"]
        self.requests.append(path)
        status, headers, body = self.routes.get(path, ("404 Not Found", [], b"not here"))
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]


@pytest.fixture(scope="session")
def redirector():
    server = Redirector()
    yield server
    server.server.shutdown()
    server.server.server_close()
