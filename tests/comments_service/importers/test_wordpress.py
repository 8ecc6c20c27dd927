"""`confreres import wordpress`: real WordPress exports (../shared/data/wordpress), hostile and broken ones.

The real exports are read where SOURCES.md puts them, beside the project (never copied into it); the
tests that need them skip with the reason when that folder is absent.
"""

from __future__ import annotations

import gzip
import html
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from comments_service.core.db import connect
from comments_service.domain import comments as store
from comments_service.importers import threads, wordpress
from confreres.cli import cli

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / ".." / "shared" / "data" / "wordpress"
BLOG_B = "https://docteur-b.example/"

# dr-b's posts, as Pelican would publish them after `pelican-import --wpfile` of the test exports
WP_POSTS = [
    # permalink kept (ARTICLE_URL = "{date:%Y}/{date:%m}/{date:%d}/{slug}/"): matched by URL path
    {"url": BLOG_B + "about/page-with-comments/", "title": "Page with comments"},
    {"url": BLOG_B + "2012/01/01/template-pingbacks-an-trackbacks/", "title": "Pingbacks"},
    # Pelican's default "{slug}.html": matched by slug
    {"url": BLOG_B + "template-comments.html", "title": "Template: Comments"},
    {"url": BLOG_B + "template-password-protected.html", "title": "Protected"},
    {"url": BLOG_B + "edge-case-no-content.html", "title": "No content"},
    {"url": BLOG_B + "hello-world.html", "title": "Hello world!"},
    {"url": BLOG_B + "comment-meta.html", "title": "Comment meta"},
    {"url": BLOG_B + "billet-hostile.html", "title": "Billet hostile"},
    {"url": BLOG_B + "2024/billet-b/", "title": "Billet B"},
]


def shared(name: str) -> Path:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: the shared WordPress exports (../shared/data/wordpress, see SOURCES.md) "
                    "are not beside the project")
    return path


@pytest.fixture
def wp(blog_b):
    """The service's database with dr-b's imported posts declared, and helpers to import and look."""
    blog_b.declare(WP_POSTS)
    db, network, network_file = blog_b.db, blog_b.network, blog_b.network_file

    class WP:
        def run(self, path, site="dr-b", **kw):
            return wordpress.import_wordpress(db, network, site, path, **kw)

        def cli(self, *args):
            return CliRunner().invoke(cli, ["--network", str(network_file), *args])

        def rows(self, sql="SELECT * FROM comments ORDER BY id", params=()):
            return store.query(db, sql, params)

        def count(self):
            return self.rows("SELECT COUNT(*) AS n FROM comments")[0]["n"]

    yield WP()


def by_text(nodes, needle):
    for node in nodes:
        if needle in node["html"]:
            return node
        found = by_text(node["replies"], needle)
        if found:
            return found
    return None


# -- the real exports -------------------------------------------------------------------------------

def test_a11y_export_keeps_threading_dates_statuses_and_reports_counts(wp, client):
    report = wp.run(shared("a11y-unit-test-data.xml"))
    assert report.version == "1.2"
    assert sum(p.comments for p in report.posts) + report.skipped["pingback"] == 29
    assert report.imported == 25 and report.skipped == {"pingback": 4}
    assert report.replies == 9 and report.reparented == 0
    assert len(report.matched) == 5 and report.unmatched == []
    hows = {p.title: p.how for p in report.matched}
    assert hows["Page with comments"] == "url" and hows["Template: Comments"] == "slug"
    assert hows["Template: Pingbacks And Trackbacks"] == "url"
    # the hand-made comment without status nor date waits for a moderator, dated at import
    assert report.statuses == {"approved": 24, "pending": 1} and report.dates == {"gmt": 24, "import": 1}
    assert wp.count() == 25

    thread = client.get("/api/comments", query_string={"url": BLOG_B + "template-comments.html"}).get_json()
    assert thread["total"] == 19
    node = by_text(thread["comments"], "Comment Depth 01")
    assert node["parent"] is None and node["created"] == "2013-03-14T14:57:01Z"
    for depth in range(2, 11):  # ten levels, each reply under the previous one (shown five levels deep)
        child = by_text(thread["comments"], f"Comment Depth {depth:02d}")
        assert child["parent"] == node["id"], depth
        assert child in node["replies"] if depth <= 5 else child.get("in_reply_to", {}).get("id") == node["id"]
        node = child
    assert node["author"] == {"name": "John Doe", "website": "http://example.org/", "badge": None, "is_post_author": False}
    # WordPress headings come out as bold paragraphs, nothing outside the allowlist
    headings = by_text(thread["comments"], "Headings")["html"]
    assert "<strong>Header one</strong>" in headings and "<h1" not in headings and "<table" not in headings
    assert "example@example.org" not in str(thread)


