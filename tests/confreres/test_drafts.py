"""Drafts and posts dated in the future never reach the published output; `confreres preview` shows them."""

from __future__ import annotations

import gzip
import json
import subprocess
import time
import zlib
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from confreres import build, planet_build, publish, releases
from confreres.cli import cli
from confreres.preview import preview
from tests.confreres.conftest import NO_SERVICE, write_post
from tests.confreres.test_publish import git
from tests.planet.conftest import make_planet_network

SECRET = "Zanzibar-confidentiel"  # only in the draft's and the scheduled post's text
FUTURE = "Xylophone-programme"


def published_text(out) -> str:
    """Every file under the published folder, decompressed when compressed (Pagefind's index)."""
    chunks = []
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for unpack in (gzip.decompress, zlib.decompress):
            try:
                data = unpack(data)
                break
            except (OSError, zlib.error, EOFError):
                continue
        chunks.append(data.decode("utf-8", errors="replace"))
    return "\n".join(chunks)


@pytest.fixture
def with_drafts(tmp_path):
    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, slugs=("dr-a", "dr-b"), posts=2)
    site = network.site("dr-a").path
    write_post(site, "brouillon-secret", "Un brouillon", body=f"Pas encore prêt : {SECRET}.", status="draft")
    write_post(site, "billet-futur", "Un billet programmé", date="2099-01-01 08:00", body=f"Plus tard : {FUTURE}.")
    (site / "content" / "pages" / "page-brouillon.md").write_text(
        f"Title: Page en cours\nSlug: page-brouillon\nStatus: draft\n\n{SECRET}\n", encoding="utf-8")
    return network


