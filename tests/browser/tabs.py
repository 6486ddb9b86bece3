"""One person's browser tab, watched as they go: console errors, page errors and failed
requests are problems; every page they land on is checked with axe-core; the steps of the
journey are numbered full-page screenshots.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

#: The WCAG 2.0, 2.1 and 2.2 A and AA rules.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}

#: Screenshots and downloads, one folder per viewport (gitignored).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"

#: Every page checked by axe-core in this run (its path), for the summary at the end.
AUDITED: list[str] = []

PHONE = {"name": "phone", "viewport": {"width": 360, "height": 740}, "is_mobile": True,
         "has_touch": True}
DESKTOP = {"name": "desktop", "viewport": {"width": 1280, "height": 800}, "is_mobile": False,
           "has_touch": False}

_axe = None


def axe():
    global _axe
    if _axe is None:
        from axe_playwright_python.sync_playwright import Axe

        _axe = Axe()
    return _axe


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Journal:
    """What one journey saw, across everyone's tabs."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():  # the last run's, not the folder: another run may share it
            if old.is_file():
                old.unlink(missing_ok=True)
        self.folder = folder
        self.steps = 0
        self.audited: list[str] = []
        self.violations: list[str] = []
        self.problems: list[str] = []

    def shot(self, page, name: str) -> Path:
        self.steps += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        path = self.folder / f"{self.steps:02d}-{slug}.png"
        self.folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path

    def assert_clean(self) -> None:
        assert not self.problems, "the browser saw problems:\n" + "\n".join(self.problems)

    def assert_accessible(self) -> None:
        assert not self.violations, (
            f"{len(self.violations)} accessibility violations (axe-core, "
            f"{', '.join(AXE_TAGS)}):\n" + "\n".join(self.violations))


class Tab:
    """One person in their own browser (cookies and all), at one viewport."""

    def __init__(self, browser, base_url: str, device: dict, journal: Journal, who: str, *,
                 audit: bool = True):
        self.who = who
        self.audit_pages = audit
        self.base_url = base_url
        self.journal = journal
        self.context = browser.new_context(
            base_url=base_url, viewport=device["viewport"], is_mobile=device["is_mobile"],
            has_touch=device["has_touch"], accept_downloads=True, locale="en-GB",
            timezone_id="Europe/London")
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self._expected_statuses: set[int] = set()
        self._expected_urls: set[str] = set()
        self._downloading = False
        self._unaudited: str | None = None
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self._problem(f"page error: {error}"))
        self.page.on("request", self._on_request)
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("response", self._on_response)
        self.page.on("framenavigated", self._on_navigated)

    # --- what is watched -------------------------------------------------------------------

    def _problem(self, text: str) -> None:
        self.journal.problems.append(f"[{self.who}] {text}")

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and where in self._expected_urls:
            return
        self._problem(f"console error on {_path(where)}: {message.text}")

    def _on_request(self, request) -> None:
        if not request.url.startswith((self.base_url, "data:", "blob:", "about:")):
            self._problem(f"a request left the app: {request.method} {request.url}")

    def _on_request_failed(self, request) -> None:
        if self._downloading and request.url in self._expected_urls:
            return
        self._problem(f"request failed: {request.method} {_path(request.url)}: "
                      f"{request.failure}")

    def _on_response(self, response) -> None:
        if not response.url.startswith(self.base_url) or response.status < 400:
            return
        if response.status in self._expected_statuses and response.request.is_navigation_request():
            self._expected_urls.add(response.url)
            return
        self._problem(f"{response.status} from {response.request.method} {_path(response.url)}")

    def _on_navigated(self, frame) -> None:
        if frame != self.page.main_frame or frame.url == "about:blank" or not self.audit_pages:
            return
        if self._unaudited is not None and self._unaudited.split("#")[0] != \
                frame.url.split("#")[0]:
            self._problem(f"left {_path(self._unaudited)} before axe-core checked it")
        self._unaudited = frame.url

    @contextmanager
    def expecting(self, status: int):
        """The page the step leads to is expected to answer ``status`` (e.g. a form's errors)."""
        self._expected_statuses.add(status)
        try:
            yield
        finally:
            self._expected_statuses.discard(status)

    def assert_clean(self) -> None:
        self.journal.assert_clean()

    # --- moving about ----------------------------------------------------------------------

    def go(self, address: str, step: str | None = None) -> None:
        """Open an address: typed, or a link from an email or from someone else."""
        self.page.goto(address, wait_until="load")
        self.arrive(step)

    def follow(self, locator, step: str | None = None) -> None:
        """Click a link or a button that leads to another page, and check the page."""
        with self.page.expect_navigation(wait_until="load"):
            locator.click()
        self.arrive(step)

    def reload(self, step: str | None = None) -> None:
        self.page.reload(wait_until="load")
        self.arrive(step)

    def back(self, step: str | None = None) -> None:
        self.page.go_back(wait_until="load")
        self.arrive(step)

    def arrive(self, step: str | None = None) -> None:
        """On every page: axe-core, a screenshot if it is a step, and no problems so far."""
        if self.audit_pages:
            self.audit()
        if step:
            self.journal.shot(self.page, f"{self.who}-{step}")
        self.assert_clean()

    def audit(self) -> None:
        path = _path(self.page.url)
        results = axe().run(self.page, options=AXE_OPTIONS)
        for violation in results.response["violations"]:
            nodes = "\n".join(
                f"      {' '.join(map(str, node['target']))}: "
                f"{' '.join(node.get('failureSummary', '').split())}"
                for node in violation["nodes"])
            self.journal.violations.append(
                f"  [{self.who}] {path}: {violation['id']} ({violation['impact']}): "
                f"{violation['help']} <{violation['helpUrl']}>\n{nodes}")
        self.journal.audited.append(path)
        AUDITED.append(path)
        self._unaudited = None

    def download(self, locator, folder: Path) -> Path:
        """Click a link that downloads a file; the file, saved in ``folder``."""
        self._downloading = True
        try:
            with self.page.expect_download() as info:
                self._expected_urls.add(self.base_url + locator.get_attribute("href"))
                locator.click()
            download = info.value
            assert download.failure() is None, download.failure()
            path = folder / download.suggested_filename
            download.save_as(str(path))
        finally:
            self._downloading = False
        return path

    def close(self) -> None:
        self.context.close()


