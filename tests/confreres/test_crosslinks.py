"""Answers between blogs on the static side: a three-blog chain reads as one conversation."""

from __future__ import annotations

from bs4 import BeautifulSoup

from confreres import build, crosslinks
from tests.confreres.conftest import write_post
from tests.confreres.test_publish_safety import server  # noqa: F401 (the fixture)


def html(network, slug, post):
    path = network.output / slug / f"{post}.html"
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_three_blog_chain_in_one_build(make_network):
    network = make_network(slugs=("dr-a", "dr-b", "dr-c"), posts=1)
    a, b, c = network.sites
    write_post(a.path, "question", "La question de A", date="2025-04-01 08:00")
    write_post(b.path, "reponse-b", "B répond à A", date="2025-04-05 08:00", reply_to=f"{a.url}question.html")
    write_post(c.path, "reponse-c", "C répond à B", date="2025-04-09 08:00", reply_to=f"{b.url}reponse-b.html")
    results = build.build(network, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]

    # B says whom it answers, with the title and the author of the other blog.
    aside = html(network, "dr-b", "reponse-b").find(class_="reply-to")
    assert "La question de A" in aside.get_text() and "Dr Dr-A" in aside.get_text()
    assert aside.find("a")["href"] == f"{a.url}question.html"
    # A lists the confrères' answers and the whole debate, in order, on each of the three posts.
    page_a = html(network, "dr-a", "question")
    answers = page_a.find(class_="answers")
    assert answers is not None and f"{b.url}reponse-b.html" in str(answers)
    for slug, post in (("dr-a", "question"), ("dr-b", "reponse-b"), ("dr-c", "reponse-c")):
        debate = html(network, slug, post).find(class_="conversation")
        assert debate is not None, (slug, post)
        titles = [li.get_text(" ", strip=True) for li in debate.find_all("li")]
        assert [t.split(" —")[0] for t in titles][:3] == ["La question de A", "B répond à A", "C répond à B"] or (
            "La question de A" in titles[0] and "B répond à A" in titles[1] and "C répond à B" in titles[2]
        )
    assert build.stale_crosslinks(network, network.output, None) == []  # no service: badges not compared


def test_a_new_answer_rebuilds_the_answered_blog(make_network):
    network = make_network(slugs=("dr-a", "dr-b"), posts=1)
    a, b = network.sites
    write_post(a.path, "question", "La question de A", date="2025-04-01 08:00")
    assert all(r.ok for r in build.build(network, progress=False))
    assert html(network, "dr-a", "question").find(class_="answers") is None

    write_post(b.path, "reponse-b", "B répond à A", date="2025-04-05 08:00", reply_to=f"{a.url}question.html")
    results = {r.slug: r for r in build.build(network, ["dr-b"], progress=False)}
    assert "dr-a" in results and results["dr-a"].ok, "the answered blog is rebuilt too"
    assert f"{b.url}reponse-b.html" in str(html(network, "dr-a", "question").find(class_="answers"))


def test_conversation_survives_cycles_and_unknown_targets():
    posts = {
        "u1": {"url": "u1", "title": "1", "site": "a", "date": "1", "reply_to": "u2"},
        "u2": {"url": "u2", "title": "2", "site": "b", "date": "2", "reply_to": "u1"},
        "u3": {"url": "u3", "title": "3", "site": "b", "date": "3", "reply_to": "https://ailleurs.example/x"},
    }
    assert {p["url"] for p in crosslinks.conversation("u1", posts)} == {"u1", "u2"}
    assert crosslinks.conversation("u3", posts) == []
    assert crosslinks.relations(["u3"], posts)["u3"]["reply_to"] == {"url": "https://ailleurs.example/x"}


def test_the_posts_in_debates_say_what_all_the_posts_say():
    """Each blog gets only the network's posts in debates: every blog's digest and relations are the same."""
    import random

    rng = random.Random(7)
    posts = {}
    for n in range(300):
        site = f"s{n % 12}"
        url = f"https://x.example/{site}/{n}.html"
        target = f"https://x.example/s{rng.randrange(12)}/{rng.randrange(300)}.html" if rng.random() < 0.15 else ""
        posts[url] = {"url": url, "title": f"T{n}", "site": site, "date": f"2025-01-{1 + n % 28:02d}",
                      "reply_to": target}
    debates = crosslinks.in_debates(posts)
    assert 0 < len(debates) < len(posts) / 2
    for site in {p["site"] for p in posts.values()}:
        own = [url for url, post in posts.items() if post["site"] == site]
        own_in_debates = [url for url in own if url in debates]
        assert crosslinks.digest(own, posts) == crosslinks.digest(own_in_debates, debates)
        full = crosslinks.relations(own, posts)
        for url, rel in crosslinks.relations(own_in_debates, debates).items():
            assert rel == full[url]


def test_the_posts_in_debates_read_from_the_blogs_files_follow_a_new_release(tmp_path):
    """`debates` (each blog's answers kept while its file is the same) says what `in_debates` over every post says."""
    import json
    import random

    rng = random.Random(11)
    slugs = [f"s{n}" for n in range(12)]

    def release(slug: str, generation: int):
        posts = []
        for n in range(25):
            target = (f"https://x.example/{rng.choice(slugs)}/{rng.randrange(25)}.html"
                      if rng.random() < 0.1 else "")
            posts.append({"url": f"https://x.example/{slug}/{n}.html", "title": f"T{generation}-{n}",
                          "date": "2025-01-01", "reply_to": target})
        live = tmp_path / slug
        live.mkdir(exist_ok=True)
        new = live / f".{crosslinks.LINKS_FILE}.new"
        new.write_text(json.dumps({"digest": "", "posts": posts}), encoding="utf-8")
        new.replace(live / crosslinks.LINKS_FILE)  # a new inode, as a new release

    for slug in slugs:
        release(slug, 0)
    for generation in range(1, 4):
        expected = crosslinks.in_debates(crosslinks.load_posts(tmp_path, slugs))
        assert expected and crosslinks.debates(tmp_path, slugs) == expected
        assert list(crosslinks.debates(tmp_path, slugs)) == list(expected)  # in the same order
        release(rng.choice(slugs), generation)


