"""What differs from one SPARQL engine behind HTTP to another, in one place.

The remote store speaks the SPARQL 1.1 protocol; each engine reads parts of it its own
way. A ``Dialect`` says, for one engine, how a query and its dataset are sent (always
by POST with the dataset in the form body: an admin's dataset lists every graph, too
long for a URL under the 8 KB header limit of most servers), how an update is sent, how
the engine's own per-query time limit is asked for, and how the store's generation is
bumped inside a write. docs/deploy.md lists the differences found.

- ``oxigraph`` (``oxigraph serve``): the default graph is a graph of its own (not the
  union, unless started with ``--union-default-graph``); its time limit is one for the
  whole server (``--timeout-s``), none per query; blank nodes in ``INSERT DATA`` are
  fresh per request.
- ``virtuoso`` (OpenLink Virtuoso 7): a query naming no default graph reads the union
  of every graph, so the store's default graph is a named graph here
  (``VIRTUOSO_DEFAULT``), named in every query and update that means it; a per-query
  limit (the ``timeout`` form field, milliseconds) after which Virtuoso answers what it
  found so far with an ``X-SQL-State`` header: read as a timeout, never as the answer.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlencode, urljoin

import pyoxigraph as ox
import requests

from .base import DEFAULT_GRAPH, STORE_GRAPH, TOKEN, Result, StoreDeadlock, StoreTimeout
from .batches import insert_data, quad_text, split_ground
from .graphnames import refuse_outside

GENERATION = "urn:eti:store:generation"
VIRTUOSO_DEFAULT = "urn:eti:graph:default"
"""The graph that stands for the store's default graph on Virtuoso."""
_NODE_ID = re.compile(rb'("type": "bnode", "value": ")nodeID://')
_DURATION = "http://www.w3.org/2001/XMLSchema#duration"
_STAND_IN = "urn:eti:virtuoso:duration"
_XSD_DURATION = re.compile(r"<http://www\.w3\.org/2001/XMLSchema#duration>|(?<=\^\^)xsd:duration\b")
_NONE = "urn:eti:graph:none"  # an empty default graph: a graph nothing is written to


def generation_query() -> str:
    """The query that reads the store's generation token(s)."""
    return f"SELECT ?v WHERE {{ GRAPH <{STORE_GRAPH}> {{ <{GENERATION}> <{GENERATION}> ?v }} }}"


def _ends_open(sparql: str) -> bool:
    """True when another operation can follow ``sparql`` after a ``;``: it has an
    operation and does not end with a ``;`` already."""
    last = None
    for match in TOKEN.finditer(sparql):
        if match.lastgroup not in ("ws", "comment"):
            last = match.group()
    return last is not None and last != ";"


