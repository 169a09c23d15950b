"""The store: one small interface, two implementations.

- ``OxigraphStore``: pyoxigraph on disk in a data folder (the default; no server).
- ``RemoteStore``: any SPARQL 1.1 Query + Update endpoint reached over HTTP.

Both answer queries with pyoxigraph result objects, so callers (the SPARQL
protocol, the registry) never care which one they hold. Verbs come in pairs:
query/update, load/dump, and graphs are replaced whole (see ``eti.catalogue.graphs``).
"""

from __future__ import annotations

import io
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
import requests

from . import rdfio

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


FLUSH_AFTER = 0.5  # seconds after a write before the memtable is flushed
FLUSH_EVERY = 64  # writes that force a flush at once


class StoreError(RuntimeError):
    """The store cannot do what was asked (not the caller's input)."""


class StoreTimeout(StoreError):
    """A remote store sent nothing within the time allowed."""


class StoreLockedError(StoreError):
    """The embedded data folder is held by another process."""


class QuerySyntaxError(ValueError):
    """A query or update that does not parse; ``str()`` has the parser's message."""


DEFAULT_GRAPH = ""  # the store's default graph, where a list of graph names needs it


def graph_terms(names: Sequence[str]) -> list[ox.NamedNode | ox.DefaultGraph]:
    """Graph names as pyoxigraph terms ("" is the default graph)."""
    return [ox.DefaultGraph() if g == DEFAULT_GRAPH else ox.NamedNode(g) for g in names]


def _values_block(bindings: Mapping[str, Term]) -> str:
    names, terms = [], []
    for name, term in bindings.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"not a variable name: {name!r}")
        if not isinstance(term, ox.NamedNode | ox.Literal):
            raise TypeError(f"?{name}: only IRIs and literals can be bound, not {term!r}")
        names.append(f"?{name}")
        terms.append(str(term))  # N-Triples syntax, escaped by pyoxigraph
    return f"VALUES ({' '.join(names)}) {{ ({' '.join(terms)}) }}"


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


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
    from .sparqltext import _TOKEN  # the lexer that knows strings, IRIs and comments

    terms = {}
    for name, term in bindings.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"not a variable name: {name!r}")
        if not isinstance(term, ox.NamedNode | ox.Literal):
            raise TypeError(f"?{name}: only IRIs and literals can be bound, not {term!r}")
        terms[name] = str(term)  # N-Triples syntax, escaped by pyoxigraph
    out: list[str] = []
    projected: set[str] = set()  # kept as variables: the projection, ORDER/GROUP BY
    in_projection = after_where = in_modifiers = False
    depth = 0
    for match in _TOKEN.finditer(sparql):
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
        if kind == "var" and value[1:] in terms:
            if in_projection or in_modifiers:
                projected.add(value[1:])
            else:
                value = terms[value[1:]]
        out.append(value)
    text = "".join(out)
    match = _WHERE.search(text)
    if match is None:
        raise ValueError("a query with bindings needs a 'WHERE {' group")
    binds = "".join(f" BIND ({terms[n]} AS ?{n})" for n in sorted(projected))
    return text[: match.end()] + binds + " " + text[match.end() :]


class Store(ABC):
    """A quad store the catalogue can read and write."""

    kind: str = "abstract"
    generation: int = 0  # counts this process's writes (caches of derived data key on it)

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

    def close(self) -> None:  # noqa: B027 - optional for implementations
        """Release the store."""

    def restore(self, source: Path, fmt: ox.RdfFormat, progress: Progress | None = None) -> int:
        """Load a dump into this empty store (the fastest way the store has); a syntax
        error leaves it empty. Returns how many quads the store then holds."""
        return self.load(source, fmt, progress=progress)

    # -- shared helpers over query/update ------------------------------------------------

    def named_graphs(self) -> list[str]:
        """Names of the non-empty named graphs, sorted."""
        rows = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(row["g"].value for row in rows)

    def count(self, graph: str | None = None) -> int:
        """Number of quads (or triples in ``graph``)."""
        if graph:
            rows = self.query(
                "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
                bindings={"g": ox.NamedNode(graph)},
            )
        else:
            rows = self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(next(iter(rows))["n"].value)

    def is_empty(self) -> bool:
        """True when no named graph holds anything."""
        return not bool(self.query("ASK WHERE { GRAPH ?g { ?s ?p ?o } }"))

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


