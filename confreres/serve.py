"""The demo server: the built sites and the comment service, one process, one port.

Production serves `public/` with any static web server and runs the service under gunicorn;
this server is for `make demo` and for a doctor previewing the network on their machine.
"""

from __future__ import annotations

import gzip
import mimetypes
import os
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.security import safe_join
from werkzeug.utils import redirect, send_file
from werkzeug.wrappers import Request, Response

from confreres import csp
from confreres.registry import Network, origin_of

mimetypes.add_type("application/atom+xml", ".atom")
mimetypes.add_type("text/x-opml", ".opml")

NOT_FOUND = """<!doctype html><html lang="fr"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Page introuvable</title>
<main><h1>Page introuvable</h1><p>Cette page n'existe pas (ou plus). <a href="/">Retour à l'accueil du réseau</a>.</p>
</main></html>"""


class StaticSite:
    """Serve a folder like a static web server: index.html for folders, conditional GET, no listing.

    `headers` (confreres.csp.headers: the Content-Security-Policy and its companions) go with every answer.
    """

    def __init__(self, root: Path, webmention: str | None = None, headers: dict[str, str] | None = None):
        self.root = Path(root)
        self._real_root = os.path.realpath(self.root)
        self.webmention = webmention
        self.headers = headers or {}

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.respond(request)
        response.headers.update(self.headers)
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("Méthode non permise", status=405, headers={"Allow": "GET, HEAD"})
        relative = request.path.lstrip("/")
        target = safe_join(str(self.root), relative) if relative else str(self.root)
        if target is None or _hidden(relative):
            return self.not_found()
        path = Path(target)
        try:
            if path.is_dir():
                if not request.path.endswith("/"):
                    return redirect(request.script_root + request.path + "/", code=301)
                path = path / "index.html"
            # a file, really inside the output: the network's own links (blogs, planet) lead into its releases;
            # a link out of it (to /etc, to var/) is never followed
            if not path.is_file() or not os.path.realpath(path).startswith(self._real_root + os.sep):
                return self.not_found()
            response = send_file(str(path), request.environ, conditional=True, etag=True, max_age=60)
        except OSError:  # a name longer than the system's (ENAMETOOLONG): no such page
            return self.not_found()
        except HTTPException as exc:  # 416: a range the file does not have
            return exc.get_response(request.environ)
        if self.webmention and path.suffix == ".html":
            response.headers["Link"] = f'<{self.webmention}>; rel="webmention"'
        return compressed(request, response, path)

    def not_found(self) -> Response:
        page = self.root / "404.html"
        body = page.read_text(encoding="utf-8") if page.is_file() else NOT_FOUND
        return Response(body, status=404, mimetype="text/html")


def _hidden(relative: str) -> bool:
    """A path through a dot-folder or to a dot-file: old releases (deleted posts among them), the planet's, build
    state files. Never served, as by the shipped nginx site; /.well-known/ is."""
    parts = relative.split("/")
    return any(part.startswith(".") for part in parts) and parts[0] != ".well-known"


COMPRESSED = ("text/", "application/javascript", "application/json", "application/atom+xml", "application/rss+xml",
              "application/xml", "image/svg+xml", "text/x-opml")


def compressed(request: Request, response: Response, path: Path) -> Response:
    """gzip text answers, as the nginx site of deploy/ does, so that the demo weighs what production sends."""
    kind = response.mimetype or ""
    if (response.status_code != 200 or "gzip" not in request.headers.get("Accept-Encoding", "")
            or request.headers.get("Range") or not kind.startswith(COMPRESSED) or request.method != "GET"):
        return response
    body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
    response.direct_passthrough = False
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    etag, _ = response.get_etag()
    if etag:  # weakened, as nginx's gzip does: the same resource, another encoding (If-None-Match compares weakly)
        response.set_etag(etag, weak=True)
    return response


def service_mount(network: Network) -> str | None:
    """The path the comment service lives under when it shares the network's origin, else None."""
    if origin_of(network.comments_url) != origin_of(network.url):
        return None
    return urlsplit(network.comments_url).path.rstrip("/")


# The network host's discovery documents the comment service answers (the fediverse: @slug@host), as the
# nginx configuration of docs/operating.md routes them too.
SERVICE_WELL_KNOWN = ("/.well-known/webfinger", "/.well-known/nodeinfo")


class WellKnown:
    """Hand the network host's SERVICE_WELL_KNOWN paths to the service (mounted at `mount`), the rest to `app`."""

    def __init__(self, app, service, mount: str):
        self.app, self.service, self.mount = app, service, mount

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "") in SERVICE_WELL_KNOWN:
            environ = {**environ, "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + self.mount}
            return self.service(environ, start_response)
        return self.app(environ, start_response)


def make_app(network: Network, out: Path | None = None, service=None):
    """WSGI app: static files at `/`, the comment service (a Flask app) under its URL path, and the network
    host's WebFinger and NodeInfo answered by the service."""
    static = StaticSite(out or network.output, webmention=f"{network.comments_url}webmention",
                        headers=csp.headers(network))
    mount = service_mount(network)
    if service is None or mount is None:
        return static
    if not mount:
        raise NotFound("the comment service cannot share the root path with the sites")
    return WellKnown(DispatcherMiddleware(static, {mount: service}), service, mount)


def run(app, host: str, port: int):
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
