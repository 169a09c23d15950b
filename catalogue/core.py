"""The owner of the catalogue's state: settings, the store, and the reading views."""

from __future__ import annotations

from datetime import datetime

from . import demo, queries, sparqltext, vocab
from .config import Settings
from .graphs import READ_VIEW
from .namespaces import VOCABULARIES, content_graph
from .store import Store, open_store


class QueryRefused(ValueError):
    """A query the catalogue will not run (e.g. SERVICE to an endpoint not allowed)."""


class Catalogue:
    """One catalogue: a store plus the rules for who sees which graphs."""

    def __init__(self, settings: Settings | None = None, store: Store | None = None) -> None:
        self.settings = settings or Settings()
        self.store = store or open_store(
            self.settings.store,
            self.settings.store_url,
            update_url=self.settings.store_update_url,
            token=self.settings.store_token,
        )

    def close(self) -> None:
        """Release the store."""
        self.store.close()

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
        return done

    def open_content_graphs(self) -> list[str]:
        """Content graphs of products with an open offer (readable by anyone)."""
        rows = self.store.query(queries.load("open-products"), default_graph=list(READ_VIEW))
        return [content_graph(row["id"].value) for row in rows]

    def public_view(self) -> list[str]:
        """The graphs an anonymous caller may read."""
        return [*READ_VIEW, *self.open_content_graphs()]

    def check_services(self, info: sparqltext.QueryInfo) -> None:
        """Refuse SERVICE calls outside the allow-list before any connection is made."""
        for iri in info.services:
            if iri is None:
                raise QueryRefused("SERVICE with a variable endpoint is not allowed")
            if not any(iri.startswith(prefix) for prefix in self.settings.service_allow):
                raise QueryRefused(f"SERVICE <{iri}> is not on the allow-list (service_allow)")

    def query(
        self,
        sparql: str,
        *,
        graphs: list[str] | None = None,
        default_graph_uri: list[str] | None = None,
        named_graph_uri: list[str] | None = None,
    ):
        """Run a query confined to ``graphs`` (default: the public view).

        With no dataset named, the default graph is the union of the view and every graph
        of the view is reachable by name; FROM / FROM NAMED and the protocol's graph
        parameters choose within the view (a graph outside it reads as empty).
        """
        info = sparqltext.inspect(sparql)
        self.check_services(info)
        view = graphs if graphs is not None else self.public_view()
        default, named = sparqltext.dataset(view, info, default_graph_uri, named_graph_uri)
        return self.store.query(sparql, default_graph=default, named_graphs=named)
