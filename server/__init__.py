"""The Flask application: a thin HTTP face on ``eti.catalogue``."""

from __future__ import annotations

import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from werkzeug.routing import BaseConverter

from eti.catalogue import oidc
from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue

from . import auth, errors

log = logging.getLogger("eti.server")


def create_app(
    config: Settings | dict[str, Any] | None = None, catalogue: Catalogue | None = None
) -> Flask:
    """Build the application. ``config`` is a Settings or a dict of overrides;
    ``catalogue`` lets tests hand in an open catalogue (without ``config``, its settings
    are the application's: one Settings object, read by views through ``current``)."""
    if config is None and catalogue is not None:
        settings = catalogue.settings
    else:
        settings = config if isinstance(config, Settings) else Settings.load(**(config or {}))
    # Paths given: Flask's own search for the package fails (StopIteration) under a plain
    # editable install, whose import hook maps eti.server to server/ and the namespace
    # package eti to no folder. The instance folder is never used.
    root = Path(__file__).resolve().parent
    app = Flask(__name__, root_path=str(root), instance_path=str(root / "instance"))
    app.url_map.converters["ident"] = IdentConverter
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body
    app.extensions["eti"] = catalogue or Catalogue(settings)
    # kept for the app's lifetime, so the issuers' keys (JWKS) are cached across requests
    app.extensions["eti.auth"] = oidc.authenticator(settings, app.extensions["eti"].store)
    logging.basicConfig(level=settings.log_level.upper(), format="%(message)s")

    from . import (
        agreements,
        feed,
        harvests,
        health,
        ontology,
        openapi,
        products,
        situation,
        sparql,
        tokens,
        validate,
    )

    for blueprint in (
        health.bp,
        sparql.bp,
        ontology.bp,
        products.bp,
        harvests.bp,
        validate.bp,
        agreements.bp,
        situation.bp,
        tokens.bp,
        openapi.bp,
        feed.bp,
    ):
        app.register_blueprint(blueprint)
    errors.register(app)

    @app.before_request
    def _start() -> None:
        g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex[:16]
        g.started = time.perf_counter()
        auth.load_caller()  # who calls, once: views read it with ``auth.identity()``

    @app.after_request
    def _log(response):  # type: ignore[no-untyped-def]
        response.headers["X-Request-Id"] = g.get("request_id", "")
        took = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info(
            json.dumps(
                {
                    "request_id": g.get("request_id"),
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round(took, 2),
                    **g.get("log_extra", {}),
                }
            )
        )
        return response

    from . import gsp, metrics, service, update

    for blueprint in (update.bp, gsp.bp, service.bp):
        app.register_blueprint(blueprint)
    # each page's module registers its routes on pages.bp
    from . import (  # noqa: F401
        agreements_page,
        pages,
        product_page,
        query_page,
        search_page,
        signin_page,
        validate_page,
    )

    app.register_blueprint(pages.bp)  # the HTML pages
    from . import steward

    app.register_blueprint(steward.bp)  # the steward pages (forms over /api/products)
    app.after_request(pages.security_headers)  # every HTML answer, whichever route
    metrics.install(app)  # counts every request, serves /metrics
    service.install(app)  # 413 before a body is read; CORS on the read routes
    return app


class IdentConverter(BaseConverter):
    """Ids of products and agreements (a-z, 0-9, '-'): anything else is a plain 404."""

    regex = r"[a-z0-9][a-z0-9-]{0,127}"
