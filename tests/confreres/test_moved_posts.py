"""A published post whose address changes keeps its comments, and its old address leads to it (plugins/comments/
moves.py, comments_service/domain/moves.py).

The real build of a blog on disk, the real comment service over HTTP: a comment is approved on a post, the
doctor corrects its slug (as a corrected title does without `Slug:`), pushes, and the network is built again.
"""

from __future__ import annotations

import json
import re

import httpx

from comments_service.core.db import connect
from comments_service.domain import comments as store
from plugins.comments import moves
from tests.confreres.conftest import write_post
from tests.confreres.test_announce import post_url, run_build, served  # noqa: F401 (fixture)


def published(network, slug: str) -> dict:
    return {p["url"]: p for p in json.loads((network.output / slug / "posts.json").read_text(encoding="utf-8"))["posts"]}


def approved_comment(service, url: str, text: str) -> None:
    response = httpx.post(service.url + "api/comments", json={"url": url, "text": text}, timeout=10)
    assert response.status_code == 201, response.text
    db = connect(service.app.config["DB"])
    try:
        store.set_status(db, response.json()["comment"]["id"], "approved")
    finally:
        db.close()


def test_a_post_moved_keeps_its_comments_and_its_old_address(served):  # noqa: F811
    network, service = served(("dr-a",))
    assert run_build(network).exit_code == 0
    old = post_url(network, "dr-a")
    approved_comment(service, old, "Merci pour ce billet, confrère.")
    site = network.site("dr-a").path
    source = write_post(site, "billet-corrige", "Billet 0 de dr-a (corrigé)", date="2025-01-10 10:00")
    source.rename(site / "content" / "dr-a-billet-0.md")  # the same file, its title and Slug corrected

    result = run_build(network)
    assert result.exit_code == 0, result.output
    new = network.site("dr-a").url + "billet-corrige.html"
    posts = published(network, "dr-a")
    assert list(posts) == [new] and posts[new]["moved_from"] == [old]
    # the service moved the thread: at its new address, and at the old one for pages read before
    for url in (new, old):
        thread = httpx.get(service.url + "api/comments", params={"url": url}, timeout=10).json()
        assert thread["total"] == 1 and "Merci pour ce billet" in thread["comments"][0]["html"], url
    # the old address is a page that leads to the new one
    redirect = (network.output / "dr-a" / "dr-a-billet-0.html").read_text(encoding="utf-8")
    assert f'<meta http-equiv="refresh" content="0; url={new}">' in redirect
    assert f'<link rel="canonical" href="{new}">' in redirect and 'content="noindex"' in redirect
    assert 'lang="fr"' in redirect and "Ce billet a changé d'adresse" in redirect

    # the next build takes the comment into the new page (the service's version moved), then nothing more
    again = run_build(network)
    assert again.exit_code == 0 and "inchangé" not in again.output, again.output
    page = (network.output / "dr-a" / "billet-corrige.html").read_text(encoding="utf-8")
    assert "Merci pour ce billet, confrère." in page
    third = run_build(network)
    assert third.exit_code == 0 and "✓ dr-a (inchangé)" in third.output, third.output

    # moved again: both earlier addresses kept and leading to it, the comment still there
    text = (site / "content" / "dr-a-billet-0.md").read_text(encoding="utf-8")
    (site / "content" / "dr-a-billet-0.md").write_text(text.replace("Slug: billet-corrige", "Slug: billet-final"),
                                                      encoding="utf-8")
    assert run_build(network).exit_code == 0
    final = network.site("dr-a").url + "billet-final.html"
    assert published(network, "dr-a")[final]["moved_from"] == [old, new]
    for name in ("dr-a-billet-0.html", "billet-corrige.html"):
        assert f"url={final}" in (network.output / "dr-a" / name).read_text(encoding="utf-8"), name
    for url in (old, new, final):
        assert httpx.get(service.url + "api/comments", params={"url": url}, timeout=10).json()["total"] == 1


