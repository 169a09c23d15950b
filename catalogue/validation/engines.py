"""The SHACL engines: pySHACL (the reference) and pyshacl-turbo, and the choice
between them (``engine=``, ``ETI_VALIDATION_ENGINE``, the one known difference)."""

from __future__ import annotations

import logging
import os
import re
import threading
from functools import cache, lru_cache
from typing import Any

import pyshacl
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH, XSD
from rdflib.term import Node

from .shapes import _WorkGraph

ENGINES: tuple[str, ...] = ("auto", "pyshacl", "turbo")
"""``engine=`` values of :func:`validate`: ``auto`` uses pyshacl-turbo for large
inputs when it is installed and pySHACL otherwise; the others force one."""

TURBO_MIN_TRIPLES = 0
"""``auto`` validates with pyshacl-turbo from this many data triples. Every input
qualifies: a registration validates in half the time (20 vs 40 ms at 10,000
products, bench/register_bench.py) with the same report, and the whole
catalogue 17-37x faster than plain pySHACL."""

ENGINE_VARIABLE = "ETI_VALIDATION_ENGINE"
"""Environment variable with the default ``engine`` (one of :data:`ENGINES`)."""


_lock = threading.Lock()

_log = logging.getLogger(__name__)


@cache
def turbo_available() -> bool:
    """Whether pyshacl-turbo can be imported (checked once per process)."""
    try:
        import pyshacl_turbo  # noqa: F401
    except ImportError:
        return False
    return True


def _default_engine() -> str:
    return os.environ.get(ENGINE_VARIABLE, "").strip().lower() or "auto"


def _check_engine(engine: str | None) -> str:
    name = _default_engine() if engine is None else engine
    if name not in ENGINES:
        source = f"{ENGINE_VARIABLE}=" if engine is None else "engine "
        raise ValueError(f"unknown validation {source}{name!r} (known: {', '.join(ENGINES)})")
    if name == "turbo" and not turbo_available():
        raise ValueError("validation engine 'turbo' needs pyshacl-turbo, which is not installed")
    return name


_OPTIONS: dict[str, Any] = {
    "inference": "none",
    "advanced": True,
    "allow_warnings": True,
    "allow_infos": True,
}
"""The options both engines run with (the same, so that the reports are)."""


def _run_pyshacl(work: Graph, shapes: Graph) -> Graph:
    if not work.store.context_aware:  # pySHACL reads its data graph as a Dataset
        copy = _WorkGraph()
        copy += work
        work = copy
    with _lock:
        # pySHACL briefly monkey-patches rdflib (Literal truth values) while it
        # loads a shapes graph; runs are serialised so one run never sees
        # another's patch. It holds the GIL throughout, so little is lost.
        _conforms, raw, _text = pyshacl.validate(work, shacl_graph=shapes, inplace=True, **_OPTIONS)
    return raw


_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@lru_cache(maxsize=16)
def _compared_pairs(shapes: Graph) -> tuple[tuple[Node, Node], ...]:
    """(path, other property) of every ``sh:lessThan`` / ``sh:lessThanOrEquals``."""
    out: set[tuple[Node, Node]] = set()
    for predicate in (SH.lessThan, SH.lessThanOrEquals):
        for shape, other in shapes.subject_objects(predicate):
            out.add((shapes.value(shape, SH.path), other))
    return tuple(sorted(out, key=lambda pair: (str(pair[0]), str(pair[1]))))


def _plain_date(value: Node) -> bool:
    return (
        isinstance(value, Literal)
        and value.datatype == XSD.date
        and not value.ill_typed
        and _PLAIN_DATE.fullmatch(str(value)) is not None
    )


def _turbo_differs(work: Graph, shapes: Graph) -> str | None:
    """Why pyshacl-turbo's report on ``work`` could differ from pySHACL's (``None``:
    it cannot, as far as the cross-checks in tests/test_turbo.py show).

    The one difference found: ``sh:lessThan(OrEquals)`` on values that cannot be
    compared (an invalid date such as "2020-02-30"^^xsd:date, ...): turbo reports
    them, as SHACL says, pySHACL does not. So turbo runs only when every pair the
    data gives such a constraint to compare (the values of both properties on one
    subject) is of valid xsd:date values written YYYY-MM-DD.
    """
    for path, other in _compared_pairs(shapes):
        if not isinstance(path, URIRef) or not isinstance(other, URIRef):
            return f"sh:lessThan(OrEquals) with a complex path: {path!r}, {other!r}"
        for subject in set(work.subjects(path, None)):
            others = list(work.objects(subject, other))
            if not others:
                continue
            for value in [*work.objects(subject, path), *others]:
                if not _plain_date(value):
                    return f"{value.n3()} compared by sh:lessThan(OrEquals) on {subject.n3()}"
    return None


@lru_cache(maxsize=16)
def _compiled(shapes: Graph):
    """The shapes compiled for pyshacl-turbo, once per shapes graph (compiling reads the
    whole shapes graph in Python: it cost more than validating a product)."""
    import pyshacl_turbo

    return pyshacl_turbo.compile_shapes(shapes, advanced=_OPTIONS["advanced"])


def _run_turbo(work: Graph, shapes: Graph) -> Graph:
    """pyshacl-turbo's report on ``work`` (not modified: no inference, no rules), with
    the options and report reading of ``pyshacl_turbo.validate`` and compiled shapes."""
    import pyshacl_turbo

    with _lock:
        # turbo reads the rdflib terms of ``work`` and builds rdflib terms for
        # the report: it must not run while pySHACL has rdflib patched.
        try:
            _conforms, raw, _text = _compiled(shapes).validate(
                work,
                inference=_OPTIONS["inference"],
                allow_infos=_OPTIONS["allow_infos"],
                allow_warnings=_OPTIONS["allow_warnings"],
                _normalize_report_literals=True,  # as pyshacl_turbo.validate reads reports
            )
        except pyshacl_turbo.ValidationFailure as failure:
            raise RuntimeError(f"pyshacl-turbo did not validate: {failure}") from failure
    if not isinstance(raw, Graph):
        raise RuntimeError(f"pyshacl-turbo did not validate: {raw}")
    return raw


def check(engine: str | None) -> str:
    """The engine ``engine=`` (or the environment) asks for, checked."""
    return _check_engine(engine)


def run(work: Graph, shapes: Graph, engine: str | None, chosen: str, data_triples: int):
    """The raw ``sh:ValidationReport`` on ``work`` and the engine that wrote it.

    ``engine`` is what the caller asked for, ``chosen`` its checked value: ``auto``
    takes turbo for inputs of at least :data:`TURBO_MIN_TRIPLES` data triples when it
    is installed, turbo gives way to pySHACL where its report would differ, and a
    turbo failure falls back to pySHACL unless turbo was asked for by name.
    """
    raw = None
    if chosen == "auto":
        large = data_triples >= TURBO_MIN_TRIPLES
        chosen = "turbo" if large and turbo_available() else "pyshacl"
    if chosen == "turbo" and (why := _turbo_differs(work, shapes)):
        _log.info("validating with pySHACL: pyshacl-turbo would report otherwise (%s)", why)
        chosen = "pyshacl"
    if chosen == "turbo":
        try:
            raw = _run_turbo(work, shapes)
        except Exception:
            if engine == "turbo" or (engine is None and _default_engine() == "turbo"):
                raise
            _log.warning("pyshacl-turbo failed; validating with pySHACL", exc_info=True)
    if raw is None:
        chosen = "pyshacl"
        raw = _run_pyshacl(work, shapes)
    return raw, chosen
