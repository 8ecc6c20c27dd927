"""Feed bytes -> entries: sanitised HTML, text fields kept as text, dated by publication, deduplicated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape

from planet import entries as E
from planet import generator

from .conftest import feed_bytes

NOW = datetime(2025, 6, 1, tzinfo=UTC)
OUTSIDE = E.Source(key="ext-externe", kind="outside", title="Externe", author="Dr Paul Externe",
                   feed_url="https://externe.example/feed.atom")
HOSTILE = E.Source(key="ext-piege", kind="outside", title="Piège", feed_url="https://hostile.example/feed.atom")
MICROBLOG = E.Source(key="ext-dr-toot", kind="outside", title="Dr Toot", feed_url="https://toot.example/@drtoot.rss")
GARDE = E.Source(key="ext-garde", kind="outside", title="Garde", feed_url="https://garde.example/rss")


def entries_from(name, source, seen=None, now=NOW):
    return E.entries_of(E.parse(feed_bytes(name), source), source, {} if seen is None else seen, now)


def test_a_good_feed_gives_sanitised_plain_entries():
    found = {e.key: e for e in entries_from("good.atom.xml", OUTSIDE)}
    first = found["tag:externe.example,2025:tiers-payant"]
    assert first.title == "Le tiers payant, vu du cabinet"
    assert first.link == "https://externe.example/2025/tiers-payant.html"
    assert first.author == "Dr Paul Externe"
    assert first.date == datetime(2025, 5, 1, 9, tzinfo=UTC)
    assert first.excerpt == "Ce que le tiers payant a changé pour mes patients."
    assert first.tags == ["Organisation"]
    second = found["tag:externe.example,2025:certificats"]
    assert second.title == "Les certificats absurdes", "an HTML title is reduced to its text"
    # Relative links are resolved against the feed's URL; every link gets the safe rel.
    assert 'href="https://externe.example/relative/page.html"' in second.content_html
    assert 'rel="nofollow ugc noopener"' in second.content_html


def test_hostile_feed_is_neutralised():
    found = entries_from("hostile.atom.xml", HOSTILE)
    by_key = {e.key: e for e in found}
    assert "urn:hostile:2" not in by_key, "an entry whose link is javascript: is dropped"
    trap = by_key["urn:hostile:1"]
    # a title is plain text without markup, whatever type it declares (the planet's RSS republishes it)
    assert trap.title == "Titre en texte brut"
    html = trap.content_html
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<style", "<img"):
        assert bad not in html.lower(), bad
    assert "Bonjour" in html and "cliquez" in html
    assert "onmouseover" not in trap.author and "Dr Piège" in trap.author
    assert trap.excerpt.startswith("Bonjour"), trap.excerpt
    for entry in found:
        assert "<" not in entry.excerpt, entry.excerpt  # the text of the HTML, neither its markup nor its scripts


def test_an_entry_with_content_only_is_excerpted_by_its_type():
    """Many Atom feeds give an entry's <content> and no <summary>: feedparser copies it into `summary`, without its
    type. Its excerpt is the text of that HTML (not its markup shown as text); a text content stays that text."""
    feed = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>
    <id>urn:x</id><updated>2025-03-01T00:00:00Z</updated>
    <entry><title>HTML</title><link href="https://x.example/a"/><id>urn:x:a</id><published>2025-03-01T00:00:00Z</published>
    <content type="html">&lt;p&gt;Bonjour &lt;em&gt;docteur&lt;/em&gt;&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;</content></entry>
    <entry><title>XHTML</title><link href="https://x.example/b"/><id>urn:x:b</id><published>2025-03-01T00:00:00Z</published>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Un <strong>avis</strong></p></div></content></entry>
    <entry><title>Texte</title><link href="https://x.example/c"/><id>urn:x:c</id><published>2025-03-01T00:00:00Z</published>
    <content type="text">Fièvre &lt; 38 °C, &lt;p&gt; compris</content></entry></feed>""".encode()
    found = {e.key: e for e in E.entries_of(E.parse(feed, OUTSIDE), OUTSIDE, {}, NOW)}
    assert found["urn:x:a"].excerpt == "Bonjour docteur"
    assert found["urn:x:a"].content_html == "<p>Bonjour <em>docteur</em></p>"
    assert found["urn:x:b"].excerpt == "Un avis"
    assert found["urn:x:c"].excerpt == "Fièvre < 38 °C, <p> compris"
    assert found["urn:x:c"].content_html == "<p>Fièvre &lt; 38 °C, &lt;p&gt; compris</p>"


