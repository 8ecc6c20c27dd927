"""An export's threads -> the posts of one blog and their comments: matching, writing each once, the report.

Every importer (wordpress.py, blogger.py, dotclear.py, movable_type.py, overblog.py, disqus.py, isso.py) reads its
file into `ParsedExport` (threads of `ImportedComment`s), then `import_threads` does the rest the same way for all:

1. **Match** each thread to a post of the site that the service knows (the `posts` table, fed by the build), by
   the path of its link relative to the blog (permalinks kept), else by its slug (the last segment of its link, or
   WordPress's `post_name`, which `confreres import wordpress-posts` keeps as the post's `Slug:`).
2. **Write** one transaction per thread (a failure never leaves a half-imported thread), parents before replies,
   each comment recorded under its import key (site, source, the source's comment id) in the `imports` table, so
   that a second run finds every comment "already present" and writes nothing, and a comment deleted since does
   not come back.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from comments_service.core.db import write
from comments_service.domain import comments as store
from comments_service.domain import render, secrecy, validate
from comments_service.domain.posts import bump_post
from confreres.french import plural_fr, slugify
from confreres.registry import Network
from confreres.sanitize import clean
from confreres.sanitize import text as plain_text
from confreres.xml_input import LABELS as REPAIR_LABELS

# -- what an importer reads ----------------------------------------------------------------------


@dataclass
class ImportedComment:
    source_id: str  # the comment's id in the file's system
    parent: str  # the source id of the parent, "" for a top-level comment
    author: str
    email: str | None
    website: str | None
    created: str  # ISO 8601 UTC
    date_from: str  # "gmt" | "local" | "post" | "import": where `created` came from
    text: str  # the comment as the file gives it, kept as is
    html: str  # sanitised once
    status: str | None  # approved | pending | spam; None when skipped
    skip: str | None  # reason when the comment is not imported
    is_post_author: bool
    dropped: tuple[str, ...] = ()  # fields left out because invalid ("email", "website")
    secrecy: str | None = None  # why it waits for a moderator whatever its old status (domain/secrecy.hold)


@dataclass
class ImportedThread:
    source_id: str
    title: str
    link: str
    guid: str
    slug: str
    post_type: str
    line: int
    comments: list[ImportedComment] = field(default_factory=list)
    unpublished: str = ""  # why the old blog did not publish it (« brouillon », « privé »…): the posts' import did not


@dataclass
class ParsedExport:
    source: str  # the key of `imports.source`: "wordpress", "disqus"
    version: str  # of the file's format, when it says ("1.2" for WXR 1.2)
    base_url: str  # the old blog's address, when the file says
    threads: list[ImportedThread]  # only those that carry comments
    items: int  # every thread or item of the file
    repairs: Counter = field(default_factory=Counter)  # what xml_input mended, by kind
    skipped: Counter = field(default_factory=Counter)  # comments outside any thread of the file, by reason


MAX_COMMENT_CHARS = 200_000  # a comment longer than this is not a comment: skipped


def _autop(source: str) -> str:
    """WordPress shows comments through wpautop: blank lines make paragraphs, newlines line breaks.

    Headings become bold paragraphs and divs paragraphs (the sanitiser would otherwise strip the tags
    and run their texts together); the sanitiser decides what survives.
    """
    text = source.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = re.sub(r"<h[1-6]\b[^>]*>", "\n\n<p><strong>", text, flags=re.I)
    text = re.sub(r"</h[1-6]\s*>", "</strong></p>\n\n", text, flags=re.I)
    text = re.sub(r"<div\b[^>]*>", "\n\n<p>", text, flags=re.I)
    text = re.sub(r"</div\s*>", "</p>\n\n", text, flags=re.I)
    blocks = []
    for part in re.split(r"\n\s*\n", text):
        part = part.strip()
        if not part:
            continue
        if re.match(r"<(p|blockquote|ul|ol|pre|hr|table|dl|figure)\b", part, re.I):
            blocks.append(part)
        else:
            blocks.append("<p>" + part.replace("\n", "<br>\n") + "</p>")
    return "\n".join(blocks)


def comment_html(source: str) -> str:
    """A comment's HTML as exports give it -> the stored, sanitised HTML (no Markdown pass: it is HTML already)."""
    return clean(_autop(source))


def author_name(raw: str) -> str:
    name = validate.one_line(plain_text(raw or ""))
    return name[: validate.MAX_AUTHOR].strip()


