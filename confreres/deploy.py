"""The production setup shipped in deploy/ (an nginx site, systemd units), rendered for one network.

The files are templates with @NAME@ markers, filled from network.toml by `confreres deploy nginx` and
`confreres deploy systemd`: the operator installs what the tests ran (tests/deploy/ renders the same files
through the same functions, then runs nginx, gunicorn and `systemd-analyze verify` on them). A marker left
without a value is an error, so a template cannot ship half-rendered.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from confreres import csp
from confreres.registry import Network, origin_of
from confreres.releases import PROJECT_DIR
from confreres.serve import NOT_FOUND, service_mount

TEMPLATES = PROJECT_DIR / "deploy"
NGINX_SITE = TEMPLATES / "nginx" / "confreres.conf"
SYSTEMD = TEMPLATES / "systemd"
GUNICORN = "127.0.0.1:8001"  # where the unit's gunicorn binds and the nginx site proxies to
MARKER = re.compile(r"@([A-Z_]+)@")


class DeployError(ValueError):
    """The network cannot be served by these files as they are; the message (French) says why."""


def render(text: str, values: dict[str, str]) -> str:
    """`text` with every @NAME@ replaced, except in comment lines (which document the markers); a value of
    several lines keeps the marker's indentation."""

    def line(source: str) -> str:
        if source.lstrip().startswith("#"):
            return source
        indent = source[: len(source) - len(source.lstrip())]

        def value(match: re.Match) -> str:
            name = match.group(1)
            if name not in values:
                raise DeployError(f"@{name}@ : aucune valeur pour ce repère du modèle")
            return values[name].replace("\n", "\n" + indent)

        return MARKER.sub(value, source)

    return "".join(line(source) for source in text.splitlines(keepends=True))


ACCESS_LOG = "/var/log/nginx/access.log"  # Debian's, rotated by its logrotate (14 days)


def nginx_values(network: Network, listen: str = "80", gunicorn: str = GUNICORN,
                 access_log: str = ACCESS_LOG) -> dict[str, str]:
    """The markers of deploy/nginx/confreres.conf: one origin serving `public/` at its root and the service."""
    prefix = service_mount(network)
    if not prefix:
        raise DeployError(f"comments_url = {network.comments_url} : le service de commentaires doit être servi "
                          f"sous un chemin de l'origine du réseau ({origin_of(network.url)}/comments/, par exemple)")
    if urlsplit(network.url).path not in ("", "/"):
        raise DeployError(f"url = {network.url} : le réseau doit être à la racine de son origine")
    for site in network.sites:
        if site.url != f"{origin_of(network.url)}/{site.slug}/":
            raise DeployError(f"{site.slug} : url = {site.url} : ce fichier sert chaque blog à "
                              f"{origin_of(network.url)}/{site.slug}/ (son dossier dans {network.output})")
    return {
        "SERVER_NAME": urlsplit(network.url).hostname,
        "LISTEN": listen,
        "ROOT": str(network.output),
        "PREFIX": prefix,
        "GUNICORN": gunicorn,
        "ACCESS_LOG": access_log,
        "WEBMENTION": f"{network.comments_url}webmention",
        "CSP_HEADERS": "\n".join(csp.nginx_lines(network)),
        "NOT_FOUND": NOT_FOUND.replace("\\", "\\\\").replace("'", "\\'").replace("\n", ""),  # a '…' string
    }


def nginx_site(network: Network, listen: str = "80", gunicorn: str = GUNICORN, access_log: str = ACCESS_LOG) -> str:
    return render(NGINX_SITE.read_text(encoding="utf-8"), nginx_values(network, listen, gunicorn, access_log))


def systemd_units(network: Network, gunicorn: str = GUNICORN) -> dict[str, str]:
    """{relative path: rendered text} of every unit and drop-in of deploy/systemd/."""
    values = {
        "ROOT": str(network.root),
        "NETWORK": str(network.source or network.root / "network.toml"),
        "PUBLIC": str(network.output),
        "BIN": str(Path(sys.executable).parent),  # the virtualenv running this command: confreres, gunicorn
        "GUNICORN": gunicorn,
    }
    return {
        str(path.relative_to(SYSTEMD)): render(path.read_text(encoding="utf-8"), values)
        for path in sorted(SYSTEMD.rglob("*"))
        if path.is_file()
    }
