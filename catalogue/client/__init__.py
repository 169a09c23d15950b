"""A Python client for channel integrators (``eti.client``), built on SPARQLWrapper.

from eti.client import Client
eti = Client("http://127.0.0.1:8080", token=TOKEN,
             purpose="https://w3id.org/dpv#ServiceProvision")
hits = eti.products(q="avlastning")                      # search with facets
eti.add_need("Avlastning", themes=["https://psi.norge.no/los/tema/avlastning-og-stotte"])
deal = eti.request_agreement(OFFER, start="2026-12-01", end="2027-11-30")
rows = eti.select("SELECT ?s ?t WHERE { ?s dct:title ?t } ORDER BY ?s")
graph = eti.graph("DESCRIBE <https://eti.example/products/nav-pleiepenger>")
family = eti.situation(municipality="4207", age=7, needs=["avlastning"])
for applied in follow("http://127.0.0.1:8080", "var/mirror", token=TOKEN):  # a local copy
    print(applied, "members applied")                    # after each poll
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import rdflib
import requests
from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper

from .mirror import Mirror, MirrorError, follow

__all__ = ["Client", "ClientError", "Mirror", "MirrorError", "follow"]

PREFIXES = """PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dprod: <https://ekgf.github.io/dprod/>
PREFIX cpsv: <http://purl.org/vocab/cpsv#>
PREFIX cv: <http://data.europa.eu/m8g/>
PREFIX odrl: <http://www.w3.org/ns/odrl/2/>
PREFIX eti: <https://w3id.org/eti#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
SERVICE_PROVISION = "https://w3id.org/dpv#ServiceProvision"


class ClientError(RuntimeError):
    """The catalogue refused a request; ``status`` and ``detail`` say why."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class Client:
    """One channel's (or steward's) connection to an ETI catalogue."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        purpose: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.purpose = purpose
        self.timeout = timeout
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        if purpose:
            self.session.headers["ETI-Purpose"] = purpose

    # -- SPARQL ------------------------------------------------------------------------

    def _wrapper(self, query: str, fmt: str) -> SPARQLWrapper:
        sparql = SPARQLWrapper(self.url + "/sparql")
        sparql.setMethod(POST)
        sparql.setTimeout(int(self.timeout))
        if self.token:
            sparql.addCustomHttpHeader("Authorization", f"Bearer {self.token}")
        if self.purpose:
            sparql.addCustomHttpHeader("ETI-Purpose", self.purpose)
        text = query if re.search(r"^\s*PREFIX\s", query, re.I | re.M) else PREFIXES + query
        sparql.setQuery(text)
        sparql.setReturnFormat(fmt)
        return sparql

    def select(self, query: str) -> list[dict[str, str]]:
        """Rows of a SELECT as dicts of plain values (unbound variables left out)."""
        result = self._wrapper(query, JSON).query().convert()
        return [{k: v["value"] for k, v in row.items()} for row in result["results"]["bindings"]]

    def rows(self, query: str, *, page_size: int = 1000) -> Iterator[dict[str, str]]:
        """Every row of a SELECT, fetched ``page_size`` at a time (give the query an
        ORDER BY so pages are stable)."""
        if re.search(r"\bLIMIT\b|\bOFFSET\b", query, re.I):
            raise ValueError("rows() pages the query itself: leave out LIMIT and OFFSET")
        offset = 0
        while True:
            page = self.select(f"{query}\nLIMIT {page_size} OFFSET {offset}")
            yield from page
            if len(page) < page_size:
                return
            offset += page_size

    def ask(self, query: str) -> bool:
        """The answer of an ASK."""
        return bool(self._wrapper(query, JSON).query().convert()["boolean"])

    def graph(self, query: str) -> rdflib.Graph:
        """The result of a CONSTRUCT or DESCRIBE as an rdflib Graph."""
        data = self._wrapper(query, TURTLE).query().convert()
        graph = rdflib.Graph()
        graph.parse(data=data, format="turtle")
        return graph

    # -- REST --------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request to the catalogue with the caller's token and purpose; the answer
        whatever its status (for fronts that tell a refusal their own way, as ``eti``
        does). A server that does not answer raises ``requests.RequestException``."""
        return self.session.request(method, self.url + path, timeout=self.timeout, **kwargs)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        body = (
            response.json() if "json" in response.headers.get("Content-Type", "") else response.text
        )
        if response.status_code >= 400:
            raise ClientError(
                response.status_code, body.get("detail") if isinstance(body, dict) else body
            )
        return body

    def products(
        self, q: str = "", *, page: int = 1, per_page: int = 20, **facets: str | Sequence[str]
    ) -> dict[str, Any]:
        """Search the catalogue (``theme=``, ``publisher=``, ``event=``, ``municipality=``,
        ``status=``): results, facets with counts, paging."""
        params: list[tuple[str, str]] = [("q", q), ("page", str(page)), ("per_page", str(per_page))]
        for name, values in facets.items():
            for value in [values] if isinstance(values, str) else values:
                params.append((name, value))
        return self._call("GET", "/api/products", params=params)

    def add_need(
        self,
        description: str,
        *,
        themes: Sequence[str] = (),
        life_event: str | None = None,
        spatial: str | None = None,
        lang: str = "nb",
    ) -> str:
        """Record one of the channel's information needs (themes and/or a life event,
        known concepts; optionally the area it is for); returns the need's IRI."""
        body: dict[str, Any] = {"description": description, "themes": list(themes), "lang": lang}
        if life_event:
            body["life_event"] = life_event
        if spatial:
            body["spatial"] = spatial
        return self._call("POST", "/api/needs", json=body)["need"]

    def needs(self) -> list[dict[str, Any]]:
        """The channel's needs and the products meeting them, with agreement status."""
        return self._call("GET", "/api/needs")["needs"]

    def request_agreement(
        self, offer: str, *, start: str, end: str, purpose: str | None = None
    ) -> dict[str, Any]:
        """Request an offer for a period; an open offer comes back active."""
        return self._call(
            "POST",
            "/api/agreements",
            json={
                "offer": offer,
                "purpose": purpose or self.purpose or SERVICE_PROVISION,
                "start": start,
                "end": end,
            },
        )

    def agreements(self) -> list[dict[str, Any]]:
        """The caller's agreements with their status."""
        return self._call("GET", "/api/agreements")["agreements"]

    def situation(
        self, *, municipality: str, age: int | None = None, needs: Sequence[str] = ()
    ) -> dict[str, Any]:
        """What applies to a family, grouped by need, with sources and freshness."""
        params: list[tuple[str, str]] = [("municipality", municipality)]
        if age is not None:
            params.append(("age", str(age)))
        params += [("need", n) for n in needs]
        return self._call("GET", "/api/situation", params=params)
