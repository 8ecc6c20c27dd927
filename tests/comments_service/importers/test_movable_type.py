"""`confreres import movabletype`: the comments of a Movable Type export on the posts `movabletype-posts` wrote:
matched by slug, dated in the blog's time, trackbacks left out, an entry of comments only (NO ENTRY) taken too,
nothing twice, no IP."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from comments_service.domain import comments as store
from comments_service.importers import movable_type
from confreres.cli import cli
from tests import mt_kit

BLOG_B = "https://docteur-b.example/"
POSTS = [  # the addresses `movabletype-posts` gives them (Slug: the BASENAME), under the network's blog
    {"url": BLOG_B + "garde_de_nuit.html", "title": "Garde de nuit"},
    {"url": BLOG_B + "installation.html", "title": "Installation"},
    {"url": BLOG_B + "reflexions-d-ete.html", "title": "Réflexions d'été"},
]


@pytest.fixture
def imported(blog_b, tmp_path):
    blog_b.declare(POSTS)

    def run(data: bytes, *args):
        path = tmp_path / "export.txt"
        path.write_bytes(data)
        return CliRunner().invoke(cli, ["--network", str(blog_b.network_file), "import", "movabletype", str(path),
                                        "--site", "dr-b", *args])

    run.rows = lambda: store.query(blog_b.db, "SELECT * FROM comments ORDER BY created")
    return run


def test_comments_land_on_their_posts_once(imported, client):
    result = imported(mt_kit.export().encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert "Export Movable Type" in result.output and "(5 billets) -> blog dr-b" in result.output
    assert f"✓ Garde de nuit -> {BLOG_B}garde_de_nuit.html (par le slug)" in result.output
    assert "Commentaires importés : 3 (3 publiés" in result.output, result.output
    assert "1 trackback" in result.output

    page = client.get("/api/comments", query_string={"url": BLOG_B + "garde_de_nuit.html"}).get_json()
    lea, answer = page["comments"]
    assert lea["author"]["name"] == "Mme L." and lea["html"] == "<p>Merci docteur !<br>\nTrès juste.</p>"
    assert lea["created"] == "2014-06-04T06:00:00Z", "08:00 in Paris, summer time"
    assert lea["author"]["website"] == "https://lecteurs.example.org/mme-l"
    assert answer["author"]["name"] == "Dr X" and answer["author"]["is_post_author"] is False, \
        "a name in a file proves nobody: never marked as the author's"
    welcome = client.get("/api/comments", query_string={"url": BLOG_B + "installation.html"}).get_json()
    assert [c["html"] for c in welcome["comments"]] == ["<p>Bienvenue au village !</p>"], "NO ENTRY's comments too"
    stored = json.dumps([dict(r) for r in imported.rows()])
    assert "192.0.2." not in stored

    again = imported(mt_kit.export().encode("utf-8"))
    assert "Commentaires importés : 0" in again.output and len(imported.rows()) == 3


def test_an_older_platforms_file(imported, client):
    result = imported(mt_kit.older_platform(), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["comments_imported"] == 1 and report["repairs"] == {"windows_1252": 6}
    [helene] = client.get("/api/comments", query_string={"url": BLOG_B + "reflexions-d-ete.html"}).get_json()["comments"]
    assert helene["author"]["name"] == "Hélène" and helene["created"] == "2009-08-02T05:45:00Z"


def test_the_reader_alone(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(mt_kit.export(), encoding="utf-8")
    parsed = movable_type.read_mt_comments(path)
    assert parsed.source == "movabletype" and parsed.items == 5
    assert [(t.slug, len(t.comments)) for t in parsed.threads] == [("garde_de_nuit", 3), ("installation", 1)]
    assert len({c.source_id for t in parsed.threads for c in t.comments}) == 4
    assert [c.skip for c in parsed.threads[0].comments] == [None, None, "trackback"]
