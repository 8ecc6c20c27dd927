"""`confreres import disqus`: a Disqus export as Disqus writes it (threads, then posts, dsq:id references),
with what real ones hold: several threads for one page, threads without a link, posts of a thread that is not in
the file, deleted and spam comments, links through Disqus's redirector, e-mail and IP addresses."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from comments_service.domain import comments as store
from comments_service.importers import disqus
from confreres.cli import cli
from confreres.xml_input import ExportError

BLOG_B = "https://docteur-b.example/"
POSTS = [
    # the old blog's addresses kept (Blogger's): matched by path
    {"url": BLOG_B + "2019/03/vaccins-et-rumeurs.html", "title": "Vaccins et rumeurs"},
    # Pelican's default "{slug}.html" under a new address: matched by the last segment
    {"url": BLOG_B + "garde-de-nuit.html", "title": "Garde de nuit"},
    {"url": BLOG_B + "2024/billet-b/", "title": "Billet B"},
]
OLD = "http://docteur-b.blogspot.com/"


def thread(dsq_id, link, title, identifier="", owner="drb", deleted="false") -> str:
    return f"""<thread dsq:id="{dsq_id}">
    <id>{identifier}</id><forum>docteurb</forum><category dsq:id="1"/>
    <link>{link}</link><title><![CDATA[{title}]]></title><message/>
    <createdAt>2019-03-02T09:00:00Z</createdAt>
    <author><name>Dr B</name><isAnonymous>false</isAnonymous><username>{owner}</username></author>
    <isClosed>false</isClosed><isDeleted>{deleted}</isDeleted></thread>"""


def post(dsq_id, thread_id, message, parent=None, name="Lecteur", username="", email="", created="2019-03-03T08:00:00Z",
         deleted="false", spam="false", approved=None, thread_ref=None) -> str:
    anonymous = "false" if username else "true"
    user = f"<username>{username}</username>" if username else ""
    mail = f"<email>{email}</email>" if email else ""
    parent_el = f'<parent dsq:id="{parent}"/>' if parent else ""
    approved_el = f"<isApproved>{approved}</isApproved>" if approved is not None else ""
    ref = thread_ref if thread_ref is not None else f'<thread dsq:id="{thread_id}"/>'
    return f"""<post dsq:id="{dsq_id}"><id/>
    <message><![CDATA[{message}]]></message><createdAt>{created}</createdAt>
    <isDeleted>{deleted}</isDeleted><isSpam>{spam}</isSpam>{approved_el}
    <author>{mail}<name>{name}</name><isAnonymous>{anonymous}</isAnonymous>{user}</author>
    <ipAddress>203.0.113.77</ipAddress>{ref}{parent_el}</post>"""


def export(body: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals"
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd http://disqus.com/api/schemas/1.0/disqus-internals.xsd">
<category dsq:id="1"><forum>docteurb</forum><title>General</title><isDefault>true</isDefault></category>
{body}
</disqus>
"""


REDIRECTED = ('https://disq.us/url?url=https%3A%2F%2Fwww.has-sante.fr%2Fjcms%2Fp_3%3Fcid%3D7%3AkT9sXq2LmN4vB8yZ0aQ1'
              "&amp;cuid=3601117")