def test_theme_unit_test_export_with_the_https_namespace(wp, client, tmp_path):
    """WordPress's theme unit test data (and recent WordPress) declare xmlns:wp with https: the same export."""
    text = shared("a11y-unit-test-data.xml").read_text(encoding="utf-8")
    assert 'xmlns:wp="http://wordpress.org/export/1.2/"' in text
    path = tmp_path / "themeunittestdata.wordpress.xml"
    path.write_text(text.replace('xmlns:wp="http://', 'xmlns:wp="https://'), encoding="utf-8")
    report = wp.run(path)
    assert report.version == "1.2"
    assert report.imported == 25 and report.replies == 9 and report.skipped == {"pingback": 4}
    assert len(report.matched) == 5 and wp.count() == 25
    result = wp.cli("import", "wordpress", str(path), "--site", "dr-b")
    assert result.exit_code == 0 and "déjà présents" in result.output, result.output


def test_reimport_is_idempotent(wp, client):
    path = shared("a11y-unit-test-data.xml")
    wp.run(path)
    url = BLOG_B + "template-comments.html"
    etag = client.get("/api/comments", query_string={"url": url}).headers["ETag"]
    again = wp.run(path)
    assert again.imported == 0 and again.present == 25 and again.skipped == {"pingback": 4}
    assert wp.count() == 25
    # nothing written: the thread keeps its version, caches stay valid
    assert client.get("/api/comments", query_string={"url": url}).headers["ETag"] == etag
    result = wp.cli("import", "wordpress", str(path), "--site", "dr-b")
    assert result.exit_code == 0, result.output
    assert "Commentaires importés : 0" in result.output and "déjà présents (import précédent) : 25" in result.output


def test_a_comment_deleted_after_import_does_not_come_back(wp):
    path = shared("a11y-unit-test-data.xml")
    wp.run(path)
    [row] = wp.rows("SELECT id FROM comments WHERE text = 'Thanks for all the comments, everyone!'")
    db = connect(wp.rows("PRAGMA database_list")[0]["file"])
    try:
        store.remove_comment(db, row["id"])
    finally:
        db.close()
    again = wp.run(path)
    assert again.imported == 0 and wp.count() == 24


def test_small_export_and_serialized_comment_meta(wp, client):
    report = wp.run(shared("small-export.xml"))
    assert (report.imported, report.items, len(report.matched)) == (1, 11, 1)
    [post] = report.matched
    assert post.url == BLOG_B + "hello-world.html" and post.how == "slug"
    thread = client.get("/api/comments", query_string={"url": post.url}).get_json()
    [comment] = thread["comments"]
    assert comment["author"]["name"] == "Mr WordPress" and comment["author"]["website"] == "http://wordpress.org/"
    assert comment["created"] == "2011-01-18T07:40:14Z"
    assert "<br>" in comment["html"] and "the post's comments" in html.unescape(comment["html"])

    # one comment is « 1 publié », not « 1 publiés » (the doctor's first report of a small blog)
    assert "Commentaires importés : 1 (1 publié ; 0 réponse)" in threads.format_report(report)

    meta = wp.run(shared("test-serialized-comment-meta.xml"))
    assert meta.version == "1.0" and meta.imported == 1
    assert meta.matched[0].url == BLOG_B + "comment-meta.html"  # no post_name: the link's last segment
    [row] = wp.rows("SELECT * FROM comments WHERE post_url = ?", (BLOG_B + "comment-meta.html",))
    assert row["email"] == "wapuu@wordpress.example" and row["website"] == "https://wordpress.org/"
    assert '<a href="https://gravatar.com" rel="nofollow ugc noopener">Gravatar</a>' in row["html"]
    assert row["text"].startswith("Hi, this is a comment.") and row["ip_hash"] is None
    # both exports have a comment 1 (two WordPress blogs into one site): the second key names its blog
    keys = {r["source_id"] for r in wp.rows("SELECT source_id FROM imports WHERE site = 'dr-b'")}
    assert keys == {"1", "1@test.wordpress.org"}
    assert wp.run(shared("small-export.xml")).present == 1 == wp.run(shared("test-serialized-comment-meta.xml")).present
    assert wp.count() == 2


