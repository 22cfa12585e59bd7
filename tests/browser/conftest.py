"""Real-browser fixtures: Debian's Chromium driven by Playwright, one `hubtrail serve` per engine
and test module, and a small static site, on another origin, whose pages embed the tracking code.

Chromium resolves every `*.test` name to 127.0.0.1 (`--host-resolver-rules`), so the site is
reachable as `www.shop.test` and `blog.shop.test` (registrable domain `shop.test`) and as
`other.test`, and hubtrail as `track.hubtrail.test`: separate sites, all on the loopback. Tests
read results back through the CRM API (Bearer token) and `hubtrail export`.

Without Chromium or the playwright package the tests are skipped on a developer machine and fail
under CI=true; `make test` installs Chromium when it runs as root.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.conftest import IN_CI, POSTGRES_URL, Database, _drop_schema, require_postgres
from tests.servers import cli, free_port, start_server, stop_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Request, Response

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-proxy-server",
    "--host-resolver-rules=MAP *.test 127.0.0.1",
]
HUBTRAIL_HOST = "track.hubtrail.test"
COLLECTOR_PATHS = ("/collect", "/__ptq.gif", "/__ptbe.gif")
WAIT_S = 20.0  # the longest any read-back waits for the server's background processor
SCREENSHOTS = Path("/tmp/hubtrail-browser")
T = TypeVar("T")


def eventually(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """Read until `done` holds (hits are processed in the background), at most WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}; last read: {value!r}")
        time.sleep(0.05)


# --- the browser -------------------------------------------------------------------------------


def _browser_problem() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing: apt-get install -y chromium (`make test` does it as root)"
    return None


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the browser tests; each test gets its own context (cookies, cache).

    Playwright's sync API marks its event loop as running in this thread between calls, so
    nothing here may call `asyncio.run` while it is open (see `off_thread`); it closes when
    this package's tests are done, leaving the thread to the rest of the suite."""
    problem = _browser_problem()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"browser tests cannot run under CI=true: {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def off_thread(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a thread of its own, for code that runs an asyncio loop; what it raises
    (pytest's skip and fail included) is raised here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


# --- hubtrail ----------------------------------------------------------------------------------


@dataclass
class HubtrailServer:
    database: Database
    port: int

    @property
    def api_url(self) -> str:
        """Where the tests reach the CRM API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def browser_url(self) -> str:
        """Where the browser reaches hubtrail: a site of its own, like js.hs-scripts.com."""
        return f"http://{HUBTRAIL_HOST}:{self.port}"

    def cli(self, *args: str) -> str:
        return cli(self.database, *args)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HubtrailServer]:
    """One `hubtrail serve` per engine for the module; each test gets its own portal on it."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path_factory.mktemp('db') / 'hubtrail.db'}")
    else:
        off_thread(require_postgres)
        database = Database(POSTGRES_URL, f"t_{uuid.uuid4().hex[:12]}")
    port = free_port()
    process = start_server(database, port)
    hubtrail = HubtrailServer(database, port)
    try:
        yield hubtrail
    finally:
        stop_server(process)
        if database.schema:
            off_thread(_drop_schema, database.schema)


@dataclass
class Hub:
    """A fresh portal on the running server, and read-back helpers over its data."""

    server: HubtrailServer
    hub_id: int
    api: httpx.Client
    write_key: str

    @property
    def script_src(self) -> str:
        return f"{self.server.browser_url}/js/{self.hub_id}.js"

    def set(self, **settings: str) -> dict[str, Any]:
        """`hubtrail portal set`, e.g. `set(consent_mode="opt_in")`; the settings shown after."""
        flags = [part for k, v in settings.items() for part in ("--" + k.replace("_", "-"), v)]
        shown: dict[str, Any] = json.loads(
            self.server.cli("portal", "set", str(self.hub_id), *flags, "--json")
        )
        return shown

    def contact(self, email: str, *properties: str) -> dict[str, Any] | None:
        """The contact with this email (id and the named properties), or None."""
        response = self.api.get(
            f"/crm/v3/objects/contacts/{email}",
            params={"idProperty": "email", "properties": ",".join(properties)},
        )
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def wait_contact(
        self, email: str, done: Callable[[dict[str, Any]], bool], *properties: str
    ) -> dict[str, Any]:
        """The contact's properties once `done(properties)` holds; its id under `hs_object_id`."""
        read = lambda: self.contact(email, "hs_object_id", *properties)  # noqa: E731
        found = eventually(read, lambda c: c is not None and done(c["properties"]), email)
        assert found is not None
        props: dict[str, Any] = found["properties"]
        return props

    def events(self, contact_id: str) -> list[dict[str, Any]]:
        """The contact's event occurrences, oldest first (`GET /events/v3/events`)."""
        response = self.api.get(
            "/events/v3/events",
            params={"objectType": "contact", "objectId": contact_id, "sort": "occurredAt"},
        )
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    def wait_events(self, contact_id: str, count: int) -> list[dict[str, Any]]:
        read = lambda: self.events(contact_id)  # noqa: E731
        return eventually(read, lambda found: len(found) >= count, f"{count} events")

    def page_views(self) -> list[dict[str, Any]]:
        """Every stored page view of the portal (`hubtrail export pageviews`), in stored order."""
        out = self.server.cli("export", "pageviews", "--portal", str(self.hub_id))
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def wait_page_views(self, count: int) -> list[dict[str, Any]]:
        return eventually(self.page_views, lambda views: len(views) >= count, f"{count} views")


