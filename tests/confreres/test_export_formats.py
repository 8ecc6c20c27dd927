"""`confreres import posts`: the platform that wrote an export recognised from the file itself (each kind as its
platform writes it, gzipped, zipped, after a server's notice), then read as its own command reads it."""

from __future__ import annotations

import gzip
import zipfile

import pytest
from click.testing import CliRunner

from confreres.cli import cli
from confreres.export_formats import detect
from confreres.xml_input import ExportError
from tests import blogger_kit, dotclear_kit, mt_kit, overblog_kit
from tests.comments_service.importers.test_disqus import FULL as DISQUS
from tests.comments_service.importers.test_isso import ROWS, isso_db
from tests.confreres.test_wordpress_posts import item, wxr

WORDPRESS = wxr("https://docteur-a.example", item(11, "La radio", "Un texte.", slug="la-radio"))
EXPORTS = {"wordpress": WORDPRESS, "blogger": blogger_kit.backup_xml(), "overblog": overblog_kit.export(),
           "dotclear": dotclear_kit.export(), "movabletype": mt_kit.export(), "disqus": DISQUS}


@pytest.mark.parametrize("kind", sorted(EXPORTS))
def test_each_platforms_file_plain_gzipped_and_zipped(kind, tmp_path):
    plain = tmp_path / "export"
    plain.write_text(EXPORTS[kind], encoding="utf-8")
    assert detect(plain) == kind
    gzipped = tmp_path / "export.gz"
    gzipped.write_bytes(gzip.compress(EXPORTS[kind].encode("utf-8")))
    assert detect(gzipped) == kind
    zipped = tmp_path / "export.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("__MACOSX/._export.xml", "x")
        archive.writestr("export.xml" if kind != "dotclear" else "backup.txt", EXPORTS[kind])
    assert detect(zipped) == kind


def test_the_other_shapes_they_come_in(tmp_path):
    path = tmp_path / "export"
    path.write_text(blogger_kit.takeout_atom(), encoding="utf-8")
    assert detect(path) == "blogger"
    path.write_text("<br />\n<b>Notice</b>: Undefined index in functions.php\n" + WORDPRESS, encoding="utf-8")
    assert detect(path) == "wordpress", "a PHP notice printed before the XML"
    path.write_bytes(mt_kit.older_platform())
    assert detect(path) == "movabletype"
    assert detect(isso_db(tmp_path / "comments.db", ROWS)) == "isso"


@pytest.mark.parametrize(("content", "message"), [
    ("Title: Un billet\n\nTexte.", "format d'export inconnu.*« Title: Un billet »"),
    ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Un flux</title></feed>',
     "n'est pas un export Blogger"),
    ("", "format d'export inconnu"),
])
def test_what_no_platform_wrote_is_said(tmp_path, content, message):
    path = tmp_path / "export.xml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ExportError, match=message):
        detect(path)


def test_the_comments_import_names_every_format_it_reads(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Mes notes\n", encoding="utf-8")
    with pytest.raises(ExportError, match="ni Movable Type, ni Disqus, ni Isso ; le fichier commence par « Mes notes »"):
        detect(path)


def test_import_posts_takes_any_export(make_network, tmp_path):
    network = make_network(slugs=("dr-a",), posts=0)

    def run(name: str, text: str, *args):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return CliRunner().invoke(cli, ["--network", str(network.source), "import", "posts", str(path), "--site", "dr-a",
                                        "--no-images", "--dry-run", *args])

    overblog = run("export.xml", overblog_kit.export())
    assert overblog.exit_code == 0 and "Export Over-blog" in overblog.output, overblog.output
    assert "Billets à écrire : 4" in overblog.output
    dotclear = run("backup.txt", dotclear_kit.export())
    assert dotclear.exit_code == 2 and "--old-url" in dotclear.output and "que son export ne donne pas" in dotclear.output
    assert "Export Dotclear" in run("backup.txt", dotclear_kit.export(), "--old-url", dotclear_kit.BLOG).output
    disqus = run("disqus.xml", DISQUS)
    assert disqus.exit_code == 1 and "ne contient que des commentaires" in disqus.output
    unknown = run("notes.txt", "Mes notes\n")
    assert unknown.exit_code == 1 and "format d'export inconnu" in unknown.output
    # only the formats of posts are named: Disqus and Isso hold comments only, and go to `import comments`
    assert ("format d'export inconnu : ni WordPress, ni Blogger, ni Over-blog, ni Dotclear, ni Movable Type (les exports "
            "de billets) ; si c'est un export Disqus ou Isso, qui ne contient que des commentaires, importez-le avec "
            "confreres import comments ; le fichier commence par « Mes notes »") in " ".join(unknown.output.split())
    assert "ni Disqus" not in unknown.output and "ni Isso" not in unknown.output
    # a broken export of a known platform: the reader's message, and that nothing was written
    before = sorted((network.site("dr-a").path / "content").rglob("*"))
    broken = CliRunner().invoke(cli, ["--network", str(network.source), "import", "posts",
                                      "../shared/data/wordpress/malformed.xml", "--site", "dr-a", "--no-images"])
    assert broken.exit_code == 1 and "ce n'est pas un export WordPress" in broken.output, broken.output
    assert "rien n'a été importé" in broken.output
    assert sorted((network.site("dr-a").path / "content").rglob("*")) == before