def test_gzipped_export(wp, tmp_path):
    gz = tmp_path / "export.xml.gz"
    with open(shared("small-export.xml"), "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert wp.run(gz).imported == 1


@pytest.mark.parametrize(
    ("name", "where"),
    [("malformed.xml", "ligne 28")],
)
def test_broken_exports_are_refused_with_the_line_and_nothing_written(wp, name, where):
    path = shared(name)
    before = wp.count()
    with pytest.raises(wordpress.WxrError) as caught:
        wp.run(path)
    assert where in str(caught.value)
    result = wp.cli("import", "wordpress", str(path), "--site", "dr-b")
    assert result.exit_code == 1
    assert where in result.output and "rien n'a été importé" in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert wp.count() == before


def test_unmatched_posts_are_reported_with_their_titles(wp):
    result = wp.cli("import", "wordpress", str(shared("a11y-unit-test-data.xml")), "--site", "dr-a")
    assert result.exit_code == 0, result.output
    assert "retrouvés 0, introuvables 5" in result.output
    assert "✗ Template: Comments (http://wpthemetestdata.wordpress.com/2012/01/03/template-comments/)" in result.output
    assert "25 commentaires de billets introuvables" in result.output and "4 pingbacks" in result.output
    assert wp.count() == 0


def test_dry_run_counts_and_writes_nothing(wp):
    result = wp.cli("import", "wordpress", str(shared("a11y-unit-test-data.xml")), "--site", "dr-b", "--dry-run",
                    "--json")
    assert result.exit_code == 0, result.output
    import json

    report = json.loads(result.output)
    assert report["dry_run"] and report["comments_imported"] == 25 and report["replies"] == 9
    assert report["posts_matched"] == 5 and report["comments_skipped"] == {"pingback": 4}
    assert wp.count() == 0


def test_cli_refuses_an_unknown_site(wp):
    result = wp.cli("import", "wordpress", str(shared("small-export.xml")), "--site", "dr-z")
    assert result.exit_code != 0 and "aucun blog « dr-z »" in result.output


# -- hostile and tricky exports ----------------------------------------------------------------------

def wxr(path: Path, items: str, doctype: str = "") -> Path:
    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>{doctype}
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Ancien blog</title><link>https://ancien.example/blog</link>
  <wp:wxr_version>1.2</wp:wxr_version><wp:base_blog_url>https://ancien.example/blog</wp:base_blog_url>
  <wp:author><wp:author_id>7</wp:author_id><wp:author_login>drb</wp:author_login></wp:author>
  {items}
</channel></rss>""",
        encoding="utf-8",
    )
    return path


def item(slug: str, comments: str, title: str = "Billet hostile") -> str:
    return f"""<item><title>{title}</title><link>https://ancien.example/blog/2019/03/{slug}/</link>
      <dc:creator><![CDATA[drb]]></dc:creator><wp:post_id>12</wp:post_id><wp:post_name>{slug}</wp:post_name>
      <wp:post_date>2019-03-02 10:00:00</wp:post_date><wp:post_date_gmt>2019-03-02 09:00:00</wp:post_date_gmt>
      <wp:post_type>post</wp:post_type><wp:status>publish</wp:status>{comments}</item>"""


def comment(wp_id, content, parent=0, approved="1", kind="", author="Lecteur", email="", url="",
            gmt="2019-03-03 08:00:00", local="", user=0) -> str:
    return f"""<wp:comment><wp:comment_id>{wp_id}</wp:comment_id>
      <wp:comment_author><![CDATA[{author}]]></wp:comment_author>
      <wp:comment_author_email>{email}</wp:comment_author_email><wp:comment_author_url>{url}</wp:comment_author_url>
      <wp:comment_author_IP>203.0.113.9</wp:comment_author_IP>
      <wp:comment_date>{local}</wp:comment_date><wp:comment_date_gmt>{gmt}</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[{content}]]></wp:comment_content>
      <wp:comment_approved>{approved}</wp:comment_approved><wp:comment_type>{kind}</wp:comment_type>
      <wp:comment_parent>{parent}</wp:comment_parent><wp:comment_user_id>{user}</wp:comment_user_id></wp:comment>"""


def test_hostile_comment_is_sanitised_and_bad_fields_dropped(wp, client):
    content = (
        'Bonjour <script>alert(1)</script><img src=x onerror="alert(2)">'
        '<a href="javascript:alert(3)">clic</a> <a href="https://ok.example/" onclick="x()">lien</a>'
        "<iframe src=https://evil.example/></iframe><svg onload=alert(4)></svg>"
    )
    path = wxr(wp_tmp := Path(wp.rows("PRAGMA database_list")[0]["file"]).parent / "hostile.xml", item(
        "billet-hostile",
        comment(1, content, author='<b onmouseover="alert(5)">Ève</b> &amp; co', email="pas-un-mail",
                url="javascript:alert(6)")
        + comment(2, "Réponse de l'auteur", parent=1, user=7, email="drb@example.org", url="https://drb.example/"),
    ))
    assert wp_tmp.is_file()
    report = wp.run(path)
    assert report.imported == 2 and report.dropped == {"email": 1, "website": 1}
    assert report.matched[0].how == "slug"
    thread = client.get("/api/comments", query_string={"url": BLOG_B + "billet-hostile.html"}).get_json()
    [first] = thread["comments"]
    html = first["html"].lower()
    for bad in ("<script", "alert(1)", "onerror", "javascript:", "<img", "<iframe", "<svg", "onclick", "onload"):
        assert bad not in html, bad
    assert '<a href="https://ok.example/" rel="nofollow ugc noopener">lien</a>' in first["html"]
    assert first["author"] == {"name": "Ève & co", "website": None, "badge": None, "is_post_author": False}
    [reply] = first["replies"]
    assert reply["author"]["is_post_author"] is True  # the WordPress user who wrote the post


def test_statuses_trash_types_reparenting_and_loops(wp, tmp_path):
    comments = "".join([
        comment(10, "Approuvé"),
        comment(11, "En attente", approved="0"),
        comment(12, "Pourriel", approved="spam"),
        comment(13, "À la corbeille", approved="trash", parent=10),
        comment(14, "Réponse au commentaire mis à la corbeille", parent=13),  # -> attached to 10
        comment(15, "Rétrolien", kind="trackback"),
        comment(16, "Note de commande", kind="order_note"),
        comment(17, "Boucle A", parent=18),  # a parent loop in a hostile file: both end up stored
        comment(18, "Boucle B", parent=17),
        comment(19, "Heure locale seulement", gmt="0000-00-00 00:00:00", local="2019-03-04 12:00:00"),
        comment(20, "   "),
    ])
    report = wp.run(wxr(tmp_path / "statuses.xml", item("billet-hostile", comments)))
    assert report.statuses == {"approved": 5, "pending": 1, "spam": 1}
    assert report.skipped == {"trash": 1, "trackback": 1, "other_type": 1, "empty": 1}
    assert report.reparented == 1
    rows = {r["text"]: r for r in wp.rows()}
    assert rows["Réponse au commentaire mis à la corbeille"]["parent_id"] == rows["Approuvé"]["id"]
    assert rows["Pourriel"]["status"] == "spam" and rows["En attente"]["status"] == "pending"
    loop = {rows["Boucle A"]["parent_id"], rows["Boucle B"]["parent_id"]}
    assert None in loop  # the loop is broken, replies have larger ids than their parents
    assert all(r["parent_id"] is None or r["parent_id"] < r["id"] for r in rows.values())
    # local time of the blog (UTC+1 from the post's dates) brought back to UTC
    assert rows["Heure locale seulement"]["created"] == "2019-03-04T11:00:00Z"
    assert report.dates == {"gmt": 6, "local": 1}


def test_entity_declarations_are_refused(wp, tmp_path):
    bomb = '\n<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    path = wxr(tmp_path / "bomb.xml", item("billet-hostile", comment(1, "&b;")), doctype=bomb)
    with pytest.raises(wordpress.WxrError, match="refusé"):
        wp.run(path)
    xxe = '\n<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    with pytest.raises(wordpress.WxrError, match="refusé"):
        wp.run(wxr(tmp_path / "xxe.xml", item("billet-hostile", comment(1, "&x;")), doctype=xxe))
    assert wp.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "fichier XML mal formé"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
        (b"<feed><entry/></feed>", "l'élément racine est <feed>"),
        (b'<rss version="2.0"><channel><item><title>x</title></item></channel></rss>', "wxr_version"),
        ('<?xml version="1.0" encoding="UTF-8"?><rss><channel>é'.encode("latin-1"), "export incomplet"),
        (b'<?xml version="1.0" encoding="UTF-8"?><rss><channel><title>a</titre>', "balise fermante qui ne correspond pas"),
    ],
)
def test_not_an_export(wp, tmp_path, content, message):
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    result = wp.cli("import", "wordpress", str(path), "--site", "dr-b")
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def _variant(path: Path, namespace: str = "http://wordpress.org/export/1.2/", version: str | None = "1.2") -> Path:
    text = wxr(path, item("billet-hostile", comment(1, "Un commentaire."))).read_text(encoding="utf-8")
    text = text.replace('xmlns:wp="http://wordpress.org/export/1.2/"', f'xmlns:wp="{namespace}"')
    text = text.replace("<wp:wxr_version>1.2</wp:wxr_version>",
                        "" if version is None else f"<wp:wxr_version>{version}</wp:wxr_version>")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("namespace", "version"),
    [
        ("https://wordpress.org/export/1.2/", "1.2"),
        ("https://wordpress.org/export/1.1/", "1.1"),
        ("http://wordpress.org/export/1.0/", "1.0"),
        ("https://wordpress.org/export/1.3/", "1.3"),  # any 1.x
        ("https://wordpress.org/export/1.2", "1.2"),  # no trailing slash
    ],
)
def test_every_wxr_1x_namespace_is_read(wp, tmp_path, namespace, version):
    report = wp.run(_variant(tmp_path / "export.xml", namespace, version))
    assert report.version == version and report.imported == 1


@pytest.mark.parametrize(
    ("namespace", "version", "message"),
    [
        ("https://wordpress.org/export/2.0/", "2.0", "version WXR 2.0 non prise en charge : cet import lit WXR 1.x"),
        ("http://wordpress.org/export/1.2/", "deux", "<wp:wxr_version> vaut 'deux', pas un numéro de version"),
        ("http://wordpress.org/export/1.2/", None, "ce n'est pas un export WordPress : pas de <wp:wxr_version> dans <channel>"),
        ("https://example.org/export/1.2/", "1.2",
         "ce n'est pas un export WordPress : son <wxr_version> est dans l'espace de noms 'https://example.org/export/1.2/'"),
        ("http://wordpress.org.example/export/1.2/", "1.2", "pas celui de WordPress"),
    ],
)
def test_what_is_wrong_with_the_version_is_said(wp, tmp_path, namespace, version, message):
    path = _variant(tmp_path / "export.xml", namespace, version)
    result = wp.cli("import", "wordpress", str(path), "--site", "dr-b")
    assert result.exit_code == 1 and message in result.output and "rien n'a été importé" in result.output, result.output
    assert "found none" not in result.output and wp.count() == 0


def test_a_failed_post_is_rolled_back_whole(wp, tmp_path, monkeypatch):
    comments = comment(30, "Un") + comment(31, "Deux", parent=30) + comment(32, "Trois", parent=31)
    path = wxr(tmp_path / "fail.xml", item("billet-hostile", comments) + item("hello-world", comment(40, "Autre")))
    real_execute_calls = {"n": 0}

    original = threads.existing_keys

    def failing(db, site, source, ids):
        real_execute_calls["n"] += 1
        if "30" in ids:
            # the first post fails after its first insert would have happened: make the third insert fail
            db.conn.execute("CREATE TEMP TRIGGER boom BEFORE INSERT ON comments WHEN NEW.text = 'Trois'"
                            " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
        return original(db, site, source, ids)

    monkeypatch.setattr(threads, "existing_keys", failing)
    report = wp.run(path)
    assert [p.error for p in report.failed] == ["disk on fire"]
    assert report.imported == 1 and report.skipped == {"failed": 3}
    assert [r["text"] for r in wp.rows()] == ["Autre"]  # nothing of the failed thread, the other post stands


# -- what real exports get wrong: repaired, counted, said ----------------------------------------------

NOTICE = (b"<br />\n<b>Deprecated</b>:  Function create_function() is deprecated in <b>/home/drb/wp-content/plugins/"
          b"vieux.php</b> on line <b>12</b><br />\n")


def _broken(tmp_path: Path, content: str, mend, name: str = "export.xml") -> Path:
    path = wxr(tmp_path / name, item("billet-hostile", comment(1, content) + comment(2, "Merci", parent=1)))
    path.write_bytes(mend(path.read_bytes()))
    return path


@pytest.mark.parametrize(
    ("content", "mend", "text", "repairs"),
    [
        # PHP notices printed before the declaration (a plugin's, on a host showing errors); a theme's blank lines
        ("Bonjour", lambda b: NOTICE + b, "<p>Bonjour</p>", {"preamble": 2}),
        ("Bonjour", lambda b: b"\n\n" + b, "<p>Bonjour</p>", {}),
        ("Bonjour", lambda b: b"\xef\xbb\xbf\n" + b, "<p>Bonjour</p>", {}),
        # control characters pasted into a comment (XML 1.0 forbids them), raw or as references
        ("Tension\x0bartérielle\x00 \x1b[0mnormale\x0c", lambda b: b,
         "<p>Tension artérielle [0mnormale</p>", {"control": 4}),
        ("Bonjour &#11;", lambda b: b.replace(b"<title>Billet hostile", b"<title>Billet&#x1F; hostile&#8;"),
         "<p>Bonjour</p>", {"control": 3}),
        # bytes that are not UTF-8 in a file that says it is (Latin-1 pasted in)
        ("Très bien", lambda b: b.replace("Très".encode(), "Très".encode("latin-1")), "<p>Tr\ufffds bien</p>",
         {"invalid_utf8": 1}),
        ("a\ufffeb\uffffc", lambda b: b, "<p>abc</p>", {"control": 2}),
        # a Latin-1 export with a control character: its bytes are read as it declares
        ("Très\x01 bien", lambda b: b.decode().replace("UTF-8", "ISO-8859-1").encode("latin-1"),
         "<p>Très bien</p>", {"control": 1}),
        # a PHP warning after </rss>
        ("Bonjour", lambda b: b + b"\n<b>Warning</b>: Cannot modify header information\n", "<p>Bonjour</p>",
         {"trailing": 1}),
        ("Bonjour", lambda b: b + b"\n<!-- fin -->\n\n", "<p>Bonjour</p>", {}),
    ],
)
def test_what_real_exports_get_wrong_is_repaired_and_said(wp, client, tmp_path, content, mend, text, repairs):
    path = _broken(tmp_path, content, mend)
    result = wp.cli("import", "wordpress", str(path), "--site", "dr-b")
    assert result.exit_code == 0, result.output
    assert "Commentaires importés : 2" in result.output
    assert ("Fichier réparé à la lecture" in result.output) == bool(repairs), result.output
    [first] = client.get("/api/comments", query_string={"url": BLOG_B + "billet-hostile.html"}).get_json()["comments"]
    assert first["html"] == text and first["replies"][0]["html"] == "<p>Merci</p>"
    report = wp.run(path, dry_run=True)
    assert dict(report.repairs) == repairs and report.present == 2
    assert wp.cli("import", "wordpress", str(path), "--site", "dr-b", "--json").output.count('"repairs"') == 1


def test_lines_are_those_of_the_file_after_a_repaired_preamble(wp, tmp_path):
    path = _broken(tmp_path, "Bonjour", lambda b: NOTICE + b.replace(b"<wp:post_type>post</wp:post_type>",
                                                                  b"<wp:post_type>post</wp:type>"))
    line = next(n for n, text in enumerate(path.read_bytes().splitlines(), 1) if b"</wp:type>" in text)
    with pytest.raises(wordpress.WxrError, match=f"balise fermante qui ne correspond pas.*ligne {line}, colonne"):
        wp.run(path)
    assert wp.count() == 0


def test_an_interrupted_export_says_so_and_where_it_stopped(wp, tmp_path):
    path = wxr(tmp_path / "export.xml", item("hello-world", comment(40, "Premier"), title="Bonjour à tous")
               + item("billet-hostile", comment(1, "Jamais lu")))
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"Jamais lu")])  # PHP's time limit, mid-comment
    result = wp.cli("import", "wordpress", str(path), "--site", "dr-b")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "export incomplet" in result.output and "dernier billet lu en entier : « Bonjour à tous », ligne" in (
        result.output) and "rien n'a été importé" in result.output, result.output
    assert wp.count() == 0


@pytest.mark.parametrize(
    ("mend", "message"),
    [
        (lambda b: b.replace(b"<title>Billet hostile", b"<title>Billet&nbsp;hostile"), "entité inconnue en XML"),
        (lambda b: b.replace(b"<title>Billet hostile", b"<title>Billet & hostile"), "« & » ou un « < » non échappé"),
        (lambda b: b"Fatal error: Allowed memory size exhausted\n" + b.split(b"?>", 1)[1],
         "le fichier commence par « Fatal error: Allowed memory size exhausted »"),  # no declaration: nothing guessed
    ],
)
def test_what_is_not_repaired_is_said_in_french_with_its_line(wp, tmp_path, mend, message):
    result = wp.cli("import", "wordpress", str(_broken(tmp_path, "Bonjour", mend)), "--site", "dr-b")
    assert result.exit_code == 1 and message in result.output and "(expat : " in result.output, result.output
    assert "ligne " in result.output and wp.count() == 0


def test_what_could_identify_a_patient_waits_for_a_moderator(wp, client, tmp_path):
    """An old blog published it; the network does not publish it again before a moderator has read it, as it
    holds a new comment (medical secrecy), whatever the status in the export."""
    path = wxr(tmp_path / "secret.xml", item("billet-hostile", "".join([
        comment(1, "Ma fille, née le 12/03/2015, a le numéro 2 85 03 75 120 005 42, appelez-moi au 06 12 34 56 78"),
        comment(2, "Merci pour ce billet."),
        comment(3, "Pourriel au 06 12 34 56 78", approved="spam"),
    ])))
    result = wp.cli("import", "wordpress", str(path), "--site", "dr-b")
    assert result.exit_code == 0, result.output
    assert "Retenus pour le secret médical (ils pourraient identifier un patient), en attente de modération : 1" in (
        result.output)
    rows = {r["text"][:10]: r for r in wp.rows()}
    held = rows["Ma fille, "]
    assert held["status"] == "pending" and held["moderated"] is None and "téléphone" in held["secrecy"]
    assert rows["Merci pour"]["status"] == "approved" and rows["Merci pour"]["secrecy"] is None
    assert rows["Pourriel a"]["status"] == "spam"  # never shown anyway
    shown = client.get("/api/comments", query_string={"url": BLOG_B + "billet-hostile.html"}).get_json()
    assert [c["html"] for c in shown["comments"]] == ["<p>Merci pour ce billet.</p>"]


ONE_COMMENT = ("<wp:comment><wp:comment_id>{n}</wp:comment_id><wp:comment_author>Lou</wp:comment_author>"
               "<wp:comment_date_gmt>2015-03-02 10:00:00</wp:comment_date_gmt><wp:comment_content>Merci.</wp:comment_content>"
               "<wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment</wp:comment_type>"
               "<wp:comment_parent>0</wp:comment_parent></wp:comment>")  # one approved comment; {n}: its id


def test_a_post_the_old_blog_did_not_publish_is_said_so(wp, tmp_path):
    """The posts' import leaves drafts, private and protected posts unpublished: their comments wait, and the report
    says why rather than « no post with this address »."""
    from tests.confreres.test_wordpress_posts import item, wxr

    base = "https://dr-martin.example"
    path = tmp_path / "export.xml"
    path.write_text(wxr(base, item(1, "En cours", "Texte.", slug="en-cours", status="draft", base=base,
                                   extra=ONE_COMMENT.format(n=1)),
                        item(2, "Privé", "Texte.", slug="prive", status="private", base=base,
                             extra=ONE_COMMENT.format(n=2)),
                        item(3, "Perdu", "Texte.", slug="perdu", base=base, extra=ONE_COMMENT.format(n=3))),
                    encoding="utf-8")
    result = wp.cli("import", "wordpress", str(path), "--site", "dr-b", "--dry-run")
    assert result.exit_code == 0, result.output
    assert ("✗ En cours (https://dr-martin.example/en-cours/) : 1 commentaire non importé : brouillon sur l'ancien "
            "blog, donc pas publié ici : publiez-le, puis relancez l'import") in result.output
    assert "privé sur l'ancien blog" in result.output
    assert "✗ Perdu (https://dr-martin.example/perdu/) : 1 commentaire non importé : aucun billet du blog" in result.output


def test_the_comments_of_a_post_kept_as_a_draft_say_where_it_is_and_what_to_do(wp, blog_b):
    """`confreres import posts` keeps « Page with comments » of the theme unit test export (no date, so dated at the
    import) as a draft: the comments' import says so, with its file, rather than « no post with this address »."""
    export = shared("a11y-unit-test-data.xml")
    posts = wp.cli("import", "posts", str(export), "--site", "dr-b", "--no-images")
    assert posts.exit_code == 0, posts.output
    content = blog_b.network_file.parent / "sites" / "dr-b" / "content"
    draft = next(content.glob("*-page-with-comments.md"))
    assert "Status: draft" in draft.read_text(encoding="utf-8")
    # the blog built: every post but the drafts announced (those of WP_POSTS, the page with comments left out)
    blog_b.declare([p for p in WP_POSTS if "page-with-comments" not in p["url"]])
    result = wp.cli("import", "comments", str(export), "--site", "dr-b")
    assert result.exit_code == 0, result.output
    assert (f"✗ Page with comments (http://wpthemetestdata.wordpress.com/about/page-with-comments/) : 3 commentaires "
            f"non importés : gardé en brouillon sur ce blog (content/{draft.name}, « Status: draft ») : publiez-le "
            f"(retirez cette ligne, vérifiez sa date), construisez le blog (confreres build --site dr-b), puis relancez "
            f"l'import") in result.output
    assert "aucun billet du blog" not in result.output and wp.count() == 22


