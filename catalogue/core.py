"""The owner of the catalogue's state: settings, the store, and the reading views."""

from __future__ import annotations

from datetime import datetime

import pyoxigraph as ox

from . import demo, queries, vocab
from .config import Settings
from .graphs import READ_VIEW
from .namespaces import VOCABULARIES, content_graph
from .store import Store, open_store


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

    def query(
        self,
        sparql: str,
        *,
        graphs: list[str] | None = None,
        bindings: dict[str, ox.NamedNode | ox.Literal] | None = None,
    ):
        """Run a query over ``graphs`` (default: the public view), default graph = their union,
        and only those graphs reachable by name."""
        view = graphs if graphs is not None else self.public_view()
        return self.store.query(sparql, bindings=bindings, default_graph=view, named_graphs=view)
