"""The owner of the catalogue's state: settings, the store, and the reading views."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from urllib.parse import urlsplit

import pyoxigraph as ox

from . import (
    agreements,
    clock,
    demo,
    fairness,
    ownership,
    queries,
    registry,
    search,
    sparqlguard,
    sparqltext,
    views,
    vocab,
)
from .answercache import AnswerCache
from .auth import Identity
from .config import Settings
from .executor import Answer, InlineRunner, Job, QueryPool
from .graphs import READ_VIEW, collapse, ensure_opened
from .namespaces import (
    OPENED,
    PREFIXES,
    READ,
    SYSTEM,
    VIEW_PREFIX,
    VIEWS,
    VOCABULARIES,
    agreement_graph,
    content_graph,
    product_graph,
)
from .sparqlfunctions import FUNCTIONS
from .store import DEFAULT_GRAPH, OxigraphStore, RemoteStore, Store, open_store
from .validating import BoundedValidator

_RUNNER_LOCK = threading.Lock()


@dataclass
class Access:
    """A caller's reading view: graphs, and the agreements that opened content in it."""

    graphs: Sequence[str]  # a tuple once kept (``Catalogue.access``): shared, never copied
    agreements: list = field(default_factory=list)
    opened: frozenset[str] = frozenset()  # content graphs read through the open view
    default: list[str] | None = None  # the same triples as ``graphs``, in two graphs
    tag: str = ""  # a digest of the view (``graphs`` and ``default``), made once a generation
    members: frozenset[str] | None = field(default=None, repr=False, compare=False)

    def fingerprint(self) -> str:
        """A short digest of the view: what an entity tag or a cache key needs of it. An
        admin's view lists every graph of the catalogue; sorting and hashing that list on
        every request was most of an admin's answer time (130 ms at 10,000 products)."""
        if not self.tag:
            digest = hashlib.sha256()
            for graph in sorted(self.graphs):
                digest.update(graph.encode() + b"\0")
            digest.update(repr((self.default, sorted(self.opened))).encode())
            self.tag = digest.hexdigest()[:32]
        return self.tag

    def reads(self, graph: str) -> bool:
        """True when the view holds ``graph``: listed, or open content read through the
        open view (the one decision the API, the pages and history share)."""
        if self.members is None:  # once: an admin's view lists every graph
            self.members = frozenset(self.graphs)
        return graph in self.opened or graph in self.members


def _own_default(
    access: Access | None,
    info: sparqltext.QueryInfo,
    default_graph_uri: list[str] | None,
    named_graph_uri: list[str] | None,
) -> list[str] | None:
    """The caller's two-graph default (read + its view), when the query reads the
    caller's whole dataset (no FROM, FROM NAMED or protocol graph parameters); else None.
    Only a caller's own ``Access`` gives it: see ``Catalogue.default_graph``."""
    whole = not (default_graph_uri or named_graph_uri or info.has_dataset)
    if access is None or not access.default or not whole:
        return None
    return list(access.default)


def _derived(graph: str) -> bool:
    """Graphs the catalogue derives from others (admins read their sources instead)."""
    return graph in (VIEWS, OPENED, "urn:eti:graph:staged") or graph.startswith(VIEW_PREFIX)


class QueryRefused(ValueError):
    """A query the catalogue will not run (e.g. SERVICE to an endpoint not allowed)."""


_DEFAULT_PORTS = {"http": 80, "https": 443}


def service_allowed(iri: str, entry: str) -> bool:
    """True when the SERVICE endpoint ``iri`` lies under the allow-list ``entry``.

    Compared as URLs, not as text: same scheme, host and port, no user part, and a path
    that continues the entry's at a segment boundary. A text prefix would let
    ``https://data.norge.no@127.0.0.1/`` or ``https://data.norge.no.evil.example/``
    through an entry of ``https://data.norge.no``.
    """
    try:
        target, allowed = urlsplit(iri), urlsplit(entry)
        ports = (
            target.port or _DEFAULT_PORTS.get(target.scheme.lower()),
            allowed.port or _DEFAULT_PORTS.get(allowed.scheme.lower()),
        )
    except ValueError:  # a malformed port or bracketed host
        return False
    if any(c in iri for c in "\\ \t\r\n") or target.username is not None or target.password:
        return False
    if target.scheme.lower() not in _DEFAULT_PORTS or not target.hostname:
        return False
    if (target.scheme.lower(), target.hostname, ports[0]) != (
        allowed.scheme.lower(),
        allowed.hostname,
        ports[1],
    ):
        return False
    segments = target.path.lower().replace("%2e", ".").split("/")
    if "." in segments or ".." in segments:  # would climb out of the allowed path
        return False
    base = allowed.path
    if not base or base == "/":
        return True
    if target.path == base:
        return True
    return target.path.startswith(base if base.endswith("/") else base + "/")


