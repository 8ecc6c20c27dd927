"""Benchmark of a 10,000-comment thread (run by hand): API page, no-JS page, widget render in Chromium.

Writes 10,000 approved comments on one post of a one-blog network (2,500 top-level comments, each followed
by a chain of 3 replies; tests/threads_kit.py) into a fresh SQLite file, serves the comment service and a
bare page that mounts the theme's widget (themes/confreres/static/js/comments.js) on 127.0.0.1, then prints:
  - GET /api/comments?url=… : time (median of --runs, the per-version cache emptied before each) and bytes;
  - GET /thread?url=… (the no-JS page): time and bytes;
  - the widget: time from navigation until the first page (or, before pages existed, the whole thread) is in
    the DOM, in Chromium (median of --runs).

    .venv/bin/python bench/threads.py [--runs 5] [--project DIR]

`--project DIR`: the service and widget of another checkout (e.g. `git archive main | tar -x -C DIR`), to
compare before/after; the thread is written by this checkout's tests/threads_kit.py either way.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from _helpers import free_port, test_kit

HERE = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Billet</title></head><body>
<section id="commentaires" data-thread-url="{url}" data-api="{api}" data-mode="open"><h2>Commentaires</h2>
<div class="comments-app" hidden></div><script src="/comments.js" defer></script></section></body></html>"""


def kit():
    return test_kit("threads_kit")


def timed(runs: int, fn) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--project", type=Path, default=HERE)
    args = parser.parse_args()
    sys.path.insert(0, str(args.project.resolve()))

    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    from comments_service import create_app
    from comments_service.actions.posts import sync_posts
    from comments_service.core.db import connect

    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    post = base + "blog/billet.html"
    tmp = Path(tempfile.mkdtemp(prefix="bench-threads-"))
    (tmp / "network.toml").write_text(
        f'[network]\nname = "Banc"\nurl = "{base}"\ncomments_url = "{base}comments/"\n\n'
        f'[[sites]]\nslug = "blog"\ntitle = "Blog"\nauthor = "Dr Banc"\nurl = "{base}blog/"\nmoderation = "none"\n',
        encoding="utf-8",
    )
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "NETWORK": str(tmp / "network.toml"),
                      "DB": str(tmp / "c.sqlite3"), "RATE_LIMIT": "off", "READ_RATE_LIMIT": "off"})
    db = connect(app.config["DB"])
    sync_posts(db, app.extensions["confreres_network"], "blog",
                     {"posts": [{"url": post, "title": "Billet", "date": "2025-01-01"}]})
    db.close()
    kit().write_thread(app.config["DB"], post, roots=2500, replies=3)

    client = app.test_client()
    cache = app.extensions["confreres_thread_cache"]

    def cold(path: str):
        cache.clear()
        response = client.get(path, query_string={"url": post})
        assert response.status_code == 200, response.status
        return response.data

    api_time, api_body = timed(args.runs, lambda: cold("/api/comments"))
    page_time, page_body = timed(args.runs, lambda: cold("/thread"))
    print(f"project: {args.project}")
    print(f"API first page   : {api_time * 1000:7.1f} ms  {len(api_body):>10,} bytes")
    print(f"no-JS page       : {page_time * 1000:7.1f} ms  {len(page_body):>10,} bytes")

    widget = (args.project / "themes" / "confreres" / "static" / "js" / "comments.js").read_bytes()
    html = PAGE.format(url=post, api=base + "comments/api/").encode()

    @Request.application
    def blog(request):
        if request.path == "/comments.js":
            return Response(widget, mimetype="text/javascript")
        return Response(html, mimetype="text/html")

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", port, DispatcherMiddleware(blog, {"/comments": app}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
            times, shown = [], 0
            for _ in range(args.runs):
                page = browser.new_page()
                cache.clear()
                page.goto(base + "blog/billet.html", wait_until="commit")
                # the widget replaces .comments-live in one go: done when its articles are there
                page.wait_for_function("document.querySelectorAll('.comments-live article').length > 0", timeout=120_000)
                times.append(page.evaluate("performance.now()") / 1000)
                shown = page.evaluate("document.querySelectorAll('.comments-live article').length")
                page.close()
            browser.close()
        print(f"widget render    : {statistics.median(times) * 1000:7.1f} ms  ({shown:,} comments shown)")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
