"""The remote store: any SPARQL 1.1 Query + Update endpoint reached over HTTP."""

from __future__ import annotations

import functools
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

import pyoxigraph as ox
import requests

from .. import rdfio
from .base import (
    RESULT_FORMATS,
    Progress,
    QuerySyntaxError,
    Result,
    Store,
    StoreDeadlock,
    StoreError,
    StoreTimeout,
    Term,
    bind_inline,
    check_parsed,
)
from .batches import insert_batches, insert_data
from .dialects import dialect_for, form_of, generation_query
from .explain import explain

DEADLOCK_RETRIES = 3  # a query that a deadlock between writers ended is asked again


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


class RemoteStore(Store):
    """Any SPARQL 1.1 Query + Update endpoint (``engine``: which dialect it speaks, see
    ``dialects``). Queries naming no dataset see the server's default graph.

    Every write through this class also replaces a token in the store (``generation``),
    in the same request: processes sharing the store read it to know whether anything
    changed since they cached an answer, a view or an index."""

    kind = "remote"
    batch_size: int = 20_000
    """Most quads per ``INSERT DATA`` request of a load; quads sharing blank nodes are
    never split (see ``batches.insert_batches``), so one such group may make a bigger request."""

    def __init__(
        self,
        url: str,
        *,
        update_url: str | None = None,
        token: str | None = None,
        timeout: float = 60.0,
        engine: str = "oxigraph",
        generation_ttl: float = 0.0,
    ) -> None:
        self.url = url
        self.dialect = dialect_for(engine)
        self.engine = self.dialect.name
        self.query_url, self.update_url = endpoint_urls(url, update_url)
        self.timeout = timeout
        self.query_timeout: float | None = None
        """Seconds a query may run: sent to the engine as its own limit where it has one
        per query (``dialects``), and the longest this client waits for the answer."""
        self.generation_ttl = generation_ttl
        """Seconds a generation read from the store is trusted (0: read on every use)."""
        self._generation: tuple[float, str] | None = None  # (read at, token)
        self.generation_reads = 0
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "eti-catalogue"
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        self._write_lock = threading.Lock()

    def visible(self, var: str = "?g") -> str:
        return self.dialect.visible(var)

    @property
    def generation(self) -> str:  # type: ignore[override]
        """The store's generation token, read from the store (see ``generation_ttl``)."""
        kept = self._generation
        if kept is not None and time.monotonic() - kept[0] < self.generation_ttl:
            return kept[1]
        at = time.monotonic()
        rows = self._select(generation_query(), None, None, self.query_timeout)
        token = " ".join(sorted(row["v"].value for row in rows))  # two racing writes: both
        self.generation_reads += 1
        self._generation = (at, token)
        return token

    def _post(
        self,
        url: str,
        body: bytes,
        content_type: str,
        accept: str | None = None,
        stream: bool = False,
        timeout: float | None = None,
    ) -> requests.Response:
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        try:
            response = self._session.post(
                url, data=body, headers=headers, timeout=timeout or self.timeout, stream=stream
            )
        except requests.Timeout as exc:
            raise StoreTimeout(f"the store at {url} sent nothing in time: {exc}") from None
        except requests.RequestException as exc:
            raise StoreError(f"the store at {url} does not answer: {exc}") from None
        html = "html" in response.headers.get("Content-Type", "")
        if response.status_code == 400 and not html:  # a SPARQL server's parse error
            raise QuerySyntaxError(response.text.strip()[:2000])
        if response.status_code >= 300:  # an HTML page: likely not a SPARQL endpoint
            hint = " (is it a SPARQL endpoint? an 'eti serve' is reached with --server)"
            raise StoreError(f"the store at {url} answered {explain(response)}{hint * html}")
        self.dialect.check(response)
        return response

    def _send_query(
        self,
        sparql: str,
        default_graph: Sequence[str] | None,
        named_graphs: Sequence[str] | None,
        accept: str,
        timeout: float | None,
        stream: bool = False,
    ) -> requests.Response:
        form = self.dialect.query_form(
            self.dialect.text(sparql), default_graph, named_graphs, timeout
        )
        post = functools.partial(
            self._post,
            self.query_url,
            urlencode(form).encode(),
            "application/x-www-form-urlencoded",
            accept,
            stream=stream,
            timeout=timeout,
        )
        for attempt in range(DEADLOCK_RETRIES):
            try:
                return post()
            except StoreDeadlock:  # a read changes nothing: asked again
                time.sleep(0.05 * (attempt + 1))
        return post()

    def _select(
        self,
        sparql: str,
        default_graph: Sequence[str] | None,
        named_graphs: Sequence[str] | None,
        timeout: float | None,
    ) -> Result:
        form = form_of(sparql)
        accept = self.dialect.accept(form)
        response = self._send_query(sparql, default_graph, named_graphs, accept, timeout)
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media in RESULT_FORMATS:
            body = self.dialect.body(response)
            result = ox.parse_query_results(body, RESULT_FORMATS[media])
            return self.dialect.adapt(form, result)
        try:
            fmt = rdfio.format_for(media_type=_GRAPH_MEDIA.get(media, media))
        except rdfio.RdfInputError:
            raise StoreError(f"the store answered an unknown media type {media!r}") from None
        triples = [
            ox.Triple(q.subject, q.predicate, q.object)
            for q in rdfio.iter_quads(
                self.dialect.body(response).read(), fmt, source=self.query_url
            )
        ]
        return _Triples(triples)

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
        text = bind_inline(sparql, bindings)
        if functions and self.functions is not None:
            text = self.functions.inline(text)  # the engine has none of the catalogue's
        return self._select(text, default_graph, named_graphs, self.query_timeout)

    def _write(self, sparql: str) -> None:
        """Send one update, with the bump of the generation in the same request."""
        token = uuid.uuid4().hex
        body, media = self.dialect.update_request(
            self.dialect.bump(self.dialect.text(sparql), token)
        )
        try:
            self._post(self.update_url, body, media)
        except StoreDeadlock:
            # Virtuoso reports a deadlock with writers of other processes although it ran
            # the request (each product found whole afterwards). The new token is written
            # by the request's last operation, and Virtuoso stops at an operation that
            # fails: the token in the store means that every operation ran.
            self._generation = None
            if self.generation != token:
                raise
        finally:
            # even on an error: the store may have committed before its answer was lost,
            # and caches keyed to the generation must not outlive such a write
            self._generation = None

    def update(self, sparql: str, *, bindings: Mapping[str, Term] | None = None) -> None:
        with self._write_lock:
            self._write(bind_inline(sparql, bindings))

    def update_derived(self, sparql: str) -> None:
        """Send an update of derived graphs alone, without bumping the generation."""
        body, media = self.dialect.update_request(self.dialect.text(sparql))
        with self._write_lock:
            self._post(self.update_url, body, media)

    def load(
        self,
        source: Path | IO[bytes] | bytes,
        fmt: ox.RdfFormat,
        *,
        graph: str | None = None,
        progress: Progress | None = None,
    ) -> int:
        data, n = check_parsed(source, fmt, progress, graph)
        with self._write_lock:
            quads = rdfio.iter_quads(data, fmt, graph=graph)
            default = self.dialect.default_graph_iri()
            for lines in insert_batches(quads, self.batch_size, default):
                self._write(insert_data(lines))
        return n

    def dump(
        self,
        output: IO[bytes],
        fmt: ox.RdfFormat = ox.RdfFormat.N_QUADS,
        *,
        graph: str | None = None,
    ) -> None:
        sparql = f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER ({self.visible()}) }}"
        if graph is not None:
            sparql = bind_inline(sparql, {"g": ox.NamedNode(graph)})
        media = self.dialect.dump_media
        response = self._send_query(sparql, None, None, media, None, stream=True)
        rows = ox.parse_query_results(self.dialect.body(response), RESULT_FORMATS[media])
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


_GRAPH_MEDIA = {"text/plain": "application/n-triples", "text/ntriples": "application/n-triples"}


class _Triples(list):
    """CONSTRUCT results from a remote store: a list of triples, iterable like QueryTriples."""

    def serialize(
        self, output: IO[bytes] | None = None, format: ox.RdfFormat | None = None
    ) -> bytes | None:
        return ox.serialize(self, output, format or ox.RdfFormat.N_TRIPLES)
