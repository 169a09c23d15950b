"""``/ontology``: the ETI ontology for people (HTML) and machines (Turtle, JSON-LD)."""

from __future__ import annotations

import io
from importlib.resources import files

import pyoxigraph as ox
import rdflib
from flask import Blueprint, Response, render_template, request

from eti.catalogue.namespaces import ETI

bp = Blueprint("ontology", __name__)

OFFERED = {
    "text/html": None,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


def _terms(graph: rdflib.Graph, lang: str) -> list[dict[str, str]]:
    rows = []
    for term in sorted({s for s in graph.subjects() if str(s).startswith(ETI)}):

        def pick(pred: rdflib.URIRef, term: rdflib.URIRef = term) -> str:
            values = list(graph.objects(term, pred))
            for v in values:
                if getattr(v, "language", None) == lang:
                    return str(v)
            return str(values[0]) if values else ""

        kinds = [
            graph.namespace_manager.normalizeUri(t) for t in graph.objects(term, rdflib.RDF.type)
        ]
        rows.append(
            {
                "iri": str(term),
                "name": str(term)[len(ETI) :],
                "kind": ", ".join(sorted(kinds)),
                "label": pick(rdflib.RDFS.label) or pick(rdflib.SKOS.prefLabel),
                "definition": pick(rdflib.SKOS.definition),
            }
        )
    return rows


@bp.get("/ontology")
def ontology() -> Response:
    """The ontology, by content negotiation."""
    text = (files("eti.ontology") / "eti.ttl").read_bytes()
    media = request.accept_mimetypes.best_match(list(OFFERED), default="text/turtle")
    if request.args.get("format") in ("ttl", "turtle"):
        media = "text/turtle"
    headers = {"Vary": "Accept", "Link": '</ontology>; rel="canonical"'}
    if media == "text/turtle":
        return Response(text, mimetype="text/turtle", headers=headers)
    if media == "text/html":
        graph = rdflib.Graph().parse(data=text, format="turtle")
        lang = (
            "nb"
            if (request.accept_languages.best_match(["nb", "nn", "en"]) or "nb") != "en"
            else "en"
        )
        return Response(
            render_template("ontology.html", terms=_terms(graph, lang), lang=lang),
            mimetype="text/html",
            headers=headers,
        )
    out = io.BytesIO()
    ox.serialize(ox.parse(text, ox.RdfFormat.TURTLE), out, OFFERED[media])
    return Response(out.getvalue(), mimetype=media, headers=headers)
