"""Benchmark of the multi-site build (run by hand).

Generates a network of N sites x M posts in a temporary folder, then measures:
  1. the full build, serial (one process at a time), cold Pelican cache;
  2. the full build, parallel (one process per core), cold cache;
  3. a one-post publish: one post changed in one site, that site rebuilt + the network index (warm cache).
Baseline: the serial build. Targets on 2 cores: parallel >= 1.7x faster; one-post publish <= 10% of (2).

    .venv/bin/python bench/build.py [--sites 20] [--posts 200] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confreres import build, registry  # noqa: E402

WORDS = (
    "patient consultation garde territoire soins médecin confrère prévention hôpital cabinet visite urgence "
    "ordonnance dossier secret formation interne équipe nuit pratique temps écoute famille enfant douleur "
    "organisation santé publique village ville réseau relation confiance"
).split()
CATEGORIES = ["Pratique", "Organisation des soins", "Éthique", "Formation"]
TAGS = ["garde", "territoire", "prévention", "internat", "hôpital", "écoute", "secret", "équipe"]


def paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def generate(root: Path, sites: int, posts: int) -> registry.Network:
    rng = random.Random(42)
    lines = ['[network]\nname = "Bench"\nurl = "http://127.0.0.1:8000/"\ncomments_url = "http://127.0.0.1:9/"\n']
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
    (root / "network.toml").write_text("\n".join(lines), encoding="utf-8")
    return registry.load(root / "network.toml")


def timed(label: str, func) -> float:
    start = time.perf_counter()
    results = func()
    elapsed = time.perf_counter() - start
    failed = [r.error for r in results if not r.ok]
    if failed:
        raise SystemExit(f"{label}: build failed: {failed[0]}")
    print(f"{label:<44} {elapsed:8.2f} s", flush=True)
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--keep", action="store_true", help="keep the generated network")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="confreres-bench-"))
    try:
        network = generate(root, args.sites, args.posts)
        print(f"network: {args.sites} sites x {args.posts} posts in {root}; {os.cpu_count()} cores, jobs={args.jobs}")
        cache = root / ".cache"

        def full(jobs):
            shutil.rmtree(cache, ignore_errors=True)
            return build.build(network, jobs=jobs, force=True, progress=False)

        serial = timed("full build, serial (baseline)", lambda: full(1))
        parallel = timed(f"full build, parallel ({args.jobs} processes)", lambda: full(args.jobs))

        site = network.sites[len(network.sites) // 2]
        post = site.path / "content" / "billet-7.md"
        post.write_text(post.read_text(encoding="utf-8") + "\nUne phrase ajoutée.\n", encoding="utf-8")
        one = timed(f"one-post publish ({site.slug} + index)", lambda: build.build(network, [site.slug], progress=False))

        print()
        print(f"parallel speed-up vs serial: {serial / parallel:5.2f}x   (target >= 1.7x)")
        print(f"one-post publish / parallel full build: {100 * one / parallel:5.1f} %   (target <= 10 %)")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
