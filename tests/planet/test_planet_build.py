"""A real build of a small network with its planet: member blogs from their built feeds, outside feeds
(good, hostile, broken, slow, gone) from a local server, a fake comment service for counts and debates."""

from __future__ import annotations

import gzip
import json
import os
import xml.etree.ElementTree as ET
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from confreres import build, planet_build, registry, releases
from confreres.cli import cli
from tests.confreres.conftest import NO_SERVICE

from .conftest import FeedServer, comment_api, feed_bytes, make_planet_network

HOSTILE_TITLE = "Titre en texte brut"  # "<script>…</script>Titre en texte brut <img …>" in the feed


@pytest.fixture(scope="module")
def server():
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory, server):
    feeds = [
        {"url": server.add("/good.atom", feed_bytes("good.atom.xml"), etag='"1"'), "title": "Le blog du Dr Externe",
         "author": "Dr Paul Externe", "specialty": "Médecine générale"},
        {"url": server.add("/garde.rss", feed_bytes("good.rss.xml"), content_type="application/rss+xml"),
         "title": "Carnet de garde", "author": "Dr Urgent"},
        {"url": server.add("/hostile.atom", feed_bytes("hostile.atom.xml")), "title": "Blog piégé"},
        {"url": server.add("/broken.xml", feed_bytes("invalid.xml")), "title": "Flux cassé"},
        {"url": server.add("/html", feed_bytes("page.html"), content_type="text/html"), "title": "Devenu une page"},
        {"url": server.add("/slow.atom", feed_bytes("good.atom.xml"), delay=3), "title": "Flux lent"},
        {"url": server.add("/gone.atom", b"", status=410), "title": "Blog fermé"},
    ]
    post = "http://127.0.0.1:8000/dr-a/dr-a-billet-1.html"
    threads = [
        {"url": post, "title": "<b>Billet 1</b> & débat", "site": "dr-a", "comments": 7,
         "last_activity": "2025-05-20T10:00:00Z"},
        {"url": "https://spam.example/x", "title": "Pub", "site": "x", "comments": 99, "last_activity": "2025-05-20"},
    ]
    sites = [
        {"slug": "dr-a", "title": "Blog dr-a", "url": "http://127.0.0.1:8000/dr-a/",
         "author": {"name": "Dr Dr-A", "badge": {"level": "verified", "label": "Médecin vérifié · Médecine générale",
                                                "title": "Inscription au RPPS vérifiée (membre fondateur)"}}},
        {"slug": "dr-b", "title": "Blog dr-b", "url": "http://127.0.0.1:8000/dr-b/",
         "author": {"name": "Dr Dr-B", "badge": None}},  # a blog that just joined: not verified yet
    ]
    comments_url = comment_api(counts={post: 3}, threads=threads, server=server, sites=sites)
    network = make_planet_network(tmp_path_factory.mktemp("planet") / "network", feeds, comments_url)
    results = build.build(network, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    return network


def soup(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def planet_pages(out):
    return sorted(p for p in (out / planet_build.LIVE).resolve().rglob("*.html") if "pagefind" not in p.parts)


def all_entries(out):
    pages = [out / "index.html"] + sorted((out / "page").glob("*/index.html"))
    return [article for page in pages for article in soup(page).select("article.planet-entry")]


def test_the_front_page_is_the_planet_published_atomically(built):
    out = built.output
    assert os.readlink(out / planet_build.LIVE).startswith(".releases/planet-")
    assert os.readlink(out / "index.html") == ".planet/index.html"
    assert os.readlink(out / "feeds") == ".planet/feeds"
    assert (out / "dr-a").is_symlink() and (out / "dr-a" / "index.html").is_file(), "the blogs are untouched"
    page = soup(out / "index.html")
    assert page.html["lang"] == "fr"
    for name in os.listdir(out / planet_build.LIVE):
        if "." not in name:
            assert name in registry.RESERVED_SLUGS, f"top-level planet folder {name!r} must be a reserved slug"


def test_entries_of_every_blog_with_their_fields(built):
    entries = all_entries(built.output)
    titles = [a.select_one(".summary-title").get_text(strip=True) for a in entries]
    for slug in ("dr-a", "dr-b"):
        for n in range(4):
            assert f"Billet {n} de {slug}" in titles
    assert "Le tiers payant, vu du cabinet" in titles and "Nuit calme, ou presque" in titles
    assert "Le même billet, republié ailleurs" not in titles, "duplicate link dropped"
    assert "Lien javascript" not in titles
    assert len(titles) == len(set(titles))

    member = next(a for a in entries if a.select_one(".summary-title").get_text(strip=True) == "Billet 1 de dr-a")
    text = member.get_text(" ", strip=True)
    assert "Blog dr-a" in text and "Médecine générale" in text and "Dr Dr-A" in text
    badge = member.select_one(".badge--verified")
    assert badge.get_text(strip=True) == "Médecin vérifié · Médecine générale", "the service's label"
    assert badge["title"] == "Inscription au RPPS vérifiée (membre fondateur)"
    unverified = [a for a in entries if "Blog dr-b" in a.get_text()]
    assert unverified and all(a.select_one(".badge--verified") is None for a in unverified), "dr-b: not verified"
    blogs = soup(built.output / "blogs" / "index.html").get_text(" ", strip=True)
    assert blogs.count("Médecin vérifié") == 1, "the blogroll: dr-a's author only"
    for page, shown in (("blogs/dr-a", True), ("blogs/dr-b", False), ("specialites/medecine-generale", True),
                        ("specialites/psychiatrie", False)):
        shown_text = soup(built.output / page / "index.html").get_text()
        assert ("Médecin vérifié · Médecine générale" in shown_text) is shown, page
        assert ("Médecin vérifié" in shown_text) is shown, page
    assert "3 commentaires" in text
    assert member.select_one("time")["datetime"].startswith("2025-02-10")
    assert "10 février 2025" in text
    assert "permanence des soins" in member.select_one(".summary-text").get_text()
    outside = next(a for a in entries if "tiers payant" in a.get_text())
    assert outside.select_one(".badge--verified") is None, "outside authors are not verified"
    assert "commentaire" not in outside.get_text()
    assert "Dr Paul Externe" in outside.get_text()


def test_newest_first_and_not_bumped(built):
    dates = [a.select_one("time")["datetime"] for a in all_entries(built.output)]
    assert dates == sorted(dates, reverse=True)
    assert not any(d.startswith("2099") for d in dates)


def test_hostile_content_is_escaped_or_removed_everywhere(built):
    out = built.output
    found_title = False
    for path in planet_pages(out):
        page = soup(path)
        for script in page.find_all("script"):
            assert script.get("src", "").endswith("/theme/js/planet-search.js"), (path, script)
        for tag in page.find_all(True):
            for attr, value in tag.attrs.items():
                assert not attr.lower().startswith("on"), (path, tag)
                if attr in ("href", "src"):
                    assert not str(value).strip().lower().startswith(("javascript:", "data:")), (path, tag)
        for bad in ("iframe", "style", "object"):
            assert page.find(bad) is None
        found_title = found_title or HOSTILE_TITLE in page.get_text()
    assert found_title, "the text/plain title is shown as text, its markup dropped"


def test_feeds_opml_and_autodiscovery(built):
    out, base = built.output, built.url
    head = soup(out / "index.html").head
    alternates = {link["type"]: link["href"] for link in head.find_all("link", rel="alternate")}
    assert alternates["application/atom+xml"] == f"{base}feeds/all.atom.xml"
    assert alternates["application/rss+xml"] == f"{base}feeds/all.rss.xml"
    assert alternates["text/x-opml"] == f"{base}feeds/blogs.opml"
    assert alternates["application/activity+json"] == built.actor_url("planete"), "the network's fediverse actor"
    handle = soup(out / "index.html").find(class_="fediverse-handle").get_text(" ", strip=True)
    assert handle == f"Suivre sur le fédivers : @planete@{built.host}"
    for name in ("all.atom.xml", "all.rss.xml", "blogs/dr-a.atom.xml", "blogs/dr-b.rss.xml",
                 "specialites/medecine-generale.atom.xml", "specialites/psychiatrie.rss.xml"):
        feed = feedparser.parse((out / "feeds" / name).read_bytes())
        assert not feed.bozo, (name, feed.get("bozo_exception"))
        assert feed.entries, name
    combined = feedparser.parse((out / "feeds" / "all.atom.xml").read_bytes())
    assert HOSTILE_TITLE in [e.title for e in combined.entries], "the text survives, without its markup"
    assert b"<script" not in (out / "feeds" / "all.atom.xml").read_bytes().replace(b"&lt;script", b"")
    medecine = feedparser.parse((out / "feeds" / "specialites" / "medecine-generale.atom.xml").read_bytes())
    assert {e.link.split("/")[3] for e in medecine.entries} >= {"dr-a"}
    assert all("dr-b" not in e.link for e in medecine.entries)

    opml = ET.parse(out / "feeds" / "blogs.opml").getroot()
    assert opml.tag == "opml" and opml.get("version") == "2.0"
    urls = {o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")}
    assert f"{base}dr-a/feeds/all.atom.xml" in urls and f"{base}dr-b/feeds/all.atom.xml" in urls
    assert built.feeds[0].url in urls
    assert not any(u.endswith("/gone.atom") for u in urls), "a gone feed is not recommended"
    for page in (out / "blogs" / "dr-a" / "index.html", out / "specialites" / "psychiatrie" / "index.html"):
        types = [link["type"] for link in soup(page).head.find_all("link", rel="alternate")]
        assert types.count("application/atom+xml") == 2, "the planet's feed and this page's feed"


def test_each_feed_has_its_own_id_and_guids_say_whether_they_are_addresses(built):
    """RFC 4287: one atom:id per feed (the planet's copy of a blog's feed had the blog's own feed's id); RSS 2.0: a
    guid without isPermaLink="false" is read as the item's address, which a member's tag: id is not."""
    atom = "{http://www.w3.org/2005/Atom}"
    out, base = built.output, built.url
    ids = {}
    folders = [out / "feeds", out / "feeds" / "blogs", out / "feeds" / "specialites"]  # (links: rglob skips them)
    for path in [*(p for f in folders for p in sorted(f.glob("*.atom.xml"))),
                 *(out / s.slug / "feeds" / "all.atom.xml" for s in built.sites)]:
        ids[str(path.relative_to(out))] = ET.parse(path).getroot().findtext(f"{atom}id")
    assert len(set(ids.values())) == len(ids), ids
    assert ids["feeds/blogs/dr-a.atom.xml"] == f"{base}feeds/blogs/dr-a.atom.xml"
    assert ids["feeds/all.atom.xml"] == base and ids["dr-a/feeds/all.atom.xml"] == f"{base}dr-a/"
    kinds = set()
    for path in (p for f in folders for p in sorted(f.glob("*.rss.xml"))):
        for item in ET.parse(path).getroot().iter("item"):
            guid = item.find("guid")
            permalink = guid.get("isPermaLink", "true") == "true"
            assert permalink == (guid.text == item.findtext("link")), (path.name, ET.tostring(item)[:300])
            kinds.add(permalink)
    assert kinds == {False}, "the members' entries have tag: ids; the outside test feeds' ids are not links either"


def test_status_page_tells_what_went_wrong(built):
    rows = {row.th.a.get_text(strip=True): row.get_text(" ", strip=True)
            for row in soup(built.output / "etat-des-flux" / "index.html").select("tbody tr")}
    assert "à jour" in rows["Le blog du Dr Externe"] and "200" in rows["Le blog du Dr Externe"]
    assert "blog du réseau" in rows["Blog dr-a"]
    assert "XML invalide" in rows["Flux cassé"]
    assert "page HTML" in rows["Devenu une page"]
    assert "délai dépassé" in rows["Flux lent"]
    assert "supprimé (410)" in rows["Blog fermé"]


def test_debates_page_shows_network_threads_only(built):
    page = soup(built.output / "debats" / "index.html")
    items = page.select(".planet-debates li")
    assert len(items) == 1
    assert "<b>Billet 1</b> & débat" in items[0].get_text()
    assert "7 commentaires" in items[0].get_text()
    assert items[0].a["href"] == "http://127.0.0.1:8000/dr-a/dr-a-billet-1.html#commentaires"
    assert not page.find("a", href=lambda h: h and "spam.example" in h)


def test_pagination_blog_and_specialty_pages(built):
    out = built.output
    index = soup(out / "index.html")
    assert index.find("a", rel="next")["href"] == f"{built.url}page/2/"
    second = soup(out / "page" / "2" / "index.html")
    assert second.find("a", rel="prev")["href"] == f"{built.url}"
    blog = soup(out / "blogs" / "dr-b" / "index.html")
    assert {a.select_one(".summary-title").get_text(strip=True) for a in blog.select("article.planet-entry")} == {
        f"Billet {n} de dr-b" for n in range(4)}
    assert "Psychiatrie" in soup(out / "specialites" / "index.html").get_text()
    blogroll = soup(out / "blogs" / "index.html").get_text(" ", strip=True)
    assert "Blogs du réseau" in blogroll or "Les blogs du réseau" in blogroll
    assert "Le blog du Dr Externe" in blogroll and "Blog dr-a" in blogroll
    assert (out / "pages" / "a-propos.html").is_file()


def test_internal_links_of_the_planet_resolve(built):
    out, base = built.output, built.url
    broken = []
    for path in planet_pages(out):
        for tag in soup(path).find_all(["a", "link"], href=True):
            url = urljoin(base + str(path.relative_to((out / planet_build.LIVE).resolve())), tag["href"])
            url = url.split("#")[0].split("?")[0]
            if not url.startswith(base) or "/comments/" in url:
                continue
            target = out / urlsplit(url).path[1:]
            if url.endswith("/"):
                target = target / "index.html"
            if not target.exists():
                broken.append((path.name, tag["href"]))
    assert not broken, broken[:10]


def test_search_index_covers_every_blog(built):
    if not planet_build.search_available():
        pytest.skip("pagefind is not installed")
    out = built.output
    assert (out / "pagefind" / "pagefind.js").is_file()
    search = soup(out / "recherche" / "index.html")
    assert search.find(id="planet-search")["data-pagefind"] == f"{built.url}pagefind/pagefind.js"
    article = soup(out / "dr-a" / "dr-a-billet-0.html")
    body = article.find("article", attrs={"data-pagefind-body": True})
    assert body.find("data", attrs={"data-pagefind-filter": "blog[value]"})["value"] == "Blog dr-a"

    # what Pagefind kept of each page (its fragments: gzip, a signature, then JSON): the article only, with its
    # blog and specialty as filters, its address, author and date as metadata, and the date to sort by
    fragments = {}
    for path in (out / "pagefind" / "fragment").iterdir():
        raw = gzip.decompress(path.read_bytes())
        fragment = json.loads(raw[raw.index(b"{"):])
        fragments[fragment["meta"]["url"]] = fragment
    url = f"{built.site('dr-a').url}dr-a-billet-0.html"
    assert set(fragments) >= {url, f"{built.site('dr-b').url}dr-b-billet-0.html"}
    page = fragments[url]
    assert page["filters"] == {"blog": ["Blog dr-a"], "specialite": ["Médecine générale"]}
    index_meta = gzip.decompress(next((out / "pagefind").glob("pagefind.*.pf_meta")).read_bytes())
    assert b"date" in index_meta  # the sorts are kept there (CBOR)
    assert page["meta"]["blog"] == "Blog dr-a" and page["meta"]["title"] and page["meta"]["date"]
    assert "Le réseau" not in page["content"] and "Secret médical" not in page["content"]  # the page around it
    assert page["content"].startswith(page["meta"]["title"])


def test_rebuild_switches_the_whole_planet_and_drops_the_old_release(built):
    out = built.output
    before = (out / planet_build.LIVE).resolve()
    result = planet_build.run(built, fetch=False)
    assert result.ok, result.error
    after = (out / planet_build.LIVE).resolve()
    assert after != before and not before.exists()
    assert os.readlink(out / "index.html") == ".planet/index.html"
    assert len(list((out / releases.RELEASES).glob("planet-*"))) == 1


def test_refresh_command(built, server):
    hits = server.hits("/good.atom")
    result = CliRunner().invoke(cli, ["--network", str(built.source), "planet", "refresh"])
    assert result.exit_code == 0, result.output
    assert "Planète mise à jour" in result.output and "en erreur" in result.output
    assert server.hits("/good.atom") == hits + 1
    assert server.headers_of("/good.atom")[-1].get("If-None-Match") == '"1"'
    assert server.hits("/gone.atom") == 1, "fetched once, then never again"


def test_comment_service_down_or_404_never_fails_the_planet(tmp_path):
    empty = FeedServer()  # answers 404 to everything
    try:
        for comments_url in (empty.url("/comments/"), NO_SERVICE):
            network = make_planet_network(tmp_path / str(len(comments_url)), [], comments_url, slugs=("dr-a",), posts=2)
            assert all(r.ok for r in build.build(network, progress=False))
            debates = soup(network.output / "debats" / "index.html").get_text()
            assert "Aucun débat en cours" in debates
            index = soup(network.output / "index.html")
            assert len(index.select("article.planet-entry")) == 2
            assert "commentaire" not in index.select_one(".planet-stream").get_text()
            assert index.select_one(".badge--verified") is None, "no word from the service: no badge"
    finally:
        empty.close()


def test_no_author_e_mail_address_of_a_feed_reaches_the_planet(tmp_path, server):
    """Real feeds write e-mail addresses as authors (RSS's <author>, Blogger's "noreply@blogger.com (Name)"): the
    planet's pages and its own feeds show the names, never an address; an untitled entry is titled by its text."""
    feed = server.add("/toot.rss", feed_bytes("microblog.rss.xml"), content_type="application/rss+xml")
    network = make_planet_network(tmp_path / "network", [{"url": feed, "title": "Dr Toot"}], NO_SERVICE,
                                  slugs=("dr-a",), posts=1)
    assert all(r.ok for r in build.build(network, progress=False))
    live = (network.output / planet_build.LIVE).resolve()
    files = [p for p in live.rglob("*") if p.is_file() and p.suffix in (".html", ".xml", ".opml", ".json", ".txt")]
    assert any(p.suffix == ".xml" for p in files) and any(p.suffix == ".html" for p in files)
    for path in files:
        text = path.read_text(encoding="utf-8")
        for address in ("dr.toot@", "anonyme@", "redaction@", "noreply@blogger.com"):
            assert address not in text, (path, address)
    blog = soup(live / "blogs" / "ext-dr-toot" / "index.html").get_text()
    assert "Dr Toot" in blog and "Dr Blog" in blog and "Ce matin, garde de nuit aux urgences" in blog
    assert "(sans titre)" not in blog


def test_reserved_slugs_are_refused_for_blogs(tmp_path):
    for slug in ("blogs", "specialites", "debats", "recherche", "etat-des-flux", "page", "pages", "feeds"):
        data = {"network": {"name": "R", "url": "https://r.example/", "comments_url": "https://r.example/c/"},
                "sites": [{"slug": slug, "title": "T", "author": "Dr T", "url": f"https://r.example/{slug}/"}]}
        with pytest.raises(registry.RegistryError, match="reserved"):
            registry.parse(data, root=tmp_path)


def test_an_accepted_push_rebuilds_the_planet(tmp_path):
    import subprocess

    from confreres import publish
    from confreres.publish import clean_git_env

    def git(*args, cwd=None):
        env = clean_git_env() | {"GIT_AUTHOR_NAME": "Dr A", "GIT_AUTHOR_EMAIL": "a@example.org",
                                 "GIT_COMMITTER_NAME": "Dr A", "GIT_COMMITTER_EMAIL": "a@example.org"}
        proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc

    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, slugs=("dr-a",), posts=1)
    assert all(r.ok for r in build.build(network, progress=False))
    repo = publish.init(network, "dr-a", tmp_path / "dr-a.git")
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(repo), str(clone))
    (clone / "content" / "nouveau.md").write_text(
        "Title: Un billet tout neuf\nDate: 2025-09-01 08:00\nCategory: Pratique\nSlug: nouveau\n\nTexte.\n",
        encoding="utf-8")
    git("add", "content/nouveau.md", cwd=clone)
    git("commit", "--quiet", "-m", "Nouveau billet", cwd=clone)
    git("push", "--quiet", "origin", "main", cwd=clone)
    first = soup(network.output / "index.html").select_one("article.planet-entry .summary-title")
    assert first.get_text(strip=True) == "Un billet tout neuf"


def test_search_stages_the_blogs_own_article_pages_only(tmp_path):
    """The pages given to Pagefind: those a blog's posts.json lists, inside its release, never through a symlink."""
    import json

    release = tmp_path / ".releases" / "dr-a-1"
    (release / "2025" / "05").mkdir(parents=True)
    (release / "billet.html").write_text("<p>billet</p>", encoding="utf-8")
    (release / "2025" / "05" / "index.html").write_text("<p>daté</p>", encoding="utf-8")
    secret = tmp_path / "secret.html"
    secret.write_text("<p>secret</p>", encoding="utf-8")
    (release / "fuite.html").symlink_to(secret)
    (release / "dossier").symlink_to(tmp_path)
    url = "http://127.0.0.1:8000/dr-a/"
    posts = [f"{url}billet.html", f"{url}2025/05/", f"{url}fuite.html", f"{url}dossier/secret.html",
             f"{url}../secret.html", "http://ailleurs.example/x.html", f"{url}absent.html"]
    (release / "posts.json").write_text(json.dumps({"posts": [{"url": u} for u in posts]}), encoding="utf-8")
    (tmp_path / "dr-a").symlink_to(release)
    site = registry.Site(slug="dr-a", title="A", author="", url=url, path=tmp_path)
    stage = tmp_path / "stage"
    assert planet_build._stage_site(tmp_path / "dr-a", site, stage) == 2
    assert sorted(str(p.relative_to(stage)) for p in stage.rglob("*.html")) == ["2025/05/index.html", "billet.html"]


def test_a_failed_planet_stops_its_search_indexing_and_leaves_no_stage(built, tmp_path):
    if not planet_build.search_available():
        pytest.skip("pagefind is not installed")
    broken = make_planet_network(tmp_path / "network", [], NO_SERVICE, slugs=("dr-a",), posts=2)
    assert all(r.ok for r in build.build(broken, progress=False))
    (broken.planet_dir / "pelicanconf.py").write_text("SITENAME = 'x'\n", encoding="utf-8")  # refused by run_pelican
    result = planet_build.run(broken, fetch=False)
    assert not result.ok and "pelicanconf.py" in result.error
    assert not list((broken.output / releases.RELEASES).glob(".search-*"))  # nor the index being made


def test_pagefind_says_when_it_has_parsed_every_page(built):
    """The planet's pages wait for that line of Pagefind's progress (PAGEFIND_PARSED): a Pagefind that no longer
    printed it would make them wait for its end instead."""
    if not planet_build.search_available():
        pytest.skip("pagefind is not installed")
    indexing = planet_build.SearchIndexing(built, built.output).start()
    try:
        indexing.parsed()
        assert any(line.startswith(planet_build.PAGEFIND_PARSED) for line in indexing.said), indexing.said
        # a few posts a blog: the planet's own work is the longer, it does not wait (planet_fits)
        assert 0 < indexing.pages < planet_build.PAGES_PER_FEED * len(built.sites)
        assert not indexing.planet_fits(len(built.sites))
        indexing.pages = planet_build.PAGES_PER_FEED * 3  # as many posts a feed as makes the planet wait
        assert indexing.planet_fits(3) and not indexing.planet_fits(4)
        assert indexing.result() == "ok" and (indexing.made() / "pagefind.js").is_file()
    finally:
        indexing.close()
    assert not indexing.index.exists() and not indexing.stage.exists()


def test_the_planet_makes_its_pages_after_the_hook_it_is_given(built, tmp_path):
    """PLANET_AFTER_PARSING (the search indexer's `parsed`) is called once, after the outside feeds are fetched
    and before any page is written."""
    own = registry.load_site_settings(built.planet_dir, planet=True)
    release = tmp_path / "release"
    fetched = planet_build.state_dir(built) / "feeds.json"  # plugins/planet/fetch.py: written by each refresh
    before = fetched.stat().st_mtime_ns
    seen = []
    settings = planet_build.planet_settings(built, built.output, fetch=True, own=own.planet)
    settings["PLANET_AFTER_PARSING"] = lambda: seen.append(
        (release.exists() and any(release.rglob("*.html")), fetched.stat().st_mtime_ns != before))
    releases.run_pelican(built, planet_build.planet_site(built), built.planet_dir, release, own=own, extra=settings)
    assert seen == [(False, True)]
    assert (release / "index.html").is_file()


def test_pages_staged_while_the_blogs_build_are_taken_by_the_search_indexing(built):
    """A blog staged during the build (again when rebuilt) is not staged twice; the others are staged by the
    indexing; Pagefind indexes all; nothing is left beside the releases."""
    if not planet_build.search_available():
        pytest.skip("pagefind is not installed")
    assert not list((built.output / releases.RELEASES).glob(".search-*"))  # the fixture's build took its own
    first, *others = [site.slug for site in built.sites]
    staging = planet_build.Staging(built, built.output)
    staging.add(first)
    staging.add(first)  # a blog rebuilt for its links: its pages replaced, not added again
    posts = json.loads((built.output / first / "posts.json").read_text(encoding="utf-8"))["posts"]
    assert staging.pages == {first: len(posts)} and len(list(staging.folder.rglob("*.html"))) == len(posts)
    assert all(p.stat().st_nlink > 1 for p in staging.folder.rglob("*.html"))  # hard links, not copies
    indexing = planet_build.SearchIndexing(built, built.output, staging).start()
    try:
        assert not staging.folder.exists()  # taken whole
        staged = {p.relative_to(indexing.stage).parts[0] for p in indexing.stage.rglob("*.html")}
        assert staged == {first, *others}
        assert indexing.result() == "ok"
    finally:
        indexing.close()
        staging.discard()
    assert not list((built.output / releases.RELEASES).glob(".search-*"))


def test_a_blog_the_build_cannot_stage_is_left_to_the_indexing(built):
    """Staging during the build is a head start, never a failure: a blog it cannot stage (here its folder is taken
    by a file) is not counted, and the planet's indexing stages it."""
    slug = built.sites[0].slug
    staging = planet_build.Staging(built, built.output)
    staging.folder.mkdir(parents=True)
    (staging.folder / slug).write_text("pas un dossier", encoding="utf-8")
    try:
        staging.add(slug)  # does not raise
        assert slug not in staging.pages
        (staging.folder / slug).unlink()
        if planet_build.search_available():
            indexing = planet_build.SearchIndexing(built, built.output, staging).start()
            try:
                assert slug in {p.relative_to(indexing.stage).parts[0] for p in indexing.stage.rglob("*.html")}
                assert indexing.result() == "ok"
            finally:
                indexing.close()
    finally:
        staging.discard()


def test_the_planets_templates_compiled_ahead_are_those_it_loads(tmp_path):
    """releases.warm_templates compiles the planet's escaped templates under the keys its generator asks for too:
    a whole build after it, planet included, compiles nothing more."""
    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, slugs=("dr-a",), posts=1)
    cache = network.root / ".cache" / "jinja"
    releases.warm_templates(network)
    warmed = {p.name for p in cache.iterdir()}
    results = build.build(network, progress=False)
    assert all(r.ok for r in results) and results.planet.ok
    assert {p.name for p in cache.iterdir()} == warmed


