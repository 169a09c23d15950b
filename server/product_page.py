"""The product page (``/products/<id>``): the page for browsers, the description in RDF
for clients (``Accept`` or ``?format=``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Response, url_for

from eti.catalogue import media, productview, registry
from eti.catalogue.namespaces import is_valid_id

from . import i18n, pages
from .agreements_page import agreement_row
from .i18n import language, t
from .negotiation import negotiate
from .pages import (
    HTML_TYPES,
    VARY,
    bp,
    catalogue,
    declared_purpose,
    label,
    render,
    who,
)
from .products import description
from .rdfbody import rdf_response

# Product descriptions in RDF: the syntaxes of one graph (catalogue.media), each linked
# by its short name (?format=ttl)
PRODUCT_RDF = media.media_types(datasets=False)


def _duty(action: str, interval: str | None) -> str:
    """An ODRL duty in words: 'keep copies fresh (within P7D)'."""
    name = re.split(r"[/#]", action)[-1]
    text = t(f"duty.{name}") if i18n.known(f"duty.{name}") else label(action)
    return f"{text} ({t('duty.within', interval=interval)})" if interval else text


def product_model(ident: str, record: registry.Record) -> dict[str, Any]:
    """The product page's model (``productview.product_model``) in the page's words:
    duties in words, the caller's agreements as rows with their actions, statuses named."""
    lang = language()
    words = productview.Words(lang, lambda texts: i18n.pick(texts, lang), label)
    today = pages.today()
    model = productview.product_model(
        catalogue(), ident, record, who(), purpose=declared_purpose(), words=words, today=today
    )
    for offer in model["offers"]:
        offer["duties"] = [_duty(action, interval) for action, interval in offer["duties"]]
    model["agreements"] = [agreement_row(a) for a in model["agreements"]]
    for version in model["history"]:
        version["status"] = label(version["status"])
    return {
        **model,
        "today": today.isoformat(),
        "end": (today + timedelta(days=364)).isoformat(),
        "formats": [(m, media.BY_MEDIA[m].names[0]) for m in PRODUCT_RDF],
    }


def _product_links(ident: str) -> str:
    here = url_for("pages.product", ident=ident)
    links = [f'<{here}>; rel="canonical"']
    links += [
        f'<{here}?format={media.BY_MEDIA[m].names[0]}>; rel="alternate"; type="{m}"'
        for m in PRODUCT_RDF
    ]
    return ", ".join(links)


def _product_media() -> str:
    names = {k: v for k, v in media.NAMES.items() if v in PRODUCT_RDF}
    best = negotiate([*HTML_TYPES, *PRODUCT_RDF], names=names)
    return "text/html" if best is None or best in HTML_TYPES else best


@bp.get("/products/<ident:ident>")
def product(ident: str) -> Response:
    """A product: its page for browsers, its description in RDF for clients (``Accept``
    or ``?format=``); 404 for an unknown id, 410 for a withdrawn product."""
    chosen = _product_media()
    headers = {"Vary": VARY, "Link": _product_links(ident)}
    record = registry.get_record(catalogue().store, ident) if is_valid_id(ident) else None
    if record is None or record.withdrawn:
        status = 404 if record is None else 410
        if chosen != "text/html":
            from .errors import error_response

            response = error_response(
                status,
                "Not Found" if status == 404 else "Gone",
                f"no product {ident}" if status == 404 else f"product {ident} was withdrawn",
            )
            response.headers["Vary"] = VARY
            return response
        if status == 404:
            return render(
                "error.html",
                status=404,
                headers={"Vary": VARY},
                title=t("error.404"),
                text=t("error.404.text", ident=ident),
            )
        return render(
            "error.html",
            status=410,
            headers=headers,
            title=t("product.withdrawn"),
            text=t("product.withdrawn_text", ident=ident),
            history=url_for("products.history", ident=ident),
        )
    if chosen != "text/html":
        triples, duties = description(ident, record)  # as /api/products/<id> gives it
        if duties:  # the duties' Link after the page's own links
            headers = {**duties, "Link": headers["Link"] + ", " + duties["Link"], "Vary": VARY}
        response = rdf_response(triples, chosen, headers=headers)
        response.headers["Content-Location"] = (
            url_for("pages.product", ident=ident) + "?format=" + media.BY_MEDIA[chosen].names[0]
        )
        if not who().anonymous:
            response.headers["Cache-Control"] = "private, no-store"
        return response
    return render("product.html", headers=headers, p=product_model(ident, record))
