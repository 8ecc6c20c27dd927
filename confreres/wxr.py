"""A WordPress export (WXR), read item by item: the one reader of the file for its posts and its comments.

    export = Wxr("export.xml")
    for item, line in export.items():   # each <item> whole, dropped once the loop moves on
        fields(item)["post_type"], ...
    export.version, export.base_url, export.author_logins, export.repairs

The file is streamed by xml_input (defused, repaired of what real exports get wrong). Channel-level facts
(version, the blog's URL, the authors) are read as they come: WordPress writes them before the items. A file that
is not a WordPress export, or a WXR version this reader does not know, raises `WxrError` once it is read whole.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.etree.ElementTree import Element

from confreres.sanitize import text as plain_text
from confreres.xml_input import ExportError, XmlExport, parts

WxrError = ExportError  # what callers catch: a file that cannot be imported, said in French
# xmlns:wp of every WXR: "http://wordpress.org/export/1.2/"; newer WordPress (and the theme unit test data) write https
_WP_NS = re.compile(r"https?://wordpress\.org/export/([^/]*)/?")
SUPPORTED_MAJOR = "1"  # WXR 1.0 to 1.2 so far; a 1.x to come keeps the same elements
IN_PARTS = "Outils > Exporter > Articles, par dates"


def local(tag) -> tuple[str, str]:
    """('{ns}name') -> (ns, name)."""
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def is_wp(ns: str) -> bool:
    return _WP_NS.fullmatch(ns) is not None


def fields(elem: Element, raw: tuple[str, ...] = ()) -> dict[str, str]:
    """First text of each child, by local name (RSS, dc and wp fields do not collide); stripped but for `raw`.
    `content:encoded` and `excerpt:encoded` are both `encoded`: the second is `excerpt`."""
    found: dict[str, str] = {}
    for child in elem:
        ns, name = local(child.tag)
        if name == "encoded" and "excerpt" in ns:
            name = "excerpt"
        if name and name not in found:
            found[name] = (child.text or "") if name in raw else (child.text or "").strip()
    return found


def wp_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return moment if moment.year > 1900 else None  # "0000-00-00 00:00:00" means unknown


def post_dates(f: dict) -> dict:
    """{"date": the post's date in UTC (naive) or None, "offset": the blog's UTC offset when it can be told}."""
    gmt = wp_datetime(f.get("post_date_gmt"))
    local_date = wp_datetime(f.get("post_date"))
    dates: dict = {}
    if gmt is not None and local_date is not None:
        minutes = round((local_date - gmt).total_seconds() / 900) * 15
        if abs(minutes) <= 14 * 60:
            dates["offset"] = timedelta(minutes=minutes)
    date = gmt
    if date is None and f.get("pubDate"):
        try:
            date = parsedate_to_datetime(f["pubDate"]).astimezone(UTC).replace(tzinfo=None)
        except (TypeError, ValueError, IndexError):
            date = None
    if date is None and local_date is not None:
        date = local_date - dates.get("offset", timedelta(0))
    dates["date"] = date
    return dates


class Wxr:
    """One WXR export, a file or a ZIP of parts (WordPress.com mails it so); `items()` reads it once."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.version = ""
        self.base_url = ""
        self.author_logins: dict[str, str] = {}  # login -> WordPress user id
        self.count = 0  # items read
        self.repairs: Counter = Counter()
        self._foreign_version_ns = ""  # a <wxr_version> in a namespace that is not WordPress's

    def items(self) -> Iterator[tuple[Element, int]]:
        """Each <item> (whole) and the line it ends on; WxrError when the file cannot be read."""
        members = parts(self.path, lambda name: name.lower().endswith(".xml"), "de fichier .xml (un export WordPress)")
        for member in members:
            source = XmlExport(self.path, "un export WordPress", root="rss", in_parts=IN_PARTS, member=member)
            try:
                yield from self._items(source)
            except ExportError as exc:
                if member is None:
                    raise
                raise WxrError(f"{member} : {exc.message}", exc.line, exc.column) from None
            finally:
                self.repairs.update(source.repairs)
        self._check_version()

    def _items(self, source: XmlExport) -> Iterator[tuple[Element, int]]:
        channel = None
        last_item: list = []  # (title, line) of the last item read whole: where an interrupted export stopped

        def last_read() -> str:
            return f"dernier billet lu en entier : « {last_item[0]} », ligne {last_item[1]}" if last_item else ""

        for event, elem, depth in source.events(last_read):
            ns, name = local(elem.tag)
            if event == "start":
                if depth == 2:
                    if name != "channel":
                        raise WxrError(f"ce n'est pas un export WordPress : <{name}> là où <channel> était attendu",
                                       source.line())
                    channel = elem
                continue
            if depth != 3 or channel is None:
                continue
            # a direct child of <channel> is complete: use it, then drop it to keep memory flat
            wp = is_wp(ns)
            if name == "wxr_version" and wp:
                self.version = self.version or (elem.text or "").strip()
            elif name == "wxr_version":
                self._foreign_version_ns = ns or "(none)"
            elif name in ("base_blog_url", "base_site_url") and wp:
                self.base_url = self.base_url if (self.base_url and name == "base_site_url") else (elem.text or "").strip()
            elif name == "author" and wp:
                f = fields(elem)
                if f.get("author_login") and f.get("author_id"):
                    self.author_logins[f["author_login"]] = f["author_id"]
            elif name == "item":
                self.count += 1
                line = source.line()
                yield elem, line
                last_item[:] = [" ".join(plain_text(elem.findtext("title") or "").split()) or "(sans titre)", line]
            channel.remove(elem)
        if channel is None:
            raise WxrError("ce n'est pas un export WordPress : pas de <channel>")

    def _check_version(self) -> None:
        """Say what is wrong: not an export at all, a version element in a stranger's namespace, or a version
        this reader does not know."""
        if not self.version:
            if self._foreign_version_ns:
                raise WxrError(
                    f"ce n'est pas un export WordPress : son <wxr_version> est dans l'espace de noms "
                    f"{self._foreign_version_ns!r}, pas celui de WordPress (xmlns:wp=\"http://wordpress.org/export/1.2/\", "
                    "ou https)"
                )
            raise WxrError(
                "ce n'est pas un export WordPress : pas de <wp:wxr_version> dans <channel> (un export WordPress déclare "
                "xmlns:wp=\"http://wordpress.org/export/1.2/\" et y donne sa version)"
            )
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", self.version):
            raise WxrError(f"ce n'est pas un export WordPress : <wp:wxr_version> vaut {self.version!r}, pas un numéro "
                           "de version")
        if self.version.split(".")[0] != SUPPORTED_MAJOR:
            raise WxrError(f"version WXR {self.version} non prise en charge : cet import lit WXR 1.x (exports WordPress "
                           "1.0 à 1.2)")