def imported_comment(*, source_id: str, parent: str, author: str | None, email: str | None, website: str | None,
                     created: datetime, date_from: str, source: str, status: str | None, skip: str | None,
                     is_post_author: bool, html: str | None = None) -> ImportedComment:
    """A comment as an importer read it, its fields checked as the API checks a new one's (an invalid e-mail or
    website is left out, and counted) and its HTML sanitised once (`source` is HTML, unless the importer gives
    `html`, sanitised already); `skip` set when it is empty once sanitised or too long to be a comment."""
    dropped = []
    typed, email = (email or "").strip(), None
    if typed:
        email = validate.email_address(typed)
        dropped = dropped if email else [*dropped, "email"]
    website = (website or "").strip() or None
    if website and (len(website) > validate.MAX_WEBSITE or not validate.is_http_url(website)):
        website, dropped = None, [*dropped, "website"]
    given, html = html, ""
    if skip is None:
        if len(source) > MAX_COMMENT_CHARS:
            skip = "too_long"
        else:
            html = comment_html(source) if given is None else given
            if render.is_blank(html):
                skip = "empty"
    # what a new comment is held for is held here too, whatever the old blog had published (it was public there:
    # it is not republished by the network before a moderator has read it)
    held = secrecy.hold(plain_text(html)) if skip is None and status != "spam" else None
    return ImportedComment(
        source_id=source_id, parent=parent, author=author_name(author or ""), email=email, website=website,
        created=store.iso(created), date_from=date_from, text=source.strip(), html=html,
        status=None if skip else ("pending" if held else status), skip=skip, is_post_author=is_post_author,
        dropped=tuple(dropped), secrecy=held)


# -- matching ------------------------------------------------------------------------------------


def _segments(path: str) -> list[str]:
    parts = [unquote(p).strip().lower() for p in path.split("/") if p.strip()]
    if parts and parts[-1] in ("index.html", "index.htm", "index.php"):
        parts.pop()
    return parts


def _stem(segment: str) -> str:
    return re.sub(r"\.(html?|php)$", "", segment)


def thread_slugs(post: ImportedThread) -> list[str]:
    """The slugs an old post may have here: its own (WordPress's `post_name`), else its link's last segment; each as
    written, then made a slug."""
    slugs = []
    if post.slug:
        slugs.append(unquote(post.slug).strip().lower())
    else:
        link_segs = _segments(urlsplit(post.link).path) if post.link else []
        if link_segs:
            slugs.append(_stem(link_segs[-1]))
    if slugs:
        slugs.append(slugify(slugs[0]))
    return slugs


def without_thread_reason(post: ImportedThread, site: str, without_thread: dict[str, tuple[str, str, str]]) -> str:
    """Why an old post's comments have nowhere to go when the blog keeps it as a page, a draft or a hidden post
    (`without_thread`: slug -> (kind, path under content/, status), confreres.post_import.without_thread), and what to
    do; "" when the blog has no such source."""
    found = next((without_thread[s] for s in thread_slugs(post) if s in without_thread), None)
    if found is None:
        return ""
    kind, path, status = found
    where = f"content/{path}"
    build = f"construisez le blog (confreres build --site {site}), puis relancez l'import"
    before = f"{post.unpublished} sur l'ancien blog, " if post.unpublished else ""
    if kind == "page":
        state = {"draft": ", en brouillon", "hidden": ", cachée"}.get(status, "")
        line = f", retirez « Status: {status} »" if status else ""
        return (f"{before}page de ce blog ({where}{state}) : une page n'a pas de fil de commentaires, seuls les billets "
                f"en ont ; pour garder ces commentaires, faites-en un billet publié (déplacez le fichier de "
                f"content/pages/ vers content/{line}), {build}")
    if status == "hidden":
        return (f"{before}billet caché sur ce blog ({where}, « Status: hidden ») : un billet caché n'a pas de fil de "
                f"commentaires ; retirez cette ligne, {build}")
    return (f"{before}gardé en brouillon sur ce blog ({where}, « Status: draft ») : publiez-le (retirez cette ligne, "
            f"vérifiez sa date), {build}")


NO_POST = "aucun billet du blog avec cette adresse ou ce slug"


@dataclass
class Candidate:
    url: str
    title: str


