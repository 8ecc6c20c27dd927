"""What each page type of the demo network costs a reader's browser (run by hand): bytes and requests.

Builds a copy of the committed demo network on a free loopback port with its seeded comment service
(tests/demo_kit.py, as `make demo` does), opens each page type in Chromium with an empty cache until the network
is idle, and prints, per page: the requests, those to another origin (must be 0), the bytes received raw and at
gzip -9 (each response compressed alone, as the demo server and nginx send the pages' files at level 6), without images,
and of JavaScript alone.

    .venv/bin/python bench/pages.py

Pages: an article with its comments (the widget mounted), a blog's index, the planet, the service's no-JS
thread page of the same article, and a member's public profile (when the demo thread links one). The build
uses this checkout's theme: for a before/after, run it in each checkout.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from _helpers import free_port, test_kit

HERE = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARTICLE = "dr-lefebvre/epuisement-en-zone-rurale.html"
IMAGES = ("image", "media")


def kit():
    return test_kit("demo_kit")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    sys.path.insert(0, str(HERE))
    demo = kit()

    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory() as tmp, demo.served_demo(Path(tmp), port) as (network, app):
        article = base + ARTICLE
        profiles = []  # the members' public profiles the demo threads link to
        for post in (site.url + "" for site in network.sites):
            for path in sorted((network.output / post.rstrip("/").rsplit("/", 1)[1]).glob("*.html")):
                url = post + path.name
                thread = app.test_client().get("/api/comments", query_string={"url": url}).get_json() or {}
                stack = list(thread.get("comments", []))
                while stack:
                    c = stack.pop()
                    stack.extend(c.get("replies", []))
                    if (c.get("author") or {}).get("profile"):
                        profiles.append(c["author"]["profile"])
        pages = {
            "article + comments": (article, ".comments-live"),
            "blog index": (base + "dr-lefebvre/", None),
            "planet": (base, None),
            "no-JS thread page": (f"{network.comments_url}thread?url={quote(article, safe='')}", None),
            "profile": (profiles[0] if profiles else None, None),
        }
        print(f"project: {HERE}   (bytes of bodies; gzip: each at -9; images excluded except in 'all raw')")
        print(f"{'page':<20} {'requests':>8} {'3rd-party':>9} {'all raw':>9} {'raw':>9} {'gzip':>8} {'JS raw':>8} {'JS gzip':>8}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
            for name, (url, ready) in pages.items():
                if url is None:
                    print(f"{name:<20} (none in the demo thread)")
                    continue
                context = browser.new_context(locale="fr-FR")
                weight = demo.weigh(context.new_page(), url, ready)
                context.close()
                print(f"{name:<20} {len(weight.requests):>8} {len(weight.third_party(base.rstrip('/'))):>9} "
                      f"{weight.raw():>9,} {weight.raw(exclude=IMAGES):>9,} {weight.gzipped(exclude=IMAGES):>8,} "
                      f"{weight.raw('script'):>8,} {weight.gzipped('script'):>8,}")
            browser.close()


if __name__ == "__main__":
    main()
