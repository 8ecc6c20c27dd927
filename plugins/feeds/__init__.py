"""Pelican plugin: a blog's Atom and RSS feeds as RFC 4287 and RSS 2.0 read them, where Pelican's are not.

Each feed is finished between Pelican making it and writing it (`feed_generated`):

- its language: `xml:lang="fr"` (Atom), `<language>fr</language>` (RSS), the blog's (DEFAULT_LANG);
- its own atom:id: a category's or tag's feed had the blog's (its home page's address), as the blog's whole feed
  has, so several feeds were one for a reader that tells feeds apart by id; it is the feed's own address now,
  and its `rel="alternate"` leads to the category's or tag's page, not the blog's home page;
- an RSS channel's description (required): the blog's description, else a sentence naming its author;
- an entry's id kept when its post moves (a corrected title, a new `Slug:`): Pelican makes it from the post's
  address, so the feed's readers, and the planet's, got the moved post again as a new one (RFC 4287: an id
  never changes); it is made from the post's first address (`moved_from`, plugins/comments/moves.py);
- an RSS `<guid>` that is not the item's address (Pelican's are `tag:` URIs) says `isPermaLink="false"`: RSS 2.0
  reads a guid without it as the item's address, which a reader may open.

A post's Atom entry is written once per build (`KeptEntries`): the same entry was made again in the blog's feed,
its category's and each of its tags' (13 Atom feeds for a blog of 4 categories and 8 tags).
"""

from __future__ import annotations

import io

from feedgenerator import Atom1Feed, Rss201rev2Feed, get_tag_uri
from feedgenerator.django.utils.xmlutils import SimplerXMLGenerator
from pelican import signals

FIRST_ADDRESSES = "FEEDS_FIRST_ADDRESSES"  # kept in the build's context (first_addresses)
KEPT_ENTRIES = "FEEDS_KEPT_ENTRIES"  # the entries written so far in this build (KeptEntries)


class KeptEntries(Atom1Feed):
    """An Atom feed whose entries, made from the item alone (Atom1Feed.add_item_elements), are kept by the item's
    fields in `kept` and written as made when another feed of the build has the same item."""

    kept: dict

    def write_items(self, handler):
        for item in self.items:
            key = tuple((name, tuple(value) if isinstance(value, list) else value) for name, value in item.items())
            try:
                entry = self.kept.get(key)
            except TypeError:  # a field that cannot be a key: written as Atom1Feed writes it
                key, entry = None, None
            if entry is None:
                buffer = io.StringIO()
                made = SimplerXMLGenerator(buffer, "utf-8", short_empty_elements=True)
                made.startElement("entry", self.item_attributes(item))
                self.add_item_elements(made, item)
                made.endElement("entry")
                entry = buffer.getvalue()
                if key is not None:
                    self.kept[key] = entry
            handler.ignorableWhitespace(entry)  # written as is (it is XML already)


def _join(siteurl: str, path: str) -> str:
    return f"{siteurl.rstrip('/')}/{path}"


def _own_page(context: dict, siteurl: str, feed_url: str) -> str:
    """The address of the category's or tag's page whose Atom feed is at `feed_url` ('' for another feed)."""
    for feed_setting, page_setting in (("CATEGORY_FEED_ATOM", "CATEGORY_URL"), ("TAG_FEED_ATOM", "TAG_URL")):
        pattern, page = str(context.get(feed_setting) or ""), context.get(page_setting)
        if "{slug}" not in pattern or not page:
            continue
        prefix, _, after = pattern.partition("{slug}")
        before = _join(siteurl, prefix)
        if feed_url.startswith(before) and feed_url.endswith(after) and len(feed_url) > len(before) + len(after):
            return _join(siteurl, str(page).format(slug=feed_url[len(before):len(feed_url) - len(after)]))
    return ""


def first_addresses(context: dict, siteurl: str) -> dict[str, str]:
    """The address of each post that moved -> its first address this blog still knows (moves.earlier_addresses:
    oldest first). Read once per build: a blog has a feed per category and per tag, and its posts do not change
    between them."""
    known = context.get(FIRST_ADDRESSES)
    if known is None:
        known = context[FIRST_ADDRESSES] = {
            _join(siteurl, article.url): article.moved_from[0]
            for article in context.get("articles") or [] if getattr(article, "moved_from", None)}
    return known


def finish(context: dict, feed) -> None:
    """feed_generated: the feed Pelican made for this blog, before it is written."""
    siteurl = str(context.get("SITEURL") or "")
    info = feed.feed
    info["language"] = context.get("DEFAULT_LANG") or "fr"
    page = _own_page(context, siteurl, info.get("feed_url") or "")
    if page:
        info["id"] = info["feed_url"]
        info["link"] = page
    if isinstance(feed, Rss201rev2Feed) and not (info.get("description") or "").strip():
        info["description"] = context.get("SITE_DESCRIPTION") or f"Les billets de {context.get('AUTHOR') or ''}".strip()
    moved = first_addresses(context, siteurl)
    for item in feed.items:
        first = moved.get(item["link"])
        if first:
            item["unique_id"] = get_tag_uri(first, item["pubdate"])
        if isinstance(feed, Rss201rev2Feed) and item.get("unique_id"):
            item["unique_id_is_permalink"] = item["unique_id"] == item["link"]
    if type(feed) is Atom1Feed:
        feed.__class__ = KeptEntries
        feed.kept = context.setdefault(KEPT_ENTRIES, {})


def register():
    signals.feed_generated.connect(finish)
