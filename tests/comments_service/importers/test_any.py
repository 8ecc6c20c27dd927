"""`confreres import comments`: any export's comments, its platform recognised from the file, land as its own
command lands them."""

from __future__ import annotations

from click.testing import CliRunner

from confreres.cli import cli
from tests import mt_kit, overblog_kit

BLOG_B = "https://docteur-b.example/"


def test_comments_of_any_export(blog_b, tmp_path):
    blog_b.declare([{"url": BLOG_B + "garde-de-nuit.html", "title": "Garde de nuit"},
                    {"url": BLOG_B + "installation.html", "title": "Installation"}])

    def run(name: str, text: str):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return CliRunner().invoke(cli, ["--network", str(blog_b.network_file), "import", "comments", str(path),
                                        "--site", "dr-b"])

    overblog = run("export.xml", overblog_kit.export())
    assert overblog.exit_code == 0 and "Export Over-blog" in overblog.output, overblog.output
    assert "Commentaires importés : 4" in overblog.output
    movable_type = run("export.txt", mt_kit.export())
    assert movable_type.exit_code == 0 and "Export Movable Type" in movable_type.output, movable_type.output
    assert f"✓ Installation -> {BLOG_B}installation.html" in movable_type.output
    unknown = run("notes.txt", "Mes notes\n")
    assert unknown.exit_code == 1 and "format d'export inconnu" in unknown.output


def test_comments_imported_again_after_the_posts_moved_are_not_doubled(blog_b, tmp_path):
    """The blog's permalinks changed after the comments' import (« date » addresses, say): the build announces each
    post at its new address with its old one (`moved_from`), its comments follow (domain/moves.py), and importing
    the same export again finds them there instead of writing them a second time."""
    old, new = BLOG_B + "garde-de-nuit.html", BLOG_B + "2020/06/garde-de-nuit.html"
    blog_b.declare([{"url": old, "title": "Garde de nuit"}])
    path = tmp_path / "export.xml"
    path.write_text(overblog_kit.export(), encoding="utf-8")

    def run():
        return CliRunner().invoke(cli, ["--network", str(blog_b.network_file), "import", "comments", str(path),
                                        "--site", "dr-b"])

    first = run()
    assert first.exit_code == 0 and "Commentaires importés : 4" in first.output, first.output
    blog_b.declare([{"url": new, "title": "Garde de nuit", "moved_from": [old]}])
    again = run()
    assert again.exit_code == 0, again.output
    assert "Commentaires importés : 0" in again.output or "Commentaires importés" not in again.output, again.output
    rows = blog_b.db.conn.execute("SELECT post_url, COUNT(*) FROM comments GROUP BY post_url").fetchall()
    assert [tuple(r) for r in rows] == [(new, 4)]
