"""Names shared by the validation rooms: profiles, severities, and how nodes,
paths and results are named and ordered for reading (text, JSON, JUnit)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from eti.catalogue import namespaces as ns

if TYPE_CHECKING:
    from .model import Result

PROFILES: tuple[str, ...] = ("dcat-ap-no", "dprod", "agreements", "eti")
"""The validation profiles, in the order reports list them."""

SHAPES_BASE = "https://w3id.org/eti/shapes/"
"""Shape IRIs are ``{SHAPES_BASE}{profile}#{name}``."""

SEVERITIES: tuple[str, ...] = ("Violation", "Warning", "Info")
"""Severities, most serious first."""

_DCT = ns.DCT
_DCAT = ns.DCAT
_DPROD = ns.DPROD
_ODRL = ns.ODRL
_ETI = ns.ETI
_SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


class _Path(tuple):
    """A complex SHACL path, kept as ("seq", parts) / ("inv", p) / ... for display."""


def _path_text(path: Any, compact: bool = True) -> str:
    def name(node: Node) -> str:
        return _qname(node) if compact else str(node)

    if isinstance(path, _Path):
        kind, inner = path
        if kind == "seq":
            return "/".join(_path_text(p, compact) for p in inner)
        if kind == "alt":
            return "(" + "|".join(_path_text(p, compact) for p in inner) + ")"
        if kind == "inv":
            return "^" + _path_text(inner, compact)
        suffix = {"zeroOrMore": "*", "oneOrMore": "+", "zeroOrOne": "?"}[kind]
        return _path_text(inner, compact) + suffix
    return name(path)


def _profile_from_iri(shape: Node | None) -> str | None:
    if isinstance(shape, URIRef) and str(shape).startswith(SHAPES_BASE):
        return str(shape)[len(SHAPES_BASE) :].split("#", 1)[0]
    return None


_PREFIXES = sorted(ns.PREFIXES.items(), key=lambda kv: -len(kv[1]))


def _qname(node: Node) -> str:
    if isinstance(node, URIRef):
        text = str(node)
        for prefix, namespace in _PREFIXES:
            if text.startswith(namespace) and len(text) > len(namespace):
                local = text[len(namespace) :]
                if "/" not in local and "#" not in local:
                    return f"{prefix}:{local}"
        return f"<{text}>"
    if isinstance(node, BNode):
        return "[]"
    return str(node)


def _local(shape: URIRef) -> str:
    return str(shape).rsplit("#", 1)[-1]


def _short(node: Node, width: int) -> str:
    text = str(node) if isinstance(node, URIRef) else _qname(node)
    return _shorten(text, width)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def _fit(line: str, width: int) -> str:
    """``line`` and a newline, wrapped (continuation indented) to ``width`` columns."""
    if len(line) <= width:
        return line + "\n"
    indent = " " * (len(line) - len(line.lstrip()) + 2)
    parts = textwrap.wrap(
        line,
        width=width,
        subsequent_indent=indent[: max(0, width // 2)],
        break_long_words=True,
        break_on_hyphens=False,
        drop_whitespace=True,
    )
    return "".join(part + "\n" for part in parts)


def _value_text(value: Node) -> str:
    if isinstance(value, Literal):
        text = str(value)
        if len(text) > 60:
            text = text[:59] + "…"
        suffix = f"@{value.language}" if value.language else ""
        if value.datatype is not None:
            suffix = "^^" + _qname(value.datatype)
        return f'"{text}"{suffix}'
    if isinstance(value, BNode):
        return "[] (blank node)"
    return _qname(value)


def _property_key(result: Result) -> str:
    parts = [_qname(p) for p in result.via]
    if result.path is not None:
        parts.append(_path_text(result.path))
    return " → ".join(parts)


def _node_sort_key(node: Node) -> tuple[int, str]:
    return (1 if isinstance(node, BNode) else 0, str(node))


def _result_sort_key(result: Result) -> tuple:
    return (
        _node_sort_key(result.resource),
        tuple(str(p) for p in result.via),
        _path_text(result.path, False) if result.path is not None else "",
        _SEVERITY_RANK[result.severity],
        str(result.shape or ""),
        str(result.value or ""),
        # a total order, so that neither engine's output order shows through
        _node_sort_key(result.value) if result.value is not None else (0, ""),
        str(result.component or ""),
        result.message_en,
        result.message_nb,
        _node_sort_key(result.focus),
    )


def _json_node(node: Node | None) -> str | None:
    if isinstance(node, URIRef):
        return str(node)
    return None


def _json_value(value: Node) -> dict[str, Any]:
    if isinstance(value, URIRef):
        return {"type": "iri", "value": str(value)}
    if isinstance(value, BNode):
        return {"type": "blank", "value": None}
    out: dict[str, Any] = {"type": "literal", "value": str(value)}
    if value.language:
        out["language"] = value.language
    elif value.datatype is not None:
        out["datatype"] = str(value.datatype)
    return out
