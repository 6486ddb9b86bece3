"""A live server and one Chromium for the browser journeys.

The app is served by a WSGI server on a thread of the test process, on the suite's database
(SQLite or PostgreSQL) and with Celery eager, so ``lms.platform.clock.travel`` in a test moves the
server's time too, and each test still starts from the empty database the suite resets.
Chromium is Debian's (``/usr/bin/chromium``): Playwright never downloads a browser here.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.browser.tabs import ARTIFACTS, AUDITED
from tests.conftest import need_service

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
]


def _chromium_present() -> None:
    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(f"{CHROMIUM} is missing (apt-get install chromium)")


def _playwright_importable() -> None:
    import axe_playwright_python.sync_playwright  # noqa: F401
    import playwright.sync_api  # noqa: F401


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for every browser test. Package-scoped rather than session-wide:
    Playwright's sync API keeps an event loop running in this thread while it is open, which
    would stop other tests' ``asyncio.run``."""
    need_service("Playwright (pip install -e '.[test]')", _playwright_importable)
    need_service("Chromium", _chromium_present)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="session")
def _served(app):
    """The test app on 127.0.0.1 at a free port, from a thread of this process."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def live_server(app, _served):
    """The live server's address, which is also the app's ``BASE_URL`` for the test, so the
    links in emails, credentials and DID documents point at it."""
    before = app.config["BASE_URL"], app.config.get("SERVER_NAME")
    app.config["BASE_URL"] = _served
    app.config["SERVER_NAME"] = None
    yield _served
    app.config["BASE_URL"], app.config["SERVER_NAME"] = before


def pytest_terminal_summary(terminalreporter):
    if AUDITED:
        terminalreporter.write_line(
            f"browser: axe-core checked {len(AUDITED)} pages ({len(set(AUDITED))} distinct "
            f"addresses); screenshots in {ARTIFACTS}")