def test_the_footer_names_a_few_confreres_and_links_to_every_blog(make_network):
    from confreres import releases

    network = make_network(slugs=tuple(f"dr-{n:02d}" for n in range(15)), posts=1)
    chosen = releases.footer_sites(network, network.sites[3])
    assert len(chosen) == releases.FOOTER_SITES and chosen[0]["slug"] == "dr-03"
    assert all(r.ok for r in build.build(network, ["dr-03"], progress=False))
    page = BeautifulSoup((network.output / "dr-03" / "index.html").read_text(encoding="utf-8"), "html.parser")
    footer = page.find(class_="footer-network")
    assert len(footer.select(".network-list li")) == releases.FOOTER_SITES
    assert footer.select_one(".network-list a[aria-current]").get_text() == network.sites[3].title
    link = footer.find("a", string=lambda text: text and "Les 15 blogs du réseau" in text)
    assert link is not None and link["href"].startswith(network.url)


def test_the_other_blogs_are_read_from_their_small_crosslinks_file_else_their_posts_json(tmp_path):
    import json

    new, old = tmp_path / "dr-new", tmp_path / "dr-old"
    new.mkdir(), old.mkdir()
    (new / "crosslinks.json").write_text(json.dumps({"digest": "x", "posts": [
        {"url": "u1", "title": "Un", "date": "2025-01-01", "reply_to": "u2"}]}), encoding="utf-8")
    (new / "posts.json").write_text(json.dumps({"posts": [{"url": "ignoré"}]}), encoding="utf-8")
    (old / "crosslinks.json").write_text(json.dumps({"digest": "y"}), encoding="utf-8")  # built before it listed posts
    (old / "posts.json").write_text(json.dumps({"posts": [
        {"url": "u2", "title": "Deux", "date": "2024-12-01", "excerpt": "…", "content": "<p>…</p>"}]}), encoding="utf-8")
    posts = crosslinks.load_posts(tmp_path, ["dr-new", "dr-old", "dr-absent"])
    assert posts == {
        "u1": {"url": "u1", "title": "Un", "date": "2025-01-01", "reply_to": "u2", "site": "dr-new"},
        "u2": {"url": "u2", "title": "Deux", "date": "2024-12-01", "reply_to": "", "site": "dr-old"},
    }


def test_an_answer_written_another_way_answers_the_post_and_a_mistyped_one_is_said(make_network):
    """A doctor pastes the address from the browser (http for https, « #commentaires », no trailing `.html`'s
    slash…): the answer still reaches the answered post, at its own address; an address of the network that is no
    post (a typo) or no address at all is said by the build; an answer to a page outside the network is not."""
    network = make_network(slugs=("dr-a", "dr-b"), posts=1)
    a, b = network.sites
    write_post(a.path, "question", "« Schizo », la série", date="2025-04-01 08:00")
    pasted = f"{a.url}question.html#commentaires".replace("http://", "HTTP://").replace("127.0.0.1", "127.0.0.1")
    write_post(b.path, "reponse-b", "B répond à A", date="2025-04-05 08:00", reply_to=pasted)
    write_post(b.path, "coquille", "Une coquille", date="2025-04-06 08:00", reply_to=f"{a.url}questoin.html")
    write_post(b.path, "sans-adresse", "Sans adresse", date="2025-04-07 08:00", reply_to="dr-a/question")
    write_post(b.path, "ailleurs", "Ailleurs", date="2025-04-08 08:00", reply_to="https://ailleurs.example/billet")
    results = {r.slug: r for r in build.build(network, progress=False)}
    assert all(r.ok for r in results.values()), [r.error for r in results.values()]

    aside = html(network, "dr-b", "reponse-b").find(class_="reply-to")
    assert aside.find("a")["href"] == f"{a.url}question.html"
    assert "« “Schizo”, la série »" in aside.get_text(" ", strip=True)
    assert f"{b.url}reponse-b.html" in str(html(network, "dr-a", "question").find(class_="answers"))
    import json

    published = {p["title"]: p for p in json.loads((network.output / "dr-b" / "posts.json").read_text())["posts"]}
    assert published["B répond à A"]["reply_to"] == f"{a.url}question.html"  # the service and the blogs see it

    said = results["dr-b"].replies
    assert len(said) == 2, said
    assert any("content/coquille.md : Reply_to : aucun billet du réseau" in line and "questoin.html" in line
               for line in said), said
    assert any("content/sans-adresse.md" in line and "« dr-a/question » n'est pas l'adresse complète" in line
               for line in said), said
    assert not results["dr-a"].replies


def test_the_push_says_a_mistyped_reply_to(server):  # noqa: F811
    network, _, _, push = server
    b = network.site("dr-b")
    pushed = push({"content/coquille.md": f"Title: Une coquille\nDate: 2024-03-12 08:30\nReply_to: {b.url}nulle-part.html"
                                          "\n\nTexte.\n"})
    assert pushed.returncode == 0, pushed.stderr
    assert "réponses à vérifier (publiées tout de même)" in pushed.stderr
    assert f"content/coquille.md : Reply_to : aucun billet du réseau à cette adresse ({b.url}nulle-part.html)" \
        in pushed.stderr