@pytest.fixture
def hub(server: HubtrailServer, request: pytest.FixtureRequest) -> Iterator[Hub]:
    created = json.loads(server.cli("portal", "create", request.node.name[:60], "--json"))
    api = httpx.Client(
        base_url=server.api_url,
        headers={"Authorization": f"Bearer {created['access_token']}"},
        timeout=10,
        trust_env=False,
    )
    with api:
        yield Hub(server, int(created["hub_id"]), api, created["write_key"])


# --- the test site -----------------------------------------------------------------------------


class SiteServer:
    """Serves registered HTML pages by path, and files under registered folders (`files`: URL
    prefix → folder), on any `*.test` host name, from one port."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.files: dict[str, Path] = {}
        pages, files = self.pages, self.files

        def find_file(path: str) -> Path | None:
            for prefix, folder in files.items():
                name = path.removeprefix(prefix)
                if path.startswith(prefix) and "/" not in name and (folder / name).is_file():
                    return folder / name
            return None

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                found = find_file(path)
                if found is not None:
                    self._answer(found.read_bytes(), "application/javascript; charset=utf-8")
                    return
                page = pages.get(path)
                self._answer((page or "not found").encode(), "text/html; charset=utf-8", page)

            def _answer(self, body: bytes, content_type: str, page: object = True) -> None:
                self.send_response(200 if page is not None else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def site_server() -> Iterator[SiteServer]:
    served = SiteServer()
    yield served
    served.close()


PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 16px sans-serif; margin: 2em; }}
code {{ color: #555; word-break: break-all; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>A hubtrail test page at <code id="where"></code>, tracked by hub {hub_id}.</p>
{body}
<script>
document.getElementById("where").textContent = location.href;
var _hsq = window._hsq = window._hsq || [];
var _hsp = window._hsp = window._hsp || [];
{before}
</script>
{loaders}
</body>
</html>
"""
LOADER = '<script type="text/javascript" id="hs-script-loader" async defer src="{src}"></script>'


@dataclass
class Site:
    """The test site for one test: pages embedding the hub's tracking code."""

    server: SiteServer
    hub: Hub

    def add(
        self, path: str, title: str, *, before: str = "", body: str = "", loaders: int = 1
    ) -> None:
        """Serve a page at `path` on every host: `before` runs ahead of the loader snippet (the
        place for early `_hsq.push` calls); `loaders` copies of the HubSpot embed snippet."""
        self.server.pages[path] = PAGE.format(
            title=html.escape(title),
            hub_id=self.hub.hub_id,
            body=body,
            before=before,
            loaders="\n".join([LOADER.format(src=html.escape(self.hub.script_src))] * loaders),
        )

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.server.port}{path}"


@pytest.fixture
def site(site_server: SiteServer, hub: Hub) -> Iterator[Site]:
    site_server.pages.clear()
    yield Site(site_server, hub)
    site_server.pages.clear()


# --- a browser tab that records every hit ------------------------------------------------------


@dataclass
class Hit:
    """One request the tracking code sent to the collector, as the protocol's hit fields."""

    method: str
    path: str
    data: dict[str, Any]
    status: int | None = None
    failure: str | None = None

    @property
    def kind(self) -> str:
        kind = str(self.data.get("k", ""))
        return "pv" if kind == "1" else kind

    @property
    def done(self) -> bool:
        return self.status is not None or self.failure is not None


def _hit_data(request: Request) -> dict[str, Any]:
    """A POST body (JSON), or a GIF's query string in the same shape."""
    if request.method == "POST":
        raw = request.post_data or ""
        try:
            data = json.loads(raw)
        except ValueError:
            return {"_unparsed": raw}
        return data if isinstance(data, dict) else {"_unparsed": raw}
    data: dict[str, Any] = {}
    properties: dict[str, str] = {}
    for name, value in parse_qsl(urlsplit(request.url).query, keep_blank_values=True):
        if name.startswith("_") and len(name) > 1:
            properties[name[1:]] = value
        else:
            data.setdefault(name, value)
    if properties:
        data["p"] = properties
    if isinstance(data.get("i"), str):
        data["i"] = dict(parse_qsl(data["i"]))
    if "nc" in data:
        data["nc"] = data["nc"] == "true"
    return data


