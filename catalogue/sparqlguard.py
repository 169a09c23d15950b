"""What a SPARQL query or update names — SERVICE endpoints, LOAD, dataset clauses, graph
names, form, nesting depth — read the way the engine reads it, failing closed.

Every door that hands a text to an engine (``Catalogue.query`` / ``answer``, the
``/sparql`` form check, SPARQL Update) asks ``examine`` first. Three things make the
answer hold against text tricks (docs/security.md, "SERVICE, LOAD and nesting"):

- ``\\uXXXX`` / ``\\UXXXXXXXX`` escapes are resolved in the whole text first, as SPARQL
  1.1 §19.2 and the engine do, so an escaped IRI or keyword is seen as the engine sees it;
- SERVICE and LOAD are found by a scan that does not depend on the lexer's state: every
  ``SERVICE``/``LOAD`` keyword anywhere (in a literal or a comment too) followed by an
  endpoint counts, and a prefixed endpoint counts under every namespace its prefix is
  declared with anywhere. A lexer fooled into reading code as a comment cannot hide one;
  a literal that merely looks like one is refused (fail closed);
- the nesting depth counts every ``{ ( [`` the engine could see: a text the lexer
  cannot read unambiguously (an ``<…#…>`` that the engine might read as ``<`` and a
  comment) is refused when it has more openers than the limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from .namespaces import PREFIXES
from .sparqltext import _TOKEN, MAX_DEPTH, QueryInfo, inspect
from .store.lexer import PN_LOCAL, PN_PREFIX

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_GAP = r"(?:\s|\#[^\r\n]*)*"  # whitespace and comments between two tokens
_IRIREF = r"<([^<>\"{}|^`\\\x00-\x20]*)>"
_PNAME = f"((?:{PN_PREFIX})?):((?:{PN_LOCAL})?)"
_ENDPOINT = f"(?:{_IRIREF}|{_PNAME}|([?$]))"
_SERVICE = re.compile(f"SERVICE{_GAP}(?:SILENT{_GAP})?{_ENDPOINT}", re.IGNORECASE)
_SERVICE_PLAIN = re.compile(f"SERVICE{_GAP}{_ENDPOINT}", re.IGNORECASE)
_LOAD = re.compile(f"LOAD{_GAP}(?:SILENT{_GAP})?(?:{_IRIREF}|{_PNAME})", re.IGNORECASE)
_PREFIX = re.compile(f"PREFIX{_GAP}((?:{PN_PREFIX})?):{_GAP}{_IRIREF}", re.IGNORECASE)
# what stands right before a keyword: a variable's name or a prefixed name (or blank
# node label) that runs into it makes it part of that name (``?service``,
# ``ex:hasService``); anything else (``?o.SERVICE``, ``1SERVICE``) the engine may split
_VAR_RUN = re.compile(r"[?$][\w\u00b7\u0300-\u036f\u203f\u2040]*\Z")
_NAME_RUN = re.compile(r"[\w.\-:%\\\u00b7\u0300-\u036f\u203f\u2040]*\Z")
_LINE_END = re.compile(r"[\r\n]")


def unescape(text: str) -> str:
    """``text`` with its ``\\u`` and ``\\U`` code point escapes resolved (SPARQL 1.1 §19.2:
    before any other parsing, wherever they stand)."""

    def char(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"{match.group()} is not a Unicode code point")
        return chr(code)

    return _ESCAPE.sub(char, text)


def _namespaces(text: str) -> dict[str, set[str]]:
    """Every namespace each prefix is declared with anywhere in ``text`` (the
    catalogue's default prefixes included): a redeclared prefix has them all."""
    found: dict[str, set[str]] = {p: {ns} for p, ns in PREFIXES.items()}
    for match in _PREFIX.finditer(text):
        found.setdefault(match.group(1), set()).add(match.group(2))
    return found


def _keywords(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Matches of ``pattern`` that the engine could read as a keyword (see _NAME_RUN)."""
    for match in pattern.finditer(text):
        start = max(0, match.start() - 256)
        if _VAR_RUN.search(text, start, match.start()):
            continue
        name = _NAME_RUN.search(text, start, match.start())
        if name and ":" in name.group():
            continue
        yield match


def _endpoints(match: re.Match[str], namespaces: dict[str, set[str]]) -> list[str | None]:
    """What an endpoint match may stand for: an IRI, every expansion of a prefixed name
    (or the name itself when its prefix is unknown: never an allowed URL), None for a
    variable."""
    iri, prefix, local, var = match.group(1, 2, 3, 4)
    if iri is not None:
        return [iri]
    if var is not None:
        return [None]
    local = re.sub(r"\\(.)", r"\1", local or "")
    return sorted(ns + local for ns in namespaces.get(prefix, set())) or [f"{prefix}:{local}"]


def _depth(text: str) -> int:
    """An upper bound of the nesting of ``{ ( [`` the engine could read in ``text``.

    The lexer skips strings, IRIs and comments; the one thing it cannot tell without the
    grammar is whether ``<…>`` within parentheses is an IRI or ``<`` … ``>``. Such a
    candidate's openers count, its closers do not. One holding ``#`` or ``'`` may start
    a comment or a string the lexer does not see: to the end of that line every opener
    counts and no closer does, and a long string starting there is refused.
    """
    openers = sum(text.count(c) for c in "{([")
    if openers <= MAX_DEPTH:
        return openers  # no reading nests deeper than the openers there are
    stack: list[str] = []
    deepest = guard_end = 0
    for match in _TOKEN.finditer(text):
        kind, value = match.lastgroup or "other", match.group()
        if kind in ("ws", "comment") or match.start() < guard_end:
            continue
        if kind == "other" and value in "{([":
            stack.append(value)
        elif kind == "other" and value in "})]":
            if stack:
                stack.pop()
        elif kind == "iri" and stack and stack[-1] == "(":
            region = value
            if "#" in value or "'" in value:
                line_end = _LINE_END.search(text, match.start())
                region = text[match.start() : line_end.start() if line_end else len(text)]
                if "'''" in region or '"""' in region:
                    raise ValueError(
                        f"{value} could be an IRI or a comparison followed by a comment or "
                        "a string; write spaces around '<' and '>' in expressions"
                    )
            stack.extend("(" * sum(region.count(c) for c in "{(["))
            guard_end = match.start() + len(region)
        deepest = max(deepest, len(stack))
    return deepest


CACHED_SIZE = 64 * 1024  # longer texts are read each time: the cache holds its keys


def examine(text: str, base: str | None = None) -> QueryInfo:
    """What the query or update ``text`` names (see the module's note). Raises
    ValueError for a text that cannot be read safely: a bad escape, nesting deeper
    than ``MAX_DEPTH``, an ambiguous deep text. Texts up to ``CACHED_SIZE`` characters
    are cached (the answer of one text never changes): callers must not change the
    QueryInfo they get."""
    if len(text) <= CACHED_SIZE:
        return _examine_cached(text, base)
    return _examine(text, base)


@lru_cache(maxsize=1024)
def _examine_cached(text: str, base: str | None) -> QueryInfo:
    return _examine(text, base)


def _examine(text: str, base: str | None) -> QueryInfo:
    plain = unescape(text)
    info = inspect(plain, base)
    # the scan reads the text as written too: whichever way an engine treats an escape,
    # a SERVICE or LOAD it could see is counted
    readings = (plain,) if plain == text else (plain, text)
    namespaces: dict[str, set[str]] = {}
    for reading in readings:
        for prefix, found in _namespaces(reading).items():
            namespaces.setdefault(prefix, set()).update(found)
    services: list[str | None] = []
    for reading in readings:
        for pattern in (_SERVICE, _SERVICE_PLAIN):
            for match in _keywords(pattern, reading):
                for endpoint in _endpoints(match, namespaces):
                    if endpoint not in services:
                        services.append(endpoint)
    for iri in info.services:  # the lexer's reading, resolved against BASE
        if iri not in services:
            services.append(iri)
    info.services = services
    info.load = info.load or any(any(_keywords(_LOAD, r)) for r in readings)
    info.depth = max(info.depth, _depth(plain))
    info.check_depth()
    return info