def test_authors_are_names_never_e_mail_addresses():
    """RSS's <author> is an e-mail address with the name in brackets (Blogger: "noreply@blogger.com (Name)"), and
    an Atom author may give one beside the name: the planet keeps the name only; an address alone gives the feed's
    author (here its managingEditor's name), or nothing. A fediverse handle is a public name: kept."""
    by_link = {e.link: e for e in entries_from("microblog.rss.xml", MICROBLOG)}
    assert by_link["https://toot.example/@drtoot/1131"].author == "Dr Toot"
    assert by_link["https://toot.example/@drtoot/1132"].author == "La rédaction"
    assert by_link["https://toot.example/@drtoot/1133"].author == "Dr Blog"
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><id>urn:x</id>
    <updated>2025-03-01T00:00:00Z</updated><author><email>flux@x.example</email></author>
    <entry><title>a</title><link href="https://x.example/a"/><id>urn:x:a</id><updated>2025-03-01T00:00:00Z</updated>
    <author><name>Dr X</name><email>dr.x@x.example</email></author></entry>
    <entry><title>b</title><link href="https://x.example/b"/><id>urn:x:b</id><updated>2025-03-01T00:00:00Z</updated></entry>
    <entry><title>c</title><link href="https://x.example/c"/><id>urn:x:c</id><updated>2025-03-01T00:00:00Z</updated>
    <author><name>Dr Y (@dry@masto.example)</name></author></entry></feed>"""
    by_key = {e.key: e for e in E.entries_of(E.parse(atom, MICROBLOG), MICROBLOG, {}, NOW)}
    assert [by_key[k].author for k in ("urn:x:a", "urn:x:b", "urn:x:c")] == ["Dr X", "", "Dr Y (@dry@masto.example)"]


def test_an_untitled_entry_is_titled_by_the_start_of_its_text():
    """A Mastodon account's feed (a microblog) gives no titles: the start of the text, cut on a word."""
    by_link = {e.link: e for e in entries_from("microblog.rss.xml", MICROBLOG)}
    title = by_link["https://toot.example/@drtoot/1131"].title
    assert title.startswith("Ce matin, garde de nuit aux urgences") and title.endswith("…"), title
    assert len(title) <= E.TITLE_FROM_TEXT + 1 and "<" not in title
    assert by_link["https://toot.example/@drtoot/1133"].title == "Court."
    assert by_link["https://toot.example/@drtoot/1132"].title == "Un billet titré"


def test_dates_written_by_a_french_locale_are_read():
    """PHP's strftime under fr_FR writes RSS dates in French: read, not taken for unknown (each entry would be dated
    by first sight: a new feed's whole past on top of the planet)."""
    rss = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title><link>https://x.example/</link>
    <item><title>a</title><link>https://x.example/a</link><pubDate>jeu., 01 mai 2025 08:00:00 +0200</pubDate></item>
    <item><title>b</title><link>https://x.example/b</link><pubDate>1er août 2024 07:30:00 GMT</pubDate></item>
    <item><title>c</title><link>https://x.example/c</link><pubDate>Tue, 04 Mar 2025 10:00:00 +0000</pubDate></item>
    <item><title>d</title><link>https://x.example/d</link><pubDate>dim., 31 févr. 2025 08:00:00 +0100</pubDate></item>
    </channel></rss>""".encode()
    found = {e.title: e.date for e in E.entries_of(E.parse(rss, OUTSIDE), OUTSIDE, {}, NOW)}
    assert found["a"] == datetime(2025, 5, 1, 6, tzinfo=UTC)
    assert found["b"] == datetime(2024, 8, 1, 7, 30, tzinfo=UTC)
    assert found["c"] == datetime(2025, 3, 4, 10, tzinfo=UTC), "English dates are read as before"
    assert found["d"] == NOW, "no 31st of February: first sight"


def test_a_future_date_is_clamped_to_first_sight():
    seen = {}
    found = {e.key: e for e in entries_from("hostile.atom.xml", HOSTILE, seen)}
    assert found["urn:hostile:3"].date == NOW, "a post dated 2099 must not stay on top for ever"


def test_an_old_post_bumped_by_updated_is_not_new():
    source = OUTSIDE
    original = feed_bytes("good.atom.xml")
    seen: dict[str, str] = {}
    before = {e.key: e.date for e in E.entries_of(E.parse(original, source), source, seen, NOW)}
    bumped = original.replace(b"<updated>2025-04-10T09:00:00Z</updated>", b"<updated>2025-05-31T09:00:00Z</updated>")
    later = datetime(2025, 6, 2, tzinfo=UTC)
    after = {e.key: e.date for e in E.entries_of(E.parse(bumped, source), source, seen, later)}
    assert after == before
    ordered = E.newest_first(E.entries_of(E.parse(bumped, source), source, seen, later))
    assert ordered[0].key == "tag:externe.example,2025:tiers-payant"


def test_without_published_date_the_first_sight_is_kept():
    feed = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><id>urn:x</id>
    <updated>2025-03-01T00:00:00Z</updated>
    <entry><title>Sans date de publication</title><link href="https://x.example/a"/><id>urn:x:a</id>
    <updated>2025-03-01T00:00:00Z</updated></entry></feed>"""
    seen: dict[str, str] = {}
    [entry] = E.entries_of(E.parse(feed, OUTSIDE), OUTSIDE, seen, NOW)
    assert entry.date == datetime(2025, 3, 1, tzinfo=UTC)
    edited = feed.replace(b"<updated>2025-03-01T00:00:00Z</updated>\n    <entry>", b"<entry>").replace(
        b"2025-03-01T00:00:00Z</updated></entry>", b"2025-05-30T00:00:00Z</updated></entry>")
    [again] = E.entries_of(E.parse(edited, OUTSIDE), OUTSIDE, seen, NOW)
    assert again.date == datetime(2025, 3, 1, tzinfo=UTC), "the date of first sight is kept in the state"


