"""The steward pages in a real browser (Playwright, Debian's chromium, axe-core), as
tests/test_browser.py drives the other pages: a steward registers a product by form,
fixes the error the check reports (with the keyboard), registers, edits and saves, and
finds it in search; every page is checked by axe-core. Screenshots go to tests/artifacts/
(``ETI_UPDATE_SCREENSHOTS=1`` also refreshes docs/screenshots/steward-*.png)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from test_browser import (  # noqa: F401  (fixtures used by name)
    ARTIFACTS,
    DOCS,
    Session,
    axe_summary,
    browser,
    server,
    session,
    sign_in,
)
from test_steward import CONTENT, fields

DOCS_SHOTS = ("steward-check", "steward-mine", "steward-changes")


def shot(s: Session, name: str) -> Path:
    """A full-page screenshot in tests/artifacts/; the README's in docs/screenshots/."""
    target = s.shot(name)
    if os.environ.get("ETI_UPDATE_SCREENSHOTS") and name in DOCS_SHOTS:
        DOCS.mkdir(parents=True, exist_ok=True)
        s.page.evaluate("document.activeElement && document.activeElement.blur()")
        s.page.evaluate("window.scrollTo(0, 0)")
        s.page.screenshot(path=str(DOCS / f"{name}.png"))
    return target


def fill(page: Any, values: dict[str, Any]) -> None:
    """The form as a person fills it: text fields, choices, checkboxes."""
    for name in ("id", "title_nb", "title_en", "description_nb", "description_en", "version"):
        page.fill(f"#{name}", values[name])
    for name in ("keywords_nb", "contact_name", "contact_email", "duty_refresh"):
        page.fill(f"#{name}", values[name])
    for name in ("frequency", "spatial", "access", "licence", "status"):
        page.select_option(f"#{name}", values[name])
    for theme in values["themes"]:
        page.check(f"input[name=themes][value='{theme}']")
    page.check(f"input[name=purposes][value='{values['purposes'][0]}']")


def test_steward_registers_fixes_saves_edits_and_finds_the_product(
    session: Session,  # noqa: F811 (the fixture imported above)
    server: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = session.page
    sign_in(session, server.tokens["nav"])
    page.click("nav a:text('Mine produkter')")
    page.wait_for_url("**/my/products")
    assert page.inner_text("h1") == "Mine produkter"
    assert "nav-pleiepenger" in page.inner_text("table.mine")
    session.axe("steward-mine")
    shot(session, "steward-mine")
    page.click("a:text('Registrer produkt')")
    page.wait_for_url("**/products/new")
    session.axe("steward-new")
    values = fields()
    fill(page, values)
    content = tmp_path / "innhold.ttl"
    content.write_bytes(CONTENT)
    page.set_input_files("#content", str(content))
    # the live check (JavaScript) has put the findings next to the fields already
    page.wait_for_selector("#title_nn-finding-1")
    assert "nynorsk" in page.inner_text("#title_nn-finding-1")
    page.wait_for_function("document.getElementById('live-status').textContent.includes('feil')")
    assert page.get_attribute("#title_nn", "aria-invalid") == "true"
    session.axe("steward-live")
    # the theme filter (JavaScript) narrows the list; without it the list is whole
    page.fill("#theme-filter", "avlast")
    assert page.locator("#theme-lists li:visible").count() < 10
    page.fill("#theme-filter", "")
    page.click("button[value=check]")
    page.wait_for_selector("#error-summary")
    summary = page.inner_text("#error-summary")
    assert "nynorsk" in summary
    assert page.get_attribute("#title_nn", "aria-invalid") == "true"
    session.axe("steward-check")
    shot(session, "steward-check")
    # fix it with the keyboard only: the summary's link takes the focus to the field
    page.focus("#error-summary a[href='#title_nn']")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "title_nn"
    page.keyboard.type(values["title_nn"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "description_nn"
    page.keyboard.type(values["description_nn"])
    page.focus("button[value=check]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#check-ok")
    assert "innhold.ttl" in page.inner_text("#content-hint")  # the checked file rides along
    page.focus("button[value=register]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/products/nav-skjema")
    assert page.inner_text("h1") == values["title_nb"]
    assert "Dataproduktet nav-skjema er registrert" in page.inner_text(".notice-success")
    assert "Følger de felles reglene" in page.inner_text("main")
    # edit: the current version in the form; save makes version 2
    session.goto("/products/nav-skjema/edit")
    assert page.input_value("#title_nn") == values["title_nn"]
    session.axe("steward-edit")
    page.fill("#title_nb", "Skjemahjelp for familier med syke barn")
    page.click("button[value=save]")
    page.wait_for_url("**/products/nav-skjema")
    assert page.inner_text("h1") == "Skjemahjelp for familier med syke barn"
    assert "Versjon 2 av nav-skjema er lagret." in page.inner_text(".notice-success")
    session.goto("/products/nav-skjema/changes")
    assert re.search(r"Lagt til\s+Produktet\s+Tittel\s+Skjemahjelp for familier med syke barn",
                     page.inner_text("section.panel >> nth=0"))  # fmt: skip
    session.axe("steward-changes")
    shot(session, "steward-changes")
    # it is found in search
    session.goto("/?q=skjemahjelp")
    assert "Skjemahjelp for familier med syke barn" in page.inner_text("ol.hits")
    # the same pages in Nynorsk
    session.goto("/my/products?lang=nn")
    assert page.inner_text("h1") == "Mine produkt"
    assert page.evaluate("document.documentElement.lang") == "nn"
    session.axe("steward-mine-nn")
    session.goto("/products/new")
    assert page.inner_text("h1") == "Registrer eit dataprodukt"
    session.axe("steward-new-nn")
    assert ARTIFACTS.exists()


def test_steward_form_works_without_javascript(browser: Any, server: Any) -> None:  # noqa: F811
    """The basic path needs no script: the theme list is whole (no filter box), and check
    answers with the findings next to the fields."""
    s = Session(browser, server.url, java_script_enabled=False)
    try:
        page = s.page
        sign_in(s, server.tokens["hdir"])
        s.goto("/products/new")
        assert not page.is_visible("#theme-filter")
        assert page.locator("#theme-lists li:visible").count() > 50
        values = fields("hdir-skjema", title_nn="")
        fill(page, values)
        page.click("button[value=check]")
        page.wait_for_selector("#error-summary")
        assert page.get_attribute("#title_nn", "aria-invalid") == "true"
        assert "nynorsk" in page.inner_text("#title_nn-finding-1")
        assert page.input_value("#title_nb") == values["title_nb"]  # what was typed stays
    finally:
        s.close()
    assert not s.errors, s.errors
