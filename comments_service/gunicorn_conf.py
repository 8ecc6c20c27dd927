"""gunicorn's settings for the comment service: `gunicorn --config python:comments_service.gunicorn_conf …`, as
deploy/systemd/confreres-comments.service and tests/gunicorn.py run it.

The access log (journalctl -u confreres-comments) writes each request's method, PATH (never its query string),
status, size and user agent. gunicorn's default line has the whole request line and the Referer: the service's
mailed links carry their secret in the query string (`auth/verify?token=…`, a sign-in link still valid for 15
minutes; `notify/unsubscribe`, `notify/confirm`, `lettre/…`, `moderation/act?token=…`), and those tokens, signed but
not encrypted, spell out the e-mail address they are for: each followed link put a credential and an address in the
journal, kept as long as the journal is. The Referer (a page of the service, with its token) is left out too.
"""

accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
