"""Confrères' comment service: one Flask app for every blog of the network.

`create_app(test_config=None)` is the only entry point: gunicorn
(`gunicorn 'comments_service:create_app()'`), `confreres serve` (mounted under /comments with
DispatcherMiddleware, so every URL comes from url_for/script_root) and the tests.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app
from flask.sessions import SecureCookieSessionInterface
from markupsafe import escape
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RequestRedirect

from comments_service.core import config as config_module
from comments_service.core import db, errors, identity, ids
from comments_service.web import cors, limits
from comments_service.web.body import Request
from comments_service.web.cache import ThreadCache

CSP_PAGES = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


class App(Flask):
    """Flask, with the body of every redirect in French.

    Werkzeug gives a redirect a small English page (« Redirecting… You should be redirected automatically… »), seen
    by anyone whose browser stops on it or who reads the source: the 303 after every form without JavaScript, the
    fediverse's links to a blog, and the 308 of a URL with a doubled slash (a RequestRedirect, answered before any
    error handler). `flask.redirect` calls `app.redirect`; the routing redirect is answered with it too.
    """

    def redirect(self, location: str, code: int = 302):
        response = super().redirect(location, code)
        link = escape(location)
        response.set_data(
            '<!doctype html>\n<html lang="fr">\n<meta charset="utf-8">\n<title>Redirection…</title>\n'
            f'<h1>Redirection…</h1>\n<p>Si la page suivante ne s\'affiche pas d\'elle-même, suivez ce lien : '
            f'<a href="{link}">{link}</a>.</p>\n'
        )
        return response

    def handle_http_exception(self, e):
        if isinstance(e, RequestRedirect):  # Flask answers it with werkzeug's page, skipping the error handlers
            return self.redirect(e.new_url, e.code)
        return super().handle_http_exception(e)


def create_app(test_config: dict | None = None) -> Flask:
    app = App(__name__)
    configure_logging(app)
    app.request_class = Request  # streamed bodies over the size limit: 413
    config_module.build(app, test_config)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.session_interface = LazySessionInterface()

    if int(app.config["PROXY_FIX"]) > 0:
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)

    from comments_service.web.api import POSTS_MAX_BYTES
    from comments_service.web.body import DrainInput

    app.wsgi_app = DrainInput(app.wsgi_app, POSTS_MAX_BYTES)  # an early answer is not lost behind nginx
    app.extensions["confreres_thread_cache"] = ThreadCache(int(app.config["THREAD_CACHE_SIZE"]))
    db.init_app(app)  # migrations, logged
    identity.init_app(app)  # the database's secret key and mail transport are this process's, or a ConfigError
    errors.init_app(app)
    ids.init_app(app)  # <id:…> in routes: before the blueprints
    from comments_service.web import filters

    filters.init_app(app)  # what every server-rendered page may call (`when`)

    from comments_service.web import api, crossblog, feeds, pages, webmention

    app.register_blueprint(api.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(crossblog.bp)
    app.register_blueprint(webmention.bp)
    from comments_service.mail import notices as notify
    from comments_service.web import account as account_pages
    from comments_service.web import moderation_pages
    from comments_service.web import notify as notify_pages

    app.register_blueprint(account_pages.bp)  # sign-in, account (pages and /api/auth, /api/account)
    app.register_blueprint(moderation_pages.bp)
    app.register_blueprint(notify_pages.bp)
    notify.init_app(app)
    from comments_service.web import verification as verify_views

    app.register_blueprint(verify_views.bp)  # verified physicians (pages and /api/verification)
    from comments_service.web import profiles

    app.register_blueprint(profiles.bp)  # public member profiles (/membres/<handle>, /api/members/<handle>)
    from comments_service.web import secrecy

    app.register_blueprint(secrecy.bp)  # POST /api/secrecy-check: medical secrecy as a commenter types
    from comments_service.web import letter as letter_pages

    app.register_blueprint(letter_pages.bp)  # « La lettre des confrères »: the form (/lettre)
    app.register_blueprint(letter_pages.links_bp)  # and the links of its mails (confirm, one-click unsubscribe)
    from comments_service.web import federation

    app.register_blueprint(federation.bp)  # the fediverse (/.well-known/webfinger, /ap/...)
    from comments_service.federation import answers

    answers.init_app(app)  # a local answer to a fediverse reply goes to its author
    cors.init_app(app)
    app.extensions["confreres_limiter"] = limits.init_app(app)
    app.before_request(_refresh_network)  # blogs added to network.toml while the service runs
    app.after_request(_security_headers)

    return app


SERVICE_LOGGERS = ("comments_service", "confreres")  # the app's logger (its import name) and the package's modules


def configure_logging(app) -> None:
    """Under gunicorn (production: `journalctl -u confreres-comments`), the service's loggers write through gunicorn's
    error log, at its level (`--log-level`, info by default): each line has its time and level, and the INFO lines
    (migrations applied at start, network.toml reloaded) are kept, where Python's last-resort handler printed the
    warnings bare and dropped the rest. Elsewhere (the CLI, `confreres serve`, the tests) Flask's own default: its
    handler, with time and level, when nothing is configured, warnings and above."""
    gunicorn = logging.getLogger("gunicorn.error")
    if gunicorn.handlers:
        for name in SERVICE_LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers = list(gunicorn.handlers)
            logger.setLevel(gunicorn.level)
            logger.propagate = False  # not twice, should the root logger get a handler too
    _ = app.logger  # Flask adds its default handler when no handler would take the service's warnings


class LazySessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, built only when the request carries one.

    The API never uses a cookie; skipping the serializer for cookieless requests saves ~0.1 ms on
    every read. Code that writes `session` (sign-in pages later) works as usual.
    """

    def open_session(self, app, request):
        if app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def _refresh_network() -> None:
    config_module.refresh_network(current_app)


def _security_headers(response):
    """Every response's security headers, each unless its view set it: a page that sets a policy of its own (the
    sign-in link's page allows posting to the member blogs: account._form_action_csp) gets the others all the same
    (X-Frame-Options for old browsers that ignore frame-ancestors, nosniff, the Referrer-Policy)."""
    if "X-Content-Type-Options" in response.headers:
        return response  # set already, all at once (the API's hot path: api.SECURITY_HEADERS)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP_PAGES)
        response.headers.setdefault("X-Frame-Options", "DENY")
    else:
        response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
    return response
