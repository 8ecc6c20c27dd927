"""One error shape for the whole API: `{"error": {"code", "message", "field"}}`.

Every failure under /api/ — ours (ApiError), Flask's and werkzeug's (404, 405, 413, 415, bad JSON),
the rate limits' 429, even an unexpected exception — goes through `error_response`, so clients
parse one shape and never see an HTML page or a traceback. Codes are stable English snake_case;
messages are French, written for the person typing the comment.
"""

from __future__ import annotations

import sqlite3

from flask import current_app, render_template, request
from werkzeug.exceptions import HTTPException

FRENCH_HTTP_MESSAGES = {
    400: ("bad_request", "Requête invalide."),
    401: ("unauthorized", "Authentification requise."),
    403: ("forbidden", "Action non autorisée."),
    404: ("not_found", "Cette adresse n'existe pas."),
    405: ("method_not_allowed", "Méthode non autorisée pour cette adresse."),
    409: ("conflict", "Conflit avec l'état actuel."),
    413: ("payload_too_large", "La requête est trop volumineuse (64 Ko au plus)."),
    415: ("unsupported_media_type", "Envoyez du JSON (Content-Type: application/json)."),
    429: ("rate_limited", "Trop de requêtes : patientez un peu avant de réessayer."),
    500: ("internal_error", "Erreur interne du service de commentaires."),
}


# Storage failures a request can meet (SQLite primary result codes): a 503 that says nothing was written.
_FULL = ("storage_full", "Le service de commentaires manque de place sur son disque : rien n'a été enregistré. "
         "Réessayez dans quelques minutes.", 300)
_BUSY = ("storage_busy", "Le service de commentaires est très sollicité : rien n'a été enregistré. "
         "Réessayez dans un instant.", 5)
_BROKEN = ("storage_unavailable", "Le service de commentaires ne peut pas écrire sur son disque : rien n'a été "
           "enregistré. Réessayez dans quelques minutes.", 300)
STORAGE_FAILURES = {sqlite3.SQLITE_FULL: _FULL, sqlite3.SQLITE_BUSY: _BUSY, sqlite3.SQLITE_LOCKED: _BUSY,
                    sqlite3.SQLITE_IOERR: _BROKEN, sqlite3.SQLITE_READONLY: _BROKEN}


class ApiError(Exception):
    """An expected failure with its HTTP status, stable code, French message and the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}  # e.g. WWW-Authenticate on a 401

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.code!r}, {self.message!r}, field={self.field!r})"


def storage_error(exc: sqlite3.Error) -> ApiError | None:
    """The 503 for a SQLite failure of the storage (disk full, busy, I/O), with Retry-After; None for any other
    error (a bug stays a bug: logged and answered 500)."""
    code = getattr(exc, "sqlite_errorcode", None)
    found = STORAGE_FAILURES.get(code & 0xFF) if isinstance(code, int) else None
    if found is None:
        return None
    name, message, retry = found
    return ApiError(503, name, message, headers={"Retry-After": str(retry)})


def error_response(err: ApiError, headers: dict | None = None):
    response = current_app.json.response(err.to_dict())
    response.status_code = err.status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def from_http_exception(exc: HTTPException) -> ApiError:
    code, message = FRENCH_HTTP_MESSAGES.get(exc.code or 500, ("http_error", exc.description or ""))
    return ApiError(exc.code or 500, code, message)


def wants_json() -> bool:
    """API paths, ActivityPub's, WebFinger's and Webmention's (senders are programs) answer JSON; pages and feeds
    answer a small French HTML page."""
    path = request.path
    return path.startswith(("/api/", "/ap/", "/.well-known/", "/webmention/")) or path in ("/api", "/ap", "/webmention")


def handle_api_error(err: ApiError):
    """The answer to an ApiError: JSON on the API's paths, else the small French HTML page."""
    if wants_json():
        return error_response(err, err.headers)
    response = _html_error(err.status, err.message)
    response.headers.update(err.headers)
    return response


def _handle_http_exception(exc: HTTPException):
    err = from_http_exception(exc)
    headers = {}
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    if exc.code == 429:
        limit = getattr(exc, "limit", None)
        retry = getattr(getattr(limit, "limit", None), "get_expiry", None)
        if callable(retry):
            headers["Retry-After"] = str(retry())
    if wants_json():
        return error_response(err, headers)
    response = _html_error(err.status, err.message)
    response.headers.update(headers)
    return response


def _handle_unexpected(exc: Exception):
    refusal = storage_error(exc) if isinstance(exc, sqlite3.Error) else None
    if refusal is not None:  # a read or a write outside core/db.write() that met the same storage failure
        current_app.logger.error("storage failure on %s %s: %s", request.method, request.path, exc)
        return handle_api_error(refusal)
    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return _handle_http_exception(_Internal())


class _Internal(HTTPException):
    code = 500


def _html_error(status: int, message: str):
    response = current_app.make_response((render_template("error.html", status=status, message=message), status))
    return response


def init_app(app) -> None:
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)
