"""The pages' words as gettext catalogues: complete, parseable, consistent in their fields."""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from eti.server import i18n

ROOT = Path(__file__).resolve().parents[1]
# The keys of t("…") calls in templates and views: whole keys (t("nav")) and the fixed
# start of composed ones (t("status." ~ value), which some key must begin with).
CALL = re.compile(r"""\bt\(\s*(['"])([a-z_][\w.]*)\1""")


def used_keys() -> dict[str, list[str]]:
    """Each literal key of a ``t("…")`` call, with the files that use it."""
    views = [p for p in (ROOT / "server").glob("*.py") if p.name != "i18n.py"]
    sources = [*views, *(ROOT / "server" / "templates").rglob("*.html")]
    found: dict[str, list[str]] = {}
    for path in sources:
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match.group(2), []).append(path.name)
    return found


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_catalogue_parses_with_babel_and_has_every_used_key(lang: str) -> None:
    with i18n.po_path(lang).open("rb") as po:
        catalog = read_po(po, locale=lang)
    assert str(catalog.locale) == lang
    texts = {m.id: m.string for m in catalog if m.id}
    used = used_keys()
    assert len(used) > 100  # the scan found the calls (a broken pattern finds none)
    missing = {
        k: v
        for k, v in used.items()
        if not texts.get(k, "").strip()
        and not (k.endswith(".") and any(key.startswith(k) for key in texts))
    }
    assert not missing, f"keys without a {lang} text: {missing}"
    assert not [k for k, v in texts.items() if not v.strip()], "empty msgstr"


def test_format_fields_are_the_same_in_every_language() -> None:
    texts = {lang: {m.id: m.string for m in i18n.read(lang) if m.id} for lang in i18n.LANGUAGES}
    assert texts["nb"].keys() == texts["nn"].keys() == texts["en"].keys()
    differ = {
        key: {lang: sorted(fields(texts[lang][key])) for lang in i18n.LANGUAGES}
        for key in texts["nb"]
        if not fields(texts["nb"][key]) == fields(texts["nn"][key]) == fields(texts["en"][key])
    }
    assert not differ
    assert fields(texts["nn"]["signed_in_as"]) == {"who"}  # the check sees the fields


def test_translators_see_the_bokmal_text_in_nn_and_en() -> None:
    nb = {m.id: m.string for m in i18n.read("nb") if m.id}
    for lang in ("nn", "en"):
        for message in i18n.read(lang):
            if message.id:
                said = " ".join(message.auto_comments)  # long comments wrap over lines
                assert said.split() == nb[message.id].split(), (lang, message.id)


def test_page_in_nynorsk_shows_nynorsk_words(client: Any) -> None:
    page = client.get("/?lang=nn").get_data(as_text=True)
    assert "Hovudmeny" in page and "Søkjeord" in page
    assert "Hovedmeny" not in page
    fresh = client.application.test_client()  # no language cookie from the visit above
    english = fresh.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Main menu" in english and "Hovudmeny" not in english


def test_t_formats_fields_and_answers_unknown_keys_with_the_key(app: Any) -> None:
    with app.test_request_context("/?lang=nn"):
        assert i18n.t("role.steward", org="Nav") == "forvaltar for Nav"
        assert i18n.t("search.count", n=1) == "1 dataprodukt"
        assert i18n.t("no.such.key") == "no.such.key"


def test_fixed_language_is_not_stale_after_first_word(app: Any) -> None:
    """A page that fixes its language (``use_language``) after a word was looked up gets
    that language's words, though Flask-Babel picks the locale once per request."""
    from eti.server import pages

    with app.test_request_context("/?lang=nb"):
        assert i18n.t("nav") == "Hovedmeny"
        pages.use_language("en")
        assert i18n.t("nav") == "Main menu"
