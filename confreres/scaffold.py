"""`confreres new-site`: a new blog folder, registered in network.toml without losing its comments."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

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
Summary: Premier billet du blog « {title} ».

Ce blog rejoint le réseau Confrères. Les billets suivants parleront de mon exercice.
"""


PARIS = ZoneInfo("Europe/Paris")  # the new blog's site.toml timezone: its first post is not scheduled


class ScaffoldError(Exception):
    pass


def new_site(
    network: Network, slug: str, *, author: str, title: str | None = None, specialty: str = "", url: str | None = None
) -> Site:
    if network.source is None:
        raise ScaffoldError("pas de network.toml où inscrire le blog : lancez la commande dans le dossier du réseau "
                            "(ou --network FICHIER)")
    if not registry.SLUG_RE.match(slug):
        raise ScaffoldError(f"« {slug} » ne peut pas être l'identifiant d'un blog (il sert d'adresse) : lettres "
                            "minuscules sans accent, chiffres et tirets, par exemple dr-martin")
    if slug in registry.RESERVED_SLUGS or any(site.slug == slug for site in network.sites):
        taken = "est déjà un blog du réseau" if any(site.slug == slug for site in network.sites) else \
            "est une adresse du réseau lui-même"
        raise ScaffoldError(f"« {slug} » {taken} : choisissez un autre identifiant, par exemple dr-martin")
    title = title or f"Le blog {_of(author)}"
    folder = network.root / "sites" / slug
    if folder.exists():
        raise ScaffoldError(f"le dossier {folder} existe déjà : choisissez un autre identifiant, ou retirez ce dossier")

    text = Path(network.source).read_text(encoding="utf-8")
    document = tomlkit.parse(text)
    # the network's URL as the file says it, not as a moved demo reads it (CONFRERES_DEMO_ORIGIN): the file keeps
    # one origin, whatever port the demo that ran the command listened on
    url = url or f"{document['network']['url']}{slug}/"
    entry = tomlkit.table()
    entry.add("slug", slug)
    entry.add("title", title)
    entry.add("author", author)
    if specialty:
        entry.add("specialty", specialty)
    entry.add("url", url)
    new_text = _with_site(text, tomlkit.dumps({"sites": [entry]}))
    # Validate the whole file as it will be written, before touching the disk.
    updated = registry.parse(tomlkit.parse(new_text).unwrap(), root=network.root, source=network.source)
    site = updated.site(slug)

    try:
        (folder / "content" / "pages").mkdir(parents=True)
        (folder / registry.SITE_FILE).write_text(SITE_TOML, encoding="utf-8")
        (folder / "content" / "pages" / "a-propos.md").write_text(
            ABOUT.format(author=author, specialty_line=f" ({specialty})" if specialty else ""), encoding="utf-8"
        )
        (folder / "content" / f"{slug}-bienvenue.md").write_text(
            WELCOME.format(date=datetime.now(PARIS).strftime("%Y-%m-%d %H:%M"), slug=slug, title=title), encoding="utf-8"
        )
        tmp = Path(network.source).with_suffix(".toml.tmp")
        tmp.write_text(new_text, encoding="utf-8")
        tmp.replace(network.source)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ScaffoldError(f"le blog n'a pas pu être créé : {exc}") from None
    return site


def _with_site(text: str, table: str) -> str:
    """network.toml with `table` (a [[sites]] entry) after the last blog's own lines, a blank line before it: not
    after the comments that follow them (the commented [[feeds]] example), not glued to the line above."""
    lines = text.splitlines(keepends=True)
    last = max((i for i, line in enumerate(lines) if line.strip().startswith("[[sites]]")), default=None)
    end = len(lines)
    if last is not None:
        end = next((i for i in range(last + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
        while end > last + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
    head, tail = "".join(lines[:end]), "".join(lines[end:]).lstrip("\r\n")
    if head and not head.endswith("\n"):
        head += "\n"
    return f"{head}\n{table}" + (f"\n{tail}" if tail.strip() else "")


def _of(author: str) -> str:
    return f"du {author}" if author.startswith("Dr ") else f"de {author}"
