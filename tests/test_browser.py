"""The pages in a real browser: Playwright for Python driving Debian's chromium against a
live ``eti serve`` over the demo catalogue. Each scenario also runs axe-core (from npm,
injected into the page) and fails on serious or critical violations; screenshots of
every page go to tests/artifacts/ (``ETI_UPDATE_SCREENSHOTS=1`` also refreshes the
README's docs/screenshots/).

``make test`` installs chromium (apt) and axe-core (npm ci); without them these tests
skip with the reason, except under CI (``CI`` set and not false/0; ``.ci/run`` sets it),
where they fail.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import LiveServer, prepare_store, start_server, stop

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS = ROOT / "docs" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SERVICE = "https://w3id.org/dpv#ServiceProvision"
BROKEN_PRODUCT = b"""@prefix dct: <http://purl.org/dc/terms/> .
@prefix dprod: <https://ekgf.github.io/dprod/> .
<https://example.org/products/uten-tittel> a dprod:DataProduct ;
    dct:description "Et dataprodukt uten tittel og eier"@nb .
"""
TEMPLATE = (files("eti.catalogue.demo") / "products" / "nav-pleiepenger.trig").read_text("utf-8")
UNREADABLE = b"@prefix dct: <http://purl.org/dc/terms/> .\n<urn:x:a> dct:title 'oops\n"


def in_ci() -> bool:
    """True under CI: ``CI`` set to anything but empty, 0, false or no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; make test installs it)"
    if not AXE.exists():
        return f"{AXE.relative_to(ROOT)} is missing (npm ci; make test installs it)"
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One ``eti serve`` over the demo for the module (scenarios use different products)."""
    store = tmp_path_factory.mktemp("browser") / "store"
    tokens = prepare_store(store)
    url, proc = start_server(store)
    yield LiveServer(url, proc, store, tokens)
    stop(proc)


def require_browser_tools() -> None:
    """Skip when chromium, Playwright or axe-core is missing; under CI, fail instead, so a
    broken setup cannot pass as skipped tests."""
    missing = _missing()
    if missing:
        if in_ci():
            pytest.fail(f"CI is set, so the browser tests must run, but {missing}", pytrace=False)
        pytest.skip(missing)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser_tools()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        yield chromium
        chromium.close()


AXE_RESULTS: dict[str, dict] = {}


@pytest.fixture(scope="module", autouse=True)
def axe_summary() -> Iterator[None]:
    """Write every page's axe outcome to tests/artifacts/axe.json."""
    yield
    if AXE_RESULTS:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "axe.json").write_text(json.dumps(AXE_RESULTS, indent=2, ensure_ascii=False))


class Session:
    """A browser context and page, with what went wrong in it."""

    def __init__(self, browser: Any, base: str, **options: Any) -> None:
        self.base = base
        self.context = browser.new_context(
            locale=options.pop("locale", "nb-NO"),
            viewport={"width": 1280, "height": 900},
            **options,
        )
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("console", self._console)

    def _console(self, msg: Any) -> None:
        # a page answered 400/401 on purpose is logged by the browser as a failed load;
        # the tests check statuses themselves: keep script errors and CSP violations
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            self.errors.append(f"console: {msg.text}")

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status < 500, path
        return response

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        target = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        if os.environ.get("ETI_UPDATE_SCREENSHOTS") and name in ("product", "query"):
            # the README's pictures: the top of the page, at a laptop's size
            DOCS.mkdir(parents=True, exist_ok=True)
            height = 2000 if name == "query" else 1400
            self.page.set_viewport_size({"width": 1280, "height": height})
            self.page.evaluate("document.activeElement && document.activeElement.blur()")
            self.page.evaluate("window.scrollTo(0, 0)")
            self.page.screenshot(path=str(DOCS / f"{name}.png"))
            self.page.set_viewport_size({"width": 1280, "height": 900})
        return target

    def axe(self, name: str) -> list[dict]:
        """Run axe-core on the page as it is; fail on serious or critical violations."""
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            AXE_TAGS,
        )
        violations = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in result["violations"]
        ]
        AXE_RESULTS[name] = {
            "url": self.page.url,
            "passes": len(result["passes"]),
            "violations": violations,
            "incomplete": len(result["incomplete"]),
        }
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not bad, f"axe on {name}: {json.dumps(bad, indent=1)}"
        return violations

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser: Any, server: LiveServer) -> Iterator[Session]:
    # axe is injected as a script element, which the pages' CSP would refuse: these
    # contexts bypass it; test_pages_keep_their_content_security_policy checks it holds
    s = Session(browser, server.url, bypass_csp=True)
    yield s
    s.close()
    assert not s.errors, s.errors