def test_duplicates_are_removed_by_id_then_by_link():
    atom = entries_from("good.atom.xml", OUTSIDE)
    rss = entries_from("good.rss.xml", GARDE)
    kept = E.dedupe(atom + rss + atom)
    links = [e.link for e in kept]
    assert len(links) == len(set(links)) == 3
    copy = [e for e in rss if e.key == "copie-tiers-payant"][0]
    assert copy not in kept, "same link as an entry already kept (another id)"
    assert E.link_key("HTTPS://Externe.example:443/a#x") == E.link_key("https://externe.example/a")


def test_a_post_carried_by_two_feeds_through_feedburner_or_http_is_shown_once():
    """A member's post also in an outside feed that relays it (FeedBurner's utm_* parameters, http, `www.`)."""
    member = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>m</title><id>urn:m</id>
    <updated>2025-03-01T00:00:00Z</updated><entry><title>La garde</title><id>urn:m:1</id>
    <link href="https://dr-garde.example/2025/garde/"/><published>2025-03-01T08:00:00Z</published></entry></feed>"""
    relayed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>r</title><link>https://relais.example/</link>
    <item><title>La garde</title><guid isPermaLink="false">r-1</guid><pubDate>Sat, 01 Mar 2025 08:00:00 GMT</pubDate>
    <link>http://www.dr-garde.example/2025/garde?utm_source=feedburner&amp;utm_medium=feed</link></item>
    <item><title>Autre</title><guid isPermaLink="false">r-2</guid><pubDate>Sat, 01 Mar 2025 09:00:00 GMT</pubDate>
    <link>https://dr-garde.example/2025/garde/?page=2</link></item></channel></rss>"""
    kept = E.dedupe(E.entries_of(E.parse(member, GARDE), GARDE, {}, NOW)
                    + E.entries_of(E.parse(relayed, OUTSIDE), OUTSIDE, {}, NOW))
    assert [(e.source, e.title) for e in kept] == [(GARDE, "La garde"), (OUTSIDE, "Autre")]


def test_control_characters_cannot_break_the_planet_feeds():
    feed = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title><item><title>A\x01B</title>"
            b"<link>https://x.example/c</link><description>d\x02e</description><guid>urn:x\x03y</guid>"
            b"</item></channel></rss>")
    [entry] = E.entries_of(E.parse(feed, GARDE), GARDE, {}, NOW)
    assert "\x01" not in entry.title and "\x02" not in entry.content_html + entry.excerpt
    assert entry.key == "urn:xy", "an id is published in the planet's feeds: feedgenerator refused it, the planet failed"


def test_titles_and_authors_lose_bidi_overrides_and_invisible_characters():
    """A right-to-left override turned the rest of a title around in the planet's pages and feeds."""
    feed = ("<?xml version='1.0'?><rss version='2.0'><channel><title>x</title><item>"
            "<title>Garde \u202egnol\u202c de nuit\u200b</title><author>Dr\u2066 Nuit\u2069</author>"
            "<link>https://x.example/c</link><description>d</description></item></channel></rss>").encode()
    [entry] = E.entries_of(E.parse(feed, GARDE), GARDE, {}, NOW)
    assert entry.title == "Garde gnol de nuit"
    assert not any(ch in entry.title + entry.author for ch in "\u202e\u202c\u200b\u2066\u2069")


def test_a_huge_nested_title_is_read_in_one_go():
    """Tag-shaped text nested 30,000 deep: one pass a level went over the whole title each time (seconds)."""
    for title in ("&lt;" * 30_000 + "b" + "&gt;b" * 30_000, "&lt;" * 500 + "b" + "&gt;b" * 500):
        assert not E._TAG_SHAPED.search(E.plain(title))
    assert E.plain("&lt;&lt;b&gt;b&gt; Réunion &lt; 5 jours") == "Réunion < 5 jours"


