"""`confreres import dotclear-posts`: a Dotclear flat export becomes the blog's Markdown posts and pages, with the
images of its media folder, built by the real build."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from confreres import build, dotclear
from confreres.cli import cli
from confreres.safe_http import ALLOW_ENV
from confreres.xml_input import ExportError
from tests import dotclear_kit
from tests.confreres.test_wordpress_posts import PNG
from tests.loopback import LoopbackServer


def write(tmp_path, text: str):
    path = tmp_path / "2024-01-01-docteury-backup.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_tables_are_read_by_their_columns_and_unescaped(tmp_path):
    export = dotclear.read_dotclear(write(tmp_path, dotclear_kit.export()))
    assert export.version == "2.27" and export.blogs == {"docteury"}
    garde = export.rows("post")[0]
    assert garde["post_title"] == "Garde de nuit" and garde["post_url"] == "2010/05/12/Garde-de-nuit"
    assert '"ceux-ci","ceux-là" ; un \\ seul.</p>\n<p><img' in garde["post_content_xhtml"], \
        "a quoted « \",\" » in a text does not split the row; escapes read back"
    assert [c["comment_author"] for c in export.rows("comment")] == ["Mme L.", "Paul", "Casino", "Autre blog", "Anne"]


def test_posts_pages_and_drafts_are_written(tmp_path):
    content = tmp_path / "content"
    report = dotclear.import_posts(write(tmp_path, dotclear_kit.export()), content, download=False,
                                   old_url=dotclear_kit.BLOG)
    assert report.platform == "Dotclear" and report.version == "2.27"
    assert report.count("post", "written") == 4 and report.count("page", "written") == 1
    assert report.count("post", "written", draft=True) == 2, "offline, and with a password"
    assert dict(report.skipped) == {"comment": 4, "trackback": 1}
    text = (content / "2010-05-garde-de-nuit.md").read_text(encoding="utf-8")
    header, _, body = text.partition("\n\n")
    assert header.splitlines() == ["Title: Garde de nuit", "Date: 2010-05-12 22:30", "Category: Pratique",
                                   "Tags: garde, nuit", "Slug: garde-de-nuit", "Summary: Une nuit de garde."]
    assert body.startswith("Une nuit de garde.\n\nPremière ligne  \nseconde"), "the chapô, then the text"
    assert '"ceux-ci","ceux-là" ; un \\ seul.' in body
    assert "[mon installation]({filename}/2009-01-installation.md)" in body
    assert "Status: draft" in (content / "2010-05-pas-fini.md").read_text(encoding="utf-8")
    assert "Status: draft" in (content / "2010-05-reserve.md").read_text(encoding="utf-8")
    assert (content / "pages" / "a-propos.md").read_text(encoding="utf-8").startswith("Title: À propos\n")
    assert [u.path for u in report.uploads.values()] == ["images/radio-thorax.jpg"], "the media folder, /public/ out"


def test_dates_are_read_in_each_posts_own_zone(tmp_path):
    text = dotclear_kit.export().replace('"2009-01-10 09:00:00","Europe/Paris"', '"2009-01-10 09:00:00","UTC"')
    report = dotclear.import_posts(write(tmp_path, text), tmp_path / "content", download=False)
    [installation] = [p for p in report.posts if p.slug == "installation"]
    assert f"{installation.date:%Y-%m-%d %H:%M}" == "2009-01-10 10:00", "09:00 UTC is 10:00 in Paris in winter"


def test_a_blog_without_url_rewriting(tmp_path):
    prefix = "https://docteur-y.example/index.php?"
    report = dotclear.import_posts(write(tmp_path, dotclear_kit.export(prefix)), tmp_path / "content",
                                   download=False, old_url=prefix)
    body = (tmp_path / "content" / "2010-05-garde-de-nuit.md").read_text(encoding="utf-8")
    assert "[mon installation]({filename}/2009-01-installation.md)" in body
    [garde] = [p for p in report.posts if p.slug == "garde-de-nuit"]
    assert garde.old_url == prefix + "post/2010/05/12/Garde-de-nuit"


def test_what_is_not_a_single_blogs_export_is_said(tmp_path):
    with pytest.raises(ExportError, match="pas un export Dotclear.*AUTHOR: x"):
        dotclear.read_dotclear(write(tmp_path, "AUTHOR: x\n"))
    two = dotclear_kit.export().replace('"5","docteury"', '"5","autreblog"')
    with pytest.raises(ExportError, match="contient 2 blogs"):
        dotclear.import_posts(write(tmp_path, two), tmp_path / "content", download=False)
    cut = dotclear_kit.export().replace('"Installation","(wiki)"', '"Installation"')
    assert dotclear.read_dotclear(write(tmp_path, cut)).repairs == {"bad_row": 1}, "a mangled row is left out"


def test_the_move_with_images_and_its_build(tmp_path, make_network, monkeypatch):
    network = make_network(slugs=("dr-a",), posts=0)
    with LoopbackServer() as server:
        monkeypatch.setenv(ALLOW_ENV, server.url("/").split("//", 1)[1].rstrip("/"))
        server.route("/public/radio%20thorax.jpg", body=PNG, headers={"Content-Type": "image/png"})
        prefix = server.url("/")
        path = write(tmp_path, dotclear_kit.export(prefix))
        result = CliRunner().invoke(cli, ["--network", str(network.source), "import", "dotclear-posts", str(path),
                                          "--site", "dr-a", "--old-url", prefix, "--redirects",
                                          str(tmp_path / "redirections.csv")])
    assert result.exit_code == 0, result.output
    assert "Export Dotclear" in result.output and "Billets écrits : 4 (dont 2 brouillons)" in result.output
    content = network.site("dr-a").path / "content"
    assert (content / "images" / "radio-thorax.jpg").read_bytes() == PNG
    assert f"{prefix}post/2010/05/12/Garde-de-nuit,http://127.0.0.1:8000/dr-a/garde-de-nuit.html" in \
        (tmp_path / "redirections.csv").read_text(encoding="utf-8")
    assert all(r.ok for r in build.build(network, progress=False))
    page = BeautifulSoup((network.output / "dr-a" / "garde-de-nuit.html").read_text(encoding="utf-8"), "html.parser")
    assert any(img["src"].endswith("images/radio-thorax.jpg") for img in page.find_all("img"))
    posts = json.loads((network.output / "dr-a" / "posts.json").read_text(encoding="utf-8"))["posts"]
    assert {p["title"] for p in posts} == {"Garde de nuit", "Installation"}

    missing = CliRunner().invoke(cli, ["--network", str(network.source), "import", "dotclear-posts", str(path),
                                       "--site", "dr-a"])
    assert missing.exit_code == 2 and "--old-url" in missing.output


def test_the_compressed_export(tmp_path):
    """« Compresser le fichier » ticked: a .zip of the one .txt."""
    import zipfile

    path = tmp_path / "2024-01-01-docteury-backup.txt.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("2024-01-01-docteury-backup.txt", dotclear_kit.export())
    assert len(dotclear.read_dotclear(path).rows("post")) == 5
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("autre.txt", "x")
    with pytest.raises(ExportError, match="contient 2 fichiers"):
        dotclear.read_dotclear(path)