def sign_in(s: Session, token: str) -> None:
    s.goto("/signin")
    s.page.fill("#token", token)
    s.page.click("form.signin-form button[type=submit]")
    s.page.wait_for_url("**/agreements")


# --- the setup ----------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["playwright", "chromium", "axe-core"])
@pytest.mark.parametrize("ci", ["true", "1", "", "false"])
def test_missing_browser_tools_fail_under_ci_and_skip_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tool: str, ci: str
) -> None:
    """.ci/run's ``make test`` passed with no browser test run: CI was never set, so a
    missing tool skipped them."""
    monkeypatch.setenv("CI", ci)
    module = sys.modules[__name__]
    if tool == "playwright":
        monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # import fails
    elif tool == "chromium":
        monkeypatch.setattr(module, "CHROMIUM", tmp_path / "chromium")
    else:
        monkeypatch.setattr(module, "AXE", ROOT / "node_modules" / "no-axe" / "axe.min.js")
    expected = pytest.fail.Exception if ci in ("true", "1") else pytest.skip.Exception
    with pytest.raises(expected) as raised:
        require_browser_tools()
    message = str(raised.value)
    assert tool.split("-")[0] in message.lower()
    assert message.startswith("CI is set") == (expected is pytest.fail.Exception)


# --- scenarios ----------------------------------------------------------------------------


def test_search_and_open_a_product(session: Session) -> None:
    page = session.page
    session.goto("/")
    assert page.inner_text("h1") == "Søk i dataprodukter"
    session.axe("search")
    session.shot("search")
    page.fill("#q", "pleiepenger")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r".*\?q=pleiepenger.*"))
    hits = page.locator("ol.hits > li")
    assert hits.count() >= 1
    assert "Arbeids- og velferdsetaten (Nav)" in hits.first.inner_text()
    # a facet narrows the list without JavaScript: the form submits the checkbox
    page.check("fieldset:has(legend:text('Utgiver')) input[type=checkbox] >> nth=0")
    page.click("button:text('Bruk filtrene')")
    page.wait_for_url(re.compile(r".*publisher=.*"))
    session.axe("search-results")
    page.click("ol.hits > li >> nth=0 >> h3 a")
    page.wait_for_url(re.compile(r".*/products/[a-z0-9-]+$"))
    assert page.locator("h1").inner_text()
    session.goto("/products/nav-pleiepenger")
    assert page.inner_text("h1") == "Pleiepenger for sykt barn"
    facts = page.inner_text("dl.facts")
    assert "Arbeids- og velferdsetaten (Nav)" in facts and "månedlig" in facts
    assert "Følger de felles reglene" in page.inner_text("section.panel:has(#quality)")
    session.axe("product")
    session.shot("product")


def test_run_an_example_query_and_see_rows(session: Session) -> None:
    page = session.page
    session.goto("/query")
    page.wait_for_selector(".cm-editor .cm-content")
    assert page.is_hidden("#query-text")  # the editor replaced the plain text area
    page.click("a[data-example='products-by-los-theme.rq']")
    page.wait_for_selector("#results table tbody tr")
    rows = page.locator("#results table tbody tr").count()
    assert rows > 5
    assert "?themeLabel" in page.inner_text("#results thead")
    assert "/query?query=" in page.url  # a shareable URL
    links = page.locator("#results .downloads a")
    assert [links.nth(i).inner_text() for i in range(links.count())] == [
        "JSON",
        "XML",
        "CSV",
        "TSV",
    ]
    csv = requests.get(session.base + links.nth(2).get_attribute("href"), timeout=30)
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == rows + 1
    # the examples' descriptions are English on the Bokmål page: marked so (WCAG 3.1.2)
    langs = page.eval_on_selector_all(
        "ul.examples li p", "els => els.map(e => e.closest('[lang]').lang)"
    )
    assert langs and set(langs) == {"en"}
    # syntax highlighting: the SPARQL mode marks keywords
    assert page.locator(".cm-content span").count() > 10
    session.axe("query")
    session.shot("query")
    # typing in the editor and Ctrl+Enter runs the new query
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.type("CONSTRUCT { ?p a ?t } WHERE { ?p a ?t } LIMIT 3")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#results th:text('Subjekt')")
    assert page.locator("#results table tbody tr").count() == 3
    assert "Turtle" in page.inner_text("#results .downloads")