class PostIndex:
    """The site's posts, by path relative to the blog and by slug (last path segment)."""

    def __init__(self, site_url: str, candidates: list[Candidate]):
        self.prefix = _segments(urlsplit(site_url).path)
        self.by_path: dict[str, list[Candidate]] = defaultdict(list)
        self.by_slug: dict[str, list[Candidate]] = defaultdict(list)
        for cand in candidates:
            parts = _segments(urlsplit(cand.url).path)
            if parts[: len(self.prefix)] == self.prefix:
                parts = parts[len(self.prefix):]
            if not parts:
                continue
            parts[-1] = _stem(parts[-1])
            self.by_path["/".join(parts)].append(cand)
            self.by_slug[parts[-1]].append(cand)
            if slugify(parts[-1]) != parts[-1]:
                self.by_slug[slugify(parts[-1])].append(cand)

    def match(self, post: ImportedThread, base_url: str) -> tuple[Candidate | None, str]:
        """(candidate, how) with how in url | slug; (None, reason) when nothing or several fit."""
        base = _segments(urlsplit(base_url).path) if base_url else []
        for raw in (post.link, post.guid):
            try:
                parts = urlsplit(raw.strip())
            except ValueError:
                continue
            from_root = not parts.scheme and raw.strip().startswith("/")  # a path from the old site's root (Isso's)
            if parts.scheme not in ("http", "https") and not from_root:
                continue
            segs = _segments(parts.path)
            if base and segs[: len(base)] == base:
                segs = segs[len(base):]
            if not segs:
                continue  # ?p=123 permalinks say nothing
            segs[-1] = _stem(segs[-1])
            found = self.by_path.get("/".join(segs), [])
            if len(found) == 1:
                return found[0], "url"
        for slug in thread_slugs(post):
            found = {c.url: c for c in self.by_slug.get(slug, [])}
            if len(found) == 1:
                return next(iter(found.values())), "slug"
            if len(found) > 1:
                return None, f"ambigu : le slug « {slug} » correspond à {len(found)} billets"
        return None, NO_POST


# -- the report ----------------------------------------------------------------------------------


@dataclass
class PostOutcome:
    title: str
    link: str
    url: str | None  # the matched post, None when unmatched
    how: str  # url | slug | the reason it is unmatched
    comments: int  # importable comments of the post (pingbacks etc. excluded)
    imported: int = 0
    present: int = 0
    error: str | None = None


# name, what `items` counts (singular, plural)
SOURCES = {"wordpress": ("WordPress", "élément", "éléments"),
           "disqus": ("Disqus", "fil de discussion", "fils de discussion"),
           "isso": ("Isso", "fil de discussion", "fils de discussion"),
           "blogger": ("Blogger", "billet ou page", "billets et pages"),
           "movabletype": ("Movable Type", "billet", "billets"),
           "dotclear": ("Dotclear", "billet ou page", "billets et pages"),
           "overblog": ("Over-blog", "billet ou page", "billets et pages")}


@dataclass
class ImportReport:
    site: str
    file: str
    dry_run: bool
    source: str = "wordpress"
    version: str = ""
    items: int = 0
    posts: list[PostOutcome] = field(default_factory=list)
    imported: int = 0
    present: int = 0  # already imported by an earlier run (idempotence)
    statuses: Counter = field(default_factory=Counter)  # of the imported ones
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    dropped: Counter = field(default_factory=Counter)  # field -> count (invalid e-mail, website)
    dates: Counter = field(default_factory=Counter)  # where the date came from, for imported ones
    replies: int = 0  # imported with a parent
    reparented: int = 0  # replies whose parent was not imported: attached to the nearest imported ancestor
    held: int = 0  # waiting for a moderator because they could identify a patient (medical secrecy)
    repairs: Counter = field(default_factory=Counter)  # what was mended in the file's XML (xml_input.LABELS)
    seconds: float = 0.0

    @property
    def matched(self) -> list[PostOutcome]:
        return [p for p in self.posts if p.url]

    @property
    def unmatched(self) -> list[PostOutcome]:
        return [p for p in self.posts if not p.url]

    @property
    def failed(self) -> list[PostOutcome]:
        return [p for p in self.posts if p.error]

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def as_dict(self) -> dict:
        return {
            "site": self.site,
            "file": self.file,
            "dry_run": self.dry_run,
            "source": self.source,
            **({"wxr_version": self.version} if self.source == "wordpress" else {}),
            "items": self.items,
            "posts_matched": len(self.matched),
            "posts_unmatched": [
                {"title": p.title, "link": p.link, "comments": p.comments, "reason": p.how} for p in self.unmatched
            ],
            "posts_failed": [{"title": p.title, "url": p.url, "error": p.error} for p in self.failed],
            "comments_imported": self.imported,
            "comments_already_present": self.present,
            "comments_skipped": dict(self.skipped),
            "statuses": dict(self.statuses),
            "replies": self.replies,
            "reparented": self.reparented,
            "held_for_secrecy": self.held,
            "fields_dropped": dict(self.dropped),
            "dates": dict(self.dates),
            "repairs": dict(self.repairs),
        }


