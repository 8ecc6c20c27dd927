"""Request bodies: the size limit on streamed (chunked) bodies, and JSON parsed without surprises.

werkzeug's LimitedStream stops at `max_content_length` and returns what it read: a chunked body over
the limit came out truncated, then failed as "invalid JSON" (400) instead of 413. `Request` here reads
one byte past the limit to tell "exactly at the limit" from "over it".

`parse_json` turns what Python's json accepts but the service cannot use into a 400: nesting deep
enough to exhaust the recursion limit (RecursionError, a 500 before), nesting deeper than any
payload of the API (MAX_DEPTH), and lone UTF-16 surrogates ("\\ud800", which SQLite cannot store).

`json_body` and `json_response` are the JSON in and out of every JSON route (web/api.py and the
account, moderation and verification blueprints), so those modules need not import web/api.py.
"""

from __future__ import annotations

import json

from flask import Request as FlaskRequest
from flask import current_app, request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import ClosingIterator, LimitedStream, get_content_length, get_input_stream

from comments_service.core.errors import ApiError

MAX_DEPTH = 16  # the deepest payload of the API is 3 ({"posts": [{...}]}); room for clients' extra fields


class _MaxLengthStream(LimitedStream):
    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted and self._stream.read(1):
            raise RequestEntityTooLarge()
        return data


class Request(FlaskRequest):
    @cached_property
    def stream(self):
        environ = self.environ
        limit = self.max_content_length
        if limit is not None and "wsgi.input_terminated" in environ and get_content_length(environ) is None:
            return _MaxLengthStream(environ["wsgi.input"], limit, is_max=True)
        return get_input_stream(environ, max_content_length=limit)


class DrainInput:
    """WSGI middleware: once the answer is sent, read what the app left of the request body (up to `limit`).

    A request refused before its body is read (a wrong blog token, 413 from the Content-Length, 415) left
    bytes unread; gunicorn's sync worker then closed the socket, the kernel answered them with a reset,
    and nginx, still sending or not yet reading, lost the answer: a 502 instead of the API's JSON error.
    Only bodies of a known length, or ended by the server (gunicorn's `wsgi.input_terminated`), are read:
    reading an unterminated socket would wait for the client.
    """

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    def __call__(self, environ, start_response):
        length = get_content_length(environ)
        if length is not None:
            if length > self.limit:
                return self.app(environ, start_response)
            # counted, so that what is left is known (a dev server's input is the socket itself)
            stream = environ["wsgi.input"] = LimitedStream(environ["wsgi.input"], length)
        elif environ.get("wsgi.input_terminated"):
            stream = LimitedStream(environ["wsgi.input"], self.limit)  # a drain's own view; the app reads the raw one
        else:
            return self.app(environ, start_response)
        return ClosingIterator(self.app(environ, start_response), lambda: self.drain(stream))

    @staticmethod
    def drain(stream: LimitedStream) -> None:
        try:
            while stream.read(64 * 1024):
                pass
        except (OSError, ClientDisconnected):  # the client left: nothing to answer anyway
            pass


def _invalid(message: str = "Le corps de la requête n'est pas un JSON valide.") -> ApiError:
    return ApiError(400, "invalid_json", message)


def parse_json(raw: bytes):
    """The decoded JSON document, or ApiError(400 invalid_json)."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise _invalid("Le JSON est imbriqué trop profondément.") from None
    except ValueError:  # includes bad UTF-8
        raise _invalid() from None
    _check(data)
    return data


def _check(data) -> None:
    """Depth and lone surrogates, without recursion (the document may be deep)."""
    todo = [(data, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise _invalid("Le JSON est imbriqué trop profondément.")
            if isinstance(value, dict):
                for key, item in value.items():
                    _check_text(key)
                    todo.append((item, depth + 1))
            else:
                todo.extend((item, depth + 1) for item in value)


def _check_text(value: str) -> None:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _invalid("Le JSON contient un caractère invalide (demi-paire UTF-16 isolée).") from None


# -- the JSON routes' body and answer ------------------------------------------------------------------

def dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(obj, status: int = 200, headers: dict | None = None):
    response = current_app.response_class(dumps(obj), status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def json_body():
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Envoyez du JSON (Content-Type: application/json).")
    data = parse_json(request.get_data(cache=True))  # 413 over the size limit, streamed bodies too
    if data is None:
        raise ApiError(400, "invalid_json", "Le corps de la requête n'est pas un JSON valide.")
    return data