def test_safe_url():
    assert E.safe_url("https://a.example/x") == "https://a.example/x"
    for bad in ("javascript:alert(1)", "data:text/html,x", "/relative", "https://a.example/\x00", ""):
        assert E.safe_url(bad) == ""
    assert E.safe_url("https://a.example/\"onmouseover=x") == "https://a.example/%22onmouseover=x", "an attribute no more"


def test_an_entrys_origin_changes_with_any_field_of_its_record():
    body = feed_bytes("good.atom.xml")
    first = {e.key: e.origin for e in entries_from("good.atom.xml", OUTSIDE)}
    assert all(len(origin) == 64 for origin in first.values())
    again = E.entries_of(E.parse(body, OUTSIDE), OUTSIDE, {}, NOW)
    assert {e.key: e.origin for e in again} == first
    edited = body.replace(b"vu du cabinet", b"vu du bureau")
    assert edited != body
    changed = {e.key: e.origin for e in E.entries_of(E.parse(edited, OUTSIDE), OUTSIDE, {}, NOW)}
    assert changed["tag:externe.example,2025:tiers-payant"] != first["tag:externe.example,2025:tiers-payant"]
    assert changed["tag:externe.example,2025:certificats"] == first["tag:externe.example,2025:certificats"]


def test_a_json_feed_is_read_as_an_atom_one_is():
    """JSON Feed 1.1 (and 1.0's `author`): the same sanitising, plain text and dating as an XML feed's entries."""
    import json

    feed = {
        "version": "https://jsonfeed.org/version/1.1", "title": "Dr Json", "home_page_url": "https://json.example/",
        "authors": [{"name": "Dr Jeanne Json"}],
        "items": [
            {"id": "1", "url": "/2025/garde.html", "title": "La <b>garde</b>", "tags": ["Garde", 3],
             "content_html": "<p>Nuit calme.</p><script>alert(1)</script><img src=x onerror=alert(1)>",
             "date_published": "2025-05-01T09:00:00+02:00", "date_modified": "2025-05-02T09:00:00Z"},
            {"id": 2, "url": "https://json.example/texte", "content_text": "Un texte <brut> & simple.",
             "summary": "Résumé", "author": {"name": "Dr Ancien"}},
            {"id": "3", "url": "javascript:alert(1)", "content_text": "piège"},
            "pas un objet",
        ],
    }
    source = E.Source(key="ext-json", kind="outside", title="Json", feed_url="https://json.example/feed.json")
    found = E.entries_of(E.parse(json.dumps(feed).encode(), source), source, {}, NOW)
    by_key = {e.key: e for e in found}
    assert set(by_key) == {"1", "2"}, "an entry without a safe link is dropped, a non-object item skipped"
    garde = by_key["1"]
    assert garde.link == "https://json.example/2025/garde.html" and garde.title == "La garde"
    assert garde.author == "Dr Jeanne Json" and garde.tags == ["Garde"]
    assert garde.date == datetime(2025, 5, 1, 7, tzinfo=UTC), "its published date, never the modified one"
    assert "<script" not in garde.content_html and "onerror" not in garde.content_html
    assert "Nuit calme." in garde.content_html
    texte = by_key["2"]
    assert texte.excerpt == "Résumé" and texte.author == "Dr Ancien"
    assert "&lt;brut&gt; &amp; simple." in texte.content_html, "content_text stays text"
    assert texte.title == "Résumé", "an untitled entry is titled by its text"
    assert E.json_feed(b'{"version": "1.0", "items": []}') is None, "JSON that is not a JSON Feed"
    assert E.json_feed(b"\xef\xbb\xbf" + json.dumps(feed).encode()) is not None, "a byte order mark is fine"


def test_a_json_feeds_relative_links_are_made_absolute_as_an_xml_feeds_are():
    """feedparser resolves an XML feed's HTML; a JSON Feed's `content_html` gets the same function: against the
    item's own page, else the feed's home page, else the address the feed was read from (after a redirect)."""
    import json

    def read(feed, address=""):
        source = E.Source(key="ext-json", kind="outside", title="Json", feed_url="https://json.example/feed.json")
        found = E.entries_of(E.parse(json.dumps({"version": "https://jsonfeed.org/version/1.1", **feed}).encode(),
                                     source, address), source, {}, NOW)
        return {e.key: e for e in found}

    with_home = read({"home_page_url": "https://json.example/blog/", "items": [
        {"id": "1", "url": "2025/garde.html", "content_html": '<p><a href="suite.html">la suite</a></p>'},
        {"id": "2", "external_url": "https://ailleurs.example/etude", "content_html": '<a href="a-propos/">moi</a>'},
    ]})
    assert with_home["1"].link == "https://json.example/blog/2025/garde.html"
    assert 'href="https://json.example/blog/2025/suite.html"' in with_home["1"].content_html, "the item's page"
    assert with_home["2"].link == "https://ailleurs.example/etude"
    assert 'href="https://json.example/blog/a-propos/"' in with_home["2"].content_html, "the home page"
    moved = read({"items": [
        {"id": "1", "url": "billet.html", "content_html": '<a href="../contact.html">contact</a>'},
        {"id": "2", "external_url": "https://ailleurs.example/x", "content_html": '<a href="notes.html">notes</a>'},
    ]}, address="https://json.example/nouveau/feed.json")
    assert moved["1"].link == "https://json.example/nouveau/billet.html", "the address it was read from"
    assert 'href="https://json.example/contact.html"' in moved["1"].content_html
    assert 'href="https://json.example/nouveau/notes.html"' in moved["2"].content_html, "the feed's address"