SKIP_LABELS = {
    "pingback": ("pingback", "pingbacks"),
    "trackback": ("trackback", "trackbacks"),
    "trash": ("commentaire à la corbeille", "commentaires à la corbeille"),
    "other_type": ("élément qui n'est pas un commentaire (autre type WordPress)",
                   "éléments qui ne sont pas des commentaires (autres types WordPress)"),
    "deleted": ("commentaire supprimé avant l'export", "commentaires supprimés avant l'export"),
    "empty": ("commentaire vide une fois nettoyé", "commentaires vides une fois nettoyés"),
    "too_long": ("commentaire trop long", "commentaires trop longs"),
    "no_id": ("commentaire sans identifiant", "commentaires sans identifiant"),
    "unmatched_post": ("commentaire d'un billet introuvable", "commentaires de billets introuvables"),
    "no_thread": ("commentaire d'un fil absent du fichier", "commentaires de fils absents du fichier"),
    "conflict": ("identifiant déjà utilisé par des commentaires d'autres billets",
                 "identifiants déjà utilisés par des commentaires d'autres billets"),
    "failed": ("commentaire d'un billet dont l'écriture a échoué", "commentaires de billets dont l'écriture a échoué"),
    "attachment": ("commentaire de la page d'un fichier joint (aucun billet n'y correspond)",
                   "commentaires de pages de fichiers joints (aucun billet n'y correspond)"),
}
HOW_LABELS = {"url": "par l'adresse", "slug": "par le slug"}
DATE_SOURCES = {"local": "l'heure locale", "post": "la date du billet", "import": "la date de l'import"}
# singular and plural: a report said « 1 publiés », « 1 indésirables »
STATUS_LABELS = {"approved": ("publié", "publiés"), "pending": ("en attente", "en attente"),
                 "spam": ("indésirable", "indésirables"), "rejected": ("refusé", "refusés")}
FIELD_LABELS = {"email": "Adresses e-mail invalides laissées de côté", "website": "Sites web invalides laissés de côté"}


def format_report(report: ImportReport) -> list[str]:
    """The report as lines for the terminal, in French."""
    name, one, many = SOURCES.get(report.source, (report.source, "élément", "éléments"))
    version = f"WXR {report.version}, " if report.version and report.source == "wordpress" else ""
    lines = [
        f"Export {name} {report.file} ({version}{plural_fr(report.items, one, many)})"
        f" -> blog {report.site}" + (" [essai : rien n'est écrit]" if report.dry_run else ""),
        f"Billets commentés : {len(report.posts)}, retrouvés {len(report.matched)}, introuvables {len(report.unmatched)}",
    ]
    for post in report.matched:
        how = HOW_LABELS.get(post.how, post.how)
        lines.append(f"  ✓ {post.title} -> {post.url} ({how}) : {plural_fr(post.comments, 'commentaire')}")
    for post in report.unmatched:
        lines.append(f"  ✗ {post.title} ({post.link or 'sans lien'}) : {plural_fr(post.comments, 'commentaire')}"
                     f" non importé{'s' if post.comments > 1 else ''} : {post.how}")
    for post in report.failed:
        lines.append(f"  ! {post.title} : l'écriture a échoué, rien n'est gardé de ce billet : {post.error}")
    statuses = ", ".join(plural_fr(n, *STATUS_LABELS.get(s, (s, s))) for s, n in sorted(report.statuses.items()))
    verb = "à importer" if report.dry_run else "importés"
    lines.append(f"Commentaires {verb} : {report.imported} ({statuses or 'aucun'} ; {plural_fr(report.replies, 'réponse')})")
    lines.append(f"Commentaires déjà présents (import précédent) : {report.present}")
    lines.append(f"Commentaires écartés : {report.skipped_total}")
    for reason, count in sorted(report.skipped.items()):
        singular, plural = SKIP_LABELS.get(reason, (reason, reason))
        lines.append(f"  {plural_fr(count, singular, plural)}")
    if report.held:
        lines.append(f"Retenus pour le secret médical (ils pourraient identifier un patient), en attente de "
                     f"modération : {report.held}")
    if report.reparented:
        lines.append(f"Réponses rattachées à un ancêtre (leur parent n'a pas été importé) : {report.reparented}")
    for name, count in sorted(report.dropped.items()):
        lines.append(f"{FIELD_LABELS.get(name, name)} : {count}")
    if report.repairs:
        lines.append("Fichier réparé à la lecture :")
        for kind, count in sorted(report.repairs.items()):
            singular, plural = REPAIR_LABELS.get(kind, (kind, kind))
            lines.append(f"  {plural_fr(count, singular, plural)}")
    guessed = {k: v for k, v in report.dates.items() if k != "gmt"}
    if guessed:
        lines.append("Dates sans heure GMT : " + ", ".join(
            f"{n} d'après {DATE_SOURCES.get(k, k)}" for k, n in sorted(guessed.items())))
    return lines


