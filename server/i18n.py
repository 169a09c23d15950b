"""The pages' words in Norwegian Bokmål (the default), Nynorsk and English.

``language()`` picks the language of a request: ``?lang=`` (remembered in a cookie),
then that cookie, then ``Accept-Language`` (plain "no" reads Bokmål), then Bokmål.
The words are gettext catalogues, ``translations/{nb,nn,en}/LC_MESSAGES/messages.po``
(msgid = the key, msgstr = the text), so translators use their usual tools (Poedit,
Weblate). They are read straight from the .po files at startup with Babel: no compile
step to remember, in a checkout or a wheel. Flask-Babel serves them with ``language()``
as its locale selector. Templates and views call ``t("key")`` (with ``str.format``
fields as keywords).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, g, request
from flask_babel import Babel, Domain, get_locale, gettext

LANGUAGES = ("nb", "nn", "en")
DEFAULT = "nb"
COOKIE = "eti_lang"
NAMES = {"nb": "Norsk (bokmål)", "nn": "Norsk (nynorsk)", "en": "English"}

CATALOGUES = Path(__file__).with_name("translations")
DOMAIN = "messages"


def po_path(lang: str) -> Path:
    """The gettext catalogue of ``lang`` (the file translators edit)."""
    return CATALOGUES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def read(lang: str) -> Catalog:
    """The catalogue of ``lang`` as Babel reads it from its .po file (once per process)."""
    with po_path(lang).open("rb") as po:
        return read_po(po, locale=lang, domain=DOMAIN)


@cache
def catalogues() -> dict[str, Translations]:
    """The three catalogues as gettext translations, compiled in memory (no .mo on disk)."""
    found = {}
    for lang in LANGUAGES:
        mo = BytesIO()
        write_mo(mo, read(lang))
        mo.seek(0)
        found[lang] = Translations(mo, domain=DOMAIN)
    return found


class PoDomain(Domain):
    """Flask-Babel's message domain, answered from the catalogues read from .po files."""

    def get_translations(self) -> NullTranslations:
        return catalogues().get(str(get_locale()), NullTranslations())


def init_app(app: Flask) -> None:
    """Serve the catalogues through Flask-Babel, in the language ``language()`` picks."""
    babel = Babel(app, default_locale=DEFAULT, locale_selector=language, configure_jinja=False)
    babel.domain_instance = PoDomain(domain=DOMAIN)


def known(key: str) -> bool:
    """Whether the catalogues have a text for ``key`` (the Bokmål one is the reference)."""
    return key in read(DEFAULT)


def language() -> str:
    """The language of this request (cached on ``g``)."""
    if "lang" in g:
        return g.lang
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        g.lang, g.lang_asked = asked, True
        return asked
    cookie = request.cookies.get(COOKIE, "")
    if cookie in LANGUAGES:
        g.lang = cookie
        return cookie
    best = request.accept_languages.best_match(["nb", "no", "nn", "en"], default=DEFAULT)
    g.lang = best if best in ("en", "nn") else DEFAULT
    return g.lang


def t(key: str, **fields: object) -> str:
    """The text of ``key`` in the request's language; with ``n=1``, the singular form
    ``key_one`` when there is one ("1 dataprodukt", never "1 dataprodukter")."""
    if fields.get("n") == 1 and known(key + "_one"):
        key += "_one"
    text = gettext(key)
    return text.format(**fields) if fields else text


def pick(texts: dict[str, str] | None, lang: str | None = None) -> str:
    """The best text of a language-tagged set for the request's language."""
    if not texts:
        return ""
    lang = lang or language()
    for choice in (lang, "nb" if lang != "en" else "en", "nn", "en", "nb", "und", ""):
        if choice in texts:
            return texts[choice]
    return next(iter(texts.values()))


MONTHS = {
    "nb": "jan. feb. mars april mai juni juli aug. sep. okt. nov. des.".split(),
    "nn": "jan. feb. mars april mai juni juli aug. sep. okt. nov. des.".split(),
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
}


def long_date(value: str | date | None) -> str:
    """``2026-11-02`` as "2. nov. 2026" (nb, nn) or "2 Nov 2026" (en); anything else as is."""
    if value is None:
        return ""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    month = MONTHS[language()][day.month - 1]
    if language() == "en":
        return f"{day.day} {month} {day.year}"
    return f"{day.day}. {month} {day.year}"