def form_of(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the form of a query text (SELECT if unknown)."""
    for match in TOKEN.finditer(sparql):
        if match.lastgroup == "word" and match.group().upper() in _FORMS:
            return match.group().upper()
    return "SELECT"


_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
_SOLUTIONS = "application/sparql-results+json"
_GRAPH = "application/n-triples, text/turtle;q=0.5"


@dataclass(frozen=True)
class Dialect:
    """The SPARQL 1.1 protocol as ``oxigraph serve`` reads it (and the base of others)."""

    name: str = "oxigraph"
    own_graphs: tuple[str, ...] = (STORE_GRAPH,)
    dump_media: str = "text/tab-separated-values"
    """The result format a dump is streamed in."""
    """IRIs (or, ending in ``*``, IRI prefixes) of graphs that hold no catalogue data:
    never listed, counted, dumped or dropped by ``DROP ALL``."""

    def visible(self, var: str = "?g") -> str:
        """A FILTER expression true when the graph ``var`` holds catalogue data."""
        tests = [
            f'!STRSTARTS(STR({var}), "{g[:-1]}")' if g.endswith("*") else f"{var} != <{g}>"
            for g in self.own_graphs
        ]
        return " && ".join(tests)

    def accept(self, form: str) -> str:
        """The Accept header of a query of ``form``."""
        return _GRAPH if form in ("CONSTRUCT", "DESCRIBE") else _SOLUTIONS

    def adapt(self, form: str, result: Result) -> Result:
        """The answer as the protocol means it (an engine's own shapes undone)."""
        return result

    def body(self, response: requests.Response) -> IO[bytes]:
        """The body of a results answer, readable as the standard format (streamed when
        the request was)."""
        if response.raw is not None and not response._content_consumed:  # type: ignore[attr-defined]
            response.raw.decode_content = True
            return response.raw
        return io.BytesIO(response.content)

    def default_graph_iri(self) -> str | None:
        """The IRI that names the store's default graph, when the engine needs one."""
        return None

    def query_form(
        self,
        sparql: str,
        default_graph: Sequence[str] | None,
        named_graphs: Sequence[str] | None,
        timeout: float | None,
    ) -> list[tuple[str, str]]:
        """The form fields of a query request (sent as the POST body). A dataset the
        catalogue names is the whole dataset: the text's own ``FROM`` / ``FROM NAMED`` are
        dropped (the catalogue has folded them into it already; an engine reads them when
        the protocol names no graph), and an empty list is a graph nothing is in (an
        engine reads "no named-graph-uri" as "every graph")."""
        if default_graph is not None or named_graphs is not None:
            sparql = _drop_dataset_clauses(sparql)
        form = [("query", sparql)]
        for field, graphs in (
            ("default-graph-uri", default_graph),
            ("named-graph-uri", named_graphs),
        ):
            if graphs is None:
                continue
            names = self._graphs(graphs)
            if names:
                form += [(field, g) for g in names]
            elif DEFAULT_GRAPH not in graphs:  # (the default graph alone: no field names it)
                form.append((field, _NONE))
        return form

    def _graphs(self, names: Sequence[str] | None) -> list[str]:
        if names is None:
            return []
        own = self.default_graph_iri()
        return [g if g != DEFAULT_GRAPH else own for g in names if g or own]  # type: ignore[misc]

    def update_request(self, sparql: str) -> tuple[bytes, str]:
        """(body, content type) of an update request."""
        return sparql.encode(), "application/sparql-update; charset=utf-8"

    def text(self, sparql: str) -> str:
        """A query or update text as the engine must read it."""
        return sparql

    def bump(self, sparql: str, token: str) -> str:
        """``sparql`` followed, in the same request (one transaction), by the operations
        that replace the store's generation token with ``token``. After the caller's
        operations, so a ``DROP ALL`` among them cannot take the new token away."""
        g, s = f"<{STORE_GRAPH}>", f"<{GENERATION}>"
        ops = (
            f"DELETE WHERE {{ GRAPH {g} {{ {s} {s} ?v }} }} ;\n"
            f'INSERT DATA {{ GRAPH {g} {{ {s} {s} "{token}" }} }}'
        )
        return f"{sparql}\n;\n{ops}" if _ends_open(sparql) else f"{sparql}\n{ops}"

    def check(self, response: requests.Response) -> None:
        """Raise when a successful-looking answer is not the whole answer."""


@dataclass(frozen=True)
class Virtuoso(Dialect):
    """OpenLink Virtuoso 7 at its ``/sparql`` endpoint."""

    name: str = "virtuoso"
    dump_media: str = "application/sparql-results+json"  # its TSV quotes the header
    own_graphs: tuple[str, ...] = (
        STORE_GRAPH,
        VIRTUOSO_DEFAULT,
        "http://www.openlinksw.com/*",  # the engine's own schemas (virtrdf) ...
        "http://www.w3.org/ns/ldp*",  # ... its LDP vocabulary
        "http://localuriqaserver/*",  # ... and its service description ([URIQA] DefaultHost)
    )

    def body(self, response: requests.Response) -> IO[bytes]:
        # blank nodes come as "nodeID://b10002", not a blank node label
        content = _NODE_ID.sub(rb"\1", response.content)
        return io.BytesIO(content.replace(_STAND_IN.encode(), _DURATION.encode()))

    def text(self, sparql: str) -> str:
        # Virtuoso 7.2.5 stores no xsd:duration literal ("SR553: Literal of type
        # xsd:duration can not be created"): they are kept under a stand-in datatype,
        # written and read back as xsd:duration
        return _XSD_DURATION.sub(f"<{_STAND_IN}>", sparql)

    def adapt(self, form: str, result: Result) -> Result:
        if form == "ASK" and isinstance(result, ox.QuerySolutions):
            # Virtuoso answers ASK as one row (__ASK_RETVAL 1) or none, not a boolean
            found = "true" if any(True for _ in result) else "false"
            return ox.parse_query_results(
                f'{{"head": {{}}, "boolean": {found}}}', ox.QueryResultsFormat.JSON
            )
        return result

    def default_graph_iri(self) -> str | None:
        return VIRTUOSO_DEFAULT

    def query_form(
        self,
        sparql: str,
        default_graph: Sequence[str] | None,
        named_graphs: Sequence[str] | None,
        timeout: float | None,
    ) -> list[tuple[str, str]]:
        # no dataset: the union of every graph (as ``oxigraph serve --union-default-graph``
        # reads it); a pragma naming the default graph instead breaks GRAPH <iri> patterns
        if default_graph is not None:
            default_graph = self._graphs(default_graph) or [_NONE]
        if named_graphs is not None:
            # a caller's dataset: GRAPH <g> outside it (or GRAPH ?g with ?g fixed to
            # <g>) would still match here (a read leak of the engine), so such a query
            # is refused, decided on its parse; ``_confine``'s filters stay as a second fence
            allowed = set(self._graphs(named_graphs))
            refuse_outside(sparql, allowed)
            sparql = _confine(sparql, allowed)
        if form_of(sparql) == "ASK":
            sparql = _ask_as_select(sparql)
        form = super().query_form(sparql, default_graph, named_graphs, timeout)
        if timeout:  # a little under the client's wait, so the engine's answer comes first
            form.append(("timeout", str(max(1, int(timeout * 800)))))
        return form

    def update_request(self, sparql: str) -> tuple[bytes, str]:
        # no using-graph-uri or default-graph pragma: with one, Virtuoso 7.2 applies
        # ``DELETE WHERE { GRAPH <iri> ... }`` to no graph at all
        text = _ground_blank_nodes(self._whole_store_ops(sparql))
        return urlencode([("update", text)]).encode(), "application/x-www-form-urlencoded"

    def _whole_store_ops(self, sparql: str) -> str:
        """``DROP``/``CLEAR`` ``ALL``/``NAMED``/``DEFAULT`` written as DELETEs: Virtuoso 7.2
        answers them 200 and removes nothing (and would reach its own graphs)."""
        tokens = [(m.lastgroup, m.group()) for m in TOKEN.finditer(sparql)]
        out: list[str] = []
        i = 0
        while i < len(tokens):
            kind, value = tokens[i]
            if kind == "word" and value.upper() in ("DROP", "CLEAR"):
                words = [(j, t[1].upper()) for j, t in enumerate(tokens[i + 1 :], i + 1)]
                words = [(j, w) for j, w in words if tokens[j][0] not in ("ws", "comment")][:2]
                if words and words[0][1] == "SILENT":
                    words = words[1:]
                if words and words[0][1] in _WHOLE:
                    out.append(_WHOLE[words[0][1]](self))
                    i = words[0][0] + 1
                    continue
            out.append(value)
            i += 1
        return "".join(out)

    def check(self, response: requests.Response) -> None:
        state = response.headers.get("X-SQL-State")
        if not state:
            return
        message = response.headers.get("X-SQL-Message", "")
        if state == "40001" or "SR172" in message:
            # two writers' locks crossed (several eti processes writing at once)
            raise StoreDeadlock(f"the store ended the request as a deadlock's victim: {message}")
        # an "anytime" answer: what was found before the limit, not the answer
        raise StoreTimeout(f"the store stopped the query at its time limit: {state} {message}")


def _ground_blank_nodes(sparql: str) -> str:
    """Each ``INSERT DATA`` / ``DELETE DATA`` holding a blank node or a triple of the
    default graph, written as Virtuoso takes it: the default graph's triples in
    ``VIRTUOSO_DEFAULT`` (it has no default graph to write), and for an insert an
    ``INSERT DATA`` of the quads without blank nodes and one ``INSERT { ... } WHERE { }``
    per group of quads that blank nodes connect (Virtuoso refuses blank nodes in
    ``INSERT DATA``, and fails to compile a large ``INSERT`` template, "SQ200")."""
    tokens = [(m.lastgroup, m.group()) for m in TOKEN.finditer(sparql)]
    out: list[str] = []
    prologue: list[str] = []
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        verb = value.upper() if kind == "word" else ""
        nxt = [j for j in range(i + 1, min(i + 6, len(tokens))) if tokens[j][0] != "ws"]
        if verb in ("PREFIX", "BASE"):
            end = nxt[1] + 1 if verb == "PREFIX" and len(nxt) > 1 else nxt[0] + 1
            prologue.append("".join(v for _, v in tokens[i:end]) + "\n")
        data = bool(nxt) and tokens[nxt[0]][1].upper() == "DATA"
        if verb in ("INSERT", "DELETE") and data:
            end = _block_end(tokens, nxt[0] + 1)
            block = tokens[nxt[0] + 1 : end]
            if _blank(block) or _default_triples(block):
                inner = "".join(v for _, v in block).strip()[1:-1].rstrip()
                if inner and not inner.endswith((".", "}")):
                    inner += " ."  # SPARQL's data blocks may end without one, TriG not
                trig = "".join(prologue) + inner
                quads = list(ox.parse(trig.encode(), ox.RdfFormat.TRIG))
                if verb == "INSERT":
                    out.append(_insert_groups(quads))
                else:
                    out.append(insert_data([quad_text(q, VIRTUOSO_DEFAULT) for q in quads]))
                    out[-1] = "DELETE" + out[-1][len("INSERT") :]
                i = end
                continue
        out.append(value)
        i += 1
    return "".join(out)


def _blank(block: list[tuple[str | None, str]]) -> bool:
    """True when the tokens of a data block hold a blank node."""
    return any(
        v == "[" or (v == "_" and n.startswith(":"))
        for (_, v), (_, n) in zip(block, [*block[1:], ("", "")], strict=True)
    )


def _default_triples(block: list[tuple[str | None, str]]) -> bool:
    """True when a data block states a triple outside every ``GRAPH`` group."""
    depth, after_graph = 0, False
    for kind, value in block:
        if kind in ("ws", "comment"):
            continue
        if value == "{":
            depth, after_graph = depth + 1, False
        elif value == "}":
            depth -= 1
        elif depth == 1 and kind == "word" and value.upper() == "GRAPH":
            after_graph = True
        elif depth == 1 and not after_graph:
            return True
    return False


def _insert_groups(quads: list[ox.Quad]) -> str:
    """The quads as the operations ``_ground_blank_nodes`` says."""
    ground, groups = split_ground(quads)
    ops = [insert_data([quad_text(q, VIRTUOSO_DEFAULT) for q in ground])] if ground else []
    for group in groups:
        # one template per graph: a blank node in two GRAPH blocks of one template fails
        # ("SR002"), so such a node becomes one node per graph here
        # (and a label names one node per request: each template gets its own labels)
        by_graph: dict[str, list[tuple[str, str]]] = {}
        for quad in group:
            graph = quad_text(quad, VIRTUOSO_DEFAULT)[0]
            lines = by_graph.setdefault(graph, [])
            relabelled = _relabel(quad, f"x{len(ops)}x{len(by_graph)}")
            lines.append(quad_text(relabelled, VIRTUOSO_DEFAULT))
        for lines in by_graph.values():
            ops.append("INSERT" + insert_data(lines)[len("INSERT DATA") :] + " WHERE { }")
    return " ;\n".join(ops) or "INSERT DATA { }"


def _drop_dataset_clauses(sparql: str) -> str:
    """``sparql`` without its ``FROM`` / ``FROM NAMED`` clauses."""
    tokens = [(m.lastgroup, m.group()) for m in TOKEN.finditer(sparql)]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "word" and value.upper() == "FROM":
            after = [j for j in range(i + 1, min(i + 6, len(tokens))) if tokens[j][0] != "ws"]
            if after:
                named = tokens[after[0]][1].upper() == "NAMED"
                i = (after[1] if named and len(after) > 1 else after[0]) + 1
                continue
        out.append(value)
        i += 1
    return "".join(out)


def _confine(sparql: str, named: set[str]) -> str:
    """``sparql`` kept to the dataset the protocol names, which Virtuoso 7.2 does not do
    itself: ``GRAPH <iri>`` reads a graph outside ``named-graph-uri``; so does
    ``GRAPH ?g { ... } FILTER (?g = <iri>)`` (the optimiser makes the graph a constant).
    So every ``GRAPH`` group gets a filter of its own inside: ``?g IN (the named
    graphs)``, or ``false`` for a graph named outside them."""
    tokens = [(m.lastgroup, m.group()) for m in TOKEN.finditer(sparql)]
    allowed = ", ".join(str(ox.NamedNode(g)) for g in sorted(named))
    prefixes: dict[str, str] = {}
    base = ""
    out: list[str] = []
    depth = 0
    closing: dict[int, str] = {}  # depth of a GRAPH group → the filter closing it
    pending: str | None = None
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        word = value.upper() if kind == "word" else ""
        after = [j for j in range(i + 1, min(i + 8, len(tokens))) if tokens[j][0] != "ws"]
        if word == "PREFIX" and len(after) > 1 and tokens[after[1]][0] == "iri":
            prefixes[tokens[after[0]][1][:-1]] = _resolve(tokens[after[1]], prefixes, base)
        elif word == "BASE" and after and tokens[after[0]][0] == "iri":
            base = tokens[after[0]][1][1:-1]
        elif word == "GRAPH" and after and tokens[after[0]][0] in ("iri", "pname", "var"):
            term = tokens[after[0]]
            if term[0] == "var":
                pending = f"FILTER ({term[1]} IN ({allowed}))" if named else "FILTER (false)"
            elif _resolve(term, prefixes, base) not in named:
                pending = "FILTER (false)"
        elif value == "{":
            depth += 1
            if pending is not None:
                closing[depth], pending = pending, None
        elif value == "}":
            if depth in closing:
                out.append(f" {closing.pop(depth)} ")
            depth -= 1
        out.append(value)
        i += 1
    return "".join(out)


def _ask_as_select(sparql: str) -> str:
    """An ASK as a SELECT of at most one row (``adapt`` makes it a boolean again):
    Virtuoso 7.2 answers ``ASK { GRAPH <g> { ... } }`` true under ``named-graph-uri``
    not naming ``<g>``, where the same SELECT of a variable finds nothing. (Only for the
    catalogue's ASKs ending in their WHERE group, VALUES aside.)"""
    tokens = [(m.lastgroup, m.group()) for m in TOKEN.finditer(sparql)]
    out, done, values = [], False, False
    for kind, value in tokens:
        if kind == "word" and value.upper() == "ASK" and not done:
            value, done = "SELECT ?_ask", True
        values = values or (kind == "word" and value.upper() == "VALUES")
        out.append(value)
    text = "".join(out).rstrip()
    # a variable to project (a constant, or none, is answered one row whatever matched)
    end = text.rindex("}") if "}" in text else len(text)
    where = f"{text[:end]} OPTIONAL {{ GRAPH <{_NONE}> {{ ?_ask ?_ask ?_ask }} }} {text[end:]}"
    return where + ("" if values else " LIMIT 1")


def _resolve(token: tuple[str | None, str], prefixes: dict[str, str], base: str) -> str:
    """The IRI an IRI or prefixed-name token stands for."""
    kind, value = token
    if kind == "pname":
        prefix, _, local = value.partition(":")
        return prefixes.get(prefix, "urn:eti:unknown-prefix:") + local
    return urljoin(base, value[1:-1]) if base else value[1:-1]


def _relabel(quad: ox.Quad, suffix: str) -> ox.Quad:
    """``quad`` with ``suffix`` added to the label of each of its blank nodes."""

    def term(t: Any) -> Any:
        return ox.BlankNode(t.value + suffix) if isinstance(t, ox.BlankNode) else t

    return ox.Quad(term(quad.subject), quad.predicate, term(quad.object), quad.graph_name)


def _block_end(tokens: list[tuple[str | None, str]], start: int) -> int:
    """The index after the ``}`` that closes the first ``{`` at or after ``start``."""
    depth = 0
    for j in range(start, len(tokens)):
        if tokens[j][1] == "{":
            depth += 1
        elif tokens[j][1] == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(tokens)


def _delete_graphs(dialect: Dialect, keep_default: bool) -> str:
    """A DELETE of every graph but the engine's own (and the default one, if kept); the
    generation's graph goes too: the bump that follows writes it again."""
    kept = [
        g
        for g in dialect.own_graphs
        if g != STORE_GRAPH and (keep_default or g != VIRTUOSO_DEFAULT)
    ]
    visible = Dialect(own_graphs=tuple(kept)).visible()
    quad = "GRAPH ?g { ?s ?p ?o }"
    return f"DELETE {{ {quad} }} WHERE {{ {quad} FILTER ({visible}) }}"


_WHOLE = {
    "ALL": lambda d: _delete_graphs(d, keep_default=False),
    "NAMED": lambda d: _delete_graphs(d, keep_default=True),
    "DEFAULT": lambda d: f"DELETE WHERE {{ GRAPH <{VIRTUOSO_DEFAULT}> {{ ?s ?p ?o }} }}",
}

DIALECTS: dict[str, Dialect] = {"oxigraph": Dialect(), "virtuoso": Virtuoso()}


def dialect_for(name: str) -> Dialect:
    """The dialect called ``name`` (``oxigraph``, ``virtuoso``)."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(
            f"unknown store engine {name!r}: one of {', '.join(sorted(DIALECTS))}"
        ) from None
