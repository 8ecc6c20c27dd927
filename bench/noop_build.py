"""Benchmark of the cron `confreres build` on the demo network (run by hand).

Copies the demo network (network.toml, sites/) into a temporary folder, serves the real comment
service on 127.0.0.1 (demo comments seeded), builds once, then times the `confreres build` command
(a fresh interpreter each run, as cron starts it):
  1. nothing changed, service up (the cron case: baseline of the comparison is `--project` of another tree);
  2. nothing changed, service down;
  3. one comment approved on one blog (that blog and the planet are rebuilt).
Each figure is the median of `--runs` runs (min and max beside it).

    .venv/bin/python bench/noop_build.py [--runs 5] [--project DIR]

`--project DIR`: run the `confreres` package of another checkout (e.g. `git archive main | tar -x -C DIR`)
against the same network and service, to compare before/after.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from werkzeug.serving import make_server  # noqa: E402

SECRET = "bench-noop-secret"


def copy_network(root: Path, comments_url: str) -> Path:
    shutil.copytree(PROJECT / "sites", root / "sites")
    text = (PROJECT / "network.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^comments_url = ".*"$', f'comments_url = "{comments_url}"', text)
    (root / "network.toml").write_text(text, encoding="utf-8")
    return root / "network.toml"


def cli(project: Path, network_file: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(project), "CONFRERES_SECRET_KEY": SECRET}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", "from confreres.cli import main; main()", "--network", str(network_file), *args],
        capture_output=True, text=True, env=env, cwd=network_file.parent,  # not the project: `-c` puts cwd first
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"confreres {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed, proc.stdout


def rebuilt(output: str) -> list[str]:
    """The blogs the CLI reports as built (not « inchangé »)."""
    return [m.group(1) for m in re.finditer(r"^✓ (\S+) \((?!inchangé)", output, re.M)]


def runs(label: str, count: int, func) -> float:
    times, built = [], set()
    for _ in range(count):
        elapsed, output = func()
        times.append(elapsed)
        built.update(rebuilt(output))
    median = statistics.median(times)
    print(f"{label:<46} median {median:6.2f} s  (min {min(times):.2f}, max {max(times):.2f}, n={count})"
          f"  rebuilt: {', '.join(sorted(built)) or 'none'}", flush=True)
    return median


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--project", type=Path, default=PROJECT, help="checkout whose confreres package is run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary network")
    args = parser.parse_args()
    project = args.project.resolve()

    from comments_service import create_app
    from comments_service.core.db import connect
    from comments_service.domain import comments as store
    from comments_service.domain import validate
    from confreres import registry
    from confreres.seed import seed_demo

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    root = Path(tempfile.mkdtemp(prefix="confreres-noop-"))
    holder = {}
    httpd = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    network_file = copy_network(root, f"http://127.0.0.1:{httpd.server_port}/")
    app = create_app({"SECRET_KEY": SECRET, "NETWORK": str(network_file), "DB": str(root / "comments.sqlite3"),
                      "RATE_LIMIT": "off", "READ_RATE_LIMIT": "off", "MAIL_DIR": str(root / "mail")})
    holder["app"] = app
    server = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    server.start()
    try:
        network = registry.load(network_file)
        print(f"demo network: {len(network.sites)} blogs + planet in {root}; {os.cpu_count()} cores; "
              f"code: {project}", flush=True)
        cli(project, network_file, "build", "-q")  # announces the posts: the service opens their threads
        seed_demo(network, app)
        cli(project, network_file, "build", "-q", "--force")  # the snapshots with the demo comments
        cli(project, network_file, "build", "-q")  # settles whatever the first runs left

        up = runs("no-op build, service up", args.runs, lambda: cli(project, network_file, "build", "-q"))

        site = network.sites[0]
        db = connect(app.config["DB"])

        made = []

        def one_comment():
            made.append(1)
            post = store.query_one(db, "SELECT * FROM posts WHERE site = ? AND listed = 1 LIMIT 1", (site.slug,))
            data = validate.CommentInput(url=post["url"], text=f"Merci pour ce billet ({len(made)}).", author="Bench",
                                         email="bench@exemple.test")
            store.add_comment(db, network, post, data, policy="none")
            return cli(project, network_file, "build", "-q")

        changed = runs(f"one comment approved on {site.slug}", args.runs, one_comment)
        db.close()

        httpd.shutdown()
        down = runs("no-op build, service down", args.runs, lambda: cli(project, network_file, "build", "-q"))
        print()
        print(f"no-op (service up) / one-comment build: {100 * up / changed:5.1f} %")
        print(f"no-op (service down) / one-comment build: {100 * down / changed:5.1f} %")
    finally:
        httpd.server_close()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
