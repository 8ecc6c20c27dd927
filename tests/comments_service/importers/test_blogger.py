"""`confreres import blogger`: the comments of a Blogger export (both formats) on the posts `blogger-posts` wrote:
threads, the blog author's answers, comments removed by their author or trashed, Blogger's noreply address."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from comments_service.domain import comments as store
from comments_service.importers import blogger
from confreres.cli import cli
from tests import blogger_kit

BLOG_B = "https://docteur-b.example/"
POSTS = [  # the addresses `blogger-posts` gives them (Slug: kept), under the network's blog
    {"url": BLOG_B + "garde-de-nuit.html", "title": "Garde de nuit"},
    {"url": BLOG_B + "installation.html", "title": "Installation"},
    {"url": BLOG_B + "confinement.html", "title": "Confinement"},
]


@pytest.fixture
def imported(blog_b, tmp_path):
    blog_b.declare(POSTS)

    def run(text: str, name: str, *args):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return CliRunner().invoke(cli, ["--network", str(blog_b.network_file), "import", "blogger", str(path),
                                        "--site", "dr-b", *args])

    run.rows = lambda: store.query(blog_b.db, "SELECT * FROM comments ORDER BY created")
    return run


def test_a_backup_lands_threaded_with_the_authors_answer(imported, client):
    result = imported(blogger_kit.backup_xml(), "blog-06-01-2024.xml")
    assert result.exit_code == 0, result.output
    assert "Export Blogger" in result.output and "(4 billets et pages) -> blog dr-b" in result.output
    assert f"✓ Garde de nuit -> {BLOG_B}garde-de-nuit.html (par le slug)" in result.output
    assert "Commentaires importés : 3 (3 publiés ; 1 réponse)" in result.output, result.output
    assert "1 commentaire supprimé avant l'export" in result.output
    assert "1 commentaire d'un fil absent du fichier" in result.output

    page = client.get("/api/comments", query_string={"url": BLOG_B + "garde-de-nuit.html"}).get_json()
    lea, paul = page["comments"]
    assert lea["author"]["name"] == "Mme L." and lea["html"] == "<p>Merci docteur !<br>Très juste.</p>"
    assert lea["created"] == "2014-06-04T06:00:00Z"
    [answer] = lea["replies"]
    assert answer["html"] == "<p>Merci à vous.</p>" and answer["author"]["is_post_author"] is True
    assert paul["html"] == "<p>Je réponds au commentaire supprimé.</p>", "its removed parent: hung from the post"
    assert paul["author"]["website"] == "https://paul.example.org/" and paul["author"]["is_post_author"] is False
    assert "noreply@blogger.com" not in json.dumps([dict(r) for r in imported.rows()])

    again = imported(blogger_kit.backup_xml(), "blog-06-01-2024.xml")
    assert "Commentaires importés : 0" in again.output and len(imported.rows()) == 3


def test_a_takeout_feed_lands_too_trashed_comments_left(imported, client):
    result = imported(blogger_kit.takeout_atom(), "feed.atom", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["comments_imported"] == 3 and report["comments_skipped"] == {"trash": 1} and report["replies"] == 1
    page = client.get("/api/comments", query_string={"url": BLOG_B + "confinement.html"}).get_json()
    anonymous, anne = page["comments"]
    assert anonymous["author"]["name"] == "Anonyme", "Blogger's English « Anonymous », said the network's way"
    assert anne["author"]["name"] == "Anne" and anne["replies"][0]["author"]["is_post_author"] is True


def test_the_reader_alone(tmp_path):
    path = tmp_path / "feed.atom"
    path.write_text(blogger_kit.takeout_atom(), encoding="utf-8")
    parsed = blogger.read_blogger_comments(path)
    assert parsed.source == "blogger" and parsed.version == "takeout" and parsed.items == 5
    [thread] = parsed.threads
    assert thread.slug == "confinement" and thread.link == "/2020/03/confinement.html"
    assert [c.parent for c in thread.comments] == ["", "", "21", ""]