FULL = export("".join([
    thread(10, OLD + "2019/03/vaccins-et-rumeurs.html", "Vaccins et rumeurs"),
    thread(11, "https://docteur-b.blogspot.com/2019/03/vaccins-et-rumeurs.html?m=1", "Vaccins et rumeurs"),
    thread(12, OLD + "2019/05/garde-de-nuit.html", "Garde de nuit"),
    thread(13, "", "", identifier="page-sans-lien"),  # Disqus writes these
    thread(14, OLD + "2020/01/disparu.html", "Billet disparu"),
    post(100, 10, "<p>Merci docteur, très clair.</p>", name="Léa", email="lea@exemple.fr"),
    post(101, 10, "<p>Merci Léa !</p>", parent=100, name="Dr B", username="drb", created="2019-03-03T09:15:00Z"),
    post(102, 11, "<p>Depuis mon téléphone : et les adjuvants ?</p>", name="Paul", created="2019-03-04T10:00:00Z"),
    post(103, 11, "<p>Message supprimé</p>", deleted="true", created="2019-03-04T11:00:00Z"),
    post(104, 11, "<p>Réponse au message supprimé</p>", parent=103, created="2019-03-04T12:00:00Z"),
    post(105, 12, f'<p>Voir <a href="{REDIRECTED}" rel="nofollow noopener" title="https://www.has-sante.fr/">la HAS</a>'
                  "<script>alert(1)</script></p>", name="Interne <b>fatigué</b>"),
    post(106, 12, "<p>Achetez des pilules</p>", spam="true", name="Pharma"),
    post(107, 12, "<p>En attente</p>", approved="false", name="Nouveau"),
    post(108, 13, "<p>Sur une page sans lien</p>"),
    post(109, 14, "<p>Sur un billet disparu</p>"),
    post(110, 999, "<p>Fil absent du fichier</p>"),
    post(111, None, "<p>Fil désigné par son identifiant</p>", thread_ref="<thread>page-sans-lien</thread>"),
]))


@pytest.fixture
def dq(blog_b, tmp_path):
    blog_b.declare(POSTS)
    db, network, network_file = blog_b.db, blog_b.network, blog_b.network_file

    class DQ:
        path = tmp_path / "docteurb-2024-01-01T00:00:00.000000-all.xml"

        def write(self, text: str, gz: bool = False) -> Path:
            data = text.encode("utf-8")
            if gz:
                self.path = self.path.with_suffix(".xml.gz")
                data = gzip.compress(data)
            self.path.write_bytes(data)
            return self.path

        def run(self, path=None, **kw):
            return disqus.import_disqus(db, network, "dr-b", path or self.path, **kw)

        def cli(self, *args):
            return CliRunner().invoke(cli, ["--network", str(network_file), "import", "disqus", *args])

        def rows(self):
            return store.query(db, "SELECT * FROM comments ORDER BY id")

    yield DQ()


def test_a_disqus_export_lands_on_the_blogs_posts(dq, client):
    dq.write(FULL, gz=True)
    result = dq.cli(str(dq.path), "--site", "dr-b", "--author-username", "DrB")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Export Disqus docteurb-2024-01-01T00:00:00.000000-all.xml.gz (5 fils de discussion) -> blog dr-b" in out
    assert f"✓ Vaccins et rumeurs -> {BLOG_B}2019/03/vaccins-et-rumeurs.html (par l'adresse)" in out
    assert f"✓ Garde de nuit -> {BLOG_B}garde-de-nuit.html (par le slug)" in out
    assert "✗ Billet disparu" in out
    assert "Commentaires importés : 7 (5 publiés, 1 en attente, 1 indésirable ; 1 réponse)" in out
    for line in ("1 commentaire supprimé avant l'export", "1 commentaire d'un fil absent du fichier",
                 "3 commentaires de billets introuvables", "✗ (sans titre) (sans lien) : 2 commentaires non importés"):
        assert line in out, out

    # the two threads of one page (http and https ?m=1) are one thread here, in order, threading kept
    page = client.get("/api/comments", query_string={"url": BLOG_B + "2019/03/vaccins-et-rumeurs.html"}).get_json()
    lea, paul, orphan = page["comments"]
    assert lea["author"]["name"] == "Léa" and lea["created"] == "2019-03-03T08:00:00Z"
    assert [r["html"] for r in lea["replies"]] == ["<p>Merci Léa !</p>"]
    assert lea["replies"][0]["author"]["is_post_author"] is True  # the account the doctor named
    assert lea["author"]["is_post_author"] is False
    assert paul["html"] == "<p>Depuis mon téléphone : et les adjuvants ?</p>" and not paul["replies"]
    assert orphan["html"] == "<p>Réponse au message supprimé</p>"  # its parent was deleted: a thread of its own

    [link] = client.get("/api/comments", query_string={"url": BLOG_B + "garde-de-nuit.html"}).get_json()["comments"]
    assert link["html"] == ('<p>Voir <a href="https://www.has-sante.fr/jcms/p_3?cid=7" rel="nofollow ugc noopener"'
                            ' title="https://www.has-sante.fr/">la HAS</a></p>')
    assert link["author"]["name"] == "Interne fatigué"

    rows = {r["text"]: r for r in dq.rows()}
    assert rows["<p>Achetez des pilules</p>"]["status"] == "spam"
    assert rows["<p>En attente</p>"]["status"] == "pending"
    assert rows["<p>Merci docteur, très clair.</p>"]["email"] == "lea@exemple.fr"  # private, as every comment's
    everything = json.dumps([dict(r) for r in dq.rows()]) + json.dumps(page) + json.dumps(link)
    assert "203.0.113.77" not in everything and "lea@exemple.fr" not in json.dumps(page)
    assert "disq.us" not in everything  # the redirector is gone from the HTML and from the source kept