# -- writing -------------------------------------------------------------------------------------


def site_candidates(db, slug: str) -> list[Candidate]:
    return [
        Candidate(r["url"], r["title"])
        for r in store.query(db, "SELECT url, title FROM posts WHERE site = ? AND listed = 1", (slug,))
    ]


def _ordered(comments: list[ImportedComment]) -> list[ImportedComment]:
    """Oldest first, and every parent before its replies (stored ids must grow down the thread)."""
    by_id = {c.source_id: c for c in comments}
    done: set[str] = set()
    out: list[ImportedComment] = []
    for start in sorted(comments, key=lambda c: (c.created, int(c.source_id) if c.source_id.isdigit() else 0)):
        chain = []
        node, seen = start, set()
        while node is not None and node.source_id not in done and node.source_id not in seen:
            seen.add(node.source_id)  # a loop of parents in a hostile file ends here
            chain.append(node)
            node = by_id.get(node.parent) if node.parent else None
        for c in reversed(chain):
            done.add(c.source_id)
            out.append(c)
    return out


def existing_keys(db, site: str, source: str, ids: list[str]) -> dict[str, sqlite3.Row]:
    found = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i: i + 500]
        marks = ",".join("?" * len(chunk))
        for row in store.query(
            db,
            "SELECT i.source_id, i.comment_id, c.post_url FROM imports i LEFT JOIN comments c ON c.id = i.comment_id"
            f" WHERE i.site = ? AND i.source = ? AND i.source_id IN ({marks})",
            (site, source, *chunk),
        ):
            found[row["source_id"]] = row
    return found


