"""Benchmark of the comment service against Isso 0.14 and against the stack's ceiling (run by hand).

Same machine, same server for the three: gunicorn (same version, same worker class, same number of
workers), loopback only, driven by wrk.

  1. reads: one thread of 200 comments (some replies, Markdown text), seeded on each side through its
     own HTTP API; requests/s and p99 latency at 32 concurrent connections for a bounded time;
  2. writes: POST of new comments for a bounded time (each body unique); requests/s; afterwards every
     acknowledged comment (its id read from each 201 answer) must be in the database: none lost;
  3. widget: bytes gzipped (-9) of themes/confreres/static/js/comments.js, minified as the build serves it
     (confreres.releases.minified_js), vs Isso's embed.min.js, as installed by the isso package;
  4. ceiling: a bare Flask endpoint under the same gunicorn returning the same JSON bytes as our read.

Isso 0.14 from PyPI lives in its own virtual environment (bench/out/isso-venv, created when missing);
its configuration is a temporary file with moderation off and its guard (rate limits) off. Ours runs
with CONFRERES_RATE_LIMIT=off and CONFRERES_MODERATION=none. Targets: reads >= 50% of the ceiling with
p99 < 50 ms; writes >= 3x Isso (issue 14) with no acknowledged comment lost.

    .venv/bin/python bench/comments.py [--duration 10] [--connections 32] [--workers 2] [--comments 200]

Needs wrk (Debian: apt-get install -y wrk). Every server is stopped and the temporary folder removed
at the end, also on Ctrl+C or an error.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from _helpers import SERVERS, free_port, start, stop

from confreres.releases import minified_js

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
ISSO_VENV = OUT / "isso-venv"
ISSO_VERSION = "0.14.0"
OUR_VENV_BIN = Path(sys.executable).parent
WIDGET = ROOT / "themes" / "confreres" / "static" / "js" / "comments.js"
SITE_URL = "http://blog.bench/"
POST_URL = SITE_URL + "billet.html"
POST_PATH = "/billet.html"

PHRASES = [
    "Merci pour ce billet sur les **gardes de nuit** en zone rurale.",
    "Je partage votre constat : la régulation du 15 est saturée le week-end.",
    "Avez-vous lu le rapport de la [DREES](https://drees.solidarites-sante.gouv.fr/) sur la démographie médicale ?",
    "Dans mon cabinet, nous avons mis en place une *maison de garde* avec trois confrères.",
    "- le temps de trajet\n- la sécurité la nuit\n- la fatigue du lendemain",
    "La question du secret médical dans les échanges en ligne mérite un billet à elle seule.",
    "Les internes que j'accueille en stage découvrent la médecine de campagne avec plaisir.",
    "`CCAM` et nomenclature : rien n'a changé depuis 2019, hélas.",
    "> La continuité des soins est une obligation déontologique.\n\nOui, mais collective, pas individuelle.",
]



# -- helpers ---------------------------------------------------------------------------------------

def text_for(n: int) -> str:
    picks = [PHRASES[(n * 7 + k) % len(PHRASES)] for k in range(3)]
    return f"Commentaire n° {n}. " + "\n\n".join(picks)


def http(method: str, url: str, body: dict | None = None, timeout: float = 30) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def gunicorn(bin_dir: Path, app: str, port: int, args) -> list[str]:
    return [str(bin_dir / "gunicorn"), "--workers", str(args.workers), "--worker-class", args.worker_class,
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "60", app]


# -- wrk -------------------------------------------------------------------------------------------

def drain(url: str) -> None:
    """Wait until the server has answered the requests wrk left queued when it stopped (sync workers
    finish every accepted connection): the probe is served after them."""
    http("GET", url, timeout=120)


def run_wrk(url: str, args, seconds: float, script: Path | None = None, probe: str | None = None) -> dict:
    argv = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds:g}s",
            "--timeout", "10s", "--latency"]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(url)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    drain(probe or url)
    out = proc.stdout
    if proc.returncode != 0:
        raise SystemExit(f"wrk failed: {proc.stderr or out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rps,
        "requests": total,
        "p99_ms": float(p99.group(1)) * factor[p99.group(2)] if p99 else float("nan"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "raw": out,
    }


def write_script(folder: Path, body: dict) -> Path:
    """A wrk script that POSTs `body` (UNIQUE replaced per request) and writes the acknowledged ids at the end.

    Each wrk thread keeps its ids and status counts in its own Lua state; `done()` (main state) reads
    them with thread:get and writes them out once, so nothing slows the measured run.
    """
    folder.mkdir(parents=True, exist_ok=True)
    template = json.dumps(body, ensure_ascii=False).replace("]]", "] ]")
    lua = f"""
