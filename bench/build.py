"""Benchmark of the multi-site build at network scale (run by hand).

Generates a network of N blogs x M posts (and the planet, a copy of sites/planet) in a temporary folder,
then measures, each the median of `--repeat` runs where cheap enough:
  1. the full build (every blog, then the planet), from nothing: no output, no Pelican cache, no parsed feed;
  2. Pelican's own cost on the same posts: the `pelican` command over each blog's content (default theme,
     no plugin), `--jobs` at a time: the baseline of the full build's cost per post;
  3. the no-op build (nothing changed: no Pelican at all), the cron case;
  4. a one-post publish: a new post in one blog, that blog rebuilt + the planet;
  5. the planet build alone (forced, outside feeds not fetched).
Targets on 2 cores: one-post publish at 200 blogs within 25% of the same at 20 blogs (run both sizes and
compare); no-op build under 3 s; full build cost per post <= Pelican's own.

    .venv/bin/python bench/build.py [--sites 20] [--posts 200] [--jobs N] [--repeat 3] [--full-repeat 1]
                                    [--publish-baseline 20] [--serial] [--service]

`--full-repeat N` times the full build and Pelican's own N times each, one after the other, one pair in two
starting with Pelican's own (the machine's speed drifts: the ratio is the median of the N pairs). Before the
pairs it waits (`--disk-patience`, 420 s at most) until a new file costs what it costs on a quiet disk: on
this machine's ext4 without a journal, files created within minutes of a large deletion (the test suite's,
this bench's last run) cost up to ten times the system time; the cost is printed before and after the pairs. `--publish-baseline K` (default 20, when fewer than `--sites`)
also generates a network of K blogs with as many posts each and times its one-post publish in the same run,
alternating with the big network's (`--repeat` pairs): the baseline of the publish target. `--serial` also times the full build in one process at a time.
The comment service is not running (its address refuses connections): every build says it is down. With
`--service`, each network has its own (gunicorn, 2 workers, an SQLite file, its posts announced after the full
build): the publishes then ask it what they ask in production (blogs and versions, comment counts, debates).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import _helpers  # noqa: E402

from confreres import build, planet_build, registry  # noqa: E402

WORDS = (
    "patient consultation garde territoire soins médecin confrère prévention hôpital cabinet visite urgence "
    "ordonnance dossier secret formation interne équipe nuit pratique temps écoute famille enfant douleur "
    "organisation santé publique village ville réseau relation confiance"
).split()
CATEGORIES = ["Pratique", "Organisation des soins", "Éthique", "Formation"]
TAGS = ["garde", "territoire", "prévention", "internat", "hôpital", "écoute", "secret", "équipe"]
PELICAN_CONF = 'SITENAME = "Bench"\nTIMEZONE = "Europe/Paris"\nDEFAULT_LANG = "fr"\nRELATIVE_URLS = True\n'


def paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def generate(root: Path, sites: int, posts: int, comments_url: str = "http://127.0.0.1:9/") -> registry.Network:
    rng = random.Random(42)
    lines = [f'[network]\nname = "Bench"\nurl = "http://127.0.0.1:8000/"\ncomments_url = "{comments_url}"\n']
    for s in range(sites):
        slug = f"dr-{s:03d}"
        lines.append(f'[[sites]]\nslug = "{slug}"\ntitle = "Blog {s}"\nauthor = "Dr {s}"\nurl = "http://127.0.0.1:8000/{slug}/"\n')
        content = root / "sites" / slug / "content"
        (content / "pages").mkdir(parents=True)
        (content / "pages" / "a-propos.md").write_text("Title: À propos\n\nPrésentation.\n", encoding="utf-8")
        for p in range(posts):
            body = "\n\n".join(paragraph(rng, 60) for _ in range(5))
            date = f"20{24 + p % 2}-{1 + p % 12:02d}-{1 + p % 28:02d} 0{p % 10}:00"
            tags = ", ".join(rng.sample(TAGS, 3))
            (content / f"billet-{p}.md").write_text(
                f"Title: Billet {p} du blog {s}\nDate: {date}\nCategory: {rng.choice(CATEGORIES)}\nTags: {tags}\n"
                f"Slug: {slug}-billet-{p}\n\n## Intertitre\n\n{body}\n",
                encoding="utf-8",
            )
    shutil.copytree(PROJECT / "sites" / "planet", root / "sites" / "planet")
    (root / "network.toml").write_text("\n".join(lines), encoding="utf-8")
    return registry.load(root / "network.toml")


class Service:
    """The comment service of a generated network, under gunicorn on a loopback port (`--service`)."""

    def __init__(self, root: Path):
        self.root, self.port, self.proc = root, _helpers.free_port(), None
        self.url = f"http://127.0.0.1:{self.port}/"

    def start(self):
        from comments_service.core.db import connect
        from comments_service.core.migrations import migrate

        db = connect(str(self.root / "comments.sqlite3"))
        migrate(db)
        db.close()
        env = {**os.environ, "CONFRERES_NETWORK": str(self.root / "network.toml"),
               "CONFRERES_DB": str(self.root / "comments.sqlite3"), "CONFRERES_SECRET_KEY": os.urandom(16).hex(),
               "CONFRERES_RATE_LIMIT": "off", "PYTHONPATH": str(PROJECT)}
        gunicorn = Path(sys.executable).with_name("gunicorn")
        argv = [str(gunicorn), "--workers", "2", "--bind", f"127.0.0.1:{self.port}", "comments_service:create_app()"]
        self.proc = _helpers.start("the comment service", argv, env, f"{self.url}api/sites", self.root / "service.log")
        return self

    def announce(self, network: registry.Network):
        """Every blog's published posts, as a build's announce would tell them (straight into its database)."""
        import json

        from comments_service.actions.posts import sync_posts
        from comments_service.core.db import connect

        db = connect(str(self.root / "comments.sqlite3"))
        for site in network.sites:
            listed = json.loads((Path(network.output) / site.slug / "posts.json").read_text(encoding="utf-8"))
            sync_posts(db, network, site.slug, {"posts": listed["posts"]})
        db.close()

    def stop(self):
        if self.proc is not None:
            _helpers.stop(self.proc)


def check(label: str, results) -> None:
    failed = [r.error for r in results if not r.ok]
    planet = getattr(results, "planet", None)
    if planet is not None and not planet.ok:
        failed.append(planet.error)
    if failed:
        raise SystemExit(f"{label}: build failed: {failed[0]}")


def timed(label: str, func, repeat: int = 1, before=None) -> float:
    """The median of `repeat` runs of `func` (each after `before`, untimed); printed with min and max."""
    runs = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        results = func()
        runs.append(time.perf_counter() - start)
        if results is not None:
            check(label, results)
    median = statistics.median(runs)
    spread = f"  (min {min(runs):.2f}, max {max(runs):.2f}, {repeat} runs)" if repeat > 1 else ""
    print(f"{label:<52} {median:8.2f} s{spread}", flush=True)
    return median


def set_aside(path: Path, root: Path) -> None:
    """Move `path` into `root/.trash` (deleted with the network at the end) instead of deleting it now.

    Each full build (and Pelican's own) starts from nothing, as the first build of a network does. Deleting the
    previous run's ~15,000 files just before would make this run pay for them: on ext4 without a journal (this
    machine's disk) each new inode is searched past every inode freed in the last minutes (`recently_deleted`),
    which `perf` showed as most of Pagefind's time after an `rm -rf`. A first build pays nothing of the kind."""
    if path.exists():
        trash = root / ".trash"
        trash.mkdir(exist_ok=True)
        path.rename(trash / f"{path.name}-{len(list(trash.iterdir()))}")


PROBE_FILES = 500
QUIET_MS_PER_FILE = 0.1  # a new file's system time on this disk when nothing was deleted nearby: 0.03 to 0.05 ms


def file_creation_ms(root: Path) -> float:
    """System time (ms) a new 20 KB file costs in `root` now: 500 created in a folder that is kept (deleting them
    would be the very thing it measures)."""
    import resource

    probes = root / ".probes"
    folder = probes / str(len(list(probes.iterdir())) if probes.exists() else 0)
    folder.mkdir(parents=True)
    data = b"x" * 20_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    for n in range(PROBE_FILES):
        (folder / f"{n}.html").write_bytes(data)
    return 1000 * (resource.getrusage(resource.RUSAGE_SELF).ru_stime - before) / PROBE_FILES


def wait_for_quiet_disk(root: Path, patience: float) -> float:
    """Wait (up to `patience` seconds) until a new file costs what it costs on a quiet disk; return that cost.

    On ext4 without a journal (this machine's disk) each new inode is searched past every inode of its block group
    freed in the last 1 to 6 minutes (the kernel's `recently_deleted`: 60 s, 360 s while the inode table's block
    is still dirty). After a large deletion — the test suite's temporary folders, the previous run of this bench —
    writing a blog's files costs up to ten times the system time for minutes (0.3 to 0.75 ms a file instead of
    0.03 to 0.05), and the full build, which writes 2.4 times as many files as Pelican's own (search index,
    paginated lists, per-tag feeds), would be timed against the disk's past instead of its own work. Disks with a
    journal (a production server's ext4) do not do this."""
    deadline = time.monotonic() + patience
    cost = file_creation_ms(root)
    while cost > QUIET_MS_PER_FILE and time.monotonic() < deadline:
        print(f"  a new file costs {cost:.2f} ms of system time here (recent deletions nearby): waiting for the "
              f"disk to forget them", flush=True)
        time.sleep(20)
        cost = file_creation_ms(root)
    return cost


def pelican_own(root: Path, network: registry.Network, jobs: int) -> None:
    """`pelican` over each blog's content, `jobs` at a time: Pelican's own cost for the same posts."""
    conf = root / "pelicanconf.py"
    conf.write_text(PELICAN_CONF, encoding="utf-8")
    pelican = Path(sys.executable).with_name("pelican")

    def one(site):
        out = root / "pelican-out" / site.slug
        proc = subprocess.run([str(pelican), str(site.path / "content"), "-o", str(out), "-s", str(conf), "-q"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"pelican failed on {site.slug}: {proc.stderr[-2000:]}")

    set_aside(root / "pelican-out", root)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, network.sites))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=3, help="runs of the no-op, publish and planet measures")
    parser.add_argument("--full-repeat", type=int, default=1, help="pairs of full build and pelican's own")
    parser.add_argument("--publish-baseline", type=int, default=20,
                        help="blogs of the smaller network whose one-post publish is the baseline (0: none)")
    parser.add_argument("--serial", action="store_true", help="also time the full build one process at a time")
    parser.add_argument("--keep", action="store_true", help="keep the generated network")
    parser.add_argument("--service", action="store_true", help="run each network's comment service (gunicorn)")
    parser.add_argument("--disk-patience", type=float, default=420,
                        help="seconds to wait at most for recent deletions to stop slowing file creation")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="confreres-bench-"))
    services: list[Service] = []

    def generated(folder: Path, sites: int) -> registry.Network:
        if not args.service:
            return generate(folder, sites, args.posts)
        services.append(Service(folder))
        network = generate(folder, sites, args.posts, services[-1].url)
        services[-1].start()
        return network

    try:
        network = generated(root, args.sites)
        total = args.sites * args.posts
        print(f"network: {args.sites} blogs x {args.posts} posts ({total} posts) + the planet in {root}; "
              f"{os.cpu_count()} cores, jobs={args.jobs}, load {os.getloadavg()[0]:.1f}", flush=True)
        cache = root / ".cache"
        out = Path(network.output)

        def full(jobs):
            set_aside(cache, root)
            set_aside(planet_build.state_dir(network), root)  # the planet's parsed feeds too
            return build.build(network, jobs=jobs, force=True, progress=False)

        cost = wait_for_quiet_disk(root, args.disk_patience)
        print(f"a new file costs {cost:.3f} ms of system time in {root} (quiet: <= {QUIET_MS_PER_FILE} ms)",
              flush=True)
        serial = timed("full build, serial", lambda: full(1)) if args.serial else None
        pairs = []
        for n in range(args.full_repeat):
            label = f" ({n + 1}/{args.full_repeat})" if args.full_repeat > 1 else ""
            made = []

            def full_kept(made=made):
                made.append(full(args.jobs))
                return made[-1]

            def ours(label=label, made=made):
                set_aside(out, root)  # each full build starts from nothing, as the first one
                parallel = timed(f"full build ({args.jobs} processes, cold cache){label}", full_kept)
                planet_part = made[-1].planet.seconds if made[-1].planet else 0.0
                print(f"  of which the planet (its search index included) {planet_part:8.2f} s", flush=True)
                return parallel, planet_part

            def theirs(label=label):
                return timed(f"pelican's own, same posts ({args.jobs} at a time){label}",
                             lambda: pelican_own(root, network, args.jobs))

            # one pair in two starts with Pelican's own: whatever drifts during a pair (the load, the disk) weighs
            # on both sides alike over the pairs, not always on the full build that runs first
            if n % 2 == 0:
                (parallel, planet_part), pelican = ours(), theirs()
            else:
                pelican = theirs()
                parallel, planet_part = ours()
            pairs.append((parallel, pelican, parallel - planet_part))
        print(f"a new file costs {file_creation_ms(root):.3f} ms of system time after the pairs", flush=True)
        parallel = statistics.median(p for p, _, _ in pairs)
        pelican = statistics.median(q for _, q, _ in pairs)
        ratio = statistics.median(p / q for p, q, _ in pairs)
        blogs_ratio = statistics.median(b / q for _, q, b in pairs)
        if args.service:
            services[0].announce(network)
            build.build(network, progress=False)  # what the service says now (its posts known) taken in
        noop = timed("no-op build (nothing changed)", lambda: build.build(network, progress=False), args.repeat)

        baseline = None
        if 0 < args.publish_baseline < args.sites:
            # the two networks' publishes alternate, as the full build and Pelican's own do: the machine's speed
            # drifts, and the ratio is of runs made side by side
            (root / "baseline").mkdir()
            small = generated(root / "baseline", args.publish_baseline)
            build.build(small, jobs=args.jobs, force=True, progress=False)
            if args.service:
                services[-1].announce(small)
                build.build(small, progress=False)
            ones, baselines, clis, cli_baselines = [], [], [], []
            for _ in range(args.repeat):
                ones.append(publish_one(network, "", 1))
                baselines.append(publish_one(small, f" of {args.publish_baseline} blogs", 1))
                clis.append(publish_one(network, ", `confreres build --site`", 1, cli=True))
                cli_baselines.append(publish_one(small, f" of {args.publish_baseline} blogs, `confreres build --site`",
                                                 1, cli=True))
            one, baseline = statistics.median(ones), statistics.median(baselines)
            publish_ratio = statistics.median(a / b for a, b in zip(ones, baselines, strict=True))
            cli_ratio = statistics.median(a / b for a, b in zip(clis, cli_baselines, strict=True))
        else:
            one = publish_one(network, "", args.repeat)
        planet = timed("planet build alone (forced, no outside fetch)",
                       lambda: _planet(network, out), args.repeat)

        print()
        if serial:
            print(f"parallel speed-up vs serial:            {serial / parallel:6.2f}x")
        ours, theirs = 1000 * parallel / total, 1000 * pelican / total
        print(f"full build per post: {ours:6.2f} ms vs pelican's own {theirs:6.2f} ms: {ratio:5.2f}x   "
              f"(median of {len(pairs)} pair(s); target <= 1.00x)")
        print(f"  the blogs alone (the full build less the planet and its search index, which pelican's own has "
              f"no part of): {blogs_ratio:5.2f}x")
        print(f"no-op build: {noop:6.2f} s   (target < 3 s)")
        print(f"one-post publish: {one:6.2f} s, of which the planet alone ~{planet:6.2f} s; "
              f"{100 * one / parallel:5.1f} % of the full build")
        if baseline:
            print(f"one-post publish at {args.sites} blogs vs {args.publish_baseline} blogs: {one:6.2f} s vs "
                  f"{baseline:6.2f} s (medians): {publish_ratio:5.2f}x   (median of {args.repeat} alternating "
                  f"pairs; target <= 1.25x)")
            print(f"  the same as a push runs it, `confreres build --site` in a new process: "
                  f"{statistics.median(clis):6.2f} s vs {statistics.median(cli_baselines):6.2f} s: {cli_ratio:5.2f}x")
    finally:
        for service in services:
            service.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept: {root}")