def _check_parsed(
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


class OxigraphStore(Store):
    """pyoxigraph on disk (or in memory when ``path`` is None)."""

    kind = "embedded"

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        try:
            if self.path is None:
                self._store = ox.Store()
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(self.path))
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise StoreLockedError(locked_message(self.path)) from None
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from None
        self._write_lock = threading.Lock()
        self.on_write: list[Callable[[], None]] = []
        self._flush_lock = threading.Lock()
        self._pending = 0
        self._timer: threading.Timer | None = None

    def _written(self) -> None:
        # Read-only handles in other processes (the query workers) replay the write-ahead
        # log when they open: keep it short by flushing soon after a burst of writes, off
        # the write path (a flush costs ~50 ms whatever its size).
        self.generation += 1
        if self.path is not None:
            with self._flush_lock:
                self._pending += 1
                if self._pending >= FLUSH_EVERY:
                    self._flush_locked()
                elif self._timer is None:
                    self._timer = threading.Timer(FLUSH_AFTER, self._flush_soon)
                    self._timer.daemon = True
                    self._timer.start()
        for listener in self.on_write:
            listener()

    def _flush_soon(self) -> None:
        with self._flush_lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            self._pending = 0
            self._store.flush()

    @property
    def raw(self) -> ox.Store:
        """The pyoxigraph store, for streaming serialisation of results."""
        return self._store

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
        kwargs: dict[str, Any] = {}
        sparql = bind_inline(sparql, bindings)
        if functions:
            from .search import sparql_functions

            kwargs["custom_functions"] = sparql_functions()
        if default_graph is not None:
            kwargs["default_graph"] = graph_terms(default_graph)
        elif union:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs if g]
        try:
            return self._store.query(sparql, **kwargs)
        except SyntaxError as exc:
            raise QuerySyntaxError(str(exc)) from None

    def update(self, sparql: str, *, bindings: Mapping[str, Term] | None = None) -> None:
        text = bind_inline(sparql, bindings)
        with self._write_lock:
            try:
                self._store.update(text)
            except SyntaxError as exc:
                raise QuerySyntaxError(str(exc)) from None
            self._written()

    def load(
        self,
        source: Path | IO[bytes] | bytes,
        fmt: ox.RdfFormat,
        *,
        graph: str | None = None,
        progress: Progress | None = None,
    ) -> int:
        data, n = _check_parsed(source, fmt, progress, graph)
        quads = rdfio.iter_quads(data, fmt, graph=graph)
        with self._write_lock:
            batch: list[ox.Quad] = []
            for quad in quads:
                batch.append(quad)
                if len(batch) >= 100_000:
                    self._store.extend(batch)
                    batch = []
            if batch:
                self._store.extend(batch)
            self._written()
        return n

    def dump(
        self,
        output: IO[bytes],
        fmt: ox.RdfFormat = ox.RdfFormat.N_QUADS,
        *,
        graph: str | None = None,
    ) -> None:
        if graph is not None:
            self._store.dump(output, fmt, from_graph=ox.NamedNode(graph))
        else:
            self._store.dump(output, fmt)

    def extend(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads in one transaction."""
        with self._write_lock:
            self._store.extend(quads)
            self._written()

    def restore(self, source: Path, fmt: ox.RdfFormat, progress: Progress | None = None) -> int:
        # The bulk loader writes sorted files straight into the store's levels (what
        # ``oxigraph load`` does), without transactions: it is not atomic, so on a syntax
        # error the store (empty before) is emptied again.
        if not self.is_empty():
            raise StoreError("restore needs an empty store")
        with self._write_lock:
            handle: IO[bytes] = source.open("rb")
            if progress is not None:
                handle = io.BufferedReader(ProgressReader(handle, progress), 1 << 20)
            try:
                with handle:
                    self._store.bulk_load(handle, fmt)
            except SyntaxError as exc:
                self._store.clear()
                raise rdfio._syntax_error(exc, str(source)) from None
            except (ValueError, UnicodeDecodeError, OSError) as exc:
                self._store.clear()
                raise rdfio.RdfInputError(str(exc), source=str(source)) from None
            self._written()
            return len(self._store)

    def flush(self) -> None:
        """Write the memtable to disk now (writes are already durable in the log)."""
        with self._flush_lock:
            self._pending = max(self._pending, 1)
            self._flush_locked()

    def close(self) -> None:
        if self.path is not None:
            self.flush()
        del self._store


def endpoint_urls(url: str, update_url: str | None = None) -> tuple[str, str]:
    """(query URL, update URL) for a store URL.

    ``http://host:7878`` (an Oxigraph server) → ``/query`` and ``/update``; a URL ending in
    ``/query`` → the sibling ``/update``; any other endpoint URL serves both.
    """
    url = url.rstrip("/")
    if update_url:
        return url, update_url
    if url.endswith("/query"):
        return url, url[: -len("query")] + "update"
    if re.fullmatch(r"https?://[^/]+", url):
        return url + "/query", url + "/update"
    return url, url


def locked_message(folder: Path) -> str:
    """What to do when another process holds the data folder."""
    return (
        f"the data folder {folder} is in use by another process (a running 'eti serve'?): "
        "stop that process, or work through it: 'eti token', 'register', 'withdraw', "
        "'history' and 'validate' take --server URL --token TOKEN"
    )


class RemoteStore(Store):
    """Any SPARQL 1.1 Query + Update endpoint. Queries naming no dataset see the server's
    default graph: run the server with a union default graph (``oxigraph serve
    --union-default-graph``, Fuseki ``unionDefaultGraph``) or name the graphs."""

    kind = "remote"
    batch_size: int = 20_000
    """Most quads per ``INSERT DATA`` request of a load; quads sharing blank nodes are
    never split (see ``_insert_batches``), so one such group may make a bigger request."""

    def __init__(
        self,
        url: str,
        *,
        update_url: str | None = None,
        token: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.url = url
        self.query_url, self.update_url = endpoint_urls(url, update_url)
        self.timeout = timeout
        self.query_timeout: float | None = None
        """Seconds a query may wait for the store's answer (the catalogue sets it to its
        ``query_timeout``); the remote engine's own limit must stop its work."""
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "eti-catalogue"
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        self._write_lock = threading.Lock()

    def _post(
        self,
        url: str,
        body: bytes,
        content_type: str,
        accept: str | None = None,
        params: list[tuple[str, str]] | None = None,
        stream: bool = False,
        timeout: float | None = None,
    ) -> requests.Response:
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        try:
            response = self._session.post(
                url,
                data=body,
                headers=headers,
                params=params,
                timeout=timeout or self.timeout,
                stream=stream,
            )
        except requests.Timeout as exc:
            raise StoreTimeout(f"the store at {url} sent nothing in time: {exc}") from None
        except requests.RequestException as exc:
            raise StoreError(f"the store at {url} does not answer: {exc}") from None
        html = "html" in response.headers.get("Content-Type", "")
        if response.status_code == 400 and not html:  # a SPARQL server's parse error
            raise QuerySyntaxError(response.text.strip()[:2000])
        if response.status_code >= 300:  # an HTML page: likely not a SPARQL endpoint
            from .remote import explain

            hint = " (is it a SPARQL endpoint? an 'eti serve' is reached with --server)"
            raise StoreError(f"the store at {url} answered {explain(response)}{hint * html}")
        return response

    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Term] | None = None,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union: bool = False,
        functions: bool = False,  # the remote engine has its own functions
    ) -> Result:
        params = [("default-graph-uri", g) for g in default_graph or () if g]
        params += [("named-graph-uri", g) for g in named_graphs or () if g]
        accept = "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.5"
        response = self._post(
            self.query_url,
            bind_inline(sparql, bindings).encode(),
            "application/sparql-query; charset=utf-8",
            accept,
            params,
            timeout=self.query_timeout,
        )
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media in RESULT_FORMATS:
            return ox.parse_query_results(response.content, RESULT_FORMATS[media])
        try:
            fmt = rdfio.format_for(media_type=media)
        except rdfio.RdfInputError:
            raise StoreError(f"the store answered an unknown media type {media!r}") from None
        triples = [
            ox.Triple(q.subject, q.predicate, q.object)
            for q in rdfio.iter_quads(response.content, fmt, source=self.query_url)
        ]
        return _Triples(triples)

    def update(self, sparql: str, *, bindings: Mapping[str, Term] | None = None) -> None:
        with self._write_lock:
            try:
                self._post(
                    self.update_url,
                    bind_inline(sparql, bindings).encode(),
                    "application/sparql-update; charset=utf-8",
                )
            finally:
                # even on an error: the store may have committed before its answer was lost,
                # and caches keyed to the generation must not outlive such a write
                self.generation += 1

    def load(
        self,
        source: Path | IO[bytes] | bytes,
        fmt: ox.RdfFormat,
        *,
        graph: str | None = None,
        progress: Progress | None = None,
    ) -> int:
        data, n = _check_parsed(source, fmt, progress, graph)
        with self._write_lock:
            for lines in _insert_batches(rdfio.iter_quads(data, fmt, graph=graph), self.batch_size):
                self._insert(lines)
        return n

    def _insert(self, lines: list[str]) -> None:
        self._post(
            self.update_url,
            ("INSERT DATA {\n" + "\n".join(lines) + "\n}").encode(),
            "application/sparql-update; charset=utf-8",
        )

    def dump(
        self,
        output: IO[bytes],
        fmt: ox.RdfFormat = ox.RdfFormat.N_QUADS,
        *,
        graph: str | None = None,
    ) -> None:
        sparql = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
        if graph is not None:
            sparql = bind_inline(sparql, {"g": ox.NamedNode(graph)})
        response = self._post(
            self.query_url,
            sparql.encode(),
            "application/sparql-query",
            "text/tab-separated-values",
            stream=True,
        )
        response.raw.decode_content = True
        rows = ox.parse_query_results(response.raw, ox.QueryResultsFormat.TSV)
        to = ox.NamedNode(graph) if graph else None

        def quads() -> Iterator[ox.Quad | ox.Triple]:
            for row in rows:
                if to is not None:
                    yield ox.Triple(row["s"], row["p"], row["o"])
                else:
                    yield ox.Quad(row["s"], row["p"], row["o"], row["g"])

        ox.serialize(quads(), output, fmt)

    def close(self) -> None:
        self._session.close()


