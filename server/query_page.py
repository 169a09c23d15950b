"""The SPARQL editor (``/query``): a query's result shown as a table with downloads, or,
asked for a result format, the answer ``/sparql`` gives, over the signed-in caller's view."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Response, g, request, url_for

from eti.catalogue import media
from eti.catalogue.core import QueryRefused
from eti.catalogue.namespaces import is_valid_id

from . import current
from .errors import Problem
from .i18n import language
from .negotiation import GRAPHS, SOLUTIONS
from .pages import (
    HTML_TYPES,
    bp,
    catalogue,
    declared_purpose,
    link_target,
    render,
    who,
)
from .sparql import fair_share

PAGE_ROWS = 500  # most rows the query page shows (downloads have them all)
# Result downloads on the query page: ?format= names the SPARQL endpoint understands.
SOLUTION_DOWNLOADS = [("json", "JSON"), ("xml", "XML"), ("csv", "CSV"), ("tsv", "TSV")]
GRAPH_DOWNLOADS = [(s.names[0], s.title) for s in media.SYNTAXES]
PROTOCOL_TYPES = [*SOLUTIONS, *GRAPHS]  # what /sparql answers in
DEFAULT_QUERY = """PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dprod: <https://ekgf.github.io/dprod/>

SELECT ?product ?title ?modified WHERE {
  ?product a dprod:DataProduct ;
           dct:title ?title ;
           dct:modified ?modified .
  FILTER(LANG(?title) = "nb")
}
ORDER BY DESC(?modified)
"""


def _examples() -> list[dict[str, str]]:
    from eti.catalogue import demo

    out = []
    for name, text in demo.example_queries().items():
        head = {"title": name, "description": ""}
        for line in text.splitlines():
            match = re.match(r"#\s*(title|title-en|description):\s*(.*)", line)
            if match:
                head[match[1]] = match[2].strip()
            elif line.strip() and not line.startswith("#"):
                break
        # the title in the page's language (Bokmål, or the English title line)
        english = language() == "en" and head.get("title-en")
        title, title_lang = (head["title-en"], "en") if english else (head["title"], "nb")
        out.append(
            {
                "title": title,
                "title_lang": title_lang,
                "description": head["description"],
                "name": name,
                "text": text,
                "href": url_for("pages.query", query=text),
            }
        )
    return out


def display_prefixes() -> dict[str, str]:
    """Prefixes that shorten IRIs in result tables (the link keeps the whole IRI)."""
    from eti.catalogue.namespaces import PREFIXES

    eu = "http://publications.europa.eu/resource/authority/"
    return {
        **PREFIXES,
        "lostema": "https://psi.norge.no/los/tema/",
        "losord": "https://psi.norge.no/los/ord/",
        "loshendelse": "https://psi.norge.no/los/hendelse/",
        "enhet": "https://data.brreg.no/enhetsregisteret/api/enheter/",
        "theme": eu + "data-theme/",
        "freq": eu + "frequency/",
        "access": eu + "access-right/",
        "lang": eu + "language/",
        "filetype": eu + "file-type/",
        "licence": eu + "licence/",
        "diststatus": eu + "distribution-status/",
    }


def _compact(iri: str) -> str:
    best = ""
    for prefix, namespace in display_prefixes().items():
        local = iri[len(namespace) :]
        if (
            iri.startswith(namespace)
            and len(namespace) > len(best)
            and re.fullmatch(r"[\w.-]+", local)
        ):
            best, name = namespace, f"{prefix}:{local}"
    return name if best else iri


def _term(term: dict[str, str] | None) -> dict[str, Any] | None:
    """A result term for the template: its text, and a link where one helps."""
    if not term:
        return None
    kind, value = term.get("type"), term.get("value", "")
    out: dict[str, Any] = {"kind": kind, "value": value, "href": None, "note": "", "iri": ""}
    if kind == "uri":
        out["iri"], out["value"] = value, _compact(value)
        base = current.settings().base_iri + "products/"
        if value.startswith(base) and is_valid_id(value[len(base) :]):
            out["href"] = url_for("pages.product", ident=value[len(base) :])
        elif not value.startswith(current.settings().base_iri):
            out["href"] = link_target(value)
    elif kind == "bnode":
        out["value"] = "_:" + value
    elif kind == "literal":
        if term.get("xml:lang"):
            out["note"] = "@" + term["xml:lang"]
        elif term.get("datatype"):
            out["note"] = re.split(r"[#/]", term["datatype"])[-1]
    return out


def _ox_term(node: Any) -> dict[str, str]:
    if isinstance(node, ox.NamedNode):
        return {"type": "uri", "value": node.value}
    if isinstance(node, ox.BlankNode):
        return {"type": "bnode", "value": node.value}
    if isinstance(node, ox.Literal):
        out = {"type": "literal", "value": node.value}
        if node.language:
            out["xml:lang"] = node.language
        elif node.datatype:
            out["datatype"] = node.datatype.value
        return out
    return {"type": "literal", "value": str(node)}


def _run_query(text: str) -> dict[str, Any]:
    """Run a query over the caller's view; a dict the template shows (or an error)."""
    cat = catalogue()
    access = cat.access(who(), purpose=declared_purpose())
    try:  # a refusal is shown in the editor (``g.show_refusal``)
        answer = cat.answer(
            text,
            graphs=access.graphs,
            access=access,
            solutions_media="application/sparql-results+json",
            graph_media="application/n-triples",
            max_rows=PAGE_ROWS,
            **fair_share(who()),
        )
        body = b"".join(answer.chunks)
    except ValueError as exc:  # text the engine will not take: refused as any query
        raise exc if isinstance(exc, QueryRefused) else QueryRefused(str(exc)) from None
    out: dict[str, Any] = {"kind": answer.kind, "truncated": answer.truncated, "max": PAGE_ROWS}
    if answer.kind == "boolean":
        out["boolean"] = bool(json.loads(body)["boolean"])
    elif answer.kind == "solutions":
        doc = json.loads(body)
        out["vars"] = doc["head"].get("vars", [])
        bindings = doc["results"]["bindings"]
        out["rows"] = [[_term(row.get(v)) for v in out["vars"]] for row in bindings]
    else:
        triples = ox.parse(body, ox.RdfFormat.N_TRIPLES) if body.strip() else []
        out["vars"] = ["subject", "predicate", "object"]
        out["rows"] = [
            [_term(_ox_term(x)) for x in (q.subject, q.predicate, q.object)] for q in triples
        ]
    return out


