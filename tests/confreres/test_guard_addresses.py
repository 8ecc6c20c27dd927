"""The guard keeps each post's checked address: Pelican does not format it again for every list naming the post."""

from __future__ import annotations

import importlib
import sys

from pelican.contents import Article, Page
from pelican.settings import DEFAULT_CONFIG

from confreres import releases


def guard():
    sys.path.insert(0, str(releases.PLUGINS_DIR))
    try:
        return importlib.import_module("guard")
    finally:
        sys.path.remove(str(releases.PLUGINS_DIR))


def test_a_kept_post_says_what_pelican_said_and_keeps_saying_it():
    import datetime

    keeping = guard()._keeping
    settings = dict(DEFAULT_CONFIG, PATH="/blog/content")
    post = Article("<p>x</p>", metadata={"title": "Garde", "slug": "garde", "date": datetime.datetime(2025, 5, 1)},
                   settings=settings, source_path="/blog/content/garde.md")
    url, save_as = post.url, post.save_as
    post.__class__ = keeping(Article)
    assert isinstance(post, Article) and type(post).__name__ == "Article"
    assert (post.url, post.save_as) == (url, save_as)
    post.slug = "autre"  # nothing changes an address after the guard: had something, the checked one is written
    assert (post.url, post.save_as) == (url, save_as)
    assert keeping(keeping(Article)) is keeping(Article) and keeping(Page) is not keeping(Article)


def test_real_paths_resolve_as_realpath_does(tmp_path):
    """The checks' cached resolver (one `realpath` a folder) agrees with `os.path.realpath` on every form a post's
    or an output's path takes: plain files, files and folders that are symlinks, `..`, missing files, relative."""
    import os

    from confreres.checks import RealPaths

    content, outside = tmp_path / "blog" / "content", tmp_path / "ailleurs"
    (content / "pages").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.md").write_text("x")
    (content / "billet.md").write_text("x")
    (content / "lien.md").symlink_to(outside / "secret.md")
    (content / "dossier").symlink_to(outside)
    (content / "pages" / "retour").symlink_to("../..")
    paths = [content / "billet.md", content / "lien.md", content / "dossier" / "secret.md",
             content / "pages" / "retour" / "content" / "billet.md", content / "pages" / ".." / "billet.md",
             content / "dossier" / ".." / "billet.md", content / "absent.md", content / "dossier" / "absent.md",
             content / "pages" / "retour" / "ailleurs", content / "pages", content / "pages" / ".", "content/billet.md"]
    real = RealPaths()
    for _ in range(2):  # the second time from what it kept
        for path in paths:
            assert real(path) == os.path.realpath(path), path
    assert real(content / "dossier" / "secret.md") == str(outside / "secret.md")


def test_plain_addresses_are_judged_as_the_whole_check_judges_them():
    """The fast answer for plain paths (`_PLAIN_PATH`) is the one urljoin gives; others go through the whole check."""
    import random
    from urllib.parse import urljoin, urlsplit

    def whole(siteurl, value):  # the check without its fast path
        if not value:
            return False
        if "\\" in value or any(ord(c) < 32 for c in value) or urlsplit(value).scheme or value.startswith("/"):
            return True
        if ".." in value.split("/"):
            return True
        base = siteurl.rstrip("/") + "/"
        return not urljoin(base, value).startswith(base)

    outside = guard()._outside_url
    rng = random.Random(7)
    values = ["a.html", "2025/03/billet.html", "./a", ".", "a/../../b", "..", "...", "a/./b/", "~x", "a//b", "//h/x",
              "http:x", "a\\b", "a\tb", "%2e%2e/x", "a?b", "a#b", "é.html"]
    values += ["".join(rng.choice("ab./-_~:\\%?#é\t") for _ in range(rng.randrange(1, 12))) for _ in range(3000)]
    for siteurl in ("http://127.0.0.1:8000/dr-a", "https://blog.example/"):
        for value in values:
            assert outside(siteurl, value) == whole(siteurl, value), (siteurl, value)
