"""`confreres import overblog`: the comments of an Over-blog export on the posts `overblog-posts` wrote: matched by
address, threaded, dated, unpublished ones waiting, nothing twice, no IP."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from comments_service.domain import comments as store
from comments_service.importers import overblog
from confreres.cli import cli
from tests import overblog_kit

BLOG_B = "https://docteur-b.example/"
POSTS = [{"url": BLOG_B + "garde-de-nuit.html", "title": "Garde de nuit"}]


@pytest.fixture
def imported(blog_b, tmp_path):
    blog_b.declare(POSTS)

    def run(*args):
        path = tmp_path / "export.xml"
        path.write_text(overblog_kit.export(), encoding="utf-8")
        return CliRunner().invoke(cli, ["--network", str(blog_b.network_file), "import", "overblog", str(path),
                                        "--site", "dr-b", *args])

    run.rows = lambda: store.query(blog_b.db, "SELECT * FROM comments ORDER BY created")
    return run


def test_threads_land_once(imported, client):
    result = imported()
    assert result.exit_code == 0, result.output
    assert "Export Over-blog" in result.output and "(5 billets et pages) -> blog dr-b" in result.output
    assert f"✓ Garde de nuit -> {BLOG_B}garde-de-nuit.html" in result.output
    assert "Commentaires importés : 4" in result.output, result.output
    page = client.get("/api/comments", query_string={"url": BLOG_B + "garde-de-nuit.html"}).get_json()
    lea, paul = page["comments"]
    assert lea["author"]["name"] == "Mme L." and lea["created"] == "2020-06-24T10:00:00Z"
    [answer] = lea["replies"]
    assert answer["html"] == "<p>Merci à vous.</p>" and paul["html"] == "<p>Très juste.</p>"
    statuses = {r["author_name"]: r["status"] for r in imported.rows()}
    assert statuses["Emile"] == "pending", "not published on Over-blog: it waits for a moderator"
    assert "192.0.2." not in json.dumps([dict(r) for r in imported.rows()])

    again = imported()
    assert "Commentaires importés : 0" in again.output and len(imported.rows()) == 4


def test_the_reader_alone(tmp_path):
    path = tmp_path / "export.xml"
    path.write_text(overblog_kit.export(), encoding="utf-8")
    parsed = overblog.read_overblog_comments(path)
    assert parsed.source == "overblog" and parsed.items == 5 and parsed.base_url == overblog_kit.BLOG
    [thread] = parsed.threads
    assert thread.link == "/2020/06/garde-de-nuit.html" and thread.slug == "garde-de-nuit"
    assert [c.status for c in thread.comments] == ["approved", "approved", "pending", "approved"]
