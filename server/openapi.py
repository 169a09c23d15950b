"""``/api/openapi.json``: an accurate OpenAPI 3.1 description of the REST API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from eti.catalogue import __version__, media

bp = Blueprint("openapi", __name__)

RDF_TYPES = media.media_types()  # the RDF syntaxes (catalogue.media)
ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "bad input (what was wrong and where)",
        401: "no or invalid token",
        403: "not allowed for this caller",
        404: "not found",
        409: "conflict",
        410: "withdrawn",
        413: "body too large",
        415: "unsupported media type",
        422: "a shared rule is broken (the SHACL report)",
    }
    return {
        str(c): {"description": text[c], "content": {"application/json": {"schema": ERROR}}}
        for c in codes
    }


# gunicorn refuses a request line over 8190 bytes (its ceiling, whatever limit_request_line
# says) with an HTML 414 before the application sees it: long query strings meet it.
TOO_LONG = {"414": {"description": "request line over 8190 bytes (the HTTP server's limit)"}}


FEED_TYPES = [t for t in RDF_TYPES if t != "application/rdf+xml"]


def _header(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "schema": {"type": "string"},
            "description": description}  # fmt: skip


def _rdf_body(required: bool = True) -> dict[str, Any]:
    return {
        "required": required,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in RDF_TYPES},
    }


def _json_request(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _q(
    name: str,
    schema: dict[str, Any],
    description: str,
    *,
    required: bool = False,
    many: bool = False,
) -> dict[str, Any]:
    if many:
        schema = {"type": "array", "items": schema}
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
        **({"style": "form", "explode": True} if many else {}),
    }


IDENT = {
    "name": "ident",
    "in": "path",
    "required": True,
    "schema": {
        "type": "string",
        "pattern": "^[a-z0-9][a-z0-9-]{0,127}$",
        "examples": ["nav-pleiepenger"],
    },
}
OBJECT = {"type": "object"}
BEARER = [{"bearer": []}]
PURPOSE = [
    _q("purpose", {"type": "string"}, "DPV purpose IRI the content is read for"),
    {
        "name": "ETI-Purpose",
        "in": "header",
        "required": False,
        "description": "DPV purpose IRI (instead of the purpose parameter)",
        "schema": {"type": "string"},
    },
]
DUTIES = {
    "ETI-Duties": {
        "description": "duties (attribution, refresh interval) of the agreements whose "
        "content the answer holds, per product",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'rel="http://www.w3.org/ns/odrl/2/hasPolicy" to each such agreement',
        "schema": {"type": "string"},
    },
}


def spec() -> dict[str, Any]:
    """The OpenAPI document."""
    product_search = [
        _q("q", {"type": "string", "maxLength": 500}, "free text (Norwegian-aware)"),
        *(
            _q(f, {"type": "string", "maxLength": 2000}, f"facet filter: {f}", many=True)
            for f in ("theme", "publisher", "event", "municipality", "status")
        ),
        _q("page", {"type": "integer", "minimum": 1}, "page number"),
        _q("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "results a page"),
        _q("lang", {"type": "string", "enum": ["nb", "nn", "en"]}, "language of texts"),
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ETI catalogue API",
            "version": __version__,
            "description": "Data products, shared rules and agreements of the ETI "
            "platform. The SPARQL protocol lives at /sparql, /update "
            "and /data.",
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a static token (eti token create) or a JWT access token "
                    "of a configured issuer (Maskinporten); errors by RFC 6750",
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "detail"],
                    "properties": {"error": {"type": "string"}, "detail": {}},
                }
            },
        },
        "paths": {
            "/api/products": {
                "get": {
                    "summary": "Search products with facets",
                    "parameters": product_search,
                    "responses": {"200": _json(OBJECT), **_errors(400), **TOO_LONG},
                },
                "post": {
                    "summary": "Register a product",
                    "security": BEARER,
                    "requestBody": _rdf_body(),
                    "responses": {
                        "201": _json(OBJECT, "registered"),
                        **_errors(400, 401, 403, 409, 413, 415, 422),
                    },
                },
            },
            "/api/products/{ident}": {
                "parameters": [IDENT],
                "get": {
                    "summary": "A product (JSON or RDF by Accept)",
                    "parameters": PURPOSE,
                    "responses": {
                        "200": {
                            "description": "the product",
                            "headers": DUTIES,
                            "content": {
                                "application/json": {"schema": OBJECT},
                                **{t: {"schema": {"type": "string"}} for t in RDF_TYPES},
                            },
                        },
                        **_errors(400, 404, 410),
                    },
                },
                "put": {
                    "summary": "Replace a product (a new version)",
                    "security": BEARER,
                    "requestBody": _rdf_body(),
                    "responses": {
                        "200": _json(OBJECT),
                        **_errors(400, 401, 403, 404, 409, 413, 415, 422),
                    },
                },
                "delete": {
                    "summary": "Withdraw a product",
                    "security": BEARER,
                    "responses": {"200": _json(OBJECT), **_errors(401, 403, 404)},
                },
            },
            "/api/products/{ident}/history": {
                "parameters": [IDENT],
                "get": {
                    "summary": "Versions with added and removed triples",
                    "responses": {"200": _json(OBJECT), **_errors(404)},
                },
            },
            "/api/products/{ident}/versions/{number}": {
                "parameters": [
                    IDENT,
                    {
                        "name": "number",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0},
                    },
                ],
                "get": {
                    "summary": "An earlier version (owner's stewards, admins)",
                    "security": BEARER,
                    "responses": {
                        "200": {
                            "description": "RDF",
                            "content": {t: {"schema": {"type": "string"}} for t in RDF_TYPES},
                        },
                        **_errors(401, 403, 404),
                    },
                },
            },
            "/api/agreements": {
                "get": {
                    "summary": "The caller's agreements",
                    "security": BEARER,
                    "responses": {"200": _json(OBJECT), **_errors(401, 403)},
                },
                "post": {
                    "summary": "Request an offer (channels)",
                    "security": BEARER,
                    "requestBody": _json_request(
                        {
                            "type": "object",
                            "required": ["offer", "purpose", "start", "end"],
                            "properties": {
                                "offer": {"type": "string"},
                                "purpose": {"type": "string"},
                                "start": {"type": "string"},
                                "end": {"type": "string"},
                            },
                        }
                    ),
                    "responses": {
                        "201": _json(OBJECT, "requested (or active)"),
                        **_errors(400, 401, 403, 404, 409, 415, 422),
                    },
                },
            },
            "/api/agreements/{ident}": {
                "parameters": [{**IDENT, "schema": {"type": "string"}}],
                "get": {
                    "summary": "One agreement, for its parties",
                    "security": BEARER,
                    "responses": {"200": _json(OBJECT), **_errors(401, 403, 404), **TOO_LONG},
                },
            },
            "/api/agreements/{ident}/{action}": {
                "parameters": [
                    {**IDENT, "schema": {"type": "string"}},
                    {
                        "name": "action",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": ["accept", "refuse", "terminate"]},
                    },
                ],
                "post": {
                    "summary": "A transition of the agreement lifecycle",
                    "security": BEARER,
                    "responses": {
                        "200": _json(OBJECT),
                        **_errors(401, 403, 404, 409, 422),
                        **TOO_LONG,
                    },
                },
            },
            "/api/needs": {
                "get": {
                    "summary": "The channel's needs and the products meeting them",
                    "security": BEARER,
                    "responses": {"200": _json(OBJECT), **_errors(401, 403)},
                },
                "post": {
                    "summary": "Record an information need",
                    "security": BEARER,
                    "requestBody": _json_request(
                        {
                            "type": "object",
                            "required": ["description"],
                            "properties": {
                                "description": {"type": "string"},
                                "themes": {"type": "array", "items": {"type": "string"}},
                                "life_event": {"type": "string"},
                                "spatial": {"type": "string"},
                            },
                        }
                    ),
                    "responses": {"201": _json(OBJECT), **_errors(400, 401, 403, 415)},
                },
            },
            "/api/situation": {
                "get": {
                    "summary": "What applies to a family's situation",
                    "parameters": [
                        _q(
                            "municipality",
                            {"type": "string", "pattern": "^[0-9]{4}$", "examples": ["4207"]},
                            "municipality number (four digits)",
                            required=True,
                        ),
                        _q(
                            "age",
                            {"type": "integer", "minimum": 0, "maximum": 25},
                            "the child's age",
                        ),
                        _q("need", {"type": "string"}, "a Los IRI, slug or words", many=True),
                        *PURPOSE,
                    ],
                    "responses": {
                        "200": {**_json(OBJECT), "headers": DUTIES},
                        **_errors(400, 401, 404),
                        **TOO_LONG,
                    },
                }
            },
            "/api/validate": {
                "post": {
                    "summary": "Validate RDF against the shared rules",
                    "parameters": [
                        _q(
                            "profile",
                            {
                                "type": "string",
                                "enum": ["dcat-ap-no", "dprod", "agreements", "eti"],
                            },
                            "profiles",
                            many=True,
                        ),
                        _q("as_of", {"type": "string", "format": "date"}, "as-of date"),
                        _q(
                            "context",
                            {"type": "string", "enum": ["none", "catalogue"]},
                            "catalogue: check with the catalogue's agents and registered "
                            "products, as registration does (default none: what needs them "
                            "is reported as not checked)",
                        ),
                    ],
                    "requestBody": _rdf_body(),
                    "responses": {
                        "200": _json(OBJECT, "the report"),
                        **_errors(400, 413, 415),
                        **TOO_LONG,
                    },
                }
            },
            "/api/harvests": {
                "get": {
                    "summary": "Harvest sources and reports",
                    "parameters": [
                        _q("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "reports")
                    ],
                    "responses": {"200": _json(OBJECT)},
                }
            },
            "/api/tokens": {
                "get": {
                    "summary": "Every token: id, role, scope, name, state (admin; no secrets)",
                    "security": BEARER,
                    "responses": {"200": _json(OBJECT), **_errors(401, 403)},
                },
                "post": {
                    "summary": "Create a token (admin); the secret is in this answer only",
                    "security": BEARER,
                    "requestBody": _json_request(
                        {
                            "type": "object",
                            "required": ["role"],
                            "additionalProperties": False,
                            "properties": {
                                "role": {
                                    "type": "string",
                                    "enum": ["admin", "steward", "channel"],
                                },
                                "org": {"type": "string", "pattern": "^[0-9]{9}$"},
                                "channel": {"type": "string", "format": "iri"},
                                "name": {"type": "string"},
                                "days": {"type": "integer", "minimum": 1},
                            },
                        }
                    ),
                    "responses": {"201": _json(OBJECT), **_errors(400, 401, 403, 415)},
                },
            },
            "/api/tokens/{ident}": {
                "delete": {
                    "summary": "Revoke a token (admin)",
                    "security": BEARER,
                    "parameters": [
                        {
                            "name": "ident",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {"204": {"description": "revoked"}, **_errors(401, 403, 404)},
                }
            },
            "/api/openapi.json": {
                "get": {"summary": "This description", "responses": {"200": _json(OBJECT)}}
            },
            "/feed": {
                "get": {
                    "summary": "The change feed: an LDES event stream of what the caller may "
                    "read (product versions, its agreements' transitions), in TREE pages",
                    "parameters": [
                        _q(
                            "page",
                            {"type": "string", "examples": ["start", "2026-12-01T12:00:05Z"]},
                            "a page, as the stream's tree:view and tree:node links give it "
                            "(none: the stream itself)",
                        ),
                        _header("If-None-Match", "the ETag of the copy the caller holds"),
                    ],
                    "responses": {
                        "200": {
                            "description": "the stream or page (closed pages: Cache-Control "
                            "immutable; the newest: no-cache, revalidate with its ETag)",
                            "content": {t: {"schema": {"type": "string"}} for t in FEED_TYPES},
                        },
                        "304": {"description": "the caller's copy is current"},
                        **_errors(400, 401, 404),
                        "406": {"description": "no feed syntax the caller accepts"},
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Health",
                    "responses": {"200": _json(OBJECT), "503": _json(OBJECT, "down")},
                }
            },
        },
    }


@bp.get("/api/openapi.json")
def openapi() -> Response:
    """The OpenAPI description of the REST API."""
    return jsonify(spec())