def publish_one(network: registry.Network, label: str, repeat: int, cli: bool = False) -> float:
    """A new post in the middle blog (the newest of the network: first on the planet, shifting its pages), that
    blog rebuilt and the planet: the median of `repeat` runs. In this process (what it keeps between builds, e.g.
    the blogs' post lists read, helps), or with `cli` as a push runs it: `confreres build --site` started anew."""
    site = network.sites[len(network.sites) // 2]

    def touch():
        date = time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() - 120))
        n = len(list((site.path / "content").glob("nouveau-*.md")))  # a new post each time, over several calls
        (site.path / "content" / f"nouveau-{n}.md").write_text(
            f"Title: Nouveau billet {n}\nDate: {date}\nCategory: Pratique\nTags: garde\n"
            f"Slug: {site.slug}-nouveau-{n}\n\nUn billet tout neuf.\n", encoding="utf-8")

    def command():
        subprocess.run([str(Path(sys.executable).with_name("confreres")), "build", "--site", site.slug, "-q",
                        "--no-announce"], env={**os.environ, "CONFRERES_NETWORK": str(network.source)},
                       check=True, capture_output=True)

    run = command if cli else (lambda: build.build(network, [site.slug], progress=False))
    return timed(f"one-post publish{label} ({site.slug}: a new post, + the planet)", run, repeat, before=touch)


def _planet(network, out):
    result = planet_build.run(network, out, fetch=False)
    if not result.ok:
        raise SystemExit(f"planet build failed: {result.error}")


if __name__ == "__main__":
    main()
