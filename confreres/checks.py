"""What a doctor reads when a blog does not build: every message in French, naming the file to fix.

Pelican logs what it cannot read in English, with its own path forms, and it only notices two
contents sharing one output file (or a file name the disk refuses) while writing, with the output
path and not the source. So, in the build's process (one process per site: the state here is
per build):

- `describe` turns Pelican's error log records into French messages naming `content/<file>`;
- `refuse_conflicts`, connected to `all_generators_finalized` (after reading, before writing),
  lists every file the build would write with who writes it, and refuses the build when two
  owners share a file, when a file name is too long for the disk, when a post would write over
  the theme or the network's own files;
- `withheld` says which posts the build kept back (drafts, posts dated in the future), for the push;
- `refuse_conflicts` also scans each post and page for medical secrecy (confreres.secrecy): a finding
  that refuses stops the build naming `content/<file>`, line and column; `secrecy_warnings` keeps the
  others for the push, `with_secrecy` adds them to each post announced to the comment service;
- `outside_warnings` names the images and players a post loads from outside the network, which the pages'
  Content-Security-Policy (confreres.csp) does not show: published, but the doctor would otherwise see a blank.
"""

from __future__ import annotations

import datetime
import html
import os
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

NAME_MAX = 255  # bytes per file name on ext4, xfs, btrfs, tmpfs
RESERVED_FILES = ("posts.json", "comments.json", "crosslinks.json", ".confreres-build.json")

DIRECT_PAGES = {
    "index": "la page d'accueil du blog", "tags": "la liste des mots-clés du blog",
    "categories": "la liste des catégories du blog", "authors": "la liste des auteurs du blog",
    "archives": "les archives du blog", "sitemap": "le plan du site (pour les moteurs de recherche)",
}

