"""gunicorn's settings for the comment service: `gunicorn --config python:comments_service.gunicorn_conf …`, as
deploy/systemd/confreres-comments.service and tests/gunicorn.py run it.

The access log (journalctl -u confreres-comments) writes each request's method, PATH (never its query string),
status, size and user agent. gunicorn's default line has the whole request line and the Referer: the service's
mailed links carry their secret in the query string (`auth/verify?token=…`, a sign-in link still valid for 15
minutes; `notify/unsubscribe`, `notify/confirm`, `lettre/…`, `moderation/act?token=…`), and those tokens, signed but
not encrypted, spell out the e-mail address they are for: each followed link put a credential and an address in the
journal, kept as long as the journal is. The Referer (a page of the service, with its token) is left out too.

The path is the decoded one (the raw request line has the query string): a control character in it (`%0A`) is
written escaped (`\\x0a`), as nginx writes its logs, by `PrivateLogger`; written as it was, a request's path made
lines of its own in the journal, forged entries (another address, a moderation that never happened) among them.
"""

import re

from gunicorn.glogging import Logger

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escaped(value):
    return CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", value) if isinstance(value, str) else value


class PrivateLogger(Logger):
    """gunicorn's logger, every access log field with its control characters escaped."""

    def atoms(self, resp, req, environ, request_time):
        return {key: _escaped(value) for key, value in super().atoms(resp, req, environ, request_time).items()}


logger_class = PrivateLogger
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