def test_an_id_is_compared_within_its_own_feed_only():
    """Two unrelated blogs numbering their posts "1" (a bare RSS guid) both stay; one feed repeating an id, or two
    feeds sharing a post's link, keep one."""
    def feed(link, guid="1"):
        return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title><item><title>{link}</title>"
                f"<link>{link}</link><guid isPermaLink='false'>{guid}</guid></item></channel></rss>").encode()

    first = E.entries_of(E.parse(feed("https://a.example/garde"), OUTSIDE), OUTSIDE, {}, NOW)
    other = E.entries_of(E.parse(feed("https://b.example/urgences"), GARDE), GARDE, {}, NOW)
    again = E.entries_of(E.parse(feed("https://a.example/garde-bis"), OUTSIDE), OUTSIDE, {}, NOW)
    copied = E.entries_of(E.parse(feed("https://a.example/garde", guid="copie"), GARDE), GARDE, {}, NOW)
    kept = E.dedupe(first + other + again + copied)
    assert [e.link for e in kept] == ["https://a.example/garde", "https://b.example/urgences"]


def test_html_entities_are_read_whether_or_not_the_feed_has_a_doctype():
    """XML knows five named entities; feeds write HTML's (&eacute; &nbsp; &hellip;) all the same. With a DOCTYPE
    (RSS 0.91's Netscape one, still written by old blogs) the XML parser skipped each of them silently: « Caf ».
    A feed's own entities (its internal DTD) and the five of XML are left to the parser."""
    items = ("<item><title>Caf&eacute;&nbsp;cr&egrave;me &hellip; &amp; &lt;3</title><link>https://x.example/a</link>"
             "<description>&lt;p&gt;L&rsquo;&eacute;t&eacute; &maison;&lt;/p&gt;</description></item>")
    doctypes = ("", '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
                    '"http://my.netscape.com/publish/formats/rss-0.91.dtd">',
                '<!DOCTYPE rss [<!ENTITY maison "la maison">]>')
    for doctype in doctypes:
        feed = (f'<?xml version="1.0" encoding="ISO-8859-1"?>{doctype}<rss version="0.91"><channel><title>x</title>'
                f"<link>https://x.example/</link>{items}</channel></rss>").encode("latin-1")
        [entry] = E.entries_of(E.parse(feed, GARDE), GARDE, {}, NOW)
        assert entry.title == "Café crème … & <3", (doctype, entry.title)
        assert entry.excerpt.startswith("L’été"), (doctype, entry.excerpt)
        if "maison" in doctype:
            assert entry.excerpt == "L’été la maison"


def test_a_utf8_feed_declaring_a_latin_encoding_is_read_as_utf8():
    """A PHP blog whose XML declaration says windows-1252 (or latin-9) while it writes UTF-8: read as declared, each
    accent became two signs (« LÃ©tÃ© ») and « à » lost its second byte. Valid UTF-8 with accents is never
    Latin text by chance; a true windows-1252 feed is still read as such."""
    item = "<item><title>L’été à Paris</title><link>https://x.example/a</link><description>Fièvre</description></item>"
    for declared in ("windows-1252", "iso-8859-15", "ISO-8859-1", "latin1", "cp1252"):
        feed = (f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel><title>x</title>'
                f"<link>https://x.example/</link>{item}</channel></rss>")
        [entry] = E.entries_of(E.parse(feed.encode("utf-8"), GARDE), GARDE, {}, NOW)
        assert (entry.title, entry.excerpt) == ("L’été à Paris", "Fièvre"), declared
        if declared in ("windows-1252", "cp1252"):
            [entry] = E.entries_of(E.parse(feed.encode("cp1252"), GARDE), GARDE, {}, NOW)
            assert (entry.title, entry.excerpt) == ("L’été à Paris", "Fièvre"), declared


