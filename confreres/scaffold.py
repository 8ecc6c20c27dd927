"""`confreres new-site`: a new blog folder, registered in network.toml without losing its comments."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import tomlkit

from confreres import registry
from confreres.registry import Network, Site

SITE_TOML = """# This blog's own settings (data, never code). Everything else — title, author, URL, theme, feeds —
# comes from the network (network.toml). Allowed keys:
pagination = 10             # posts per page
timezone = "Europe/Paris"   # dates without a zone are read in this one
# permalinks = "date"       # posts at <yyyy>/<mm>/<dd>/<slug>/ (WordPress' addresses) instead of <slug>.html
"""

ABOUT = """Title: À propos
Slug: a-propos

{author}{specialty_line} tient ce blog sur le réseau Confrères.

Les commentaires sont modérés. Merci de ne rien écrire qui permette de reconnaître un patient :
le secret médical vaut aussi en ligne.
"""

WELCOME = """Title: Bienvenue sur mon blog
Date: {date}
Category: Divers
Tags: présentation
Slug: {slug}-bienvenue
Summary: Premier billet de {title}.

Ce blog rejoint le réseau Confrères. Les billets suivants parleront de mon exercice.
"""


class ScaffoldError(Exception):
    pass


def new_site(
    network: Network, slug: str, *, author: str, title: str | None = None, specialty: str = "", url: str | None = None
) -> Site:
    if network.source is None:
        raise ScaffoldError("the network has no network.toml file to register the site in")
    title = title or f"Le blog {_of(author)}"
    url = url or f"{network.url}{slug}/"
    folder = network.root / "sites" / slug
    if folder.exists():
        raise ScaffoldError(f"{folder} already exists")

    text = Path(network.source).read_text(encoding="utf-8")
    document = tomlkit.parse(text)
    entry = tomlkit.table()
    entry.add("slug", slug)
    entry.add("title", title)
    entry.add("author", author)
    if specialty:
        entry.add("specialty", specialty)
    entry.add("url", url)
    if "sites" not in document:
        document.add("sites", tomlkit.aot())
    document["sites"].append(entry)
    # Validate the whole file as it will be written, before touching the disk.
    updated = registry.parse(document.unwrap(), root=network.root, source=network.source)
    site = updated.site(slug)

    try:
        (folder / "content" / "pages").mkdir(parents=True)
        (folder / registry.SITE_FILE).write_text(SITE_TOML, encoding="utf-8")
        (folder / "content" / "pages" / "a-propos.md").write_text(
            ABOUT.format(author=author, specialty_line=f" ({specialty})" if specialty else ""), encoding="utf-8"
        )
        (folder / "content" / f"{slug}-bienvenue.md").write_text(
            WELCOME.format(date=datetime.now().strftime("%Y-%m-%d %H:%M"), slug=slug, title=title), encoding="utf-8"
        )
        tmp = Path(network.source).with_suffix(".toml.tmp")
        tmp.write_text(tomlkit.dumps(document), encoding="utf-8")
        tmp.replace(network.source)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ScaffoldError(f"cannot create the site: {exc}") from None
    return site


def _of(author: str) -> str:
    return f"du {author}" if author.startswith("Dr ") else f"de {author}"