local threads = {{}}
function setup(thread)
  thread:set("tag", tostring(#threads + 1) .. "-" .. tostring(os.time()))
  table.insert(threads, thread)
end
counter = 0
ids = {{}}
statuses = {{}}
local template = [[{template}]]
function request()
  counter = counter + 1
  local body = string.gsub(template, "UNIQUE", tag .. "-" .. counter)
  return wrk.format("POST", nil, {{["Content-Type"] = "application/json"}}, body)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 or status == 202 then
    local id = string.match(body, '"id":%s*(%d+)')
    if id then ids[#ids + 1] = id end
  end
end
function done(summary, latency, requests)
  local f = io.open("{folder}/ids.txt", "w")
  local s = io.open("{folder}/status.txt", "w")
  for _, thread in ipairs(threads) do
    for _, id in ipairs(thread:get("ids")) do f:write(id, "\\n") end
    for code, n in pairs(thread:get("statuses")) do s:write(code, " ", n, "\\n") end
  end
  f:close()
  s:close()
end
"""
    path = folder / "write.lua"
    path.write_text(lua, encoding="utf-8")
    return path


def read_acks(folder: Path) -> tuple[list[int], dict[int, int]]:
    ids: list[int] = []
    statuses: dict[int, int] = {}
    for path in folder.glob("ids*.txt"):
        ids += [int(x) for x in path.read_text().split() if x.strip()]
    for path in folder.glob("status*.txt"):
        for line in path.read_text().splitlines():
            if line.strip():
                code, n = line.split()
                statuses[int(code)] = statuses.get(int(code), 0) + int(n)
    return ids, statuses


# -- the three servers -----------------------------------------------------------------------------

def ensure_isso_venv() -> Path:
    bin_dir = ISSO_VENV / "bin"
    if not (bin_dir / "python").exists():
        print(f"Creating {ISSO_VENV} (isso=={ISSO_VERSION}) ...", flush=True)
        subprocess.run([sys.executable if not shutil.which("python3") else "python3", "-m", "venv", str(ISSO_VENV)],
                       check=True)
    ours = subprocess.run([str(OUR_VENV_BIN / "gunicorn"), "--version"], capture_output=True, text=True).stdout
    version = re.search(r"([\d.]+)\)?\s*$", ours.strip()).group(1)
    probe = subprocess.run([str(bin_dir / "python"), "-c", "import isso, gunicorn; print(gunicorn.__version__)"],
                           capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip() != version:
        subprocess.run([str(bin_dir / "pip"), "install", "-q", f"isso=={ISSO_VERSION}", f"gunicorn=={version}"],
                       check=True)
    return bin_dir


def our_server(tmp: Path, args) -> tuple[subprocess.Popen, int, dict]:
    sys.path.insert(0, str(ROOT))
    from comments_service.actions.posts import sync_posts
    from comments_service.core.db import connect
    from comments_service.core.migrations import migrate
    from confreres import registry

    network_file = tmp / "network.toml"
    network_file.write_text(
        f'[network]\nname = "Bench"\nurl = "http://bench.example/"\ncomments_url = "http://127.0.0.1/"\n'
        f'[[sites]]\nslug = "dr-bench"\ntitle = "Bench"\nauthor = "Dr Bench"\nurl = "{SITE_URL}"\n',
        encoding="utf-8",
    )
    db_path = tmp / "ours.sqlite3"
    db = connect(str(db_path))
    migrate(db)
    sync_posts(db, registry.load(network_file), "dr-bench",
                     {"posts": [{"url": POST_URL, "title": "Les gardes de nuit"}]})
    db.close()
    env = {**os.environ, "CONFRERES_NETWORK": str(network_file), "CONFRERES_DB": str(db_path),
           "CONFRERES_SECRET_KEY": "bench-" + os.urandom(16).hex(), "CONFRERES_RATE_LIMIT": "off",
           "CONFRERES_MODERATION": "none", "PYTHONPATH": str(ROOT)}
    port = free_port()
    proc = start("our service", gunicorn(OUR_VENV_BIN, "comments_service:create_app()", port, args), env,
                 f"http://127.0.0.1:{port}/api/counts?url=" + urllib.parse.quote(POST_URL, safe=""), tmp / "ours.log")
    return proc, port, {"db": db_path}


def isso_server(tmp: Path, args, bin_dir: Path) -> tuple[subprocess.Popen, int, dict]:
    port = free_port()
    db_path = tmp / "isso.sqlite3"
    config = tmp / "isso.cfg"
    config.write_text(
        f"""[general]
dbpath = {db_path}
host = {SITE_URL}
notify = stdout
reply-notifications = false
gravatar = false
log-file = {tmp / "isso-app.log"}
[admin]
enabled = false
[moderation]
enabled = false
[server]
listen = http://127.0.0.1:{port}/
[guard]
enabled = false
ratelimit = 1000000
direct-reply = 1000000
reply-to-self = true
require-author = false
require-email = false
[hash]
salt = {os.urandom(8).hex()}
""",
        encoding="utf-8",
    )
    env = {**os.environ, "ISSO_SETTINGS": str(config)}
    env.pop("PYTHONPATH", None)
    proc = start("Isso", gunicorn(bin_dir, "isso.run", port, args), env, f"http://127.0.0.1:{port}/info",
                 tmp / "isso.log")
    return proc, port, {"db": db_path}


CEILING_APP = '''
from pathlib import Path
from flask import Flask, Response
BODY = Path(__file__).with_name("thread.json").read_bytes()
app = Flask(__name__)
@app.get("/thread")
def thread():
    return Response(BODY, mimetype="application/json")
'''


def ceiling_server(tmp: Path, args, body: bytes) -> tuple[subprocess.Popen, int]:
    (tmp / "thread.json").write_bytes(body)
    (tmp / "ceiling_app.py").write_text(CEILING_APP, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(tmp)}
    proc = start("bare Flask", gunicorn(OUR_VENV_BIN, "ceiling_app:app", port, args), env,
                 f"http://127.0.0.1:{port}/thread", tmp / "ceiling.log")
    return proc, port


# -- seeding ---------------------------------------------------------------------------------------

def seed(post, n: int) -> list[int]:
    """n comments through the server's own API; every 4th one replies to an earlier comment."""
    ids: list[int] = []
    for i in range(n):
        parent = ids[(i * 3) % len(ids)] if ids and i % 4 == 3 else None
        status, raw = post(i, parent)
        if status not in (201, 202):
            raise SystemExit(f"seeding failed at comment {i}: {status} {raw[:300]!r}")
        ids.append(raw)
    return ids


# -- main ------------------------------------------------------------------------------------------

def median_run(runs: list[dict]) -> dict:
    """The run of median throughput, with every run's rate kept for the spread."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["all_rps"] = [r["rps"] for r in runs]
    chosen["non2xx"] = sum(r["non2xx"] for r in runs)
    chosen["errors"] = sum(r["errors"] for r in runs)
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of each measured run (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up before the read runs")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure, interleaved; the median is shown")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, the same for all")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class, the same for all")
    parser.add_argument("--comments", type=int, default=200, help="comments in the read thread")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    args = parser.parse_args()

    if not shutil.which("wrk"):
        print("wrk is missing: install it with `apt-get install -y wrk` (Debian), then run this again.")
        return 2
    if not (OUR_VENV_BIN / "gunicorn").exists():
        print(f"gunicorn is missing from {OUR_VENV_BIN}: pip install -e '.[test]'")
        return 2

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-comments-", dir=OUT))
    try:
        isso_bin = ensure_isso_venv()
        load_before = os.getloadavg()[0]
        print(f"Machine: {os.cpu_count()} cores, load {load_before:.1f}; gunicorn {args.workers} x "
              f"{args.worker_class} workers; wrk {args.threads} threads, {args.connections} connections; "
              f"{args.repeat} x {args.duration:g} s per measure, interleaved", flush=True)

        # the three servers, seeded; idle while another is measured
        ours_proc, port, ours_info = our_server(tmp, args)
        ours_base = f"http://127.0.0.1:{port}"

        def post_ours(i, parent):
            body = {"url": POST_URL, "text": text_for(i), "author": f"Dr Lecteur {i}", "email": f"l{i}@example.org"}
            if parent:
                body["parent"] = parent
            status, raw = http("POST", ours_base + "/api/comments", body)
            return status, json.loads(raw)["comment"]["id"] if status == 201 else raw

        seed(post_ours, args.comments)
        ours_read = ours_base + "/api/comments?url=" + urllib.parse.quote(POST_URL, safe="")
        status, thread_body = http("GET", ours_read)
        assert status == 200 and json.loads(thread_body)["total"] == args.comments, status
        print(f"ours: thread of {args.comments} comments, {len(thread_body)} bytes of JSON", flush=True)

        ceiling_proc, port = ceiling_server(tmp, args, thread_body)
        ceiling_read = f"http://127.0.0.1:{port}/thread"

        isso_proc, port, isso_info = isso_server(tmp, args, isso_bin)
        isso_base = f"http://127.0.0.1:{port}"
        isso_new = isso_base + "/new?uri=" + urllib.parse.quote(POST_PATH)

        def post_isso(i, parent):
            body = {"text": text_for(i), "author": f"Dr Lecteur {i}", "email": f"l{i}@example.org",
                    "title": "Les gardes de nuit"}
            if parent:
                body["parent"] = parent
            status, raw = http("POST", isso_new, body)
            return status, json.loads(raw)["id"] if status in (201, 202) else raw

        seed(post_isso, args.comments)
        isso_read = isso_base + "/?uri=" + urllib.parse.quote(POST_PATH)
        status, isso_body = http("GET", isso_read, timeout=60)
        isso_doc = json.loads(isso_body)
        shown = len(isso_doc["replies"]) + sum(len(r.get("replies", [])) for r in isso_doc["replies"])
        assert status == 200 and shown == args.comments, (status, shown)
        print(f"isso: thread of {shown} comments, {len(isso_body)} bytes of JSON (Markdown rendered at each read)",
              flush=True)

        # reads, interleaved so that any outside load falls on every side alike
        reads = {"ours": ours_read, "ceiling": ceiling_read, "isso": isso_read}
        read_runs: dict[str, list[dict]] = {name: [] for name in reads}
        for url in reads.values():
            run_wrk(url, args, args.warmup)
        for r in range(args.repeat):
            for name, url in reads.items():
                run = run_wrk(url, args, args.duration)
                read_runs[name].append(run)
                print(f"  read {r + 1}/{args.repeat} {name}: {run['rps']:.1f}/s, p99 {run['p99_ms']:.1f} ms", flush=True)

        # writes, interleaved; every acknowledged id is kept
        writes = {
            "ours": (ours_base + "/api/comments", {"url": POST_URL, "text": "Écriture UNIQUE : *merci* pour ce billet.",
                                                   "author": "Dr Bench", "email": "bench@example.org"}, ours_read),
            "isso": (isso_new, {"text": "Écriture UNIQUE : *merci* pour ce billet.", "author": "Dr Bench",
                                "email": "bench@example.org"}, isso_base + "/info"),
        }
        write_runs: dict[str, list[dict]] = {name: [] for name in writes}
        for r in range(args.repeat):
            for name, (url, body, probe) in writes.items():
                script = write_script(tmp / f"acks-{name}-{r}", body)
                run = run_wrk(url, args, args.duration, script, probe=probe)
                write_runs[name].append(run)
                print(f"  write {r + 1}/{args.repeat} {name}: {run['rps']:.1f}/s", flush=True)
        for proc in (ours_proc, ceiling_proc, isso_proc):
            stop(proc)

        results: dict[str, dict] = {name: {"read": median_run(runs)} for name, runs in read_runs.items()}
        for name, runs in write_runs.items():
            results[name]["write"] = median_run(runs)
            ids: list[int] = []
            statuses: dict[int, int] = {}
            for r in range(args.repeat):
                got, codes = read_acks(tmp / f"acks-{name}-{r}")
                ids += got
                for code, n in codes.items():
                    statuses[code] = statuses.get(code, 0) + n
            info = ours_info if name == "ours" else isso_info
            conn = sqlite3.connect(info["db"])
            where = " WHERE status = 'approved'" if name == "ours" else " WHERE mode = 1"
            stored = {row[0] for row in conn.execute("SELECT id FROM comments" + where)}
            conn.close()
            results[name]["write"].update(acked=len(ids), lost=len(set(ids) - stored), statuses=statuses)

        ours_js = minified_js(WIDGET.read_bytes())  # as served (confreres.releases.theme_static)
        isso_js = next(ISSO_VENV.glob("lib/python*/site-packages/isso/js/embed.min.js")).read_bytes()
        widget = {"ours": len(gzip.compress(ours_js, 9)), "isso": len(gzip.compress(isso_js, 9))}
        raw_sizes = {"ours": len(ours_js), "isso": len(isso_js)}
        report(results, widget, raw_sizes, args)
        print(f"load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (other processes on the "
              "machine count against every side alike)")
    except KeyboardInterrupt:
        print("interrupted: stopping the servers", file=sys.stderr)
        return 130
    finally:
        for proc in list(SERVERS):
            stop(proc)
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def report(results: dict, widget: dict, raw_sizes: dict, args) -> None:
    ours, isso, ceiling = results["ours"], results["isso"], results["ceiling"]

    def ratio(a, b):
        return f"{a / b:.2f}x" if b else "-"

    read_share = ours["read"]["rps"] / max(ceiling["read"]["rps"], 1e-9)
    rows = [
        ("reads (requests/s)", f"{ours['read']['rps']:.0f}", f"{isso['read']['rps']:.1f}",
         f"{ceiling['read']['rps']:.0f}", ratio(ours["read"]["rps"], isso["read"]["rps"]),
         f"{100 * read_share:.0f}%"),
        ("reads p99 (ms)", f"{ours['read']['p99_ms']:.1f}", f"{isso['read']['p99_ms']:.0f}",
         f"{ceiling['read']['p99_ms']:.1f}", ratio(ours["read"]["p99_ms"], isso["read"]["p99_ms"]),
         ratio(ours["read"]["p99_ms"], ceiling["read"]["p99_ms"])),
        ("writes (requests/s)", f"{ours['write']['rps']:.0f}", f"{isso['write']['rps']:.0f}", "-",
         ratio(ours["write"]["rps"], isso["write"]["rps"]), "-"),
        ("writes acknowledged / lost", f"{ours['write']['acked']} / {ours['write']['lost']}",
         f"{isso['write']['acked']} / {isso['write']['lost']}", "-", "-", "-"),
        ("widget (bytes gzip -9)", f"{widget['ours']}", f"{widget['isso']}", "-",
         ratio(widget["ours"], widget["isso"]), "-"),
        ("widget (bytes raw)", f"{raw_sizes['ours']}", f"{raw_sizes['isso']}", "-",
         ratio(raw_sizes["ours"], raw_sizes["isso"]), "-"),
    ]
    head = ("", "ours", "isso 0.14", "ceiling", "ours/isso", "ours/ceiling")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print()
    for row in [head, *rows]:
        print("  ".join(str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
                        for i, cell in enumerate(row)))
    print()
    for name, side in (("ours", ours), ("isso", isso), ("ceiling", ceiling)):
        for kind in ("read", "write"):
            run = side.get(kind)
            if run and len(run.get("all_rps", [])) > 1:
                print(f"{name} {kind} runs (requests/s): " + ", ".join(f"{x:.1f}" for x in run["all_rps"]))
    for name, side in (("ours", ours), ("isso", isso), ("ceiling", ceiling)):
        for kind in ("read", "write"):
            run = side.get(kind)
            if run and (run["non2xx"] or run["errors"]):
                print(f"note: {name} {kind}: {run['non2xx']} non-2xx answers, {run['errors']} socket errors"
                      + (f", statuses {run.get('statuses')}" if run.get("statuses") else ""))
    read_share = ours["read"]["rps"] / max(ceiling["read"]["rps"], 1e-9)
    checks = [
        (f"reads >= 50% of the ceiling ({100 * read_share:.0f}%)", read_share >= 0.5),
        (f"read p99 < 50 ms ({ours['read']['p99_ms']:.1f} ms)", ours["read"]["p99_ms"] < 50),
        (f"writes >= 3x Isso ({ours['write']['rps'] / max(isso['write']['rps'], 1e-9):.2f}x)",
         ours["write"]["rps"] >= 3 * isso["write"]["rps"]),
        ("no acknowledged comment lost", ours["write"]["lost"] == 0 and ours["write"]["acked"] > 0),
    ]
    for label, ok in checks:
        print(f"{'✓' if ok else '✗'} {label}")


if __name__ == "__main__":
    sys.exit(main())