def test_the_comments_of_a_page_or_a_hidden_post_say_they_have_no_thread(wp, blog_b, tmp_path):
    """A page has no comment thread on the network, published or not, nor has a hidden post: said so, and what to do;
    a post the blog does not have at all is still « no post »."""
    from tests.confreres.test_wordpress_posts import item, wxr

    base = "https://dr-martin.example"
    path = tmp_path / "export.xml"
    path.write_text(wxr(base, item(1, "Le cabinet", "Texte.", slug="le-cabinet", post_type="page", base=base,
                                   extra=ONE_COMMENT.format(n=1)),
                        item(2, "Archives", "Texte.", slug="archives-2015", base=base, extra=ONE_COMMENT.format(n=2)),
                        item(3, "Perdu", "Texte.", slug="perdu", base=base, extra=ONE_COMMENT.format(n=3))),
                    encoding="utf-8")
    content = blog_b.network_file.parent / "sites" / "dr-b" / "content"
    (content / "pages").mkdir(parents=True)
    (content / "pages" / "le-cabinet.md").write_text("Title: Le cabinet\nSlug: le-cabinet\n\nTexte.\n", encoding="utf-8")
    (content / "archives.md").write_text("Title: Archives 2015\nDate: 2015-03-01 08:30\nStatus: hidden\n\nTexte.\n",
                                         encoding="utf-8")
    result = wp.cli("import", "comments", str(path), "--site", "dr-b")
    assert result.exit_code == 0, result.output
    assert ("✗ Le cabinet (https://dr-martin.example/le-cabinet/) : 1 commentaire non importé : page de ce blog "
            "(content/pages/le-cabinet.md) : une page n'a pas de fil de commentaires, seuls les billets en ont ; pour "
            "garder ces commentaires, faites-en un billet publié (déplacez le fichier de content/pages/ vers content/), "
            "construisez le blog (confreres build --site dr-b), puis relancez l'import") in result.output
    assert ("✗ Archives (https://dr-martin.example/archives-2015/) : 1 commentaire non importé : billet caché sur ce "
            "blog (content/archives.md, « Status: hidden ») : un billet caché n'a pas de fil de commentaires ; retirez "
            "cette ligne, construisez le blog") in result.output
    assert "✗ Perdu (https://dr-martin.example/perdu/) : 1 commentaire non importé : aucun billet du blog" in result.output
    assert wp.count() == 0