class Tab:
    """A page in its own browser context, with every collector hit, console message and page
    error it produced, in the order the page issued them."""

    def __init__(self, context: BrowserContext, page: Page, server: HubtrailServer) -> None:
        self.context = context
        self.page = page
        self._port = server.port
        self.hits: list[Hit] = []
        self._requests: list[tuple[Request, Hit]] = []
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        # Playwright sees no body of a `sendBeacon(url, Blob)` unless the request is routed;
        # routed requests go on unchanged.
        context.route(self._is_hit, lambda route: route.continue_())
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_failed)
        page.on("console", lambda message: self.console.append((message.type, message.text)))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _is_hit(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.port == self._port and parts.path in COLLECTOR_PATHS

    def _find(self, request: Request) -> Hit | None:
        return next((hit for sent, hit in self._requests if sent is request), None)

    def _on_request(self, request: Request) -> None:
        if self._is_hit(request.url):
            hit = Hit(request.method, urlsplit(request.url).path, _hit_data(request))
            self.hits.append(hit)
            self._requests.append((request, hit))

    def _on_response(self, response: Response) -> None:
        hit = self._find(response.request)
        if hit is not None:
            hit.status = response.status

    def _on_failed(self, request: Request) -> None:
        hit = self._find(request)
        if hit is not None:
            hit.failure = request.failure or "failed"

    def goto(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None
        assert response.status == 200, url

    def push(self, *command: Any) -> None:
        """`_hsq.push([command...])` in the page (arguments must be JSON values)."""
        self.page.evaluate("command => { window._hsq.push(command); }", list(command))

    def wait_for(self, done: Callable[[list[Hit]], bool], what: str) -> list[Hit]:
        """Every hit so far, once `done(hits)` holds; each answered one must be accepted.

        The page's clock may be faked, so this polls in Playwright's own (real) time."""
        deadline = time.monotonic() + WAIT_S
        while not done(self.hits):
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}; hits: {self.hits!r}")
            self.page.wait_for_timeout(20)
        refused = [hit for hit in self.hits if hit.done and hit.status not in (200, 204)]
        assert refused == [], f"the collector refused hits: {refused!r}"
        return list(self.hits)

    def wait_hits(self, count: int) -> list[Hit]:
        """Every hit so far, once at least `count` have been answered."""
        answered = lambda hits: sum(hit.done for hit in hits) >= count  # noqa: E731
        return self.wait_for(answered, f"{count} answered hits")

    def fast_forward(self, duration: str) -> None:
        """Move the page's (installed) clock on, and drop the cookies that have expired by the
        new time: the browser's cookie jar keeps real time, which Playwright's clock leaves
        alone, while the script writes `expires=` from the page's `Date.now()`."""
        self.page.clock.fast_forward(duration)
        now_s = self.page.evaluate("() => Date.now()") / 1000
        for cookie in self.context.cookies():
            if 0 <= cookie["expires"] <= now_s:
                self.context.clear_cookies(
                    name=cookie["name"], domain=cookie["domain"], path=cookie["path"]
                )

    def cookies(self) -> dict[str, str]:
        """The cookies the current page sees, by name: `document.cookie`, which has what the
        script wrote at once (Chromium hands a write to its cookie store asynchronously, so
        the context's cookie list can lag a moment behind)."""
        text: str = self.page.evaluate("() => document.cookie")
        found = {}
        for part in text.split("; "):
            name, _, value = part.partition("=")
            if name:
                found[name] = value
        return found

    def cookie_domains(self) -> dict[str, str]:
        """The domain of each cookie the page sees, once the cookie store has caught up."""
        names = set(self.cookies())

        def read() -> dict[str, str]:
            return {c["name"]: c["domain"] for c in self.context.cookies(self.page.url)}

        return eventually(read, lambda found: set(found) == names, "the cookie store")

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".png")
        self.page.screenshot(path=str(path), full_page=True)
        return path


def desktop_user_agent(browser: Browser) -> str:
    """Chrome's own user agent: headless Chromium says `HeadlessChrome`, which hubtrail rightly
    files as a bot (stored, flagged, never identifying anyone), and these tests are visitors."""
    major = browser.version.split(".")[0]
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )


@pytest.fixture
def tab(browser: Browser, server: HubtrailServer, request: pytest.FixtureRequest) -> Iterator[Tab]:
    context = browser.new_context(
        user_agent=desktop_user_agent(browser),
        locale="en-US",
        viewport={"width": 1024, "height": 640},
    )
    context.set_default_timeout(WAIT_S * 1000)
    opened = Tab(context, context.new_page(), server)
    try:
        yield opened
        if opened.page.url.startswith("http"):
            opened.screenshot(request.node.name)
        assert opened.errors == [], f"uncaught errors in the page: {opened.errors}"
    finally:
        context.close()
