"""`confreres import overblog-posts`: an Over-blog (or Eklablog) export becomes the blog's Markdown posts and pages,
with the pictures on the platform's servers, built by the real build."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from confreres import build, overblog
from confreres.cli import cli
from confreres.xml_input import ExportError
from tests import overblog_kit


@pytest.fixture
def export_file(tmp_path):
    path = tmp_path / "export.xml"
    path.write_text(overblog_kit.export(), encoding="utf-8")
    return path


def test_the_export_is_read(export_file):
    export = overblog.read_overblog(export_file)
    assert export.blog_url == overblog_kit.BLOG
    assert [(p.kind, p.slug) for p in export.posts] == [
        ("post", "garde-de-nuit"), ("post", "installation"), ("post", "un-vieux-billet"), ("post", "pas-fini"),
        ("page", "a-propos")]
    garde = export.posts[0]
    assert str(garde.date) == "2020-06-24 10:00:00" and garde.tags == ["garde", "nuit"]
    lea, answer, emile, paul = garde.comments
    assert (answer.parent, emile.parent, paul.parent) == (lea.key, lea.key, "")
    assert emile.status == "0" and len({c.key for c in garde.comments}) == 4
    assert str(export.posts[1].date) == "2019-01-10 09:00:00", "a date without offset is Paris time"


def test_posts_pages_and_pictures(export_file, tmp_path):
    content = tmp_path / "content"
    report = overblog.import_posts(export_file, content, download=False)
    assert report.count("post", "written") == 4 and report.count("page", "written") == 1
    assert report.count("post", "written", draft=True) == 1
    assert dict(report.skipped) == {"comment": 4}
    text = (content / "2020-06-garde-de-nuit.md").read_text(encoding="utf-8")
    header, _, body = text.partition("\n\n")
    assert header.splitlines() == ["Title: Garde de nuit", "Date: 2020-06-24 10:00", "Tags: garde, nuit",
                                   "Slug: garde-de-nuit"]
    assert "[mon installation]({filename}/2019-01-installation.md)" in body, "the blog's address is in the file"
    assert overblog_kit.IMAGE in body and "resize.over-blog.com" not in body, "the resized picture read as its original"
    paths = {u.url: u.path for u in report.uploads.values()}
    assert set(paths) == {overblog_kit.IMAGE, overblog_kit.THUMBOR}
    assert paths[overblog_kit.IMAGE].startswith("images/img.over-blog-kiwi.com/ob_73dba5_radio-thorax-")
    assert paths[overblog_kit.THUMBOR].endswith(".png")
    assert "Slug: un-vieux-billet" in (content / "2008-03-un-vieux-billet.md").read_text(encoding="utf-8"), \
        "« article-1234 » makes no address: the title does"
    assert "Status: draft" in (content / "2020-07-pas-fini.md").read_text(encoding="utf-8")
    assert (content / "pages" / "a-propos.md").is_file()


def test_which_files_are_the_platforms():
    upload = overblog._upload_path(set())
    assert upload("https://data.over-blog-kiwi.com/1/23/ordonnance.pdf").startswith("files/data.over-blog-kiwi.com/")
    assert upload("http://ekladata.com/abc.jpg").startswith("images/ekladata.com/abc-")
    assert upload("https://docteur-z.over-blog.com/2020/06/garde-de-nuit.html") is None, "a post, not a file"
    assert upload("https://cdn.example.org/radio.jpg") is None
    assert upload("https://over-blog.com.evil.example/radio.jpg") is None
    assert overblog.original("https://resize.over-blog.com/170x170.jpg?idata.over-blog.com/1/2/photo.jpg") == \
        "https://idata.over-blog.com/1/2/photo.jpg"


def test_not_an_export_is_said(tmp_path):
    path = tmp_path / "export.xml"
    path.write_text("<rss><channel/></rss>", encoding="utf-8")
    with pytest.raises(ExportError, match="racine est <rss>, pas <root>"):
        overblog.read_overblog(path)
    path.write_text("<root><other/></root>", encoding="utf-8")
    with pytest.raises(ExportError, match="ni <posts> ni <pages>"):
        overblog.read_overblog(path)


def test_the_posts_build(make_network, tmp_path, export_file):
    network = make_network(slugs=("dr-a",), posts=0)
    result = CliRunner().invoke(cli, ["--network", str(network.source), "import", "overblog-posts", str(export_file),
                                      "--site", "dr-a", "--no-images", "--redirects", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    assert "Export Over-blog" in result.output and "Billets écrits : 4 (dont 1 brouillon)" in result.output
    assert f"{overblog_kit.BLOG}2020/06/garde-de-nuit.html,http://127.0.0.1:8000/dr-a/garde-de-nuit.html" in \
        (tmp_path / "r.csv").read_text(encoding="utf-8")
    [built] = [r for r in build.build(network, progress=False) if r.slug == "dr-a"]
    assert built.ok, built
    page = BeautifulSoup((network.output / "dr-a" / "garde-de-nuit.html").read_text(encoding="utf-8"), "html.parser")
    [link] = [a for a in page.find_all("a") if a.get_text() == "mon installation"]
    assert link["href"].endswith("/dr-a/installation.html")
    posts = json.loads((network.output / "dr-a" / "posts.json").read_text(encoding="utf-8"))["posts"]
    assert {p["title"] for p in posts} == {"Garde de nuit", "Installation", "Un vieux billet"}