def test_an_id_shared_by_entries_with_different_links_is_not_theirs():
    """A feed whose every item carries the same guid (the blog's home page, a plugin's constant): as an id, it
    showed the first entry only, and all of them shared one first-seen date and one content. Those entries are
    known by their links instead, whatever their order; an entry repeated (same id, same link) is still one."""
    items = "".join(f"<item><title>T{i}</title><link>https://x.example/{i}</link><guid>https://x.example/</guid>"
                    f"<description>texte {i}</description></item>" for i in (1, 2, 3))
    items += "<item><title>T1 bis</title><link>https://x.example/1</link><guid>https://x.example/</guid></item>"
    items += "<item><title>U</title><link>https://x.example/u</link><guid>urn:u</guid></item>" * 2
    feed = (f"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title>{items}</channel></rss>").encode()
    found = E.dedupe(E.entries_of(E.parse(feed, GARDE), GARDE, {}, NOW))
    assert [(e.title, e.key) for e in found] == [
        ("T1", "https://x.example/1"), ("T2", "https://x.example/2"), ("T3", "https://x.example/3"), ("U", "urn:u")]
    assert [e.content_html for e in found[:3]] == ["texte 1", "texte 2", "texte 3"]


def test_a_link_written_with_spaces_or_quotes_is_encoded_not_dropped():
    """Hand-made feeds and some CMSs write a post's address as typed (« /mon article.html »): the entry was dropped,
    nothing said. Those characters are percent-encoded, as a browser sends them; an address that is not http(s), or
    holds control characters (a U+0001 in a link broke the planet's own feeds: XML cannot carry it), is still no link."""
    def links_of(*links):
        items = "".join(f"<item><title>T{n}</title><link>{escape(link)}</link></item>" for n, link in enumerate(links))
        feed = f"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title>{items}</channel></rss>".encode()
        return [e.link for e in E.entries_of(E.parse(feed, GARDE), GARDE, {}, NOW)]

    assert links_of("https://x.example/mon article.html", 'https://x.example/l\'été"b<c>d`e',
                    "javascript:alert('x y')") == [
        "https://x.example/mon%20article.html", "https://x.example/l%27été%22b%3Cc%3Ed%60e"]
    assert links_of("https://x.example/a\x01b") == []
    assert E.safe_url(" https://x.example/a ") == "https://x.example/a"
    assert E.safe_url("https://x.example/a\x7fb") == E.safe_url("https://x.example/a\u2028b") == ""


def test_an_entity_written_inside_cdata_is_left_as_written():
    """Inside a CDATA section XML reads no entity: « &eacute; » there is the text as the author wrote it (a post
    about HTML, in a plain-text field). Made a character reference there, it changed the text: « &#233; »."""
    feed = ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><entry>'
            '<title type="text"><![CDATA[&eacute; s\'écrit ainsi]]></title><link href="https://x.example/a"/>'
            '<id>urn:x:1</id><content type="text"><![CDATA[Écrivez &eacute; ou &nbsp;]]> Caf&eacute;</content>'
            "</entry></feed>").encode()
    [entry] = E.entries_of(E.parse(feed, GARDE), GARDE, {}, NOW)
    assert entry.excerpt == "Écrivez &eacute; ou &nbsp; Café"


def test_a_link_holding_a_non_breaking_space_is_encoded_not_dropped():
    """A space other than the ASCII one (a no-break space, as French typing puts before « : ») or an invisible
    formatting character is encoded as a browser encodes it; the entry was dropped (it is no control character)."""
    assert E.safe_url("https://x.example/mon\u00a0article.html") == "https://x.example/mon%C2%A0article.html"
    assert E.safe_url("https://x.example/a\u200bb") == "https://x.example/a%E2%80%8Bb"
    assert E.safe_url("https://x.example/a\u2029b") == E.safe_url("https://x.example/a\x85b") == ""


def test_a_feed_declaring_no_encoding_is_read_as_utf8_with_its_character_references():
    """XML without an encoding declaration (or with a UTF-8 BOM only) is UTF-8. Read as if from HTTP without a
    Content-Type (the address given to resolve links), feedparser took it for ISO-8859-1 as soon as a character
    reference sat beside an accent: WordPress's « L&#8217;été » read « L’Ã©tÃ© »; « &eacute; » made the same."""
    for start in ('<?xml version="1.0"?>', "", "\ufeff"):
        feed = (f"{start}<rss version='2.0'><channel><title>x</title><item><title>L&#8217;été &amp; la f&egrave;ve"
                "</title><link>https://x.example/a</link><description>Fièvre</description></item></channel></rss>")
        [entry] = E.entries_of(E.parse(feed.encode("utf-8"), GARDE), GARDE, {}, NOW)
        assert (entry.title, entry.excerpt) == ("L’été & la fève", "Fièvre"), repr(start)


