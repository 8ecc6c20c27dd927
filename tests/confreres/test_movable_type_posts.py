"""`confreres import movabletype-posts`: a Movable Type export (Movable Type, TypePad, Hautetfort) becomes the
blog's Markdown posts, built by the real build."""

from __future__ import annotations

import gzip
import json

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from confreres import build, movable_type
from confreres.cli import cli
from confreres.safe_http import ALLOW_ENV
from confreres.xml_input import ExportError
from tests import mt_kit
from tests.confreres.test_wordpress_posts import PNG
from tests.loopback import LoopbackServer


@pytest.fixture
def export_file(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(mt_kit.export(), encoding="utf-8")
    return path


def test_entries_sections_and_the_dashes_of_a_text(export_file):
    export = movable_type.read_mt(export_file)
    assert [e.title for e in export.entries] == ["Garde de nuit", "Installation", "Brouillon en cours",
                                                  "Écrit en Markdown", "Installation"]
    garde = export.entries[0]
    assert "-----\nLe Dr X, médecin de garde." in garde.sections["BODY"], \
        "a line of five dashes followed by text is the text's own"
    assert "--------\nNB: un trait de huit tirets aussi." in garde.sections["BODY"], "eight too, before no entry"
    assert garde.categories == ["Pratique", "Organisation des soins"]
    assert [c.author for c in garde.comments] == ["Mme L.", "Dr X", "L'autre blog"]
    assert garde.comments[0].text == "Merci docteur !\nTrès juste." and garde.comments[2].trackback
    assert str(garde.date) == "2014-06-03 21:15:00" and not export.day_first
    assert export.entries[4].no_entry and export.posts()[-1].title == "Écrit en Markdown"


def test_posts_are_written_with_their_fields(export_file, tmp_path):
    content = tmp_path / "content"
    report = movable_type.import_posts(export_file, content, download=False, old_url=mt_kit.BLOG)
    assert report.count("post", "written") == 4 and report.count("post", "written", draft=True) == 1
    assert dict(report.skipped) == {"comment": 3, "no_entry": 1}, "trackbacks are no comments"
    text = (content / "2014-06-garde_de_nuit.md").read_text(encoding="utf-8")
    header, _, body = text.partition("\n\n")
    assert header.splitlines() == [
        "Title: Garde de nuit", "Date: 2014-06-03 21:15", "Category: Pratique",
        "Tags: Organisation des soins, garde, nuit & jour", "Slug: garde_de_nuit",
        "Summary: Première ligne seconde ligne Voir mon installation. ----- Le Dr X, médecin de garde. -------- "
        "NB: un trait de huit tirets aussi."]
    assert "Première ligne  \nseconde ligne" in body, "CONVERT BREAKS: 1, a line break kept"
    assert "[mon installation]({filename}/2013-01-installation.md)" in body, "a link to a post, by its slug"
    assert "[selon la HAS](https://www.has-sante.fr/)" in body and "La suite de la nuit" in body
    assert "garde médecin nuit" not in text, "KEYWORDS are for search engines, not the reader"
    installation = (content / "2013-01-installation.md").read_text(encoding="utf-8")
    assert "Summary: Installé enfin, au village." in installation and "Installé **enfin**." in installation
    assert "Status: draft" in (content / "2014-06-brouillon-en-cours.md").read_text(encoding="utf-8")
    markdown = (content / "2015-02-ecrit_en_markdown.md").read_text(encoding="utf-8")
    assert "Une *liste* :\n\n-   un\n-   deux" in markdown
    assert {u.path for u in report.uploads.values()} == {
        "images/media/01/02/radio-thorax.jpg", movable_type._upload_path(set())(mt_kit.TYPEPAD_IMAGE)}


def test_which_images_are_the_blogs_own():
    own = movable_type._upload_path({"docteur-x.example"})
    assert own("https://docteur-x.example/images/2010/radio.png") == "images/2010/radio.png"
    assert own("https://docteur-x.example/docs/ordonnance%20type.pdf") == "files/docs/ordonnance-type.pdf"
    assert own("https://docteur-x.example/media/01/02/radio.jpg") == "images/media/01/02/radio.jpg"
    assert own("https://docteur-x.example/archive/2010/05/12/billet.html") is None, "a post, linked: not a file"
    assert own("https://docteur-x.example/archive/") is None
    platform = movable_type._upload_path(set())
    assert platform(mt_kit.TYPEPAD_IMAGE).startswith("images/docteur-x.typepad.com/6a00d8341c")
    assert platform(mt_kit.TYPEPAD_IMAGE).endswith(".jpg")
    assert platform("https://p3.storage.canalblog.com/34/56/123/456.jpg").startswith("images/p3.storage.canalblog")
    assert platform("https://docteur-x.typepad.com/mon_weblog/2010/05/billet.html") is None, "a page, not a file"
    assert platform("https://cdn.example.org/radio.jpg") is None
    assert platform("https://typepad.com.evil.example/x.jpg") is None


def test_an_older_platforms_file(tmp_path):
    path = tmp_path / "export.txt"
    path.write_bytes(gzip.compress(mt_kit.older_platform()))
    export = movable_type.read_mt(path)
    assert export.encoding == "windows-1252" and export.day_first
    assert [e.title for e in export.entries] == ["Réflexions d'été", "Rentrée"]
    assert [str(e.date) for e in export.entries] == ["2009-07-31 18:30:00", "2009-09-01 08:00:00"]
    assert str(export.entries[0].comments[0].date) == "2009-08-02 07:45:00", "the whole file is read day first"
    report = movable_type.import_posts(path, tmp_path / "content", download=False)
    assert report.count("post", "written") == 2
    text = (tmp_path / "content" / "2009-07-reflexions-d-ete.md").read_text(encoding="utf-8")
    assert "Title: Réflexions d'été" in text and "Slug: reflexions-d-ete" in text and "Category: Humeurs" in text


def test_not_an_export_is_said(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("<html><body>Erreur 500</body></html>\n", encoding="utf-8")
    with pytest.raises(ExportError, match="pas un export Movable Type.*Erreur 500"):
        movable_type.read_mt(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(ExportError, match="vide"):
        movable_type.read_mt(path)


def test_the_posts_build(make_network, tmp_path, export_file):
    network = make_network(slugs=("dr-a",), posts=0)
    result = CliRunner().invoke(cli, ["--network", str(network.source), "import", "movabletype-posts",
                                      str(export_file), "--site", "dr-a", "--no-images", "--old-url", mt_kit.BLOG])
    assert result.exit_code == 0, result.output
    assert "Export Movable Type" in result.output and "Billets écrits : 4 (dont 1 brouillon)" in result.output
    [built] = [r for r in build.build(network, progress=False) if r.slug == "dr-a"]
    assert built.ok, built
    page = BeautifulSoup((network.output / "dr-a" / "garde_de_nuit.html").read_text(encoding="utf-8"), "html.parser")
    [link] = [a for a in page.find_all("a") if a.get_text() == "mon installation"]
    assert link["href"].endswith("/dr-a/installation.html")
    posts = json.loads((network.output / "dr-a" / "posts.json").read_text(encoding="utf-8"))["posts"]
    assert {p["title"] for p in posts} == {"Garde de nuit", "Installation", "Écrit en Markdown"}

    bad = CliRunner().invoke(cli, ["--network", str(network.source), "import", "movabletype-posts", str(export_file),
                                   "--site", "dr-a", "--old-url", "docteur-x.hautetfort.com"])
    assert bad.exit_code == 2 and "--old-url" in bad.output
    redirects = CliRunner().invoke(cli, ["--network", str(network.source), "import", "movabletype-posts",
                                         str(export_file), "--site", "dr-a", "--redirects", str(tmp_path / "r.csv")])
    assert redirects.exit_code == 2 and "ne donne pas l'adresse de ses billets" in redirects.output


def test_files_other_tools_write(tmp_path):
    """What converters and other platforms write in this format: a blank line among the fields, an empty primary
    category, ISO dates, a basename that is a path, a body ended by the entry's dashes alone."""
    path = tmp_path / "export.txt"
    path.write_text("AUTHOR: Dr Z\nTITLE: Premier\nSTATUS: Publish\nPRIMARY CATEGORY: \n\nDATE: 2025-01-15 10:30:00\n"
                    "BASENAME: 2025/01/15/103000\n-----\nBODY:\n<p>Un.</p>\n--------\n"
                    "AUTHOR: Dr Z\nTITLE: Second\nDATE: 2025-01-16 11:00:00\n-----\nBODY:\n<p>Deux.</p>\n--------\n",
                    encoding="utf-8")
    first, second = movable_type.read_mt(path).entries
    assert (first.title, str(first.date), first.categories, first.slug) == (
        "Premier", "2025-01-15 10:30:00", [], "2025-01-15-103000")
    assert first.sections["BODY"] == "<p>Un.</p>" and second.sections["BODY"] == "<p>Deux.</p>"


def test_old_url_brings_the_blogs_own_images_and_links(tmp_path, make_network, monkeypatch):
    network = make_network(slugs=("dr-a",), posts=0)
    with LoopbackServer() as server:
        monkeypatch.setenv(ALLOW_ENV, server.url("/").split("//", 1)[1].rstrip("/"))
        server.route("/images/radio.png", body=PNG, headers={"Content-Type": "image/png"})
        old = server.url("/").rstrip("/")
        path = tmp_path / "export.txt"
        path.write_text(f"""AUTHOR: Dr X\nTITLE: La radio\nBASENAME: la_radio\nDATE: 03/01/2015 08:30:00 AM\n-----
BODY:
<p><img src="{old}/images/radio.png" alt="Radio"> et <a href="{old}/archive/2014/11/02/gardes.html">mes gardes</a>.</p>
-----
--------
AUTHOR: Dr X\nTITLE: Mes gardes\nBASENAME: gardes\nDATE: 11/02/2014 09:00:00 PM\n-----\nBODY:\n<p>Les gardes.</p>
-----
--------
""", encoding="utf-8")
        result = CliRunner().invoke(cli, ["--network", str(network.source), "import", "movabletype-posts", str(path),
                                          "--site", "dr-a", "--old-url", old + "/"])
    assert result.exit_code == 0, result.output
    content = network.site("dr-a").path / "content"
    assert (content / "images" / "radio.png").read_bytes() == PNG
    text = (content / "2015-03-la_radio.md").read_text(encoding="utf-8")
    assert "![Radio]({static}/images/radio.png)" in text
    assert "[mes gardes]({filename}/2014-11-gardes.md)" in text
    assert all(r.ok for r in build.build(network, progress=False))
    assert (network.output / "dr-a" / "images" / "radio.png").read_bytes() == PNG