def _wants_protocol() -> bool:
    if request.values.get("format"):
        return True
    best = request.accept_mimetypes.best_match([*HTML_TYPES, *PROTOCOL_TYPES], default="text/html")
    return best not in HTML_TYPES


@bp.route("/query", methods=["GET", "POST"])
def query() -> Response:
    """The SPARQL editor. With ``query=`` the result is shown (a shareable URL); asked for
    a result format (``format=`` or ``Accept``) it answers as ``/sparql`` does, over the
    signed-in caller's view."""
    text = request.values.get("query")
    if text is not None and _wants_protocol():
        who()  # the session's caller is the protocol's caller
        g.protocol = True  # refusals answered as /sparql answers them
        from .sparql import answer

        return answer()
    g.show_refusal = lambda problem: query_page(text, _failed(problem))
    return query_page(text, _run_query(text) if text and text.strip() else None)


def _failed(problem: Problem) -> dict[str, Any]:
    """A refused query as the editor shows it: the reason, the status, when to retry."""
    result: dict[str, Any] = {"error": str(problem.detail), "status": problem.status}
    if problem.retry_after:
        result["retry_after"] = problem.retry_after
    return result


def query_page(text: str | None, result: dict[str, Any] | None) -> Response:
    """The editor holding ``text``, with its result (or the error that stopped it)."""
    caller = who()
    endpoint = url_for("pages.query") if not caller.anonymous else url_for("sparql.sparql")
    downloads = []
    if result and "error" not in result:
        names = GRAPH_DOWNLOADS if result["kind"] == "graph" else SOLUTION_DOWNLOADS
        downloads = [
            (title, f"{endpoint}?{urlencode({'query': text, 'format': name})}", name)
            for name, title in names
        ]
    failed = result is not None and "error" in result
    retry = result.get("retry_after") if failed else None
    return render(
        "query.html",
        status=result.get("status", 400) if failed else 200,
        headers={"Retry-After": retry} if retry else None,
        text=text if text is not None else DEFAULT_QUERY,
        result=result,
        examples=_examples(),
        endpoint=endpoint,
        downloads=downloads,
        share=url_for("pages.query", query=text) if text else None,
        base_iri=current.settings().base_iri,
        prefixes=display_prefixes(),
        solution_downloads=SOLUTION_DOWNLOADS,
        graph_downloads=GRAPH_DOWNLOADS,
    )
