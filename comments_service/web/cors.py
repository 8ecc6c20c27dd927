"""CORS for the network's own origins only (registry: network.origins), without credentials.

The widget runs on the blogs' origins and calls the API with plain requests and tokens in
headers, never cookies, so `Access-Control-Allow-Credentials` is never sent and a third-party
cookie is never needed. Any other origin gets no CORS header (the browser blocks the read) and
its preflights are refused with the JSON error shape.
"""

from __future__ import annotations

from flask import current_app, request

from comments_service.core.errors import ApiError, error_response

ALLOW_METHODS = "GET, POST, PATCH, PUT, DELETE, OPTIONS"
ALLOW_HEADERS = "Content-Type, Authorization, X-Edit-Token, X-Confreres-Tokens, If-None-Match"
EXPOSE_HEADERS = "ETag, Retry-After"
MAX_AGE = "600"
CORS_PATHS = ("/api/", "/feeds/")


def _allowed(origin: str) -> bool:
    return origin.lower().rstrip("/") in current_app.extensions["confreres_network"].origins


def _applies() -> bool:
    return request.path.startswith(CORS_PATHS)


def preflight():
    """Answer an OPTIONS preflight before routing reaches a view."""
    if request.method != "OPTIONS" or not _applies():
        return None
    if not request.headers.get("Access-Control-Request-Method"):
        return None
    origin = request.headers.get("Origin", "")
    if not _allowed(origin):
        response = error_response(
            ApiError(403, "origin_not_allowed", "Cette origine n'appartient pas au réseau Confrères.")
        )
        response.vary.add("Origin")
        return response
    response = current_app.response_class(status=204)
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
    response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
    response.headers["Access-Control-Max-Age"] = MAX_AGE
    response.vary.add("Origin")
    return response


def add_headers(response):
    if not _applies():
        return response
    if "Origin" not in response.headers.get("Vary", ""):
        response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin and _allowed(origin) and "Access-Control-Allow-Origin" not in response.headers:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    return response


def init_app(app) -> None:
    app.before_request(preflight)
    app.after_request(add_headers)