def test_an_episodes_file_is_found_wherever_its_feed_puts_it_and_a_picture_is_no_episode():
    """An RSS <enclosure>, a Media RSS <media:content> alone (some hosts write only that), a JSON Feed's attachment;
    an enclosure without a type known by its file's extension. A post's picture as an enclosure (Over-blog, WordPress
    plugins) is neither shown as an episode nor taken for the entry's address: that entry, without a page, is left
    out and named in `skipped`."""
    import json

    media = "http://search.yahoo.com/mrss/"
    rss = f"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:media="{media}"><channel><title>x</title>
    <link>https://x.example/</link>
    <item><title>Media</title><guid isPermaLink="false">m1</guid>
    <media:content url="https://cdn.example/m1.mp4" type="video/mp4" fileSize="1234567890" medium="video"/></item>
    <item><title>Sans type</title><guid isPermaLink="false">m2</guid><enclosure url="https://cdn.example/m2.MP3" length=""/></item>
    <item><title>Image</title><guid isPermaLink="false">m3</guid><enclosure url="https://x.example/m3.jpg" type="image/jpeg" length="0"/></item>
    <item><title>Image et page</title><link>https://x.example/m4</link>
    <enclosure url="https://x.example/m4.jpg" type="image/jpeg" length="0"/></item>
    <item><title>Piège</title><guid isPermaLink="false">m5</guid><enclosure url="javascript:alert(1)" type="audio/mpeg"/></item>
    </channel></rss>""".encode()
    skipped: list[str] = []
    records = E.normalise(E.parse(rss, GARDE), GARDE, skipped=skipped)
    found = {r["title"]: r for r in records}
    assert set(found) == {"Media", "Sans type", "Image et page"} and skipped == ["Image", "Piège"]
    assert found["Media"]["link"] == "https://cdn.example/m1.mp4"
    assert found["Media"]["enclosure"] == {"url": "https://cdn.example/m1.mp4", "type": "video/mp4",
                                           "length": 1234567890, "action": "Regarder", "detail": "MP4, 1,2 Go"}
    assert found["Sans type"]["enclosure"]["type"] == "audio/mpeg" and found["Sans type"]["enclosure"]["detail"] == "MP3"
    assert found["Image et page"]["enclosure"] is None

    feed = {"version": "https://jsonfeed.org/version/1.1", "home_page_url": "https://json.example/", "items": [
        {"id": "e1", "title": "Épisode", "attachments": [
            {"url": "/audio/e1.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 999}, "pas un objet"]}]}
    source = E.Source(key="ext-json", kind="outside", title="Json", feed_url="https://json.example/feed.json")
    [entry] = E.entries_of(E.parse(json.dumps(feed).encode(), source), source, {}, NOW)
    assert entry.link == entry.enclosure["url"] == "https://json.example/audio/e1.mp3"
    assert entry.enclosure["detail"] == "MP3, 1 Ko"


def undated(items: list[tuple[str, str]], title: str = "Sans dates") -> bytes:
    """An RSS feed of undated items (guid, link): placed by when the planet first saw them."""
    body = "".join(f"<item><title>Note {n}</title><link>{escape(link)}</link><guid isPermaLink='false'>{escape(guid)}"
                   f"</guid><description>x</description></item>" for n, (guid, link) in enumerate(items))
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{title}</title>"
            f"<link>https://garde.example/</link><description>d</description>{body}</channel></rss>").encode()


def dates(feed: bytes, seen: dict, now: datetime) -> dict[str, datetime]:
    return {e.title: e.date for e in E.entries_of(E.parse(feed, GARDE), GARDE, seen, now)}


def test_a_feed_served_empty_for_a_while_keeps_its_entries_first_seen_dates():
    """A feed that answered an empty channel once (an error page sent as a 200, a maintenance mode) wiped its entries'
    first-seen dates: back the next day, its undated entries were dated then, on top of the planet and new to its
    feeds' readers. Gone entries are remembered for E.FORGET_AFTER; later, they are forgotten."""
    feed = undated([(f"g{n}", f"https://garde.example/{n}.html") for n in range(3)])
    seen: dict = {}
    first = dates(feed, seen, NOW)
    assert set(first.values()) == {NOW}
    assert dates(undated([]), seen, NOW + timedelta(hours=2)) == {}
    assert dates(feed, seen, NOW + timedelta(days=3)) == first, "back after a gap: as first seen"
    assert dates(undated([]), seen, NOW + timedelta(days=4)) == {}
    later = NOW + timedelta(days=4) + E.FORGET_AFTER + timedelta(hours=1)
    assert dates(undated([]), seen, later) == {} and seen == {}, "forgotten after a while"
    assert set(dates(feed, seen, later).values()) == {later}


