"""What the shared rate limits cost a thread read, under gunicorn (run by hand).

Every read now spends the client's read budget in the rate-limit storage that all workers share. Five
copies of the service run side by side under the same gunicorn (2 sync workers each, the same thread of
comments), and wrk reads the thread from each in turn, interleaved, from 2,000 client addresses
(X-Forwarded-For behind CONFRERES_PROXY_FIX=1, so budgets are per reader as in production, none spent):

  before     with --before DIR: the service of another checkout (e.g. `git worktree add /tmp/before 4c415c8`,
             the commit before the shared limits: Flask-Limiter, memory://, moving window)
  off        CONFRERES_RATE_LIMIT=off: no limiter at all (the ceiling)
  memory     memory://, moving window: per worker (2x too loose with 2 workers), the old storage
  moving     the default: the SQLite file beside the database, moving window (one row per hit in the window)
  sliding    the SQLite file, sliding window counter (two counters per client)
  fixed      the SQLite file, fixed window

    .venv/bin/python bench/ratelimits.py [--before DIR] [--duration 8] [--repeat 3] [--connections 16]

Needs wrk (Debian: apt-get install -y wrk). Prints requests/s (median of the runs), p99 and the ratio
to `before` (or `memory` without --before) and to `off`. First, since wall-clock rates swing on a shared machine, the CPU time
of one read in process (Flask's test client, the same five configurations, `time.process_time`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path


def _bench_module(name: str):
    """bench/<name>.py by path: bench/ on sys.path would shadow the `comments` and `planet` plugin packages."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).resolve().parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _bench_module("comments")  # bench/comments.py: gunicorn, wrk and their clean-up

ROOT = kit.ROOT
CONFIGS = {
    "before": {},  # only with --before DIR: that checkout's code (Flask-Limiter, memory://, moving window)
    "off": {"CONFRERES_RATE_LIMIT": "off"},
    "memory": {"CONFRERES_RATE_LIMIT_STORAGE": "memory://", "CONFRERES_RATE_LIMIT_STRATEGY": "moving-window"},
    "moving": {},
    "sliding": {"CONFRERES_RATE_LIMIT_STRATEGY": "sliding-window-counter"},
    "fixed": {"CONFRERES_RATE_LIMIT_STRATEGY": "fixed-window"},
}
READERS = 2000

XFF_SCRIPT = f"""
math.randomseed(os.time())
request = function()
  local n = math.random(0, {READERS - 1})
  return wrk.format("GET", nil, {{["X-Forwarded-For"] = "10.0." .. math.floor(n / 256) .. "." .. (n % 256)}})
end
"""


def seeded_database(tmp: Path, network_file: Path, comments: int) -> Path:
    """A migrated database with one thread of `comments` comments, written through the service's API."""
    sys.path.insert(0, str(ROOT))
    from comments_service import create_app
    from comments_service.actions.posts import sync_posts
    from comments_service.core.db import connect

    db_path = tmp / "seed.sqlite3"
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "NETWORK": str(network_file), "DB": str(db_path),
                      "RATE_LIMIT": "off", "MODERATION": "none", "MAIL_SEND": "cron"})
    db = connect(str(db_path))
    sync_posts(db, app.extensions["confreres_network"], "dr-bench", {"posts": [{"url": kit.POST_URL, "title": "Gardes"}]})
    db.close()
    client = app.test_client()
    for i in range(comments):
        body = {"url": kit.POST_URL, "text": kit.text_for(i), "author": f"Dr Lecteur {i}"}
        assert client.post("/api/comments", json=body).status_code == 201
    return db_path


def cpu_per_read(network_file: Path, seed: Path, folder: Path, configs: dict, reads: int,
                 projects: dict) -> dict[str, float]:
    """Microseconds of CPU per thread read in process, for each configuration (best of 3 rounds); each in its
    own Python process, which imports the service from the configuration's checkout."""
    cost = {}
    for name, extra in configs.items():
        target = folder / f"cpu-{name}"
        target.mkdir()
        copy_database(seed, target / "comments.sqlite3")
        config = {"SECRET_KEY": "bench", "NETWORK": str(network_file), "DB": str(target / "comments.sqlite3"),
                  "MAIL_SEND": "cron", **{key.removeprefix("CONFRERES_"): value for key, value in extra.items()}}
        probe = subprocess.run(
            [sys.executable, __file__, "--probe", json.dumps({"config": config, "reads": reads})],
            env={**os.environ, "PYTHONPATH": str(projects.get(name, ROOT))}, capture_output=True, text=True,
            check=True, timeout=600,
        )
        cost[name] = float(probe.stdout.split()[-1])
    return cost


def probe(spec: dict) -> float:
    """The in-process measure, run as `--probe JSON` by cpu_per_read."""
    from comments_service import create_app

    client = create_app(spec["config"]).test_client()
    reads, rounds = spec["reads"], []
    for _ in range(3):
        start = time.process_time()
        for i in range(reads):
            address = f"10.1.{i % READERS // 256}.{i % 256}"
            response = client.get("/api/comments", query_string={"url": kit.POST_URL},
                                  environ_base={"REMOTE_ADDR": address})
            assert response.status_code == 200, response.status_code
        rounds.append((time.process_time() - start) / reads * 1e6)
    return min(rounds)