def test_the_search_index_is_kept_by_link_when_one_blog_is_published(built):
    """A publish keeps the live index (one link, not ~10,000 files copied); a full build makes a new one and
    drops the old."""
    if not planet_build.search_available():
        pytest.skip("pagefind is not installed")
    out = built.output
    rels = out / releases.RELEASES
    before = (out / "pagefind").resolve()
    assert before.parent == rels and before.name.startswith(planet_build.SEARCH_PREFIX)
    assert (out / "pagefind" / "pagefind.js").is_file()
    kept = planet_build.run(built, fetch=False, search=planet_build.KEEP_SEARCH)
    assert kept.ok and kept.search == "kept" and (out / "pagefind").resolve() == before
    fresh = planet_build.run(built, fetch=False)
    assert fresh.ok and fresh.search == "ok"
    after = (out / "pagefind").resolve()
    assert after != before and not before.exists() and (after / "pagefind.js").is_file()
    assert [p.name for p in rels.glob(f"{planet_build.SEARCH_PREFIX}*")] == [after.name]
    assert not list(rels.glob(".search-*"))


def test_two_builds_of_one_process_within_a_second_never_share_a_release_folder():
    """The second wrote into the live release, then discarded it on its error: the planet went down."""
    stamps = [releases.release_stamp() for _ in range(1000)]
    assert len(set(stamps)) == len(stamps) and stamps == sorted(stamps)


def test_pagefind_takes_its_allocator_settings():
    """PAGEFIND_ENV is read by the jemalloc inside the Pagefind we install: with `abort_conf`, a setting its
    version does not know stops it (without, it would print a warning and run as before, the speed lost unseen)."""
    import subprocess

    from pagefind_bin import get_executable

    conf = planet_build.PAGEFIND_ENV["_RJEM_MALLOC_CONF"]
    ran = subprocess.run([get_executable(), "--version"], capture_output=True, text=True,
                         env={**os.environ, "_RJEM_MALLOC_CONF": f"abort_conf:true,{conf}"})
    assert ran.returncode == 0, ran.stderr
    refused = subprocess.run([get_executable(), "--version"], capture_output=True, text=True,
                             env={**os.environ, "_RJEM_MALLOC_CONF": f"abort_conf:true,{conf},no_such_setting:1"})
    assert refused.returncode != 0 and "no_such_setting" in refused.stderr