def test_a_feeds_memory_of_gone_entries_is_bounded():
    """A feed whose every refresh brings new entries (a busy one, or one whose ids change every time) must not make
    the state grow for ever: at most E.MAX_GONE gone entries are remembered beside its own."""
    seen: dict = {}
    for turn in range(8):
        items = [(f"t{turn}-{n}", f"https://garde.example/{turn}/{n}.html") for n in range(E.MAX_PER_SOURCE)]
        dates(undated(items), seen, NOW + timedelta(hours=turn))
    assert len(seen) == E.MAX_PER_SOURCE + E.MAX_GONE
    assert all(key.startswith(("t7-", "t6-", "t5-")) for key in seen), "the latest gone kept"


def test_an_entry_whose_id_changed_but_not_its_link_keeps_its_date_and_published_id():
    """A blog moved to another platform, or its guids rewritten (http to https, a plugin): each entry got a new key,
    so undated ones were new again, on top, and the planet's feeds published them under new ids (duplicates in
    every reader). Its link, read alike whatever its scheme, `www.`, trailing slash or utm_* parameters, says it is
    the same entry: its first-seen date and the id it was first published under are kept, through several moves."""
    before = [("http://garde.example/?p=1", "http://www.garde.example/2025/nuit/?utm_source=rss&utm_medium=feed"),
              ("http://garde.example/?p=2", "http://garde.example/2025/jour.html?page=2")]
    moved = [("https://garde.example/?p=1", "https://garde.example/2025/nuit"),
             ("https://garde.example/?p=2", "https://garde.example/2025/jour.html?utm_campaign=x&page=2")]
    again = [("wp-1", "https://garde.example/2025/nuit/"), ("wp-2", "https://www.garde.example/2025/jour.html?page=2")]
    seen: dict = {}
    first = E.entries_of(E.parse(undated(before), GARDE), GARDE, seen, NOW)
    ids = {e.title: generator.published_id(e) for e in first}
    assert ids == {"Note 0": "http://garde.example/?p=1", "Note 1": "http://garde.example/?p=2"}
    for items, when in ((moved, NOW + timedelta(days=1)), (again, NOW + timedelta(days=2))):
        found = E.entries_of(E.parse(undated(items), GARDE), GARDE, seen, when)
        assert {e.title: e.date for e in found} == {"Note 0": NOW, "Note 1": NOW}
        assert {e.title: generator.published_id(e) for e in found} == ids
        assert sorted(seen) == sorted(guid for guid, _link in items), "the old ids forgotten: they are these"


def test_entries_sharing_a_link_are_not_taken_for_one_another():
    """A feed whose every item links to the blog's home page: a new item is not the one that left the feed."""
    seen: dict = {}
    home = "https://garde.example/"
    dates(undated([("a", home), ("b", home)]), seen, NOW)
    later = NOW + timedelta(days=1)
    found = E.entries_of(E.parse(undated([("c", home), ("a", home)]), GARDE), GARDE, seen, later)
    assert {e.key: (e.date, e.published_key) for e in found} == {"c": (later, "c"), "a": (NOW, "a")}
    seen = {}
    dates(undated([("a", home)]), seen, NOW)
    found = E.entries_of(E.parse(undated([("c", home), ("d", home)]), GARDE), GARDE, seen, later)
    assert {e.key: e.published_key for e in found} == {"c": "c", "d": "d"}


def test_the_first_seen_dates_an_older_planet_kept_are_read():
    """The state held each entry's first-seen date alone: still read, and its link learnt."""
    feed = undated([("g0", "https://garde.example/0.html")])
    seen = {"g0": "2025-01-02T03:04:05Z"}
    assert dates(feed, seen, NOW) == {"Note 0": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)}
    assert seen["g0"] == ["2025-01-02T03:04:05Z", E.same_link("https://garde.example/0.html")]


def test_relative_links_of_an_rss_feed_on_its_blogs_host_are_read_against_its_address():
    """Only a feed served by another host reads them against its channel's link (E.channel_base): on the blog's own
    host, `www.` or not, the feed's address stays their base, as feedparser reads them."""
    def rss(home: str) -> bytes:
        return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><link>{home}</link>"
                "<description>d</description><item><title>x</title><link>2025/x.html</link>"
                "<description>&lt;a href='/moi/'&gt;moi&lt;/a&gt;</description></item></channel></rss>").encode()

    source = E.Source(key="ext-b", kind="outside", title="B", feed_url="https://blog.example/feed/")
    [own] = E.entries_of(E.parse(rss("https://www.blog.example/"), source), source, {}, NOW)
    assert own.link == "https://blog.example/feed/2025/x.html"
    assert 'href="https://blog.example/moi/"' in own.content_html
    [elsewhere] = E.entries_of(E.parse(rss("https://autre.example/blog/"), source), source, {}, NOW)
    assert elsewhere.link == "https://autre.example/blog/2025/x.html"
    assert 'href="https://autre.example/moi/"' in elsewhere.content_html