def test_drafts_and_future_posts_are_nowhere_in_the_published_network(with_drafts):
    network = with_drafts
    results = build.build(network, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    assert results.planet is not None and results.planet.ok
    out = network.output
    live = out / "dr-a"
    assert (live / "dr-a-billet-0.html").is_file()
    assert not (live / "drafts").exists()
    assert not (live / "billet-futur.html").exists()
    everything = published_text(out)
    assert SECRET not in everything and FUTURE not in everything
    for name in ("sitemap.xml", "feeds/all.atom.xml", "feeds/all.rss.xml", "posts.json", "index.html"):
        text = (live / name).read_text(encoding="utf-8")
        assert "brouillon-secret" not in text and "billet-futur" not in text, name
    assert "brouillon-secret" not in (out / "index.html").read_text(encoding="utf-8")  # the planet
    # What the comment service is told (announce_posts) is the build's list of posts.
    [dr_a] = [r for r in results if r.slug == "dr-a"]
    assert {a["source"] for a in dr_a.articles} == {"dr-a-billet-0.md", "dr-a-billet-1.md"}
    assert {w["source"] for w in dr_a.withheld} == {
        "content/brouillon-secret.md", "content/billet-futur.md", "content/pages/page-brouillon.md"}
    if planet_build.search_available():
        assert (out / "pagefind" / "pagefind.js").is_file()


def test_a_scheduled_post_is_published_by_the_first_build_after_its_date(with_drafts):
    network = with_drafts
    assert all(r.ok for r in build.build(network, ["dr-a"], progress=False))
    state_file = network.output / "dr-a" / releases.STATE_FILE
    state = json.loads(state_file.read_text(encoding="utf-8"))
    assert state["due"] > time.time() + 3600 * 24 * 365
    [again] = build.build(network, ["dr-a"], progress=False)
    assert again.skipped, "nothing is due yet: nothing to rebuild"
    # The date has come: the live release says when (here: as if it were 2099), so the next build is not skipped
    # though no file changed; that build publishes what is due (Pelican compares the dates with the clock).
    state["due"] = time.time() - 1
    state_file.write_text(json.dumps(state), encoding="utf-8")
    assert build.up_to_date(network, network.site("dr-a"), network.output, None)[0] is False
    [now] = build.build(network, ["dr-a"], progress=False)
    assert now.ok and not now.skipped
    assert json.loads(state_file.read_text(encoding="utf-8"))["due"] > time.time(), "still due in 2099"


def test_preview_builds_drafts_into_a_private_folder(with_drafts):
    network = with_drafts
    result = preview(network, "dr-a")
    assert result.ok, result.error
    folder = network.root / "var" / "preview" / "dr-a"
    assert SECRET in (folder / "drafts" / "brouillon-secret.html").read_text(encoding="utf-8")
    assert SECRET in (folder / "drafts" / "pages" / "page-brouillon.html").read_text(encoding="utf-8")
    assert FUTURE in (folder / "billet-futur.html").read_text(encoding="utf-8")
    # Nothing of it is published, and the next live build does not pick it up.
    assert not (network.output / "dr-a").exists()
    assert all(r.ok for r in build.build(network, progress=False))
    assert SECRET not in published_text(network.output)


@pytest.mark.parametrize("permalinks", ["slug", "date"])
def test_a_preview_opened_from_the_disk_links_to_pages_not_folders(with_drafts, permalinks):
    """README: « open the file it prints in a browser ». From file://, a link to « ../ » or « 2025/01/10/slug/ »
    shows a folder listing: every link between the preview's own pages names a file."""
    network = with_drafts
    site = network.site("dr-a").path
    (site / "site.toml").write_text(f'permalinks = "{permalinks}"\n', encoding="utf-8")
    result = preview(network, "dr-a")
    assert result.ok, result.error
    folder = network.root / "var" / "preview" / "dr-a"
    checked = 0
    for page in folder.rglob("*.html"):
        for link in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select("a[href]"):
            href = link["href"].split("#")[0].split("?")[0]
            if not href or urlsplit(href).scheme or href.startswith("/"):
                continue
            target = (page.parent / href).resolve()
            assert target.is_file(), f"{page.relative_to(folder)} : {link['href']} is not a file"
            checked += 1
    assert checked > 20


def test_preview_command_prints_where_each_draft_is(with_drafts, tmp_path):
    network = with_drafts
    write_post(network.site("dr-a").path, "radio", "Radio", body="![radio](https://cdn.example.org/radio.png)",
               status="draft")
    out = tmp_path / "apercu"
    result = CliRunner().invoke(cli, ["--network", str(network.source), "preview", "dr-a", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "brouillon, non publié" in result.output and str(out / "drafts" / "brouillon-secret.html") in result.output
    assert "programmé, publié le 1er janvier 2099" in result.output
    assert "⚠ content/radio.md : image hébergée ailleurs, non affichée sur le réseau" in result.output, \
        "what a draft loads from elsewhere, said before it is published"
    refused = CliRunner().invoke(cli, ["--network", str(network.source), "preview", "dr-a", "--out",
                                       str(network.output / "apercu")])
    assert refused.exit_code != 0 and "dossier publié" in refused.output


def test_preview_of_a_clone_named_by_a_relative_path_names_the_draft_as_in_the_clone(with_drafts, tmp_path,
                                                                                       monkeypatch):
    """`confreres preview SLUG --source .` from the clone: the draft was named « content//tmp/…/content/x.md »."""
    network = with_drafts
    monkeypatch.chdir(network.site("dr-a").path)
    result = CliRunner().invoke(cli, ["--network", str(network.source), "preview", "dr-a", "--source", ".",
                                      "--out", str(tmp_path / "apercu")])
    assert result.exit_code == 0, result.output
    assert "« Un brouillon » (content/brouillon-secret.md) : brouillon, non publié" in result.output
    assert "content//" not in result.output


def test_a_pushed_draft_is_not_published_and_the_push_says_so(make_network, tmp_path):
    network = make_network(slugs=("dr-a",), posts=1)
    assert all(r.ok for r in build.build(network, progress=False))
    repo = publish.init(network, "dr-a", tmp_path / "repos" / "dr-a.git")
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(repo), str(clone))
    write_post(clone, "brouillon-secret", "Mon brouillon", body=SECRET, status="draft")
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "Brouillon", cwd=clone)
    pushed = git("push", "origin", "main", cwd=clone)
    assert "« Mon brouillon » (content/brouillon-secret.md) : brouillon, non publié" in pushed.stderr
    assert "confreres preview" in pushed.stderr
    assert SECRET not in published_text(network.output)
    assert not (network.output / "dr-a" / "drafts").exists()
    proc = subprocess.run(["git", "ls-remote", str(repo), "refs/heads/main"], capture_output=True, text=True)
    assert proc.stdout.split()[0] == git("rev-parse", "HEAD", cwd=clone).stdout.strip(), "the push is accepted"