def _write_thread(db, site: str, url: str, post: ImportedThread, report: ImportReport, outcome: PostOutcome,
                  dry_run: bool, stamp: str, origin: str = "") -> None:
    """Write one thread's comments in one transaction. Keys are the source's ids; when an id is already
    taken by a comment of another post (a second WordPress blog imported into the same site), the key
    is qualified by the export's host ("42@old-blog.example")."""
    comments = [c for c in post.comments if c.skip is None]
    by_id = {c.source_id: c for c in post.comments}
    counts = Counter()

    def qualified(source_id: str) -> str:
        return f"{source_id}@{origin}"

    with contextlib.nullcontext() if dry_run else write(db):
        wanted = [c.source_id for c in comments] + ([qualified(c.source_id) for c in comments] if origin else [])
        existing = existing_keys(db, site, report.source, wanted)

        def resolve(source_id: str) -> tuple[str, str | None, int | None]:
            """(state, key to write, our id) with state new | present | conflict."""
            for key in (source_id, qualified(source_id) if origin else None):
                if key is None:
                    break
                row = existing.get(key)
                if row is None:
                    return "new", key, None
                if row["post_url"] in (None, url):  # None: deleted since, never brought back
                    return "present", None, row["comment_id"]
            return "conflict", None, None

        ids: dict[str, int | None] = {}  # source id -> our id (None: not imported or deleted since)
        for c in _ordered(comments):
            state, key, our_id = resolve(c.source_id)
            if state != "new":
                counts[state] += 1
                ids[c.source_id] = our_id
                continue
            parent_id, ancestor, hops = None, c.parent, set()
            while ancestor and ancestor not in hops:
                hops.add(ancestor)
                if ids.get(ancestor):
                    parent_id = ids[ancestor]
                    break
                ancestor = by_id[ancestor].parent if ancestor in by_id else ""
            if c.parent and parent_id != ids.get(c.parent):
                counts["reparented"] += 1
            counts["replies" if parent_id else "roots"] += 1
            counts["status:" + c.status] += 1
            counts["secrecy"] += c.secrecy is not None
            counts["date:" + c.date_from] += 1
            for name in c.dropped:
                counts["dropped:" + name] += 1
            if dry_run:
                ids[c.source_id] = -1  # stands for the row a real run would write
                continue
            cursor = db.conn.execute(
                "INSERT INTO comments (post_url, site, parent_id, author_name, email, website, is_post_author,"
                " text, html, status, created, moderated, notify, secrecy)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                (url, site, parent_id, c.author, c.email, c.website, int(c.is_post_author), c.text, c.html,
                 c.status, c.created, stamp if c.status != "pending" else None, c.secrecy),
            )
            ids[c.source_id] = cursor.lastrowid
            db.conn.execute(
                "INSERT INTO imports (site, source, source_id, comment_id, imported) VALUES (?, ?, ?, ?, ?)",
                (site, report.source, key, cursor.lastrowid, stamp),
            )
        imported = counts["replies"] + counts["roots"]
        if imported and not dry_run:
            bump_post(db, url)
    # counted only once the post's transaction is committed
    outcome.imported = imported
    outcome.present = counts["present"]
    report.imported += imported
    report.present += counts["present"]
    report.replies += counts["replies"]
    report.reparented += counts["reparented"]
    report.held += counts["secrecy"]
    report.skipped["conflict"] += counts["conflict"]
    for key, n in counts.items():
        kind, _, name = key.partition(":")
        if kind == "status":
            report.statuses[name] += n
        elif kind == "date":
            report.dates[name] += n
        elif kind == "dropped":
            report.dropped[name] += n
    if not report.skipped["conflict"]:
        del report.skipped["conflict"]


def import_threads(
    db,
    network: Network,
    slug: str,
    path: str | Path,
    read,
    *,
    dry_run: bool = False,
    extra_candidates: list[Candidate] | None = None,
    without_thread: dict[str, tuple[str, str, str]] | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import the comments of the export at `path`, read by `read(path, now=now) -> ParsedExport`, into site `slug`.
    KeyError for an unknown site, xml_input.ExportError for a file that cannot be read (nothing written then).

    `extra_candidates` (dry runs only) are posts not yet known to the service, e.g. from the built
    site's posts.json; a real run matches the posts of the `posts` table only. `without_thread` (slug -> (kind, path
    under content/, status)): the blog's pages, drafts and hidden posts, which have no thread: an old post's comments
    that find none of its posts are said to belong to one of them, and what to do.
    """
    started = time.perf_counter()
    site = network.site(slug)
    export = read(path, now=now)
    report = ImportReport(site=slug, file=Path(path).name, dry_run=dry_run, source=export.source,
                          version=export.version, items=export.items, repairs=export.repairs,
                          skipped=Counter(export.skipped))
    known = site_candidates(db, slug)
    if dry_run and extra_candidates:
        seen = {c.url for c in known}
        known += [c for c in extra_candidates if c.url not in seen]
    index = PostIndex(site.url, known)
    stamp = store.iso(now or store.utcnow())
    origin = urlsplit(export.base_url).netloc.lower() if export.base_url else ""
    for thread in export.threads:
        for c in thread.comments:
            if c.skip:
                report.skipped[c.skip] += 1
        importable = sum(1 for c in thread.comments if c.skip is None)
        candidate, how = index.match(thread, export.base_url)
        if how == NO_POST and (why := without_thread_reason(thread, slug, without_thread or {})):
            how = why
        elif candidate is None and thread.unpublished:
            how = f"{thread.unpublished} sur l'ancien blog, donc pas publié ici : publiez-le, puis relancez l'import"
        outcome = PostOutcome(thread.title, thread.link, candidate.url if candidate else None, how, importable)
        report.posts.append(outcome)
        if candidate is None:
            if importable:
                report.skipped["unmatched_post"] += importable
            continue
        if not importable:
            continue
        try:
            _write_thread(db, slug, candidate.url, thread, report, outcome, dry_run, stamp, origin)
        except sqlite3.Error as exc:  # this thread is rolled back whole; the others stand
            outcome.error = str(exc)
            report.skipped["failed"] += importable
    report.seconds = time.perf_counter() - started
    return report