def copy_database(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=8, help="seconds of each measured run")
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration, interleaved; median shown")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--comments", type=int, default=50, help="comments in the thread read")
    parser.add_argument("--reads", type=int, default=2000, help="reads per round of the in-process measure")
    parser.add_argument("--cpu-only", action="store_true", help="only the in-process measure (no gunicorn, no wrk)")
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with (configuration `before`)")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="*", choices=list(CONFIGS), help="measure only these configurations")
    args = parser.parse_args()
    if args.probe:
        print(f"{probe(json.loads(args.probe)):.1f}")
        return 0
    if not args.cpu_only and not shutil.which("wrk"):
        print("wrk is missing: install it with `apt-get install -y wrk` (Debian), then run this again.")
        return 2

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    kit.OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-limits-", dir=kit.OUT))
    configs = {name: CONFIGS[name] for name in (args.only or CONFIGS) if name != "before" or args.before}
    projects = {"before": args.before.resolve()} if args.before else {}
    baseline = "before" if args.before else "memory"
    try:
        network_file = tmp / "network.toml"
        network_file.write_text(
            f'[network]\nname = "Bench"\nurl = "http://bench.example/"\ncomments_url = "http://127.0.0.1/"\n'
            f'[[sites]]\nslug = "dr-bench"\ntitle = "Bench"\nauthor = "Dr Bench"\nurl = "{kit.SITE_URL}"\n',
            encoding="utf-8",
        )
        seed = seeded_database(tmp, network_file, args.comments)
        load_before = os.getloadavg()[0]
        print(f"Machine: {os.cpu_count()} cores, load {load_before:.1f} (shared: figures are noisy, compare the "
              f"ratios); gunicorn {args.workers} x {args.worker_class}; wrk {args.connections} connections, "
              f"{READERS} client addresses; thread of {args.comments} comments", flush=True)
        cpu = cpu_per_read(network_file, seed, tmp, configs, args.reads, projects)
        print(f"\nCPU per thread read, in process ({args.reads} reads, best of 3):")
        for name, micros in cpu.items():
            extra = f"  {micros - cpu[baseline]:+.0f} µs, {micros / cpu[baseline]:.2f}x vs {baseline}" if baseline in cpu else ""
            print(f"  {name:10} {micros:7.0f} µs{extra}")
        print(flush=True)
        if args.cpu_only:
            return 0
        script = tmp / "xff.lua"
        script.write_text(XFF_SCRIPT, encoding="utf-8")
        urls = {}
        for name, extra in configs.items():
            folder = tmp / name
            folder.mkdir()
            copy_database(seed, folder / "comments.sqlite3")
            env = {**os.environ, "PYTHONPATH": str(projects.get(name, ROOT)), "CONFRERES_NETWORK": str(network_file),
                   "CONFRERES_DB": str(folder / "comments.sqlite3"), "CONFRERES_SECRET_KEY": "bench-" + os.urandom(8).hex(),
                   "CONFRERES_PROXY_FIX": "1", "CONFRERES_MAIL_SEND": "cron", **extra}
            port = kit.free_port()
            query = "/api/comments?url=" + urllib.parse.quote(kit.POST_URL, safe="")
            kit.start(name, kit.gunicorn(kit.OUR_VENV_BIN, "comments_service:create_app()", port, args), env, port,
                      "/static/none", folder / "gunicorn.log")
            urls[name] = f"http://127.0.0.1:{port}{query}"
        for url in urls.values():
            kit.run_wrk(url, args, args.warmup, script)
        runs: dict[str, list[dict]] = {name: [] for name in urls}
        for r in range(args.repeat):
            for name, url in urls.items():
                run = kit.run_wrk(url, args, args.duration, script)
                runs[name].append(run)
                print(f"  {r + 1}/{args.repeat} {name}: {run['rps']:.0f}/s, p99 {run['p99_ms']:.1f} ms, "
                      f"non-2xx {run['non2xx']}", flush=True)
        results = {name: kit.median_run(found) for name, found in runs.items()}
        print(f"\n{'':10} {'reads/s':>9} {'p99 ms':>8} {'vs ' + baseline:>10} {'vs off':>8}   runs")
        def ratio(name, other):
            return f"{results[name]['rps'] / results[other]['rps']:.2f}x" if other in results else "-"

        for name, result in results.items():
            spread = ", ".join(f"{x:.0f}" for x in result["all_rps"])
            print(f"{name:10} {result['rps']:9.0f} {result['p99_ms']:8.1f} {ratio(name, baseline):>10} {ratio(name, 'off'):>8}"
                  f"   {spread}{'  (non-2xx: ' + str(result['non2xx']) + ')' if result['non2xx'] else ''}")
        print(f"load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    except KeyboardInterrupt:
        print("interrupted: stopping the servers", file=sys.stderr)
        return 130
    finally:
        for proc in list(kit.SERVERS):
            kit.stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
