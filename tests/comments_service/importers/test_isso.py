"""`confreres import isso`: an Isso database, with Isso 0.14's own schema and the rows Isso writes (a deleted
comment kept emptied while it has replies, one in moderation, Markdown text, IP addresses, votes)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from comments_service.domain import comments as store
from comments_service.importers import isso
from confreres.cli import cli
from confreres.xml_input import ExportError

BLOG_B = "https://docteur-b.example/"
POSTS = [
    {"url": BLOG_B + "2019/03/vaccins-et-rumeurs.html", "title": "Vaccins et rumeurs"},  # the old paths kept
    {"url": BLOG_B + "garde-de-nuit.html", "title": "Garde de nuit"},  # a new address: by its last segment
]
# Isso 0.14's tables, as isso/db/threads.py and isso/db/comments.py create them
SCHEMA = """
CREATE TABLE preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE comments (
    tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER, created FLOAT NOT NULL, modified FLOAT,
    mode INTEGER, remote_addr VARCHAR, text VARCHAR NOT NULL, author VARCHAR, email VARCHAR, website VARCHAR,
    likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL, notification INTEGER DEFAULT 0);
"""


def isso_db(path: Path, rows: list[tuple]) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO threads (id, uri, title) VALUES (?, ?, ?)", [
        (1, "/2019/03/vaccins-et-rumeurs.html", "Vaccins et rumeurs"),
        (2, "/blog/garde-de-nuit/", "Garde de nuit"),
        (3, "/2020/01/disparu.html", "Billet disparu"),
    ])
    conn.executemany(
        "INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author, email, website, likes,"
        " voters, notification) VALUES (?, ?, ?, ?, ?, '203.0.113.5', ?, ?, ?, ?, 3, x'00', 1)", rows)
    conn.commit()
    conn.close()
    return path


ROWS = [
    (1, 1, None, 1551600000.0, 1, "Merci **docteur** !\n\nEt [la HAS](https://www.has-sante.fr/) ?", "Léa",
     "lea@exemple.fr", "https://lea.example/"),
    (1, 2, 1, 1551603600.5, 1, "Avec plaisir.", "Dr B", None, None),
    (1, 3, None, 1551607200.0, 4, "", None, None, None),  # deleted, kept by Isso for its reply
    (1, 4, 3, 1551610800.0, 1, "Réponse au supprimé", "Paul", None, "javascript:alert(1)"),
    (2, 5, None, 1557000000.0, 2, "En attente <script>alert(1)</script>", "Interne", None, None),
    (3, 6, None, 1580000000.0, 1, "Sur un billet disparu", "Lou", None, None),
]


@pytest.fixture
def iso(blog_b, tmp_path):
    blog_b.declare(POSTS)
    db, network, network_file = blog_b.db, blog_b.network, blog_b.network_file

    class Iso:
        path = tmp_path / "comments.db"

        def run(self, **kw):
            return isso.import_isso(db, network, "dr-b", self.path, **kw)

        def cli(self, *args):
            return CliRunner().invoke(cli, ["--network", str(network_file), "import", "isso", str(self.path), *args])

        def rows(self):
            return store.query(db, "SELECT * FROM comments ORDER BY id")

    yield Iso()


def test_an_isso_database_lands_on_the_blogs_posts(iso, client):
    isso_db(iso.path, ROWS)
    before = iso.path.read_bytes()
    result = iso.cli("--site", "dr-b")
    assert result.exit_code == 0, result.output
    assert "Export Isso comments.db (3 fils de discussion) -> blog dr-b" in result.output
    assert f"✓ Vaccins et rumeurs -> {BLOG_B}2019/03/vaccins-et-rumeurs.html (par l'adresse)" in result.output
    assert f"✓ Garde de nuit -> {BLOG_B}garde-de-nuit.html (par le slug)" in result.output
    assert "Commentaires importés : 4 (3 publiés, 1 en attente ; 1 réponse)" in result.output
    assert "1 commentaire supprimé avant l'export" in result.output and "1 commentaire d'un billet introuvable" in (
        result.output)
    assert iso.path.read_bytes() == before  # only read

    page = client.get("/api/comments", query_string={"url": BLOG_B + "2019/03/vaccins-et-rumeurs.html"}).get_json()
    lea, paul = page["comments"]
    assert lea["html"] == ('<p>Merci <strong>docteur</strong> !</p>\n<p>Et <a href="https://www.has-sante.fr/" '
                           'rel="nofollow ugc noopener">la HAS</a> ?</p>')
    assert lea["created"] == "2019-03-03T08:00:00Z" and lea["author"]["website"] == "https://lea.example/"
    assert [r["html"] for r in lea["replies"]] == ["<p>Avec plaisir.</p>"]
    assert paul["html"] == "<p>Réponse au supprimé</p>" and paul["author"]["website"] is None
    rows = {r["author_name"]: r for r in iso.rows()}
    assert rows["Léa"]["text"].startswith("Merci **docteur**")  # the Markdown source kept
    assert rows["Interne"]["status"] == "pending" and "<script" not in rows["Interne"]["html"]
    assert all(r["notify"] == 0 for r in rows.values())  # Isso's subscriptions were to Isso's mails
    assert "203.0.113.5" not in json.dumps([dict(r) for r in iso.rows()]) and "lea@exemple.fr" not in json.dumps(page)

    again = iso.run()
    assert again.imported == 0 and again.present == 4 and len(iso.rows()) == 4


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("<rss/>"), "ce n'est pas une base Isso : le fichier n'est pas une base SQLite"),
        (lambda p: sqlite3.connect(p).execute("CREATE TABLE posts (id)").connection.commit(),
         "ce n'est pas une base Isso : pas de table « threads »"),
        (lambda p: sqlite3.connect(p).executescript(
            "CREATE TABLE threads (id, uri, title); CREATE TABLE comments (id, tid, text)"),
         "la table « comments » n'a pas de colonne « author », « created », « mode », « parent »"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200), "base SQLite illisible"),
    ],
)
def test_what_is_not_an_isso_database_is_refused(iso, make, message):
    make(iso.path)
    result = iso.cli("--site", "dr-b")
    assert result.exit_code == 1 and message in result.output and "rien n'a été importé" in result.output, result.output
    assert "Traceback" not in result.output and iso.rows() == []
    with pytest.raises(ExportError):
        iso.run()