# What the last build of this process kept back, for `withheld` (one site per process).
_WITHHELD: list[dict] = []
_SECRECY_WARNINGS: list[str] = []
_SECRECY_FOUND: list[dict] = []  # the same warnings, one dict each, for the comment service (secrecy_findings)
_OUTSIDE: list[str] = []
_UNKNOWN_REPLIES: list[str] = []  # posts whose Reply_to names no post of the network (plugins/crosslinks)
# what a page loads by itself (a link is followed, not loaded): <img src>, players, their sources and posters
_LOADED = re.compile(r"""<(img|iframe|video|audio|source|embed|object|track)\b[^>]*?\s(src|data|poster)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
                     re.I)
_LOADED_KINDS = {"img": "image", "iframe": "lecteur intégré", "embed": "contenu intégré", "object": "contenu intégré"}
OUTSIDE_SHOWN = 20  # lines said to the pusher; the rest counted


class Refused(Exception):
    """The build must stop before Pelican writes anything; `messages` say why, in French."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


def source_name(path, content_dir: Path | None) -> str:
    """`content/<path>` as the doctor sees it in their clone, from any of Pelican's path forms.

    Both sides are made absolute: Pelican's source paths are, while PATH may be relative (`confreres preview
    --source .` from a clone), which named a draft « content//home/…/content/x.md »."""
    path = str(path)
    if content_dir is not None:
        base = os.path.abspath(content_dir)
        full = os.path.abspath(path if os.path.isabs(path) else os.path.join(base, path))
        try:
            return f"content/{full.removeprefix(base + os.sep)}"
        except ValueError:
            pass
    return path


def describe(record, exc: BaseException | None, content_dir: Path | None) -> str:
    """A French message for one of Pelican's error records (`exc`: the exception being handled, if any)."""
    template, args = str(record.msg), record.args if isinstance(record.args, tuple) else ()
    if template.startswith("Could not process") and args:
        name = source_name(args[0], content_dir)
        return f"{name} : {_why_unreadable(exc, content_dir, args[0])}"
    if template.startswith("Skipping %s: could not find information about") and len(args) == 2:
        name = source_name(args[0], content_dir)
        full = content_dir / name.removeprefix("content/") if content_dir else None
        if full is not None and full.is_file() and not full.read_bytes().strip():
            return f"{name} : le fichier est vide ; écrivez-y au moins les lignes « Title: » et « Date: » puis le texte."
        what = {"title": "le titre (ligne « Title: … »)",
                "date": "la date (ligne « Date: 2026-03-14 08:30 »)"}.get(str(args[1]), f"« {args[1]} »")
        return f"{name} : il manque {what} en tête du fichier."
    if template.startswith("Unknown status") and len(args) >= 2:
        name = source_name(args[1], content_dir)
        return (f"{name} : « Status: {args[0]} » n'existe pas ; écrivez « Status: draft » (brouillon, non publié), "
                "« Status: hidden » (publié sans apparaître dans les listes) ou retirez la ligne.")
    if template.startswith("Skipping %s: file %r would be written outside output path") and len(args) == 2:
        return f"{source_name(args[0], content_dir)} : « {args[1]} » sortirait du blog ; changez son « Slug: »."
    message = record.getMessage()
    if exc is not None:
        message += f"\n    {type(exc).__name__}: {exc}"
    return message


def _why_unreadable(exc: BaseException | None, content_dir: Path | None, path) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return ("le fichier n'est pas enregistré en UTF-8 ; dans votre éditeur, réenregistrez-le "
                "avec l'encodage « UTF-8 ».")
    text = str(exc or "")
    if isinstance(exc, ValueError) and "is not a valid date" in text:
        value = text.split(" is not a valid date")[0]
        return f"la date {value} n'est pas comprise ; écrivez-la comme « Date: 2026-03-14 08:30 »."
    if exc is None:
        return "Pelican ne peut pas lire ce fichier."
    return f"Pelican ne peut pas lire ce fichier ({type(exc).__name__} : {exc})."


def _short(text, limit: int = 60) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sources(items, content_dir: Path | None) -> str:
    names = sorted({source_name(i.source_path, content_dir) for i in items if getattr(i, "source_path", None)})
    return ", ".join(names[:5]) + (f" et {len(names) - 5} autres" if len(names) > 5 else "")


class RealPaths:
    """`os.path.realpath` for the many files of a few folders: each folder resolved once, then one `lstat` a file.

    A blog's checks resolve every post, page and output path (~1,000 for 200 posts); resolving each anew walks
    every component of it. A file that is not itself a symlink is its folder's real path and its name. One per
    check: what it keeps is not valid across builds (a symlink may change between them)."""

    def __init__(self):
        self._folders: dict[str, str] = {}

    def __call__(self, path) -> str:
        path = os.fspath(path)
        folder, name = os.path.split(path)
        if not os.path.isabs(path) or name in ("", ".", "..") or ".." in path.split(os.sep) or os.path.islink(path):
            return os.path.realpath(path)
        real = self._folders.get(folder)
        if real is None:
            real = self._folders[folder] = os.path.realpath(folder)
        return os.path.join(real, name)


# Who writes a file and what to change: made only for a file in trouble (their texts name the posts of each tag
# and category: built for every file of a 200-post blog, they were a third of its checks).
Owner = Callable[[], tuple[str, str]]


def planned_outputs(generators, settings: dict) -> dict[str, list[Owner]]:
    """Every file the build will write -> who writes it and what to change (French), each made when called."""
    content_dir = Path(settings["PATH"])
    planned: dict[str, list[Owner]] = defaultdict(list)

    def add(save_as, owner: Owner):
        if save_as:
            planned[os.path.normpath(str(save_as)).lstrip("/")].append(owner)

    def fixed(owner: str, fix: str) -> Owner:
        return lambda: (owner, fix)

    def content(item) -> Owner:
        def owner():
            name = source_name(item.source_path, content_dir)
            return name, f"donnez à {name} un autre « Slug: » (ou un autre titre)"
        return owner

    def taxonomy(wrapper, items, label: str, page: str) -> Owner:
        def owner():
            sources = _sources(items, content_dir)
            return (f"la page {page} « {_short(wrapper.name)} » ({sources})",
                    f"changez {label} « {_short(wrapper.name)} » dans {sources}")
        return owner

    def author(wrapper, items) -> Owner:
        return lambda: (f"la page de l'auteur « {_short(wrapper.name)} »",
                        f"changez « Author: » dans {_sources(items, content_dir)}")

    def numbered(owner: Owner, number: int) -> Owner:
        def page():
            who, fix = owner()
            return f"{who} (page {number})", fix
        return page

    def paginated(save_as, items, template: str, owner: Owner):
        from pelican.paginator import Paginator

        add(save_as, owner)
        per_page = (settings.get("PAGINATED_TEMPLATES") or {}).get(template) or settings.get("DEFAULT_PAGINATION")
        if save_as and per_page and template in (settings.get("PAGINATED_TEMPLATES") or {}):
            pages = Paginator(save_as, save_as, list(items), settings, per_page)
            for number in range(2, pages.num_pages + 1):
                add(pages.page(number).save_as, numbered(owner, number))

    for gen in generators:
        kind = type(gen).__name__
        if kind == "ArticlesGenerator":
            for article in (*gen.articles, *gen.translations, *gen.hidden_articles, *gen.hidden_translations,
                            *gen.drafts, *gen.drafts_translations):
                add(article.save_as, content(article))
            for taxonomy_name, label, page, feed in (("categories", "la catégorie", "de la catégorie", "CATEGORY"),
                                                     ("tags", "le mot-clé", "du mot-clé", "TAG")):
                groups = getattr(gen, taxonomy_name)  # tags: a dict; categories, authors: (wrapper, items) pairs
                for wrapper, items in groups.items() if isinstance(groups, dict) else groups:
                    owner = taxonomy(wrapper, items, label, page)
                    paginated(wrapper.save_as, items, "category" if feed == "CATEGORY" else "tag", owner)
                    for fmt in ("ATOM", "RSS"):
                        pattern = settings.get(f"{feed}_FEED_{fmt}")
                        add(pattern and pattern.format(slug=wrapper.slug), owner)
            for wrapper, items in gen.authors:
                paginated(wrapper.save_as, items, "author", author(wrapper, items))
            for template in settings.get("DIRECT_TEMPLATES", []):
                save_as = settings.get(f"{template.upper()}_SAVE_AS", f"{template}.html")
                paginated(save_as, gen.articles, template,
                          fixed(DIRECT_PAGES.get(template, f"la page « {template} »"), ""))
            for key in ("FEED_ATOM", "FEED_RSS", "FEED_ALL_ATOM", "FEED_ALL_RSS"):
                add(settings.get(key), fixed("le flux du blog", ""))
        elif kind == "PagesGenerator":
            for page in (*gen.pages, *gen.translations, *gen.hidden_pages, *gen.hidden_translations,
                         *gen.draft_pages, *gen.draft_translations):
                add(page.save_as, content(page))
        elif kind == "StaticGenerator":
            for static in gen.staticfiles:
                name = source_name(static.source_path, content_dir)
                add(static.save_as, fixed(name, f"renommez {name}"))
    return planned


def problems(generators, settings: dict) -> list[str]:
    """French messages for the files this build cannot write; [] when it can write them all."""
    theme_dir = str(settings.get("THEME_STATIC_DIR") or "theme")
    found: list[str] = []
    too_long: set[tuple[str, str]] = set()
    for path, planned in sorted(planned_outputs(generators, settings).items()):
        reserved = path == theme_dir or path.startswith(theme_dir + "/") or path in RESERVED_FILES
        longest = max(len(part.encode()) for part in Path(path).parts)
        if len(planned) == 1 and not reserved and longest <= NAME_MAX:
            continue  # the common case: nothing to say, nothing to describe
        owners = sorted((owner() for owner in planned), key=lambda o: (not o[1], o[0]))  # the doctor's files first
        fixes = [fix for _, fix in owners if fix]
        who = " ; ".join(dict.fromkeys(owner for owner, _ in owners))
        if len(owners) > 1:
            # one owner per item listed: a post, or a category or tag page (with the posts that make it)
            slugs_only = len(fixes) == len(owners) and all(fix.startswith("donnez à ") for fix in fixes)
            fix = "donnez à chacun un « Slug: » différent (ou un autre titre)" if slugs_only else (
                " ou ".join(dict.fromkeys(fixes)) if fixes else "renommez l’un d’eux")
            found.append(f"{len(owners)} pages seraient publiées dans le même fichier « {path} » : {who}. "
                         f"Pour corriger : {fix}.")
        if reserved:
            found.append(f"{who} serait publié dans « {path} », réservé au thème ou au réseau. "
                         f"Pour corriger : {fixes[0] if fixes else 'renommez-le'}.")
        if longest > NAME_MAX and (who, fixes[0] if fixes else "") not in too_long:
            too_long.add((who, fixes[0] if fixes else ""))
            message = (f"{who} : nom de fichier trop long ({longest} caractères, {NAME_MAX} au plus). Pour corriger : "
                       f"{fixes[0] if fixes else 'raccourcissez-le'}, en plus court")
            if "la catégorie" in who:
                message += " (une seule catégorie par billet : les autres vont dans « Tags: »)"
            found.append(message + ".")
    return found


def refuse_conflicts(generators):
    """all_generators_finalized: refuse the build before Pelican writes a file twice or one it cannot."""
    generators = list(generators)
    settings = generators[0].settings if generators else {}
    _remember_withheld(generators, settings)
    found = secrecy_refusals(generators, settings) + problems(generators, settings)
    if found:
        raise Refused(found)
    _remember_outside(generators, settings)


# Every list of contents a Pelican generator holds: posts and pages, their translations, drafts, hidden ones.
CONTENT_LISTS = ("articles", "translations", "drafts", "drafts_translations", "hidden_articles",
                 "hidden_translations", "pages", "hidden_pages", "draft_pages", "draft_translations")


def contents(generator):
    """Every post and page `generator` read, published or not (the guard and the secrecy check see them all)."""
    for name in CONTENT_LISTS:
        yield from getattr(generator, name, None) or []


def secrecy_refusals(generators, settings: dict) -> list[str]:
    """French messages for the posts and pages that must not be published (a NIR, a phone, an e-mail);
    their softer findings are kept for `secrecy_warnings`. Drafts too: they are on the server."""
    from confreres import secrecy

    _SECRECY_WARNINGS.clear()
    _SECRECY_FOUND.clear()
    content_dir = Path(settings.get("PATH", "."))
    refusals: list[str] = []
    seen: set[str] = set()
    real = RealPaths()
    for item in (item for gen in generators for item in contents(gen)):
        path = real(item.source_path)
        if path in seen or not os.path.isfile(path):
            continue
        seen.add(path)
        with open(path, encoding="utf-8", errors="replace") as file:
            findings = secrecy.scan(file.read())
        refuse, warn = secrecy.blocking(findings, secrecy.verified(item.metadata.get("secret")))
        source = source_name(item.source_path, content_dir)
        refusals += [f"secret médical : {f.message(source)}" for f in refuse]
        _SECRECY_WARNINGS.extend(f.message(source) for f in warn)
        _SECRECY_FOUND.extend({"source": source, "line": f.line, "column": f.column, "kind": f.kind,
                               "reason": f.reason, "text": f.text} for f in warn)
    return refusals


def _remember_outside(generators, settings: dict) -> None:
    """Images and players hosted elsewhere, in the posts and pages this build publishes (a preview's drafts too)."""
    from confreres.registry import origin_of

    _OUTSIDE.clear()
    own = {origin_of(url) for url in [settings.get("SITEURL", ""), settings.get("NETWORK_URL", ""),
                                       settings.get("COMMENTS_URL", "")]
           + [site["url"] for site in settings.get("NETWORK_SITES", [])] if url}
    content_dir = Path(settings.get("PATH", "."))
    lists = ("articles", "translations", "hidden_articles", "pages", "hidden_pages")
    if settings.get("DRAFT_SAVE_AS"):  # a preview (confreres.preview) shows the drafts: named too
        lists += ("drafts", "draft_pages")
    for generator in generators:
        for name in lists:
            for item in getattr(generator, name, None) or []:
                text = getattr(item, "_content", "") or ""
                if "src" not in text and "data" not in text and "poster" not in text:
                    continue
                for match in _LOADED.finditer(text):
                    url = html.unescape(next(g for g in match.groups()[2:] if g is not None)).strip()
                    absolute = url.startswith("//") or re.match(r"(?i)https?:", url)
                    if not absolute or origin_of("https:" + url if url.startswith("//") else url) in own:
                        continue
                    what = _LOADED_KINDS.get(match.group(1).lower(), "média")
                    said = ("image hébergée ailleurs, non affichée" if what == "image"
                            else f"{what} hébergé ailleurs, non affiché")
                    fix = ("copiez-la dans content/images/ et liez-la par {static}/images/…" if what == "image"
                           else "mettez plutôt un lien vers la page où le voir")
                    _OUTSIDE.append(f"{source_name(item.source_path, content_dir)} : {said} sur le réseau ({url}) : "
                                    f"{fix}")


def outside_warnings() -> list[str]:
    """What the last build in this process publishes from outside the network (`content/x.md : image …`)."""
    found = list(dict.fromkeys(_OUTSIDE))
    if len(found) > OUTSIDE_SHOWN:
        found[OUTSIDE_SHOWN:] = [f"… et {len(found) - OUTSIDE_SHOWN} autres du même genre"]
    return found


def note_unknown_replies(items: list[tuple[str, str, bool]], content_dir: Path | None) -> None:
    """(source path, the Reply_to as written, whether it is an address at all) of the posts of this build whose
    answered post the network does not have: the crosslinks plugin says it, the build carries it to the doctor."""
    _UNKNOWN_REPLIES[:] = [
        f"{source_name(path, content_dir)} : Reply_to : "
        + (f"aucun billet du réseau à cette adresse ({url}) : le lien « En réponse à » mène à une page introuvable "
           "et le billet répondu ne montre pas votre réponse ; copiez l'adresse du billet depuis votre navigateur"
           if address else
           f"« {url} » n'est pas l'adresse complète d'un billet (https://…) : copiez-la depuis votre navigateur")
        for path, url, address in items
    ]


def unknown_replies() -> list[str]:
    """The warnings of note_unknown_replies for the last build in this process."""
    return list(_UNKNOWN_REPLIES)


def secrecy_warnings() -> list[str]:
    """The secrecy warnings of the last build in this process (`content/x.md, ligne …`), for the push."""
    return list(_SECRECY_WARNINGS)


def with_secrecy(articles: list[dict]) -> list[dict]:
    """The built posts, each with the secrecy warnings of its file (`secrecy`: source, line, column, kind, reason
    and the flagged span only), for the announce to the comment service, which lists them to the blog's
    moderators (never in posts.json: that file is public)."""
    return [{**post, "secrecy": [f for f in _SECRECY_FOUND if f["source"] == f"content/{post.get('source')}"]}
            for post in articles]


def _remember_withheld(generators, settings: dict):
    """Drafts, and posts dated in the future (drafts too in a live build: WITH_FUTURE_DATES is off)."""
    _WITHHELD.clear()
    content_dir = Path(settings.get("PATH", "."))
    for gen in generators:
        if type(gen).__name__ not in ("ArticlesGenerator", "PagesGenerator"):
            continue
        for item in (*getattr(gen, "drafts", ()), *getattr(gen, "draft_pages", ()), *getattr(gen, "articles", ())):
            date = getattr(item, "date", None)
            draft = str(item.metadata.get("status", "")).lower() == "draft"
            if not draft and not (date and _future(date)):
                continue
            _WITHHELD.append({
                "source": source_name(item.source_path, content_dir), "title": str(item.title),
                "scheduled": "" if draft else date.isoformat(), "save_as": item.save_as or "",
            })


def _future(date: datetime.datetime) -> bool:
    now = datetime.datetime.now(datetime.UTC) if date.tzinfo else datetime.datetime.now()
    return date > now


def next_due() -> float | None:
    """The timestamp of the first scheduled post of the last build in this process (None: none)."""
    dates = [datetime.datetime.fromisoformat(w["scheduled"]) for w in _WITHHELD if w["scheduled"]]
    return min((d if d.tzinfo else d.astimezone()).timestamp() for d in dates) if dates else None


def withheld() -> list[dict]:
    """The drafts and scheduled posts the last build in this process kept back: {"source", "title", "scheduled"}."""
    return list(_WITHHELD)


def withheld_line(post: dict) -> str:
    """« Titre » (content/x.md) : brouillon… / programmé… — one line for the push and `confreres preview`."""
    from confreres.french import datetime_fr

    if post["scheduled"]:
        state = f"programmé, publié le {datetime_fr(datetime.datetime.fromisoformat(post['scheduled']))}"
    else:
        state = "brouillon, non publié"
    return f"« {post['title']} » ({post['source']}) : {state}"