def test_an_old_address_another_post_takes_is_that_posts(served):  # noqa: F811
    network, service = served(("dr-a",))
    assert run_build(network).exit_code == 0
    old = post_url(network, "dr-a")
    site = network.site("dr-a").path
    path = site / "content" / "dr-a-billet-0.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Slug: dr-a-billet-0", "Slug: ailleurs"), encoding="utf-8")
    (site / "content" / "nouveau.md").write_text(
        "Title: Un autre billet à cette adresse\nDate: 2025-02-01 10:00\nSlug: dr-a-billet-0\n\nAutre chose.\n",
        encoding="utf-8")
    assert run_build(network).exit_code == 0
    posts = published(network, "dr-a")
    assert "moved_from" not in posts[network.site("dr-a").url + "ailleurs.html"]
    assert "Un autre billet à cette adresse" in (network.output / "dr-a" / "dr-a-billet-0.html").read_text(
        encoding="utf-8")
    assert httpx.get(service.url + "api/comments", params={"url": old}, timeout=10).json()["title"] == \
        "Un autre billet à cette adresse"


def test_earlier_addresses_from_a_tampered_posts_json_stay_inside_the_blog(tmp_path):
    live = tmp_path / "out" / "dr-a"
    live.mkdir(parents=True)
    site = "http://127.0.0.1:8000/dr-a"
    hostile = [f"{site}/../../etc/passwd", f"{site}/%2e%2e/%2e%2e/x.html", "http://ailleurs.example/dr-a/x.html",
               f"{site}/ok.html", 42, None, f"{site}/sous/dossier/", f"{site}/a\\b.html", f"{site}/nul%00.html"]
    (live / "posts.json").write_text(json.dumps({"posts": [
        {"source": "billet.md", "url": f"{site}/ancien.html", "moved_from": hostile},
        {"source": "autre.md", "url": f"{site}/autre.html", "moved_from": "pas une liste"},
        "pas un billet"]}), encoding="utf-8")
    settings = {"NETWORK_OUTPUT": str(tmp_path / "out"), "SITE_SLUG": "dr-a", "SITEURL": site}
    found = moves.earlier_addresses(settings, {"billet.md": f"{site}/nouveau.html", "autre.md": f"{site}/x.html"},
                                    taken={f"{site}/x.html"})
    assert found == {"billet.md": [f"{site}/ok.html", f"{site}/sous/dossier/", f"{site}/ancien.html"],
                     "autre.md": [f"{site}/autre.html"]}
    assert [moves._output_name(u, site + "/") for u in found["billet.md"]] == [
        "ok.html", "sous/dossier/index.html", "ancien.html"]
    assert not re.search(r"\.\.", "".join(found["billet.md"]))


def test_an_answer_from_another_blog_follows_the_post_it_answers(served):  # noqa: F811
    network, service = served(("dr-a", "dr-b"))
    old = post_url(network, "dr-a")
    answer = network.site("dr-b").url + "reponse.html"
    write_post(network.site("dr-b").path, "reponse", "Ma réponse au Dr A", date="2025-03-01 10:00", reply_to=old)
    assert run_build(network).exit_code == 0
    site = network.site("dr-a").path
    path = site / "content" / "dr-a-billet-0.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Slug: dr-a-billet-0", "Slug: billet-deplace"),
                    encoding="utf-8")
    result = run_build(network)
    assert result.exit_code == 0, result.output
    new = network.site("dr-a").url + "billet-deplace.html"
    # the moved post lists its answer; the answer links to the post where it is now (its Markdown unchanged)
    assert answer in (network.output / "dr-a" / "billet-deplace.html").read_text(encoding="utf-8")
    page = (network.output / "dr-b" / "reponse.html").read_text(encoding="utf-8")
    assert f'<link rel="in-reply-to" href="{new}">' in page and "Billet 0 de dr-a" in page
    thread = httpx.get(service.url + "api/comments", params={"url": new}, timeout=10).json()
    assert [a["url"] for a in thread["answers"]] == [answer]
    assert "inchangé" in run_build(network).output.split("dr-b")[1][:40], "no rebuild loop"