def test_an_attachments_comments_go_to_no_post(tmp_path):
    """An attachment's page (« …/calendrier-vaccinal/vaccins/ », post_name « vaccins ») is no post of the blog:
    matched by its slug, its comments went to an unrelated post « vaccins »."""
    from tests.confreres.test_wordpress_posts import item, wxr

    comment = ("<wp:comment><wp:comment_id>{0}</wp:comment_id><wp:comment_author>Anne</wp:comment_author>"
               "<wp:comment_date_gmt>2015-03-02 08:00:00</wp:comment_date_gmt><wp:comment_content>Merci {0}"
               "</wp:comment_content><wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment"
               "</wp:comment_type><wp:comment_parent>0</wp:comment_parent></wp:comment>")
    base = "https://dr-martin.example"
    path = tmp_path / "export.xml"
    path.write_text(wxr(base, item(1, "Vaccins", "Texte.", slug="vaccins", base=base, extra=comment.format(11)),
                        item(2, "vaccins", "", slug="vaccins", post_type="attachment", base=base,
                             link=f"{base}/calendrier-vaccinal/vaccins/", extra=comment.format(12))),
                    encoding="utf-8")
    parsed = wordpress.read_wxr(path)
    assert [(t.slug, [c.source_id for c in t.comments]) for t in parsed.threads] == [("vaccins", ["11"])]
    assert parsed.skipped == {"attachment": 1}
