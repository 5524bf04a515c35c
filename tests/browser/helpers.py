"""Checks and steps shared by the browser tests."""

import os
from pathlib import Path

from tests.conftest import PASSWORD

AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def assert_only_local_requests(page, live_server) -> None:
    """Jobcenter networks are closed: no font, script or style may come from anywhere else."""
    foreign = [
        url
        for url in page.requested_urls
        if not url.startswith(live_server.url) and not url.startswith("data:")
    ]
    assert foreign == []


def assert_accessible(page) -> None:
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    serious = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} -> "
        + ", ".join(node["target"][0] for node in violation["nodes"][:5])
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == [], "\n".join(serious)


def screenshot(page, name: str) -> None:
    directory = os.environ.get("BROWSER_SCREENSHOTS")
    if directory:
        page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=True)


def log_in_anywhere(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def log_in(page, live_server, username: str) -> None:
    """Log in through the form, coming from the work queue, and land back on it."""
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{live_server.url}/")
