"""`confreres import blogger-posts`: a Blogger export (the backup's .xml or Takeout's feed.atom) becomes the blog's
Markdown posts and pages, built by the real build."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from confreres import blogger, build
from confreres.cli import cli
from confreres.xml_input import ExportError
from tests import blogger_kit


@pytest.fixture(params=["backup", "takeout"])
def export(request, tmp_path):
    path = tmp_path / ("blog-06-01-2024.xml" if request.param == "backup" else "feed.atom")
    path.write_text(blogger_kit.backup_xml() if request.param == "backup" else blogger_kit.takeout_atom(),
                    encoding="utf-8")
    return request.param, path


def test_both_formats_become_posts_pages_and_drafts(export, tmp_path):
    kind, path = export
    content = tmp_path / "content"
    report = blogger.import_posts(path, content, download=False)
    assert report.count("post", "written") == 3 and report.count("page", "written") == 1
    assert report.count("post", "written", draft=True) == 1
    if kind == "backup":
        assert dict(report.skipped) == {"comment": 5, "settings": 1, "template": 1}
        text = (content / "2014-06-garde-de-nuit.md").read_text(encoding="utf-8")
        header, _, body = text.partition("\n\n")
        assert header.splitlines() == ["Title: Garde de nuit", "Date: 2014-06-03 21:15", "Tags: garde, nuit & jour",
                                       "Slug: garde-de-nuit"]
        assert "Première ligne  \nseconde ligne\n\nVoir [mon installation]({filename}/2013-01-installation.md)" in body
        assert "[site de la HAS](https://www.has-sante.fr/)" in body
        assert "Status: draft" in (content / "2014-06-brouillon-en-cours.md").read_text(encoding="utf-8")
        installation = (content / "2013-01-installation.md").read_text(encoding="utf-8")
        assert "Summary: Installé enfin." in installation, "the text before Blogger's jump break"
        assert "Installé **enfin**.\n\nLa suite." in installation
        assert (content / "pages" / "a-propos.md").read_text(encoding="utf-8").startswith("Title: À propos\n")
        assert {u.path for u in report.uploads.values()} == {
            blogger._upload_path(blogger_kit.IMAGE_BIG), blogger._upload_path(blogger_kit.IMAGE_SMALL)}
    else:
        assert dict(report.skipped) == {"comment": 4, "trash": 1}, "a trashed post is not brought back"
        text = (content / "2020-03-confinement.md").read_text(encoding="utf-8")
        assert "Summary: Ce que le confinement change au cabinet." in text and "Tags: covid" in text
        assert "Date: 2020-03-20 19:30" in text, "18:30 UTC, in Paris"
        assert "[la suite]({filename}/2020-05-deconfinement.md)" in text, \
            "Takeout names no blog address: the blog's own links are known by their paths"
        assert "Status: draft" in (content / "2020-03-idees.md").read_text(encoding="utf-8")


def test_blogger_images_are_the_blogs_own_and_each_size_kept_apart():
    big, small = blogger._upload_path(blogger_kit.IMAGE_BIG), blogger._upload_path(blogger_kit.IMAGE_SMALL)
    assert big.startswith("images/blogger/radio-thorax-") and big.endswith(".jpg") and big != small
    assert blogger._upload_path("https://1.bp.blogspot.com/-abc/XYZ/AAAA/def/s640/masque").endswith(".jpg")
    assert blogger._upload_path("https://lh3.googleusercontent.com/abcdef=w400").startswith("images/blogger/")
    assert blogger._upload_path("https://cdn.example.org/radio.jpg") is None
    assert blogger._upload_path("https://blogger.googleusercontent.com.evil.example/img/x.jpg") is None


def test_the_posts_build(make_network, tmp_path):
    network = make_network(slugs=("dr-a",), posts=0)
    path = tmp_path / "feed.atom"
    path.write_text(blogger_kit.takeout_atom(), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--network", str(network.source), "import", "blogger-posts", str(path),
                                      "--site", "dr-a", "--no-images"])
    assert result.exit_code == 0, result.output
    assert "Export Blogger" in result.output and "Billets écrits : 3 (dont 1 brouillon)" in result.output
    [built] = [r for r in build.build(network, progress=False) if r.slug == "dr-a"]
    assert built.ok, built
    page = BeautifulSoup((network.output / "dr-a" / "confinement.html").read_text(encoding="utf-8"), "html.parser")
    [suite] = [a for a in page.find_all("a") if a.get_text() == "la suite"]
    assert suite["href"].endswith("/dr-a/deconfinement.html")
    posts = json.loads((network.output / "dr-a" / "posts.json").read_text(encoding="utf-8"))["posts"]
    assert {p["title"] for p in posts} == {"Confinement", "Déconfinement"}


def test_what_is_not_a_blogger_export_is_refused(tmp_path):
    rss = tmp_path / "rss.xml"
    rss.write_text("<?xml version='1.0'?><rss version='2.0'><channel><title>x</title></channel></rss>",
                   encoding="utf-8")
    with pytest.raises(ExportError, match="l'élément racine est <rss>, pas <feed>"):
        blogger.read_blogger(rss)
    public = tmp_path / "public.atom"
    public.write_text("<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>x</title><entry>"
                      "<id>1</id><title>Billet</title></entry></feed>", encoding="utf-8")
    with pytest.raises(ExportError, match="un flux RSS ou Atom public du blog ne contient pas tout"):
        blogger.read_blogger(public)
    assert not (tmp_path / "content").exists()


def test_a_takeout_archive_is_read_as_it_comes(tmp_path):
    import zipfile

    archive = tmp_path / "takeout-20240601T000000Z-001.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("Takeout/Blogger/Blogs/Docteur Y/feed.atom", blogger_kit.takeout_atom())
        out.writestr("Takeout/Blogger/Blogs/Docteur Y/theme-classic.html", "<html/>")
        out.writestr("__MACOSX/Takeout/Blogger/Blogs/Docteur Y/._feed.atom", b"\x00\x05")
    report = blogger.import_posts(archive, tmp_path / "content", download=False)
    assert report.count("post", "written") == 3 and report.version == "takeout"
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as out:
        out.writestr("Takeout/Blogger/Blogs/Docteur Y/feed.atom", blogger_kit.takeout_atom())
        out.writestr("Takeout/Blogger/Blogs/Vacances/feed.atom", blogger_kit.takeout_atom())
    with pytest.raises(ExportError, match="plusieurs blogs \\(« Docteur Y », « Vacances »\\)"):
        blogger.read_blogger(two)