class Catalogue:
    """One catalogue: a store plus the rules for who sees which graphs."""

    def __init__(self, settings: Settings | None = None, store: Store | None = None) -> None:
        self.settings = settings or Settings()
        if self.settings.clock:  # the settings name a clock: the catalogue runs on it
            clock.use(self.settings.clock)
        self._runner: QueryPool | InlineRunner | None = None
        self._searcher: search.Searcher | None = None
        self._answers: AnswerCache | None = None
        self._accesses: dict[tuple, tuple[int, Access]] = {}
        self._validator: BoundedValidator | None = None
        self.callers = fairness.CallerLimit(self.settings.per_caller_queries)
        self.validations = fairness.CallerLimit(self.settings.per_caller_queries, "validations")
        self.store = store or open_store(
            self.settings.store,
            self.settings.store_url,
            update_url=self.settings.store_update_url,
            token=self.settings.store_token,
            engine=self.settings.store_engine,
            generation_ttl=self.settings.store_generation_ttl,
        )
        if self.store.functions is None:  # the store knows no domain module: given here
            self.store.functions = FUNCTIONS
        if isinstance(self.store, RemoteStore):
            self.store.query_timeout = self.settings.query_timeout

    def close(self) -> None:
        """Release the query workers and the store."""
        if self._runner is not None:
            self._runner.close()
        if self._validator is not None:
            self._validator.close()
        self.store.close()

    @property
    def searcher(self) -> search.Searcher:
        """The search index of the public catalogue (rebuilt after writes)."""
        if self._searcher is None:
            self._searcher = search.Searcher(self.store)
        return self._searcher

    @property
    def answers(self) -> AnswerCache | None:
        """Whole answers kept until the next write, when ``answer_cache`` is not 0: each is
        kept under the store's generation, which a write through any process sharing a
        remote store changes (the embedded store also clears the cache at each write)."""
        if self._answers is None and self.settings.answer_cache > 0:
            with _RUNNER_LOCK:
                if self._answers is None:
                    cache = AnswerCache(self.settings.answer_cache * 1024 * 1024)
                    if isinstance(self.store, OxigraphStore):
                        self.store.on_write.append(cache.clear)
                    self._answers = cache
        return self._answers

    @property
    def validator(self) -> BoundedValidator:
        """What validates input sent to the validators: a worker process bounded in time
        and memory (started on first use)."""
        if self._validator is None:
            with _RUNNER_LOCK:
                if self._validator is None:
                    s = self.settings
                    self._validator = BoundedValidator(
                        timeout=s.validate_timeout, memory_mib=s.validate_memory
                    )
        return self._validator

    @property
    def runner(self) -> QueryPool | InlineRunner:
        """What answers read queries: worker processes for the embedded store on disk
        (so a timeout can stop the work), this process otherwise."""
        if self._runner is None:
            with _RUNNER_LOCK:  # concurrent first requests must not each start a pool
                if self._runner is None:
                    self._runner = self._new_runner()
        return self._runner

    def _new_runner(self) -> QueryPool | InlineRunner:
        store, s = self.store, self.settings
        if isinstance(store, OxigraphStore) and store.path is not None and s.query_workers > 0:
            pool = QueryPool(
                str(store.path),
                workers=s.query_workers,
                timeout=s.query_timeout,
                queue_wait=s.query_queue_wait,
                offline=not s.service_allow,  # no SERVICE allowed: workers need no network
            )
            store.on_write.append(pool.written)
            return pool
        return InlineRunner(store.query, timeout=s.query_timeout)

    def __enter__(self) -> Catalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self, *, demo_if_empty: bool = False, now: datetime | None = None) -> dict:
        """Install the shipped vocabularies when missing; load the demo into an empty store."""
        done: dict[str, int] = {}
        empty = self.store.is_empty()
        if empty or not self.store.count(VOCABULARIES):
            done["vocabulary_triples"] = vocab.install(self.store)
        if empty and demo_if_empty:
            done.update(demo.load(self.store, now=now))
        elif not empty and (claims := ownership.ensure(self.store)):
            done["ownership_claims"] = claims
        if not empty and ensure_opened(self.store):
            done["opened_recorded"] = 1
        return done

    def reads_content(
        self, who: Identity, record: registry.Record, *, purpose: str | None = None
    ) -> bool:
        """True when ``who`` may read the product's content (also in its history) for
        ``purpose`` (None: any): an admin, a steward of its owner, or a caller whose view
        holds or opens it."""
        if who.role == "admin":
            return True
        if who.role == "steward" and who.org and who.org == registry.owner_of(self.store, record):
            return True
        return self.access(who, purpose=purpose).reads(content_graph(record.ident))

    def access(
        self, who: Identity, *, purpose: str | None = None, today: date | None = None
    ) -> Access:
        """What ``who`` may read now (see ``_access``), worked out once per caller, purpose
        and day between two writes: an admin's view lists every graph of the catalogue
        (a scan of the whole store) and every view is reconciled with its sources, which
        only a write can change. Over a remote store the generation is the store's own,
        changed by a write through any process."""
        # the generation is read first: an access worked out while a write lands is kept
        # under the older generation, never served as the newer one's
        generation = self.store.generation
        key = (who.role, who.org, who.channel, purpose, today or clock.today())
        kept = self._accesses.get(key)
        if kept is None or kept[0] != generation:
            kept = (generation, self._access(who, purpose=purpose, today=today))
            # kept immutable and handed out shared: copying an admin's list of every graph
            # (300,000 at 100,000 products) on each request was 7 ms of it
            kept[1].graphs = tuple(kept[1].graphs)
            kept[1].members = frozenset(kept[1].graphs)
            kept[1].fingerprint()  # once, here: every copy handed out carries both
            with _RUNNER_LOCK:
                if len(self._accesses) > 4096:
                    self._accesses.clear()
                self._accesses[key] = kept
        access = kept[1]
        return replace(access, agreements=list(access.agreements))

    def _access(
        self, who: Identity, *, purpose: str | None = None, today: date | None = None
    ) -> Access:
        """What ``who`` may read now, for ``purpose`` (None: any purpose its agreements
        permit): the graphs of its view and the agreements that open content in it.

        Everyone reads the public view (metadata, records, vocabularies) and the content
        of products with an open offer; a steward also its organisation's content and
        agreements; a channel the content its agreements in force open, and its own
        agreements; an admin every graph but the system graph.
        """
        if who.role == "admin":
            # every named graph but the system graph and the derived ones, and the
            # store's default graph
            named = [g for g in self.store.graph_names() if g != SYSTEM and not _derived(g)]
            return self._materialize(Access([DEFAULT_GRAPH, *named], []), "admin")
        graphs = self.public_view()
        granted: list[agreements.Agreement] = []
        key = None
        if who.role == "steward" and who.org:
            rows = self.store.query(
                queries.load("own-products"), bindings={"orgnr": ox.Literal(who.org)}
            )
            graphs += [content_graph(row["id"].value) for row in rows]
            graphs += [agreement_graph(a.ident) for a in agreements.for_caller(self.store, who)]
            key = f"org:{who.org}"
        elif who.role == "channel" and who.channel:
            mine = agreements.for_caller(self.store, who)
            graphs += [agreement_graph(a.ident) for a in mine]
            today = today or clock.today()
            for agreement in mine:
                if agreement.in_force(today, purpose):
                    ident = registry.id_of_iri(self.store, ox.NamedNode(agreement.target))
                    if ident:
                        graphs.append(content_graph(ident))
                        granted.append(agreement)
            # one view per purpose the channel's agreements name, one for any purpose, and
            # one for every other purpose (they open nothing): never one per caller's word
            named = {a.purpose for a in mine}
            chosen = "*" if purpose is None else purpose if purpose in named else "-"
            key = f"channel:{who.channel} purpose:{chosen}"
        # the content of open products is in the "open" graph already: listing it again
        # would count every triple twice in the union (and make joins explode)
        opened = self.open_content()
        graphs = [g for g in graphs if g not in opened]
        access = Access(list(dict.fromkeys(graphs)), granted, opened)
        return self._materialize(access, key) if key else access

    def _materialize(self, access: Access, key: str) -> Access:
        """Give ``access`` its two-graph default (read + the caller's view), made to hold
        the view's graphs now; remembered for queries over exactly that view."""
        view = views.ensure(self.store, key, access.graphs, self.open_content())
        default = [READ, view]
        if DEFAULT_GRAPH in access.graphs and self.store.query(
            "ASK { ?s ?p ?o }", default_graph=[DEFAULT_GRAPH]
        ):
            default.append(DEFAULT_GRAPH)
        access.default = default
        return access

    def default_graph(self, graphs: list[str]) -> list[str]:
        """The graphs to give the engine as the default graph of ``graphs``' union: ``read``
        for the public part (see ``graphs.collapse``). A caller's two-graph default comes
        with its ``Access`` only, never looked up by a list of graphs: a view is named by
        its caller, and once reconciled to that caller's new list it no longer holds the
        old one (an anonymous caller was given a steward's view that way)."""
        return collapse(graphs)

    def open_content(self) -> frozenset[str]:
        """Content graphs of products with an open offer (cached until the next write)."""
        cached = getattr(self, "_open_cache", None)
        # the generation is read before the query: a write that lands while it runs then
        # leaves the answer keyed to the older generation, never a stale answer to the new
        generation = self.store.generation
        if cached is not None and cached[0] == generation:
            return cached[1]
        rows = self.store.query(queries.load("open-content-graphs"))
        opened = frozenset(row["g"].value for row in rows)
        self._open_cache = (generation, opened)
        return opened

    def build_views(self) -> None:
        """Build ahead the views read over the whole catalogue (an admin's), which a
        restore or a raw load leaves to be built: at 10,000 products that is 20 s of the
        engine's time that would otherwise fall on the admin's first request."""
        self.access(Identity(role="admin"))

    def reading_view(
        self, who: Identity, *, purpose: str | None = None, today: date | None = None
    ) -> Access:
        """Like ``access``, but for an admin the public view and every content graph of a
        closed product, instead of every graph (whose derived views repeat the rest)."""
        if who.role != "admin":
            return self.access(who, purpose=purpose, today=today)
        opened = self.open_content()
        closed = [
            g
            for g in self.store.graph_names()
            if g.startswith("urn:eti:graph:content:") and g not in opened
        ]
        return self._materialize(Access([*READ_VIEW, *closed], []), "admin:content")

    def view_for(self, who: Identity, *, purpose: str | None = None) -> list[str]:
        """The graphs ``who`` may read now (see ``access``)."""
        return self.access(who, purpose=purpose).graphs

    def product_triples(
        self,
        ident: str,
        who: Identity,
        *,
        purpose: str | None = None,
        access: Access | None = None,
    ) -> list[ox.Triple]:
        """A product's description, and its content when ``who`` may read it for
        ``purpose`` (None: any purpose); ``access``: the caller's view, when known."""
        content = content_graph(ident)
        # one view: open and granted content judged together
        access = access or self.access(who, purpose=purpose)
        if access.reads(content):
            return self.store.triples(product_graph(ident), content)
        return self.store.triples(product_graph(ident))

    def public_view(self) -> list[str]:
        """The graphs an anonymous caller may read: a handful, whatever the catalogue's
        size (the open content is kept together in one graph)."""
        return list(READ_VIEW)

    def check_services(self, sparql: str) -> sparqltext.QueryInfo:
        """What ``sparql`` names (``sparqlguard.examine``), after refusing SERVICE calls
        outside the allow-list before any connection is made — on the embedded store and
        before a remote store is sent anything — and texts that cannot be read safely
        (nested too deeply, a bad escape)."""
        try:
            info = sparqlguard.examine(sparql)
        except ValueError as exc:
            raise QueryRefused(str(exc)) from None
        for iri in info.services:
            if iri is None:
                raise QueryRefused("SERVICE with a variable endpoint is not allowed")
            if not any(service_allowed(iri, entry) for entry in self.settings.service_allow):
                raise QueryRefused(f"SERVICE <{iri}> is not on the allow-list (service_allow)")
        return info

    def query(
        self,
        sparql: str,
        *,
        graphs: list[str] | None = None,
        default_graph_uri: list[str] | None = None,
        named_graph_uri: list[str] | None = None,
        access: Access | None = None,
    ):
        """Run a query confined to ``graphs`` (default: the public view, or ``access``'s
        graphs, read through its two-graph default).

        With no dataset named, the default graph is the union of the view and every graph
        of the view is reachable by name; FROM / FROM NAMED and the protocol's graph
        parameters choose within the view (a graph outside it reads as empty).
        """
        info = self.check_services(sparql)
        if access is not None:
            graphs = list(access.graphs)
        view = graphs if graphs is not None else self.public_view()
        default, named = sparqltext.dataset(view, info, default_graph_uri, named_graph_uri)
        own = _own_default(access, info, default_graph_uri, named_graph_uri)
        return self.store.query(
            sparql, default_graph=own or self.default_graph(default), named_graphs=named
        )

    def answer(
        self,
        sparql: str,
        *,
        graphs: list[str] | None = None,
        default_graph_uri: list[str] | None = None,
        named_graph_uri: list[str] | None = None,
        solutions_media: str = "application/sparql-results+json",
        graph_media: str = "text/turtle",
        max_rows: int | None = None,
        caller: str | None = None,
        timeout: float | None = None,
        access: Access | None = None,
    ) -> Answer:
        """Answer a query for the protocol: serialised, row-limited, within the time limit
        (``timeout``, default ``query_timeout``); ``caller`` (a token id or a client
        address) runs at most ``per_caller_queries`` at once (see ``fairness``).
        ``access``: the caller's view, when its graphs are ``graphs`` (its two-graph
        default is then used as it is, not looked up by the list of its graphs).

        Raises QueryRefused, QueryFailed, QueryTimeout, Overloaded or TooManyQueries.
        """
        info = self.check_services(sparql)
        view = graphs if graphs is not None else self.public_view()
        own = _own_default(access, info, default_graph_uri, named_graph_uri)
        if own and access is not None and graphs is access.graphs:
            # the caller's two-graph default; its graphs by name only when the text names
            # any (as ``sparqltext.dataset`` decides), never copied otherwise
            default_graph = own
            named = list(view) if info.uses_graph else []
        else:
            default, named = sparqltext.dataset(view, info, default_graph_uri, named_graph_uri)
            default_graph = self.default_graph(default)
        job = Job(
            sparql,
            default_graph=default_graph,
            named_graphs=named,
            solutions_media=solutions_media,
            graph_media=graph_media,
            max_rows=self.settings.max_rows if max_rows is None else max_rows,
            prefixes=PREFIXES,
        )
        cache = self.answers
        if cache is None or info.volatile or info.services:
            return self._run(job, caller, timeout)
        key = (sparql, tuple(job.default_graph or ()), tuple(named), solutions_media)
        key += (graph_media, job.max_rows, clock.today())  # eti:today() and views by date
        generation = self.store.generation  # before the query: see AnswerCache
        kept = cache.get(key, generation)
        if kept is not None:
            return kept
        return cache.keep(key, generation, self._run(job, caller, timeout))

    def _run(self, job: Job, caller: str | None, timeout: float | None) -> Answer:
        """Run ``job``, holding one of the caller's slots while it runs: until its body
        ends when a worker process streams it, until ``run`` returns when this process
        answered it whole."""
        release = self.callers.enter(caller)
        try:
            answer = self.runner.run(job, timeout)
        except BaseException:
            release()
            raise
        if isinstance(self.runner, QueryPool):
            return fairness.holding(answer, release)
        release()
        return answer
