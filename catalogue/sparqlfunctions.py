"""The catalogue's SPARQL extension functions for every store: ``eti:textMatch``,
``eti:textScore`` and ``eti:today``.

The embedded engine runs them as Python callables (``search.sparql_functions``). A
remote engine cannot call into this process, so there each call is written into the
query as standard SPARQL before it is sent, from the same stemmer:

- ``eti:textMatch(?text, "words")`` becomes one case-insensitive ``REGEX`` per stem of
  the words, all of which must hold: the stem at the start of a word of the text (a
  stem of one or two letters: a whole word), as the embedded function matches;
- ``eti:textScore(?text, "words")`` the share of those tests that hold, as a double;
- ``eti:today()`` the catalogue's day as an ``xsd:date`` literal.

The words must be a literal string there (they are stemmed here, before the engine
sees them): a variable is refused with a clear message. What stays different: the
engine compares case with its regex ``i`` flag, not Unicode case folding, and does not
normalise the text to NFC first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox

from . import clock, search
from .namespaces import ETI
from .store.lexer import TOKEN

XSD = "http://www.w3.org/2001/XMLSchema#"
_NAMES = ("textMatch", "textScore", "today")
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


class FunctionRefused(ValueError):
    """A call the remote rewrite cannot make (e.g. the words are a variable)."""


def _tests(text: str, words: str) -> list[str]:
    """One REGEX per stem of ``words``, over the expression ``text``."""
    out = []
    for stem in search.words(words):
        tail = "" if len(stem) >= 3 else "(\\\\W|$)"
        out.append(f'REGEX(STR({text}), "(^|\\\\W){stem}{tail}", "i")')
    return out


def _call(name: str, args: list[str]) -> str:
    """The standard SPARQL for one call of the catalogue function ``name`` (its local name in
    the ETI namespace) with argument texts ``args``."""
    if name == "today":
        if args:
            raise FunctionRefused("eti:today() takes no argument")
        return str(ox.Literal(clock.today().isoformat(), datatype=ox.NamedNode(XSD + "date")))
    if len(args) != 2:
        raise FunctionRefused(f"eti:{name} takes two arguments: the text and the words")
    text, words = args[0], args[1].strip()
    match = TOKEN.fullmatch(words)
    if match is None or match.lastgroup != "string" or words.startswith(("'''", '"""')):
        raise FunctionRefused(
            f"eti:{name}: on a remote store the words must be a literal string, not {words[:60]!r}"
        )
    value = _ESCAPE.sub(lambda m: _ESCAPES.get(m[1], m[1]), words[1:-1])
    tests = _tests(inline(text), value)
    if name == "textMatch":
        body = " && ".join(tests) if tests else "false"
        return f"(isLITERAL({text}) && {body})"
    if not tests:
        return f'"0.0"^^<{XSD}double>'
    share = " + ".join(f"IF({t}, 1, 0)" for t in tests)
    # a decimal divisor: Virtuoso divides integers as integers
    return f"<{XSD}double>(({share}) / {len(tests)}.0)"


def _function_name(kind: str | None, value: str, prefixes: dict[str, str]) -> str | None:
    """The local name when the token names one of the catalogue's functions."""
    if kind == "iri":
        iri = value[1:-1]
    elif kind == "pname":
        prefix, _, local = value.partition(":")
        if prefix not in prefixes:
            return None
        iri = prefixes[prefix] + local
    else:
        return None
    if iri.startswith(ETI) and iri[len(ETI) :] in _NAMES:
        return iri[len(ETI) :]
    return None


def inline(sparql: str) -> str:
    """``sparql`` with every call of a catalogue function written in standard SPARQL."""
    tokens = [(m.lastgroup, m.group()) for m in TOKEN.finditer(sparql)]
    prefixes: dict[str, str] = {}
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "word" and value.upper() == "PREFIX":
            rest = [t for t in tokens[i + 1 : i + 6] if t[0] not in ("ws", "comment")]
            if len(rest) >= 2 and rest[0][0] == "pname" and rest[1][0] == "iri":
                prefixes[rest[0][1].rstrip(":")] = rest[1][1][1:-1]
        name = _function_name(kind, value, prefixes)
        if name is None:
            out.append(value)
            i += 1
            continue
        args, i = _arguments(tokens, i + 1)
        out.append(_call(name, args))
    return "".join(out)


def _arguments(tokens: list[tuple[str | None, str]], i: int) -> tuple[list[str], int]:
    """The argument texts of the call whose name ends before ``tokens[i]``, and the
    index after its closing parenthesis."""
    while i < len(tokens) and tokens[i][0] in ("ws", "comment"):
        i += 1
    if i >= len(tokens) or tokens[i][1] != "(":
        raise FunctionRefused("a call of a catalogue function needs its arguments in ( )")
    depth, args, current = 0, [], []
    for j in range(i, len(tokens)):
        value = tokens[j][1]
        if value == "(":
            depth += 1
            if depth == 1:
                continue
        elif value == ")":
            depth -= 1
            if depth == 0:
                text = "".join(current).strip()
                if text or args:
                    args.append(text)
                return args, j + 1
        elif value == "," and depth == 1:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(value)
    raise FunctionRefused("a call of a catalogue function is not closed")


class SparqlFunctions:
    """The functions as a store takes them (see ``store.Functions``)."""

    def callables(self) -> dict[ox.NamedNode, Callable[..., Any]]:
        return search.sparql_functions()

    def inline(self, sparql: str) -> str:
        return inline(sparql)


FUNCTIONS = SparqlFunctions()
