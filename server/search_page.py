"""The search page (``/``): the search box, facets and results of ``/api/products``."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import Response, request, url_for

from . import pages
from .i18n import language, t
from .pages import (
    bp,
    catalogue,
    label,
    render,
)

PER_PAGE = 10
SHOWN_FACET_VALUES = 8


def _positive(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except ValueError:
        return default


def _age(modified: str | None) -> str:
    if not modified:
        return ""
    try:
        days = (pages.today() - date.fromisoformat(modified[:10])).days
    except ValueError:
        return ""
    if days <= 0:
        return t("today")
    return t("yesterday") if days == 1 else t("days_ago", n=days)


@bp.get("/")
def search() -> Response:
    """Search box, facets and results: the same search as ``/api/products``."""
    from eti.catalogue.search import FACETS

    lang = language()
    q = request.args.get("q", "").strip()[:200]
    page = _positive("page", 1)
    filters = {name: request.args.getlist(name) for name in FACETS if request.args.getlist(name)}
    result = catalogue().searcher.search(
        q, filters=filters, page=page, per_page=PER_PAGE, lang=lang
    )
    for item in result["results"]:
        item["href"] = url_for("pages.product", ident=item["id"])
        item["theme_labels"] = [label(x) for x in item["themes"]]
        item["status_label"] = label(item["status"])
        item["status_code"] = (item["status"] or "").rsplit("/", 1)[-1]
        item["age"] = _age(item["modified"])
    facets = []
    for name in FACETS:
        chosen = set(filters.get(name, []))
        values = [{**v, "checked": v["value"] in chosen} for v in result["facets"][name]]
        seen = {v["value"] for v in values}
        values += [
            {"value": v, "label": label(v), "count": 0, "checked": True}
            for v in sorted(chosen - seen)
        ]
        if values:
            facets.append({"name": name, "values": values, "chosen": len(chosen)})
    pages = max(1, -(-result["total"] // PER_PAGE))
    args = request.args.to_dict(flat=False)
    args.pop("lang", None)

    def page_url(n: int) -> str:
        return url_for("pages.search", **{**args, "page": [str(n)]})

    return render(
        "search.html",
        q=q,
        result=result,
        facets=facets,
        filters=filters,
        page=page,
        pages=pages,
        page_url=page_url,
        shown=SHOWN_FACET_VALUES,
        api_url=url_for("products.listing") + ("?" + urlencode(args, doseq=True) if args else ""),
    )