def _blank_labels(term: Any) -> list[str]:
    """Labels of the blank nodes in a quad (or a triple term), graph name included."""
    if isinstance(term, ox.BlankNode):
        return [term.value]
    if isinstance(term, ox.Quad):
        parts = (term.subject, term.object, term.graph_name)
    elif isinstance(term, ox.Triple):
        parts = (term.subject, term.object)
    else:
        return []
    return [label for part in parts for label in _blank_labels(part)]


def _insert_batches(quads: Iterable[ox.Quad], size: int) -> Iterator[list[str]]:
    """The quads as ``INSERT DATA`` bodies of about ``size`` quads, never splitting the
    quads connected by blank nodes: a blank node label names a fresh node in each request,
    so a ``_:b`` shared by quads in two requests would become two nodes. Each connected
    group goes whole into one body (a group larger than ``size`` is a body of its own).
    Quads without blank nodes stream through; the others are held to the end of the input,
    when their groups are known (labels of anonymous nodes differ from parse to parse, so
    they cannot be grouped in a first pass)."""
    parent: dict[str, str] = {}

    def root(label: str) -> str:
        top = label
        while parent.setdefault(top, top) != top:
            top = parent[top]
        while parent[label] != top:  # path compression
            parent[label], label = top, parent[label]
        return top

    batch: list[str] = []
    held: list[tuple[str, str]] = []  # (one blank label of the quad, the quad's text)
    for quad in quads:
        labels = _blank_labels(quad)
        if not labels:
            batch.append(_quad_text(quad))
            if len(batch) >= size:
                yield batch
                batch = []
            continue
        first = root(labels[0])
        for label in labels[1:]:
            other = root(label)
            if other != first:
                parent[other] = first
        held.append((labels[0], _quad_text(quad)))
    groups: dict[str, list[str]] = {}
    for label, text in held:
        groups.setdefault(root(label), []).append(text)
    for lines in groups.values():
        if batch and len(batch) + len(lines) > size:
            yield batch
            batch = []
        batch.extend(lines)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _quad_text(quad: ox.Quad) -> str:
    if isinstance(quad.graph_name, ox.DefaultGraph):
        return f"{quad.subject} {quad.predicate} {quad.object} ."
    return f"GRAPH {quad.graph_name} {{ {quad.subject} {quad.predicate} {quad.object} }}"


class _Triples(list):
    """CONSTRUCT results from a remote store: a list of triples, iterable like QueryTriples."""

    def serialize(
        self, output: IO[bytes] | None = None, format: ox.RdfFormat | None = None
    ) -> bytes | None:
        return ox.serialize(self, output, format or ox.RdfFormat.N_TRIPLES)


def open_store(
    path: Path | str | None = None,
    url: str | None = None,
    *,
    update_url: str | None = None,
    token: str | None = None,
) -> Store:
    """The remote store when ``url`` is given, else the embedded store at ``path``."""
    if url:
        return RemoteStore(url, update_url=update_url, token=token)
    return OxigraphStore(path if path is not None else Path("var/store"))