#: Where the focus is, whether it is what we are looking for, and whether a person can see it
#: (an outline, or a focus shadow).
_FOCUS = """([selector, text]) => {
  const el = document.activeElement;
  if (!el || el === document.body) { return {match: false, visible: true, what: "the page"}; }
  const style = getComputedStyle(el);
  const visible = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== "none";
  const match = el.matches(selector) && (!text || el.textContent.trim() === text);
  return {match, visible, what: el.outerHTML.slice(0, 160)};
}"""

#: Notes any use of a pointer (mouse, touch, pen) for the rest of the tab's life.
POINTER_WATCH = """addEventListener("pointerdown", () => {
  try { sessionStorage.setItem("pointer-used", "yes"); } catch (e) {}
}, true);"""


class Keyboard:
    """Moving about a tab with the keys alone, checking that the focus is visible at every
    stop on the way."""

    def __init__(self, tab: Tab):
        self.tab = tab
        self.page = tab.page
        self.stops = 0

    def tab_to(self, selector: str, text: str | None = None, *, backwards: bool = False,
               limit: int = 80) -> None:
        """Press Tab (or Shift+Tab) until the focus is on ``selector`` (with ``text``)."""
        seen = []
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            self.stops += 1
            state = self.page.evaluate(_FOCUS, [selector, text])
            assert state["visible"], f"the focus cannot be seen on {state['what']}"
            if state["match"]:
                return
            seen.append(state["what"][:60])
        raise AssertionError(f"Tab never reached {selector} {text or ''}; it went to: {seen}")

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def press_and_go(self, key: str, step: str | None = None) -> None:
        """Press a key that leaves the page (Enter on a link, Space on a button)."""
        with self.page.expect_navigation(wait_until="load"):
            self.page.keyboard.press(key)
        self.tab.arrive(step)

    def pointer_used(self) -> bool:
        return self.page.evaluate("sessionStorage.getItem('pointer-used')") is not None