def test_a_second_run_imports_nothing_and_a_dry_run_writes_nothing(dq):
    dq.write(FULL)
    dry = dq.run(dry_run=True)
    assert dry.imported == 7 and dq.rows() == []
    first = dq.run()
    assert first.imported == 7 and first.replies == 1
    assert not any(r["is_post_author"] for r in dq.rows())  # no author's username given: nothing guessed
    again = dq.run()
    assert again.imported == 0 and again.present == 7 and len(dq.rows()) == 7
    report = json.loads(dq.cli(str(dq.path), "--site", "dr-b", "--json").output)
    assert report["source"] == "disqus" and "wxr_version" not in report
    assert report["comments_already_present"] == 7 and report["comments_skipped"]["no_thread"] == 1


def test_isso_and_older_exports_quirks(dq):
    """A thread with only an id, dates without their Z, a post before its thread, no <message>."""
    body = "".join([
        post(200, 20, "<p>Avant son fil</p>", created="2019-03-05T08:00:00"),
        '<thread dsq:id="21"><id/></thread>',
        thread(20, "", "Garde de nuit", identifier=OLD + "2019/05/garde-de-nuit.html"),
        '<post dsq:id="201"><thread dsq:id="20"/><createdAt>2019-03-06T08:00:00Z</createdAt></post>',
    ])
    report = dq.run(dq.write(export(body)))
    assert report.imported == 1 and report.skipped == {"empty": 1}
    [row] = dq.rows()
    assert row["created"] == "2019-03-05T08:00:00Z" and row["post_url"] == BLOG_B + "garde-de-nuit.html"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "l'élément racine est <rss>, pas <disqus>"),
        ('<?xml version="1.0"?><!DOCTYPE disqus [<!ENTITY a "aaaa">]><disqus>&a;</disqus>',
         "refusé : le fichier déclare des entités XML"),
        (FULL[: FULL.index("Fil absent")], "export incomplet : le fichier s'arrête au milieu du document ; dernier "
                                           "commentaire lu en entier, ligne"),
    ],
)
def test_what_is_not_a_disqus_export_is_refused(dq, content, message):
    dq.write(content)
    result = dq.cli(str(dq.path), "--site", "dr-b")
    assert result.exit_code == 1 and message in result.output and "rien n'a été importé" in result.output, result.output
    assert "Traceback" not in result.output and dq.rows() == []
    with pytest.raises(ExportError):
        dq.run()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://disq.us/url?url=https%3A%2F%2Fexemple.fr%2Fa%3Fb%3D1%3AkT9sXq2LmN4vB8yZ0aQ1&cuid=1",
         "https://exemple.fr/a?b=1"),
        ("http://disq.us/?url=http%3A%2F%2Fexemple.fr%2F%3AabcdefGHIJ&key=x", "http://exemple.fr/"),
        ("https://disq.us/url?url=https%3A%2F%2Fexemple.fr%3A8443%2Fa", "https://exemple.fr:8443/a"),
        ("https://disq.us/url?url=javascript%3Aalert(1)%3AabcdefGHIJ", "https://disq.us/url?url=javascript%3Aalert(1)%3AabcdefGHIJ"),
        ("https://exemple.fr/url?url=https%3A%2F%2Fautre.fr", "https://exemple.fr/url?url=https%3A%2F%2Fautre.fr"),
    ],
)
def test_disqus_redirector_links_are_unwrapped_to_http_links_only(url, expected):
    assert disqus.unwrapped(url) == expected
