"""`confreres import wordpress-posts`: a WordPress export's posts and pages as the blog's Markdown, their images
downloaded from a real HTTP server, the result built by the real build."""

from __future__ import annotations

import json
import textwrap
import threading
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from confreres import build
from confreres.cli import cli
from confreres.safe_http import ALLOW_ENV
from confreres.wordpress_posts import import_posts, wpautop
from confreres.xml_input import ExportError
from tests.loopback import LoopbackServer

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "wordpress"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x03\x00\x08\xfc\x02\xfe\xa7\x9a\xa0\xa0\x00\x00\x00\x00IEND\xaeB`\x82")


def posted(content: Path, name: str) -> Path:
    """The post written for WordPress's `name` (its file is named by its month)."""
    [path] = content.glob(f"????-??-{name}")
    return path


def item(post_id: int, title: str, body: str, *, slug: str = "", post_type: str = "post", status: str = "publish",
         date_gmt: str = "2015-03-01 07:30:00", categories: str = "", extra: str = "", link: str = "",
         base: str = "") -> str:
    return textwrap.dedent(f"""\
        <item>
          <title>{title}</title>
          <link>{link or f"{base}/{slug}/"}</link>
          <guid isPermaLink="false">{base}/?p={post_id}</guid>
          <content:encoded><![CDATA[{body}]]></content:encoded>
          <excerpt:encoded><![CDATA[]]></excerpt:encoded>
          <wp:post_id>{post_id}</wp:post_id>
          <wp:post_date>2015-03-01 08:30:00</wp:post_date>
          <wp:post_date_gmt>{date_gmt}</wp:post_date_gmt>
          <wp:post_name>{slug}</wp:post_name>
          <wp:status>{status}</wp:status>
          <wp:post_type>{post_type}</wp:post_type>
          <wp:post_password></wp:post_password>
          {categories}
          {extra}
        </item>
        """)


def wxr(base: str, *items: str) -> str:
    return textwrap.dedent(f"""\
        <?xml version="1.0" encoding="UTF-8" ?>
        <rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
          xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
          xmlns:wp="http://wordpress.org/export/1.2/">
        <channel>
          <title>Le blog du Dr Martin</title>
          <link>{base}</link>
          <wp:wxr_version>1.2</wp:wxr_version>
          <wp:base_site_url>{base}</wp:base_site_url>
          <wp:base_blog_url>{base}</wp:base_blog_url>
        """) + "".join(items) + "</channel>\n</rss>\n"


@pytest.fixture
def uploads(monkeypatch):
    """The old blog's server: its uploads answer, one is gone, one is a web page."""
    with LoopbackServer() as server:
        host = server.url("/").split("//", 1)[1].rstrip("/")
        monkeypatch.setenv(ALLOW_ENV, host)
        server.route("/wp-content/uploads/2015/03/radio.png", body=PNG, headers={"Content-Type": "image/png"})
        server.route("/wp-content/uploads/2015/03/radio-300x200.png", body=PNG,
                     headers={"Content-Type": "image/png"})
        server.route("/wp-content/uploads/2015/03/protocole.pdf", body=b"%PDF-1.4 protocole",
                     headers={"Content-Type": "application/pdf"})
        server.route("/wp-content/uploads/2015/03/page.png", body="<html>connexion</html>",
                     headers={"Content-Type": "text/html"})
        yield server


def export_with_images(tmp_path: Path, server: LoopbackServer) -> tuple[Path, str]:
    base = server.url("/").rstrip("/")
    body = (f'Première ligne\nseconde ligne\n\n[caption id="attachment_7" width="300"]<a href="{base}/wp-content/uploads/'
            f'2015/03/radio.png"><img src="{base}/wp-content/uploads/2015/03/radio-300x200.png?w=300" alt="Radio" '
            f'srcset="{base}/x.png 2x" width="300" /></a> La radio du thorax[/caption]\n\n'
            f'Le <a href="{base}/wp-content/uploads/2015/03/protocole.pdf">protocole</a>, une image '
            f'<img src="{base}/wp-content/uploads/2015/03/absente.png" alt="absente"> et une autre '
            f'<img src="{base}/wp-content/uploads/2015/03/page.png" alt="page"> ; un <a href="{base}/wp-content/'
            f'uploads/2015/03/calcul.py">script</a> ; ailleurs : '
            f'<img src="https://cdn.example.org/schema.png" alt="schéma">.\n\n'
            f'Voir aussi <a href="{base}/2014/11/gardes/">mes gardes</a> et <a href="{base}/?p=12">le même</a>.')
    path = tmp_path / "export.xml"
    path.write_text(wxr(
        base,
        item(11, "La radio", body, slug="la-radio", base=base,
             categories='<category domain="category" nicename="imagerie"><![CDATA[Imagerie]]></category>'
                        '<category domain="post_tag" nicename="thorax"><![CDATA[thorax]]></category>'),
        item(12, "Mes gardes", "Les gardes.", slug="gardes", date_gmt="2014-11-02 20:00:00",
             link=f"{base}/2014/11/gardes/", base=base),
    ), encoding="utf-8")
    return path, base


def test_a_real_export_becomes_posts_pages_and_drafts(tmp_path):
    if not SHARED.is_dir():
        pytest.skip("../shared/data/wordpress is absent (third-party test data, see ../shared/README.md)")
    content = tmp_path / "content"
    report = import_posts(SHARED / "a11y-unit-test-data.xml", content, download=False)
    assert report.count("post", "written") == 48 and report.count("page", "written") == 17
    assert report.skipped == {"nav_menu_item": 50, "attachment": 39}
    assert report.count("post", "written", draft=True) == 3, "the draft, the password-protected post, the undated one"
    [undated] = [p for p in report.posts if p.why_draft == "sans date dans l'export"]
    assert undated.title == "Page with comments", "dated by the import, it would look new: a draft for the doctor"
    protected = posted(content, "template-password-protected.md").read_text(encoding="utf-8")
    assert "Status: draft" in protected, "a password-protected post was not public: it is not published"
    caption = posted(content, "post-format-image-caption.md").read_text(encoding="utf-8")
    header, _, body = caption.partition("\n\n")
    assert header.splitlines() == [
        "Title: Post Format: Image (Caption)",
        "Date: 2010-08-07 15:00",  # 13:00 GMT, in Paris (summer time)
        "Category: Post Formats",
        "Tags: image, Post Formats, shortcode",
        "Slug: post-format-image-caption",
    ]
    assert "*Bell on wharf in San Francisco*" in body and "[caption" not in body
    nested = (content / "pages" / "page-markup-and-formatting.md").read_text(encoding="utf-8")
    assert "-   List item one\n    -   List item one\n        -   List item one" in nested, \
        "nested four spaces deep, as Python-Markdown nests"
    assert "| Employee | Salary | Comments |" in nested
    excerpt = posted(content, "template-excerpt-defined.md").read_text(encoding="utf-8")
    assert "Summary: This is a user-defined post excerpt. It should be displayed" in excerpt.partition("\n\n")[0]
    assert not posted(content, "post-format-gallery.md").read_text(encoding="utf-8").count("[gallery")


def test_images_are_downloaded_and_the_posts_build_with_them(tmp_path, make_network, uploads):
    network = make_network(slugs=("dr-a",), posts=0)
    path, base = export_with_images(tmp_path, uploads)
    site = network.site("dr-a")
    result = CliRunner().invoke(cli, ["--network", str(network.source), "import", "wordpress-posts", str(path),
                                      "--site", "dr-a"])
    assert result.exit_code == 1, "an upload that could not be downloaded is an error the doctor must see"
    assert "Billets écrits : 2" in result.output
    assert f"✗ {base}/wp-content/uploads/2015/03/absente.png : réponse HTTP 404" in result.output
    assert "pas une image (« text/html »)" in result.output
    assert "calcul.py : fichier de code : un blog n'en publie pas" in result.output, "a push would refuse it"
    assert "https://cdn.example.org/schema.png" in result.output, "an image hosted elsewhere is named"
    content = site.path / "content"
    assert (content / "images" / "2015" / "03" / "radio.png").read_bytes() == PNG
    assert (content / "images" / "2015" / "03" / "radio-300x200.png").read_bytes() == PNG
    assert (content / "files" / "2015" / "03" / "protocole.pdf").read_bytes() == b"%PDF-1.4 protocole"
    assert not (content / "images" / "2015" / "03" / "page.png").exists(), "a web page is not saved as an image"
    text = (content / "2015-03-la-radio.md").read_text(encoding="utf-8")
    assert "Date: 2015-03-01 08:30" in text and "Category: Imagerie" in text and "Tags: thorax" in text
    assert "[![Radio]({static}/images/2015/03/radio-300x200.png)]({static}/images/2015/03/radio.png)" in text
    assert "[protocole]({static}/files/2015/03/protocole.pdf)" in text
    assert f"{base}/wp-content/uploads/2015/03/absente.png" in text, "a failed download keeps its old link"
    assert "[mes gardes]({filename}/2014-11-gardes.md)" in text and "[le même]({filename}/2014-11-gardes.md)" in text
    assert "Première ligne  \nseconde ligne" in text, "a line break is kept"

    assert all(r.ok for r in build.build(network, progress=False))
    page = BeautifulSoup((network.output / "dr-a" / "la-radio.html").read_text(encoding="utf-8"), "html.parser")
    article = page.find("article") or page
    images = {img["src"] for img in article.find_all("img")}
    assert any(src.endswith("images/2015/03/radio-300x200.png") for src in images), images
    links = {a.get_text(): a["href"] for a in article.find_all("a")}
    assert links["mes gardes"].endswith("gardes.html") and links["le même"] == links["mes gardes"]
    assert links["protocole"].endswith("files/2015/03/protocole.pdf")
    assert (network.output / "dr-a" / "images" / "2015" / "03" / "radio.png").read_bytes() == PNG

    # again: nothing written, nothing fetched, the doctor's edits kept
    (content / "2015-03-la-radio.md").write_text(text + "\nCorrigé à la main.\n", encoding="utf-8")
    fetched = len(uploads.requests)
    again = import_posts(path, content)
    assert again.count("post", "written") == 0 and again.count("post", "present") == 2
    assert "Corrigé à la main." in (content / "2015-03-la-radio.md").read_text(encoding="utf-8")
    assert {u.outcome for u in again.uploads.values()} == {"present", "failed"}
    assert len(uploads.requests) == fetched + 2, "only the two that failed are asked again (never the code)"
    assert not list(content.rglob("*.py"))


def test_a_dry_run_writes_and_fetches_nothing(tmp_path, uploads):
    path, _ = export_with_images(tmp_path, uploads)
    content = tmp_path / "content"
    report = import_posts(path, content, dry_run=True)
    assert report.count("post", "written") == 2 and not content.exists() and not uploads.requests
    result = CliRunner().invoke(cli, ["import", "wordpress-posts", str(path), "--site", "dr-lefebvre", "--dry-run",
                                      "--json", "--source", str(tmp_path)])
    assert result.exit_code == 1, "the script upload cannot come, dry run or not"
    report = json.loads(result.output)
    assert {p["path"] for p in report["posts"]} == {"2015-03-la-radio.md", "2014-11-gardes.md"}
    assert {u["outcome"] for u in report["uploads"]} == {"not_downloaded", "failed"}
    assert not content.exists()


def test_text_stays_text_and_shortcodes_are_read(tmp_path):
    base = "https://dr-martin.example"
    body = ("Un exemple : &lt;script&gt;alert(1)&lt;/script&gt; et &amp;eacute; écrits pour être lus.\n\n"
            "<script>alert(2)</script><iframe src=\"https://www.youtube.com/embed/abcdefghijk\"></iframe>\n\n"
            "[contact-form-7 id=\"3\" title=\"Contact\"] [sic] [[caption]] [su_note]Une note[/su_note]\n\n"
            "[youtube=https://www.youtube.com/watch?v=jetpack1234]\n\n"
            "<!--more-->\n\n# pas un titre\n\n<pre>ligne 1\n\nligne 2</pre>")
    path = tmp_path / "export.xml"
    path.write_text(wxr(base, item(5, "Des &amp; exemples", body, slug="exemples%c3%a9", base=base,
                                   status="private")), encoding="utf-8")
    content = tmp_path / "content"
    report = import_posts(path, content, download=False)
    [post] = report.posts
    assert post.path == "2015-03-exemplesé.md" and post.status == "draft" and post.why_draft == "privé"
    text = (content / post.path).read_text(encoding="utf-8")
    assert "Title: Des & exemples" in text and "Slug: exemplesé" in text
    assert "Summary: Un exemple : &lt;script>alert(1)&lt;/script> et &amp;eacute; écrits pour être lus." in text
    assert "&lt;script>alert(1)&lt;/script>" in text and "&amp;eacute;" in text
    assert "alert(2)" not in text and report.removed["script"] == 1
    assert "<https://www.youtube.com/watch?v=abcdefghijk>" in text and report.embeds == 2
    assert "<https://www.youtube.com/watch?v=jetpack1234>" in text, "Jetpack's [youtube=…]"
    assert "\\[sic] \\[caption] Une note" in text and report.shortcodes == {"contact-form-7": 1, "su_note": 1}
    assert "\\# pas un titre" in text
    assert "ligne 1\n\nligne 2" in text, "a <pre> keeps its blank line"


def test_secrecy_is_read_as_a_push_reads_it(tmp_path):
    base = "https://dr-martin.example"
    path = tmp_path / "export.xml"
    path.write_text(wxr(base, item(5, "Cabinet", "Appelez le 06 12 34 56 78.\n\nMme Durand va mieux.",
                                   slug="cabinet", post_type="page", base=base)), encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "wordpress-posts", str(path), "--site", "dr-lefebvre", "--source",
                                      str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "SECRET MÉDICAL : 1 passage ferait refuser la publication (git push)" in result.output
    assert "content/pages/cabinet.md, ligne 5, colonne 12 : numéro de téléphone" in result.output
    assert "ressemble au nom d'un patient" in result.output


def test_wpautop_makes_wordpress_paragraphs():
    assert wpautop("Un\ndeux\n\ntrois") == "<p>Un<br>\ndeux</p>\n<p>trois</p>"
    assert wpautop("<ul>\n<li>a</li>\n</ul>\nfin") == "<ul>\n<li>a</li>\n</ul>\n<p>fin</p>"
    assert wpautop("<pre>a\n\nb</pre>") == "<pre>a\n\nb</pre>"


def test_a_file_that_is_not_an_export_is_refused_with_nothing_written(tmp_path):
    path = tmp_path / "export.xml"
    path.write_text("<?xml version='1.0'?><rss><channel><item><title>x</title></channel></rss>", encoding="utf-8")
    with pytest.raises(ExportError, match="balise fermante"):
        import_posts(path, tmp_path / "content")
    assert not (tmp_path / "content").exists()
    result = CliRunner().invoke(cli, ["import", "wordpress-posts", str(path), "--site", "dr-lefebvre", "--source",
                                      str(tmp_path)])
    assert result.exit_code == 1 and "fichier XML mal formé" in result.output


def test_the_whole_theme_unit_test_export_builds(make_network):
    """WordPress's own edge cases (no title, no body, many tags, nested lists, galleries, an item without date):
    what the import writes, the real build publishes."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data/wordpress is absent (third-party test data, see ../shared/README.md)")
    network = make_network(slugs=("dr-a",), posts=0)
    report = import_posts(SHARED / "a11y-unit-test-data.xml", network.site("dr-a").path / "content", download=False)
    [result] = [r for r in build.build(network, progress=False) if r.slug == "dr-a"]
    assert result.ok, result
    published = report.count("post", "written", draft=False)
    posts = json.loads((network.output / "dr-a" / "posts.json").read_text(encoding="utf-8"))["posts"]
    assert len(posts) == published == 45, "every post the import did not make a draft"


def test_a_cdata_end_quoted_in_a_post_is_text(tmp_path):
    """WordPress before 4.x wrote « ]]> » in a post as it was, inside the post's CDATA section (its importer's
    « crazy CDATA » test file): the post is read whole, the repair counted."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data/wordpress is absent (third-party test data, see ../shared/README.md)")
    report = import_posts(SHARED / "crazy-cdata.xml", tmp_path / "content", download=False)
    [post] = report.posts
    assert post.title == "Hello world!" and "Content with nested" in post.text and ":)" in post.text
    assert report.repairs == {"cdata": 4}, "the post and its custom fields (« ]]> » twice in one)"
    base = "https://dr-martin.example"
    path = tmp_path / "multi.xml"
    path.write_text(wxr(base, item(7, "Code", "]]></span>", slug="code", base=base)).replace(
        "<![CDATA[]]></span>]]>", "<![CDATA[avant ]]> après\n<![CDATA[ et ]]>]]> fin]]>"), encoding="utf-8")
    [code] = import_posts(path, tmp_path / "other", download=False).posts
    assert "avant ]]> après" in code.text and "]]> fin" in code.text, "read across lines"


def test_the_blogs_own_files_and_addresses_are_kept(tmp_path, make_network):
    """The blog already has an « À propos » page (`new-site` writes one) and a post at an address the export uses:
    the page is kept and named, the post is not written (the build would refuse two posts at one address)."""
    network = make_network(slugs=("dr-a",), posts=0)
    content = network.site("dr-a").path / "content"
    (content / "garde.md").write_text("\ufeffTitle: Ma garde\nDate: 2024-01-01 10:00\nSlug: gardes\n\nÀ moi.\n",
                                      encoding="utf-8")
    base = "https://dr-martin.example"
    path = tmp_path / "export.xml"
    path.write_text(wxr(base, item(1, "Mes gardes", "Les gardes.", slug="gardes", base=base),
                        item(2, "À propos", "Le Dr Martin.", slug="a-propos", post_type="page", base=base),
                        item(3, "Radio", "La radio.", slug="radio", base=base)), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--network", str(network.source), "import", "wordpress-posts", str(path),
                                      "--site", "dr-a"])
    assert result.exit_code == 0, result.output
    assert "Billets écrits : 1 ;" in result.output
    assert "déjà là : content/pages/a-propos.md (À propos) : gardé" in result.output
    assert "Mes gardes : « gardes » est l'adresse de content/garde.md" in result.output
    assert not (content / "2015-03-gardes.md").exists() and (content / "2015-03-radio.md").exists()
    assert (content / "pages" / "a-propos.md").read_text(encoding="utf-8") == "Title: À propos\nSlug: a-propos\n\nPage de présentation.\n"
    assert all(r.ok for r in build.build(network, progress=False))


@pytest.mark.parametrize(("permalinks", "new"), [("slug", "la-radio.html"), ("date", "2015/03/01/la-radio/")])
def test_redirections_from_the_old_addresses(tmp_path, make_network, permalinks, new):
    network = make_network(slugs=("dr-a",), posts=0)
    site = network.site("dr-a")
    if permalinks == "date":
        (site.path / "site.toml").write_text('permalinks = "date"\n', encoding="utf-8")
    base = "https://dr-martin.example"
    path = tmp_path / "export.xml"
    path.write_text(wxr(base, item(1, "La radio", "Texte.", slug="la-radio", base=base),
                        item(2, "Brouillon", "Pas fini.", slug="brouillon", status="draft", base=base),
                        item(3, "À propos", "Moi.", slug="qui-suis-je", post_type="page", base=base)), encoding="utf-8")
    csv_path = tmp_path / "redirections.csv"
    result = CliRunner().invoke(cli, ["--network", str(network.source), "import", "wordpress-posts", str(path),
                                      "--site", "dr-a", "--redirects", str(csv_path)])
    assert result.exit_code == 0, result.output
    assert f"Redirections : {csv_path} (2 adresses de l'ancien blog vers le réseau)" in result.output
    assert csv_path.read_text(encoding="utf-8").splitlines() == [
        "source,target",
        f"{base}/la-radio/,{site.url}{new}",
        f"{base}/qui-suis-je/,{site.url}pages/qui-suis-je.html",
    ], "a draft is not published: no redirection to it"
    assert all(r.ok for r in build.build(network, progress=False))
    assert (network.output / "dr-a" / new.removesuffix("/")).exists() or (network.output / "dr-a" / new / "index.html").exists()
    assert (network.output / "dr-a" / "pages" / "qui-suis-je.html").exists()


def test_a_featured_image_comes_first_unless_the_text_shows_it(tmp_path):
    base = "https://dr-martin.example"
    attachment = item(50, "Le cabinet", "", slug="cabinet-photo", post_type="attachment", status="inherit", base=base,
                      extra=f"<wp:attachment_url>{base}/wp-content/uploads/2015/03/cabinet.jpg</wp:attachment_url>")
    thumbnail = "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>50</wp:meta_value></wp:postmeta>"
    path = tmp_path / "export.xml"
    path.write_text(wxr(base, attachment,
                        item(1, "Sans image", "Le texte.", slug="sans-image", base=base, extra=thumbnail),
                        item(2, "Avec image", f'<img src="{base}/wp-content/uploads/2015/03/cabinet-300x200.jpg" '
                             'alt="petit">\n\nLe texte.', slug="avec-image", base=base, extra=thumbnail)),
                    encoding="utf-8")
    content = tmp_path / "content"
    import_posts(path, content, download=False)
    first = (content / "2015-03-sans-image.md").read_text(encoding="utf-8").partition("\n\n")[2]
    assert first.startswith(f"![Le cabinet]({base}/wp-content/uploads/2015/03/cabinet.jpg)\n\nLe texte.")
    second = (content / "2015-03-avec-image.md").read_text(encoding="utf-8").partition("\n\n")[2]
    assert second.count("![") == 1 and "cabinet-300x200.jpg" in second, "shown already, at another size"


def test_a_wordpress_com_archive_of_parts_is_read_whole(tmp_path):
    """WordPress.com mails its export as a ZIP of `.xml` parts, each a whole WXR document."""
    import zipfile

    base = "https://drmartin.wordpress.com"
    archive = tmp_path / "drmartin.wordpress.com-2024-06-01-12_00_00.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("drmartin.wordpress.2024-06-01.000.xml", wxr(base, item(1, "Un", "Premier.", slug="un", base=base)))
        out.writestr("drmartin.wordpress.2024-06-01.001.xml", wxr(base, item(2, "Deux", "Second.", slug="deux", base=base)))
    report = import_posts(archive, tmp_path / "content", download=False)
    assert sorted(p.slug for p in report.posts) == ["deux", "un"]
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as out:
        out.writestr("a.000.xml", wxr(base, item(1, "Un", "Premier.", slug="un", base=base)))
        out.writestr("a.001.xml", "<?xml version='1.0'?><rss><channel><item></channel></rss>")
    with pytest.raises(ExportError, match="a.001.xml : fichier XML mal formé"):
        import_posts(broken, tmp_path / "other", download=False)
    assert not (tmp_path / "other").exists(), "nothing written when a part cannot be read"


def test_hostile_bodies_are_read_in_one_pass(tmp_path):
    """Patterns that read the rest of the post again from each of a run of tags without their end: the summary's
    shortcodes were cubic (8 KB of « [a = » took 73 s), « <!-- wp: », « <!--more », « <pre » without their end and
    tags nested thousands deep (html5lib searched every open element at each tag) quadratic: hours at these sizes.
    A guard against a hang, not a timing; what a browser would show is kept."""
    base = "https://dr-martin.example"
    bodies = ["Début " + "[a =" * 100_000 + " fin<!--more-->suite", "<!-- wp:p " * 50_000 + "texte",
              "<!-- more " * 50_000 + "texte", "Avant <pre>" * 40_000 + "texte", "<b>" * 50_000 + "profond",
              "<ul><li>" * 20_000 + "liste", "Avant <!--" * 50_000 + "<!--more-->suite"]
    path = tmp_path / "export.xml"
    path.write_text(wxr(base, *(item(n, f"Billet {n}", body, slug=f"billet-{n}", base=base)
                                for n, body in enumerate(bodies, 1))), encoding="utf-8")
    done = {}
    worker = threading.Thread(target=lambda: done.update(report=import_posts(path, tmp_path / "content",
                                                                             download=False)), daemon=True)
    worker.start()
    worker.join(240)
    assert not worker.is_alive(), "an import went quadratic"
    assert len(done["report"].posts) == len(bodies)
    text = {n: posted(tmp_path / "content", f"billet-{n}.md").read_text(encoding="utf-8") for n in (1, 4, 5, 6)}
    assert text[1].partition("\n\n")[0].count("Summary: Début [a =[a =") == 1 and "suite" in text[1]
    assert "texte" in text[4] and "profond" in text[5] and "liste" in text[6]
