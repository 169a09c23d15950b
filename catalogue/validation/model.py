"""The report model: :class:`Result` (one finding, in the terms people read) and
:class:`Report` (the outcome of :func:`~eti.catalogue.validation.validate`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rdflib import Graph, URIRef
from rdflib.term import Node

from . import formats
from .terms import (
    _SEVERITY_RANK,
    SEVERITIES,
    _json_node,
    _json_value,
    _node_sort_key,
    _path_text,
    _property_key,
    _result_sort_key,
)


@dataclass(frozen=True)
class Result:
    """One validation result, in the terms people read.

    ``focus`` is the IRI (or blank node) the result is about; ``resource`` is
    the nearest IRI that owns it (the focus itself, or e.g. the product whose
    contact point a blank node is) and ``via`` the properties leading from
    ``resource`` to ``focus``.
    """

    focus: Node
    resource: Node
    via: tuple[URIRef, ...]
    path: Node | None
    value: Node | None
    severity: str
    message_nb: str
    message_en: str
    shape: URIRef | None
    profile: str | None
    component: URIRef | None

    def message(self, lang: str = "en") -> str:
        """The message in ``lang`` ("nb", "nn" reads the nb text, anything else English)."""
        return self.message_nb if lang in ("nb", "nn", "no") else self.message_en

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (keys stable; blank nodes are given as ``null``)."""
        out: dict[str, Any] = {
            "resource": _json_node(self.resource),
            "focus": _json_node(self.focus),
            "via": [str(p) for p in self.via],
            "path": _path_text(self.path, False) if self.path is not None else None,
            "severity": self.severity,
            "message": {"nb": self.message_nb, "en": self.message_en},
            "shape": str(self.shape) if self.shape is not None else None,
            "profile": self.profile,
            "component": str(self.component) if self.component is not None else None,
            "value": None,
        }
        if self.value is not None:
            out["value"] = _json_value(self.value)
        return out


@dataclass
class Report:
    """The outcome of :func:`validate`."""

    conforms: bool
    graph: Graph
    results: list[Result]
    quality: dict[str, dict[str, Any]]
    profiles: tuple[str, ...]
    as_of: dt.date
    labels: dict[Node, str] = field(default_factory=dict, repr=False)
    engine: str = "pyshacl"
    """The SHACL engine that ran: ``"pyshacl"`` or ``"turbo"`` (the report is the same)."""

    @property
    def counts(self) -> dict[str, int]:
        """Number of results per severity."""
        out = dict.fromkeys(SEVERITIES, 0)
        for result in self.results:
            out[result.severity] += 1
        return out

    @property
    def exit_code(self) -> int:
        """0 when no result is a Violation, 1 otherwise (the CLI's convention)."""
        return 0 if self.conforms else 1

    def grouped(self) -> list[tuple[Node, list[tuple[str, list[Result]]]]]:
        """Results per resource, then per property; errors before warnings.

        Resources with the most serious results come first, then by name;
        within a resource, properties are ordered the same way.
        """
        by_resource: dict[Node, dict[str, list[Result]]] = defaultdict(lambda: defaultdict(list))
        for result in self.results:
            by_resource[result.resource][_property_key(result)].append(result)

        def worst(results: Iterable[Result]) -> int:
            return min(_SEVERITY_RANK[r.severity] for r in results)

        ordered = []
        for resource, props in by_resource.items():
            items = sorted(
                props.items(),
                key=lambda kv: (worst(kv[1]), kv[0]),
            )
            items = [(key, sorted(rs, key=_result_sort_key)) for key, rs in items]
            ordered.append((resource, items))
        ordered.sort(
            key=lambda entry: (
                min(worst(rs) for _, rs in entry[1]),
                _node_sort_key(entry[0]),
            )
        )
        return ordered

    def text(self, lang: str = "en", *, width: int = 100) -> str:
        """A report for a terminal: grouped, errors first, lines within ``width``."""
        return formats.text(self, lang, width=width)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for CI tools; key names and order are stable."""
        return {
            "conforms": self.conforms,
            "asOf": self.as_of.isoformat(),
            "profiles": list(self.profiles),
            "counts": {s.lower(): n for s, n in self.counts.items()},
            "results": [r.to_json() for r in self.results],
            "quality": self.quality,
        }

    def to_junit(self) -> str:
        """JUnit XML: a test suite per profile, a test case per resource.

        A resource with a Violation fails; warnings and notes are written to
        the test case's ``system-out``. A profile without results has one
        passing test case.
        """
        return formats.junit(self)

    def turtle(self) -> str:
        """The ``sh:ValidationReport`` as Turtle."""
        return self.graph.serialize(format="turtle")


def exit_code(report: Report) -> int:
    """0 when the report has no Violation, 1 otherwise."""
    return report.exit_code
