"""What a SPARQL text asks for, read without evaluating it: its form, its dataset
clauses (FROM / FROM NAMED) and the endpoints its SERVICE clauses call.

A small lexer: strings, IRIs and comments are skipped as units, so a keyword inside
a literal never counts. It does not validate; the engine's parser does that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from .store.lexer import TOKEN as _TOKEN

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
MAX_DEPTH = 256
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


@dataclass
class QueryInfo:
    """What a query text names."""

    form: str | None = None
    from_graphs: list[str] = field(default_factory=list)
    from_named: list[str] = field(default_factory=list)
    services: list[str | None] = field(default_factory=list)  # None: SERVICE ?variable
    graphs: list[str] = field(default_factory=list)  # every graph IRI an update names
    variable_graph: bool = False  # GRAPH ?g somewhere
    uses_graph: bool = False  # the keyword GRAPH somewhere (only it reads named graphs)
    all_graphs: bool = False  # DROP/CLEAR ALL or NAMED
    load: bool = False  # LOAD <url>
    depth: int = 0  # deepest nesting of { ( [
    volatile: bool = False  # NOW(), RAND(), UUID()…: two runs may answer differently

    def check_depth(self) -> None:
        """Refuse a text nested deeper than MAX_DEPTH: the engine's parser recurses, and
        an unbounded nesting would exhaust its stack."""
        if self.depth > MAX_DEPTH:
            raise ValueError(
                f"the text nests {{, ( or [ {self.depth} levels deep; at most "
                f"{MAX_DEPTH} are accepted"
            )

    @property
    def has_dataset(self) -> bool:
        """True when the query names its own dataset (FROM or FROM NAMED)."""
        return bool(self.from_graphs or self.from_named)


# functions whose value changes from one run to the next (SPARQL 1.1 §17.4)
VOLATILE = frozenset({"NOW", "RAND", "UUID", "STRUUID", "BNODE"})


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind not in ("ws", "comment"):
            out.append((kind, match.group()))
    return out


def _absolute(iri: str, base: str | None) -> str:
    """``iri`` resolved against ``base`` when it is relative and a base is known."""
    if base is None or _SCHEME.match(iri):
        return iri
    return urljoin(base, iri)


def inspect(text: str, base: str | None = None) -> QueryInfo:
    """The form, dataset clauses and SERVICE endpoints of a query or update text;
    relative IRIs are resolved against the text's BASE, else ``base``."""
    tokens = _tokens(text)
    prefixes: dict[str, str] = {}
    info = QueryInfo()

    def resolve(kind: str, value: str) -> str | None:
        if kind == "iri":
            return _absolute(value[1:-1], base)
        if kind == "pname":
            prefix, _, local = value.partition(":")
            namespace = prefixes.get(prefix)
            # a local name's escapes stand for the character (SPARQL 1.1 §19.8 PN_LOCAL_ESC)
            local = re.sub(r"\\(.)", r"\1", local)
            return namespace + local if namespace is not None else None
        return None

    level = 0
    for kind, value in tokens:
        if kind == "other" and value in "{([":
            level += 1
            info.depth = max(info.depth, level)
        elif kind == "other" and value in "})]":
            level -= 1
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        upper = value.upper() if kind == "word" else ""
        if upper == "PREFIX" and i + 2 < len(tokens) and tokens[i + 2][0] == "iri":
            prefixes[tokens[i + 1][1].rstrip(":")] = _absolute(tokens[i + 2][1][1:-1], base)
            i += 3
            continue
        if upper == "BASE" and i + 1 < len(tokens) and tokens[i + 1][0] == "iri":
            base = _absolute(tokens[i + 1][1][1:-1], base)
            i += 2
            continue
        if upper in VOLATILE:
            info.volatile = True
        if upper in FORMS and info.form is None:
            info.form = upper
        elif upper == "FROM" and i + 1 < len(tokens):
            named = tokens[i + 1][0] == "word" and tokens[i + 1][1].upper() == "NAMED"
            target = tokens[i + 2] if named and i + 2 < len(tokens) else tokens[i + 1]
            iri = resolve(*target)
            if iri is not None:
                (info.from_named if named else info.from_graphs).append(iri)
                info.graphs.append(iri)
        elif upper in ("GRAPH", "WITH", "INTO", "TO", "USING", "NAMED") and i + 1 < len(tokens):
            nxt = tokens[i + 1]
            if upper == "GRAPH":
                info.uses_graph = True
            if nxt[0] == "var" and upper == "GRAPH":
                info.variable_graph = True
            iri = resolve(*nxt)
            if iri is not None:
                info.graphs.append(iri)
        elif upper in ("ADD", "MOVE", "COPY") and i + 1 < len(tokens):
            j = i + 1
            if tokens[j][0] == "word" and tokens[j][1].upper() == "SILENT":
                j += 1
            if j < len(tokens):
                iri = resolve(*tokens[j])
                if iri is not None:
                    info.graphs.append(iri)
        elif (
            upper in ("ALL", "NAMED")
            and i > 0
            and tokens[i - 1][1].upper() in ("DROP", "CLEAR", "SILENT")
        ):
            info.all_graphs = True
        elif upper == "LOAD":
            info.load = True
        elif upper == "SERVICE" and i + 1 < len(tokens):
            j = i + 1
            if tokens[j][0] == "word" and tokens[j][1].upper() == "SILENT":
                j += 1
            if j < len(tokens):
                info.services.append(resolve(*tokens[j]))
        i += 1
    return info


def dataset(
    view: list[str],
    info: QueryInfo,
    default_graph_uri: list[str] | None = None,
    named_graph_uri: list[str] | None = None,
) -> tuple[list[str], list[str]]:
    """(default graphs, named graphs) of a query, confined to the caller's ``view``.

    The protocol's ``default-graph-uri``/``named-graph-uri`` win over the query's
    FROM/FROM NAMED (SPARQL 1.1 Protocol §2.1.4); with neither, the default graph is
    the union of the view and every graph of the view is reachable by name (a text
    without the keyword GRAPH reads no graph by name, so none is listed: an admin's
    view lists every graph of the catalogue). A graph outside the view is simply
    absent: it reads as empty.
    """
    if default_graph_uri or named_graph_uri:
        wanted_default, wanted_named = default_graph_uri or [], named_graph_uri or []
    elif info.has_dataset:
        wanted_default, wanted_named = info.from_graphs, info.from_named
    else:
        return list(view), list(view) if info.uses_graph else []
    allowed = set(view)  # only here: an admin's view lists every graph of the catalogue
    return ([g for g in wanted_default if g in allowed], [g for g in wanted_named if g in allowed])
