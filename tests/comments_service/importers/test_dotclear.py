"""`confreres import dotclear`: the comments of a Dotclear export on the posts `dotclear-posts` wrote: matched by
slug, dated in their own zone, pending ones waiting, spam kept as spam, trackbacks left out, nothing twice, no IP."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from comments_service.domain import comments as store
from comments_service.importers import dotclear
from confreres.cli import cli
from tests import dotclear_kit

BLOG_B = "https://docteur-b.example/"
POSTS = [  # the addresses `dotclear-posts` gives them, under the network's blog
    {"url": BLOG_B + "garde-de-nuit.html", "title": "Garde de nuit"},
    {"url": BLOG_B + "installation.html", "title": "Installation"},
]


@pytest.fixture
def imported(blog_b, tmp_path):
    blog_b.declare(POSTS)

    def run(text: str, *args):
        path = tmp_path / "backup.txt"
        path.write_text(text, encoding="utf-8")
        return CliRunner().invoke(cli, ["--network", str(blog_b.network_file), "import", "dotclear", str(path),
                                        "--site", "dr-b", *args])

    run.rows = lambda: store.query(blog_b.db, "SELECT * FROM comments ORDER BY created")
    return run


def test_comments_land_with_their_statuses_once(imported, client):
    result = imported(dotclear_kit.export())
    assert result.exit_code == 0, result.output
    assert "Export Dotclear" in result.output and "(5 billets et pages) -> blog dr-b" in result.output
    assert f"✓ Garde de nuit -> {BLOG_B}garde-de-nuit.html (par le slug)" in result.output
    assert "1 trackback" in result.output
    rows = {r["author_name"]: r for r in imported.rows()}
    assert {name: row["status"] for name, row in rows.items()} == {
        "Mme L.": "approved", "Paul": "pending", "Casino": "spam", "Anne": "approved"}
    page = client.get("/api/comments", query_string={"url": BLOG_B + "garde-de-nuit.html"}).get_json()
    [lea] = page["comments"]
    assert lea["html"] == "<p>Merci docteur !</p>" and lea["created"] == "2010-05-13T06:00:00Z"
    assert "192.0.2." not in json.dumps([dict(r) for r in imported.rows()])

    again = imported(dotclear_kit.export())
    assert "Commentaires importés : 0" in again.output and len(imported.rows()) == 4


def test_the_reader_alone(tmp_path):
    path = tmp_path / "backup.txt"
    path.write_text(dotclear_kit.export(), encoding="utf-8")
    parsed = dotclear.read_dotclear_comments(path)
    assert parsed.source == "dotclear" and parsed.version == "2.27" and parsed.items == 5
    assert [(t.slug, len(t.comments)) for t in parsed.threads] == [("garde-de-nuit", 4), ("installation", 1)]
    assert [c.skip for c in parsed.threads[0].comments] == [None, None, None, "trackback"]