# The words of the result cells (not IRIs or links, which may break anywhere) that the
# browser laid out over more than one line box: a word broken mid-word.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('#results td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('a, .iri')) continue;
      for (const m of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


def test_query_page_9_column_table_broke_words_and_results_sat_far_below(
    session: Session,
) -> None:
    page = session.page
    session.goto("/query")
    page.wait_for_selector(".cm-editor .cm-content")
    page.click("a[data-example='flekkefjord-continuous-care.rq']")
    page.wait_for_selector("#results table tbody tr")
    assert page.locator("#results thead th").count() == 9
    assert page.evaluate(BROKEN_WORDS) == []
    # the answer starts right under the editor, not below the list of examples
    editor = page.locator("#query-form").bounding_box()
    results = page.locator("#results table").bounding_box()
    assert results["y"] - (editor["y"] + editor["height"]) < 250, (editor, results)
    session.axe("query-wide")
    session.shot("query-wide")


def test_query_page_in_english_said_you_query_signed_out(browser: Any, server: LiveServer) -> None:
    english = Session(browser, server.url, locale="en-GB")
    try:
        english.goto("/query?lang=en")
        text = english.page.inner_text("main")
        assert "You are querying without signing in." in text
        assert "You query signed out" not in text
        titles = english.page.locator("ul.examples a")
        assert titles.count() >= 5
        for i in range(titles.count()):
            assert titles.nth(i).get_attribute("lang") == "en"
        assert "Data products by Los theme, with publisher and freshness" in text
        assert "Dataprodukter etter Los-tema" not in text
    finally:
        english.context.close()


def test_query_page_works_without_javascript(browser: Any, server: LiveServer) -> None:
    s = Session(browser, server.url, java_script_enabled=False, bypass_csp=True)
    try:
        s.goto("/query")
        s.page.fill(
            "#query-text", "SELECT ?p WHERE { ?p a <https://ekgf.github.io/dprod/DataProduct> }"
        )
        s.page.click("#run")
        s.page.wait_for_selector("#results table tbody tr")
        assert s.page.locator("#results table tbody tr").count() == 15
        assert "15 rader" in s.page.inner_text("#results")
        s.shot("query-nojs")
    finally:
        s.close()


def test_validate_a_broken_file_and_see_the_error(session: Session) -> None:
    page = session.page
    session.goto("/validate")
    session.axe("validate-form")
    page.set_input_files(
        "#file",
        files=[{"name": "uten-tittel.ttl", "mimeType": "text/turtle", "buffer": BROKEN_PRODUCT}],
    )
    page.check("#profile-dprod")
    page.fill("#as_of", "2026-11-22")
    page.click("form.validate button.primary")
    page.wait_for_selector("section.report")
    report = page.inner_text("section.report")
    assert "Ikke i samsvar med reglene" in report
    assert "https://example.org/products/uten-tittel" in report
    assert "Feil" in report and "dct:title" in report
    session.axe("validate-report")
    session.shot("validate")
    with page.expect_download() as download:
        page.click("button[name=download][value=json]")
    saved = ARTIFACTS / "validation-report.json"
    download.value.save_as(saved)
    assert json.loads(saved.read_text())["conforms"] is False
    # a file that is not readable RDF: the error says where
    session.goto("/validate")
    page.set_input_files(
        "#file", files=[{"name": "broken.ttl", "mimeType": "text/turtle", "buffer": UNREADABLE}]
    )
    page.click("form.validate button.primary")
    page.wait_for_selector("#input-error")
    assert "broken.ttl:2:21" in page.inner_text("#input-error")
    session.axe("validate-error")


def test_switch_language(session: Session) -> None:
    page = session.page
    session.goto("/products/nav-pleiepenger")
    assert page.evaluate("document.documentElement.lang") == "nb"
    page.click("a.lang")
    page.wait_for_url(re.compile(r".*lang=en.*"))
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.inner_text("h1") == "Care benefit for a sick child"
    assert "Owner" in page.inner_text("dl.facts")
    session.axe("product-en")
    session.shot("product-en")
    page.click("nav a:text('SPARQL query')")
    page.wait_for_url("**/query")
    assert page.inner_text("h1") == "SPARQL query"  # the choice is remembered
    session.goto("/")
    session.axe("search-en")
    session.shot("search-en")
    page.click("a.lang")
    assert page.inner_text("h1") == "Søk i dataprodukter"


def test_sign_in_and_act_on_agreements(session: Session, server: LiveServer) -> None:
    page = session.page
    asked = requests.post(
        server.url + "/api/agreements",
        json={
            "offer": "https://eti.example/offers/flekkefjord-ppt",
            "purpose": SERVICE,
            "start": "2026-12-01",
            "end": "2027-11-30",
        },
        headers=server.headers("app"),
        timeout=30,
    )
    assert asked.status_code == 201, asked.text
    ident = asked.json()["id"]
    session.goto("/signin")
    page.fill("#token", "eti_000000000000_notarealtokenatallnotatall")
    page.click("form.signin-form button[type=submit]")
    assert "Innloggingen mislyktes" in page.inner_text("#signin-error")
    session.axe("signin-error")
    session.shot("signin")
    sign_in(session, server.tokens["flekkefjord"])
    assert "Innlogget som forvalter for Flekkefjord kommune" in page.inner_text("header")
    requests_table = page.locator("section:has(#state-requested) table")
    assert ident in requests_table.inner_text()
    session.axe("agreements")
    session.shot("agreements")
    page.click(f"form:has(input[value='{ident}']) button[value=accept]")
    page.wait_for_selector(".notice-success")
    assert f"Avtalen {ident} er godtatt." in page.inner_text(".notice-success")
    assert ident in page.inner_text("section:has(#state-active)")
    page.click("form.signout button")
    page.wait_for_selector(".notice-success")
    assert "Logg inn" in page.inner_text("header")


def test_anonymous_agreements_and_not_found_pages(session: Session) -> None:
    page = session.page
    session.goto("/agreements")
    assert "Logg inn som informasjonskanal eller forvalter" in page.inner_text("main")
    assert page.locator("main table").count() == 0
    session.axe("agreements-anonymous")
    session.shot("agreements-anonymous")
    assert session.goto("/products/no-such-product").status == 404
    assert page.locator("h1").inner_text()
    session.axe("not-found")
    session.shot("not-found")


def test_withdrawn_product_page(session: Session, server: LiveServer) -> None:
    """A product registered and withdrawn here (the demo's products stay as they are)."""
    body = TEMPLATE.replace("nav-pleiepenger", "nav-trukket").encode()
    made = requests.post(
        server.url + "/api/products",
        data=body,
        headers=server.headers("nav", **{"Content-Type": "application/trig"}),
        timeout=30,
    )
    assert made.status_code == 201, made.text
    gone = requests.delete(
        server.url + "/api/products/nav-trukket", headers=server.headers("nav"), timeout=30
    )
    assert gone.status_code == 200, gone.text
    assert session.goto("/products/nav-trukket").status == 410
    assert "trukket tilbake" in session.page.inner_text("main")
    session.axe("withdrawn")
    session.shot("withdrawn")


def test_ontology_page(session: Session) -> None:
    session.goto("/ontology")
    assert "eti:InformationChannel" in session.page.inner_text("main")
    session.axe("ontology")
    session.shot("ontology")


def test_pages_keep_their_content_security_policy(browser: Any, server: LiveServer) -> None:
    """Without bypassing the CSP, no page (nor the editor) breaks it."""
    s = Session(browser, server.url)
    s.page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    try:
        for path in ("/", "/products/flekkefjord-ppt", "/validate", "/agreements", "/signin"):
            s.goto(path)
        s.goto("/query")
        s.page.click("#run")
        s.page.wait_for_selector("#results table tbody tr")
        assert s.page.locator(".cm-editor").count() == 1
        s.page.wait_for_timeout(300)
    finally:
        s.close()
    assert not s.errors, s.errors
