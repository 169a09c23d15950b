"""The store's interface: the verbs every implementation answers, its errors, and
binding values into SPARQL texts (never pasted from user text)."""

from __future__ import annotations

import functools
import io
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import pyoxigraph as ox

from .. import rdfio
from .lexer import TOKEN

Term = ox.NamedNode | ox.Literal
Result = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples
Progress = Callable[[int], None]

RESULT_FORMATS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "text/csv": ox.QueryResultsFormat.CSV,
}


class StoreError(RuntimeError):
    """The store cannot do what was asked (not the caller's input)."""


class StoreTimeout(StoreError):
    """A remote store sent nothing within the time allowed."""


class StoreDeadlock(StoreError):
    """The store ended the request as the victim of a deadlock between two writers
    (Virtuoso's ``SR172``)."""


class StoreLockedError(StoreError):
    """The embedded data folder is held by another process."""


class QuerySyntaxError(ValueError):
    """A query or update that does not parse; ``str()`` has the parser's message."""


class GraphRefused(ValueError):
    """A query refused before it reaches the engine: it names a graph the engine would
    not keep out of the caller's view (``graphnames``)."""


DEFAULT_GRAPH = ""  # the store's default graph, where a list of graph names needs it


def graph_terms(names: Sequence[str]) -> list[ox.NamedNode | ox.DefaultGraph]:
    """Graph names as pyoxigraph terms ("" is the default graph)."""
    return [ox.DefaultGraph() if g == DEFAULT_GRAPH else ox.NamedNode(g) for g in names]


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def _template(
    sparql: str, names: frozenset[str]
) -> tuple[tuple[str, ...], tuple[tuple[int, str], ...], tuple[str, ...]]:
    """The tokens of ``sparql`` once per text and set of bound names (the project's
    ``.rq`` texts are few, and tokenising them was a sixth of a registration's work):
    the parts, which of them take a bound value, and the bound names kept as variables
    (the projection, ORDER/GROUP BY)."""
    parts: list[str] = []
    slots: list[tuple[int, str]] = []
    projected: set[str] = set()
    in_projection = after_where = in_modifiers = False
    depth = 0
    for match in TOKEN.finditer(sparql):
        kind, value = match.lastgroup, match.group()
        if kind == "word" and value.upper() == "SELECT" and depth == 0:
            in_projection = True
        elif kind == "word" and value.upper() == "WHERE" and depth == 0:
            in_projection, after_where = False, True
        elif kind == "other" and value == "{":
            in_projection = False
            depth += 1
        elif kind == "other" and value == "}":
            depth -= 1
            if depth == 0 and after_where:
                in_modifiers = True
        if kind == "var" and value[1:] in names:
            if in_projection or in_modifiers:
                projected.add(value[1:])
            else:
                slots.append((len(parts), value[1:]))
        parts.append(value)
    return tuple(parts), tuple(slots), tuple(sorted(projected))


def bind_inline(sparql: str, bindings: Mapping[str, Term] | None) -> str:
    """``sparql`` with each bound variable replaced by its value, as pyoxigraph serialises
    it (never pasted from user text), wherever the variable occurs as a token — except in a
    SELECT projection, where the value is given by a ``BIND`` at the start of the first
    WHERE group instead. (A VALUES block would be joined after the fact: the engine would
    scan what a constant lets it look up.)

    For the project's own ``.rq`` files, which always spell ``WHERE {``.
    """
    if not bindings:
        return sparql
    terms = {}
    for name, term in bindings.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"not a variable name: {name!r}")
        if not isinstance(term, ox.NamedNode | ox.Literal):
            raise TypeError(f"?{name}: only IRIs and literals can be bound, not {term!r}")
        terms[name] = str(term)  # N-Triples syntax, escaped by pyoxigraph
    names = frozenset(terms)
    # the shipped texts are short; a long text (not one of ours) is not kept
    tokens = (
        _template(sparql, names) if len(sparql) <= 20_000 else _template.__wrapped__(sparql, names)
    )
    parts, slots, projected = tokens
    out = list(parts)
    for index, name in slots:
        out[index] = terms[name]
    text = "".join(out)
    match = _WHERE.search(text)
    if match is None:
        raise ValueError("a query with bindings needs a 'WHERE {' group")
    binds = "".join(f" BIND ({terms[n]} AS ?{n})" for n in projected)
    return text[: match.end()] + binds + " " + text[match.end() :]


STORE_GRAPH = "urn:eti:graph:store"
"""The store's own bookkeeping (a remote store's generation); never listed or counted."""


class Functions(Protocol):
    """The catalogue's SPARQL extension functions, handed to a store by its owner (the
    store imports no domain module): callables for an engine in this process, a rewrite
    into standard SPARQL for an engine behind HTTP."""

    def callables(self) -> dict[ox.NamedNode, Callable[..., Any]]:
        """The functions by IRI, for pyoxigraph's ``custom_functions``."""
        ...

    def inline(self, sparql: str) -> str:
        """``sparql`` with every call of a catalogue function written in standard SPARQL."""
        ...


