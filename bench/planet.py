"""Benchmark of the planet's fetcher: N outside feeds served on loopback (default 300).

Measures the first fetch (every feed answers 200 with ~20 entries) and a refresh where every feed
answers 304 to the conditional GET (ETag and Last-Modified kept from the first), then the parse of every
kept copy into entries; each refresh is the median of `--repeat` runs. The server runs in its own process
(a threaded HTTP server on 127.0.0.1), so the fetcher's threads have the interpreter to themselves. Peak
memory of the fetching process: its maximum resident set (getrusage) after each step, and the peak of
Python allocations (tracemalloc) during one more refresh, untimed. Target (issue 14): at 2,000 feeds, the
refresh of 304s under 5 s.

    .venv/bin/python bench/planet.py [--feeds 300] [--entries 20] [--workers 32] [--repeat 3] [--skip-parse]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "plugins"))
sys.path.insert(0, str(PROJECT))

TARGET_REFRESH = 5.0


def make_feed(n: int, entries: int) -> bytes:
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=n)
    items = []
    for i in range(entries):
        when = (start - timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        items.append(
            f"<entry><title>Billet {i} du blog {n}</title>"
            f'<link href="https://blog-{n}.example/billet-{i}.html"/><id>urn:blog-{n}:{i}</id>'
            f"<published>{when}</published><updated>{when}</updated>"
            f'<summary type="html">&lt;p&gt;{"Une réflexion de médecin sur son métier. " * 8}&lt;/p&gt;</summary></entry>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>Blog {n}</title><link href="https://blog-{n}.example/"/><id>urn:blog-{n}</id>'
        f"<updated>{start.strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>{''.join(items)}</feed>"
    ).encode()


def serve(port_queue, feeds: int, entries: int):
    """The feed server (own process): /feed-<n>.atom with ETag and Last-Modified, 304 when they match."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bodies = {f"/feed-{n}.atom": make_feed(n, entries) for n in range(feeds)}
    last_modified = format_datetime(datetime(2025, 1, 1, tzinfo=UTC), usegmt=True)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            body = bodies.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = f'"{self.path}"'
            if self.headers.get("If-None-Match") == etag or self.headers.get("If-Modified-Since") == last_modified:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    ThreadingHTTPServer.request_queue_size = 512
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


def peak_rss_mib() -> float:
    """The process's maximum resident set so far (Linux: kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3, help="refreshes timed; the median is shown")
    parser.add_argument("--skip-parse", action="store_true",
                        help="leave out the parse of every copy into entries (~13 ms an entry, minutes at 2,000 feeds)")
    args = parser.parse_args()

    from planet import entries as E
    from planet import fetch
    from planet.generator import records_for

    queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(queue, args.feeds, args.entries), daemon=True)
    server.start()
    try:
        port = queue.get(timeout=30)
        urls = [f"http://127.0.0.1:{port}/feed-{n}.atom" for n in range(args.feeds)]
        options = fetch.Options(timeout=10.0, workers=args.workers)
        with tempfile.TemporaryDirectory(prefix="confreres-bench-planet-") as tmp:
            state = Path(tmp)
            t0 = time.perf_counter()
            first = fetch.refresh(urls, state, options)
            t_first = time.perf_counter() - t0
            rss_first = peak_rss_mib()
            runs = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                again = fetch.refresh(urls, state, options)
                runs.append(time.perf_counter() - t0)
                if not all(r.outcome == "not-modified" for r in again.values()):
                    break
            t_refresh = statistics.median(runs)
            rss_refresh = peak_rss_mib()
            tracemalloc.start()
            fetch.refresh(urls, state, options)
            heap_peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()

            def parse_all():
                t0 = time.perf_counter()
                found, seen = [], {}
                for n, url in enumerate(urls):
                    source = E.Source(key=f"ext-{n}", kind="outside", title=f"Blog {n}", feed_url=url)
                    body = fetch.last_good_copy(state, url).read_bytes()
                    _home, records, _skipped = records_for(body, source, state)
                    found += E.dated(records, source, seen)
                return time.perf_counter() - t0, E.newest_first(E.dedupe(found))

            if not args.skip_parse:
                t_parse, kept = parse_all()  # first build after the first fetch: every feed parsed
                t_cached, _ = parse_all()  # after a refresh of 304s: records from the cache

        outcomes = lambda results: {o: sum(1 for r in results.values() if r.outcome == o)  # noqa: E731
                                    for o in sorted({r.outcome for r in results.values()})}
        size = len(make_feed(0, args.entries))
        print(f"planet fetch benchmark: {args.feeds} feeds x {args.entries} entries (~{size // 1024} KiB each), "
              f"{args.workers} threads, loopback")
        print(f"  first fetch (200):     {t_first:6.2f} s   {outcomes(first)}")
        print(f"  refresh (all 304):     {t_refresh:6.2f} s   {outcomes(again)}   target <= {TARGET_REFRESH:.0f} s: "
              f"{'OK' if t_refresh <= TARGET_REFRESH else 'MISSED'}   (median of "
              + ", ".join(f"{r:.2f}" for r in runs) + ")")
        if not args.skip_parse:
            print(f"  entries, first build (parse + sanitise): {t_parse:6.2f} s   ({len(kept)} entries)")
            print(f"  entries, after the 304 refresh (cached): {t_cached:6.2f} s")
        print(f"  refresh vs first fetch: {t_first / t_refresh:.1f}x faster")
        print(f"  peak memory of the fetching process: {rss_first:.0f} MiB resident after the first fetch, "
              f"{rss_refresh:.0f} MiB after the refreshes, {peak_rss_mib():.0f} MiB after the parse; "
              f"Python allocations during one refresh: {heap_peak:.1f} MiB at most (tracemalloc)")
        return 0 if t_refresh <= TARGET_REFRESH and all(r.outcome == "not-modified" for r in again.values()) else 1
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    sys.exit(main())
