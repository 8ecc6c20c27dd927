"""Which platform wrote an export file, from its first bytes: `confreres import posts` and `confreres import comments`
take any export the network reads without being told where it comes from (a doctor has the file, not its format's
name).

    detect(Path("export.xml"))   # -> "wordpress"

Each format says itself early: an XML export by its root element (WordPress's `<rss>`, Blogger's Atom `<feed>`,
Over-blog's `<root>`, Disqus's `<disqus>`), Dotclear's flat file by its first line (`///DOTCLEAR|`), Movable Type's
by its first field (`AUTHOR:`, `TITLE:`…), an Isso database by SQLite's header. Gzipped files and ZIP archives
(WordPress.com's parts, Google Takeout, Dotclear's compressed export) are looked into.
"""

from __future__ import annotations

import gzip
import re
import zipfile
import zlib
from pathlib import Path

from confreres.xml_input import ExportError

NAMES = {"wordpress": "WordPress", "blogger": "Blogger", "overblog": "Over-blog", "dotclear": "Dotclear",
         "movabletype": "Movable Type", "disqus": "Disqus", "isso": "Isso"}
COMMENTS_ONLY = {"disqus", "isso"}  # their files hold comments, never the posts
HEAD = 1 << 16
_ROOTS = {"rss": "wordpress", "feed": "blogger", "root": "overblog", "disqus": "disqus"}
_XML_START = re.compile(r"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]")
_MT_FIELD = re.compile(r"^(?:AUTHOR|TITLE|BASENAME|STATUS|ALLOW COMMENTS|ALLOW PINGS|CONVERT BREAKS|PRIMARY CATEGORY|"
                       r"CATEGORY|DATE|TAGS|NO ENTRY):", re.M)


def _head(path: Path) -> bytes:
    """The first bytes of the export's (first) document: gunzipped, or read inside a ZIP archive."""
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = sorted(info.filename for info in archive.infolist() if not info.is_dir()
                               and not info.filename.startswith("__MACOSX/"))
                wanted = ([n for n in names if n.rpartition("/")[2] == "feed.atom"]
                          or [n for n in names if n.lower().endswith((".xml", ".txt"))] or names)
                if not wanted:
                    raise ExportError("l'archive ZIP est vide")
                if archive.getinfo(wanted[0]).flag_bits & 0x1:
                    raise ExportError("archive ZIP protégée par un mot de passe : décompressez-la d'abord")
                with archive.open(wanted[0]) as member:
                    return _archived(member.read(HEAD))
        except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
            raise ExportError(f"archive ZIP illisible ({exc})") from None
    with open(path, "rb") as handle:
        head = handle.read(HEAD)
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as handle:
                return _archived(handle.read(HEAD))
        except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as exc:
            raise ExportError(f"fichier gzip illisible ({exc})") from None
    return head


def _archived(head: bytes) -> bytes:
    """What a compressed file holds; an Isso database is read as a file only (SQLite opens no archive)."""
    if head.startswith(b"SQLite format 3\x00"):
        raise ExportError("base Isso compressée : décompressez-la d'abord (son comments.db)")
    return head


def detect(path: str | Path, *, posts: bool = False) -> str:
    """The key of the platform that wrote `path` (NAMES); ExportError when none of them did, which names the formats
    read: those of posts only when `posts` (`confreres import posts`: Disqus and Isso hold comments only)."""
    head = _head(Path(path))
    if head.startswith(b"SQLite format 3\x00"):
        return "isso"
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("///DOTCLEAR|"):
        return "dotclear"
    if _MT_FIELD.match(stripped):
        return "movabletype"
    # unclosed (the head cut in one), a comment hides the rest, as it does to an XML parser: read once
    body = re.sub(r"<\?.*?(?:\?>|\Z)|<!--.*?(?:-->|\Z)|<!DOCTYPE[^>]*>", "", text, flags=re.S)
    # the first root element one of them writes (not what a server printed before it: « <br /><b>Notice</b> »)
    for match in _XML_START.finditer(body):
        if kind := _ROOTS.get(match.group(2).lower()):
            if kind == "blogger" and "blogger" not in text.lower():
                raise ExportError("flux Atom qui n'est pas un export Blogger (un flux public ne contient pas tout le "
                                  "blog : exportez-le depuis Blogger ou Google Takeout)")
            return kind
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    kinds = [name for kind, name in NAMES.items() if not (posts and kind in COMMENTS_ONLY)]
    comments = ", ".join(NAMES[kind] for kind in sorted(COMMENTS_ONLY))
    after = (f" (les exports de billets) ; si c'est un export {comments.replace(', ', ' ou ')}, qui ne contient que "
             "des commentaires, importez-le avec confreres import comments") if posts else ""
    raise ExportError(f"format d'export inconnu : {', '.join('ni ' + name for name in kinds)}{after} ; le fichier "
                      f"commence par « {first[:80]} »")