class Store(ABC):
    """A quad store the catalogue can read and write."""

    kind: str = "abstract"
    engine: str = "pyoxigraph"
    generation: Hashable = 0
    """Changes with every write the store sees (caches of derived data key on it): a
    count of this process's writes for the embedded store, a token kept in the store
    itself for a remote one (so a write through any process changes it for all)."""
    functions: Functions | None = None
    """The extension functions queries run with when they ask for them."""

    @abstractmethod
    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Term] | None = None,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union: bool = False,
        functions: bool = False,
    ) -> Result:
        """Run a query (``functions``: with the catalogue's extension functions, where the
        engine is local). ``default_graph``/``named_graphs`` fix the dataset (they win over
        the query's own FROM / FROM NAMED); ``union`` makes the default graph the union
        of all graphs when ``default_graph`` is not given."""

    @abstractmethod
    def update(self, sparql: str, *, bindings: Mapping[str, Term] | None = None) -> None:
        """Run a SPARQL Update as one transaction."""

    def update_derived(self, sparql: str) -> None:
        """Run a SPARQL Update that writes only graphs derived for reading (the per-caller
        views): it changes no answer and no one's rights, so caches keyed to the
        generation stay (a view built at one caller's first read must not make every
        other caller work its access out again)."""
        self.update(sparql)

    @abstractmethod
    def load(
        self,
        source: Path | IO[bytes] | bytes,
        fmt: ox.RdfFormat,
        *,
        graph: str | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Add the quads of ``source``; returns how many. A syntax error anywhere in
        the source leaves the store unchanged (the source is read in full first)."""

    @abstractmethod
    def dump(
        self,
        output: IO[bytes],
        fmt: ox.RdfFormat = ox.RdfFormat.N_QUADS,
        *,
        graph: str | None = None,
    ) -> None:
        """Write every quad (or one graph's triples) to ``output``, streaming."""

    def flush(self) -> None:  # noqa: B027 - optional for implementations
        """Make the writes so far cheap for other readers to open (a no-op remotely)."""

    def close(self) -> None:  # noqa: B027 - optional for implementations
        """Release the store."""

    def restore(self, source: Path, fmt: ox.RdfFormat, progress: Progress | None = None) -> int:
        """Load a dump into this empty store (the fastest way the store has); a syntax
        error leaves it empty. Returns how many quads the store then holds."""
        return self.load(source, fmt, progress=progress)

    def visible(self, var: str = "?g") -> str:
        """A FILTER expression true when the graph ``var`` holds catalogue data (not the
        store's or the engine's own bookkeeping)."""
        return f"{var} != <{STORE_GRAPH}>"

    # -- shared helpers over query/update ------------------------------------------------

    def named_graphs(self) -> list[str]:
        """Names of the non-empty named graphs, sorted."""
        rows = self.query(
            f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER ({self.visible()}) }}"
        )
        return sorted(row["g"].value for row in rows)

    def graph_names(self) -> list[str]:
        """Names of the named graphs, sorted, where an emptied graph may still be listed
        (cheaper than ``named_graphs`` where the engine keeps a graph index): for a list
        of every graph in which an empty one changes no answer (an admin's view)."""
        return self.named_graphs()

    def count(self, graph: str | None = None) -> int:
        """Number of quads (or triples in ``graph``)."""
        if graph:
            rows = self.query(
                "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
                bindings={"g": ox.NamedNode(graph)},
            )
        else:
            rows = self.query(
                "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                f"FILTER ({self.visible()}) }}"
            )
        return int(next(iter(rows))["n"].value)

    def is_empty(self) -> bool:
        """True when no named graph holds anything."""
        ask = f"ASK WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER ({self.visible()}) }}"
        return not bool(self.query(ask))

    def triples(self, graph: str, *more: str) -> list[ox.Triple]:
        """The triples of one named graph (or of several, read in one query: one snapshot,
        never one graph before a concurrent write and another after it)."""
        if not more:
            rows = self.query(
                "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
                bindings={"g": ox.NamedNode(graph)},
            )
            return list(rows)
        rows = self.query(
            "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=[graph, *more]
        )
        return [ox.Triple(row["s"], row["p"], row["o"]) for row in rows]


def check_parsed(
    source: Path | IO[bytes] | bytes,
    fmt: ox.RdfFormat,
    progress: Progress | None,
    graph: str | None,
) -> tuple[bytes | Path, int]:
    """Read ``source`` once, fully, to find syntax errors before anything is written."""
    if isinstance(source, Path):
        data: bytes | Path = source
        name = str(source)
    elif isinstance(source, bytes):
        data, name = source, "<input>"
    else:
        data, name = source.read(), getattr(source, "name", "<input>")
    reader: Any = data
    if progress is not None and not isinstance(data, Path):
        reader = ProgressReader(io.BytesIO(data), progress)
    elif progress is not None:
        reader = ProgressReader(open(data, "rb"), progress)
    try:
        n = sum(1 for _ in rdfio.iter_quads(reader, fmt, source=name, graph=graph))
    finally:
        if isinstance(reader, ProgressReader):
            reader.close()
    return data, n


class ProgressReader(io.RawIOBase):
    """A binary reader that reports how many bytes were read."""

    def __init__(self, inner: IO[bytes], progress: Progress) -> None:
        self._inner = inner
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self._progress(len(chunk))
        return len(chunk)

    def close(self) -> None:
        self._inner.close()
        super().close()
