"""Instructions one blog's build costs (run by hand): valgrind's count, the same on a loaded machine as on a quiet one.

Wall-clock figures of a full build move by a tenth from run to run on a shared machine (bench/build.py), more than
most changes to the build gain. Callgrind counts the instructions a process executes: repeatable to a few millionths
for the same code and inputs, whatever else runs. This builds one generated blog of `--posts` posts (caches cold,
templates compiled ahead, as in a full build) in a process under `valgrind --tool=callgrind`, and the same process's
imports alone, and prints the difference: the blog's own cost. `--baseline REF` does the same with the code of a
git revision (a worktree beside it, removed after) and prints the ratio. Needs valgrind (Debian's package).

    .venv/bin/python bench/blog_cost.py [--posts 200] [--baseline main~3]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

CHILD = """
import shutil, sys
tree, network_file, out, build_it = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
sys.path[:0] = [tree, tree + "/plugins"]
from confreres import build, registry, releases
import pelican, pelican.generators, markdown, jinja2  # what the build's process server imports ahead
network = registry.load(network_file)
site = network.sites[0]
if build_it:
    shutil.rmtree(releases.content_cache(network, site.slug), ignore_errors=True)
    result = build.build_site(network, site.slug, out, force=True)
    assert result.ok, result.error
"""


def instructions(tree: Path, network_file: Path, out: Path, build_it: bool) -> int:
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", CHILD, str(tree),
         str(network_file), str(out), "1" if build_it else "0"],
        capture_output=True, text=True, cwd=tree)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not found:
        raise SystemExit(f"the build under valgrind failed:\n{proc.stderr[-3000:]}")
    return int(found.group(1))


def blog_cost(tree: Path, network_file: Path, tmp: Path) -> int:
    """Instructions of one cold build of the network's first blog with the code at `tree`, imports excluded."""
    instructions(tree, network_file, tmp / "warm", True)  # the theme's templates compiled into the cache, as a full build does
    return instructions(tree, network_file, tmp / "out", True) - instructions(tree, network_file, tmp / "out", False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--baseline", help="a git revision to compare with (its code, in a worktree)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    from build import generate  # bench/build.py's network: the same posts

    tmp = Path(tempfile.mkdtemp(prefix="bench-blog-cost-"))
    worktree = tmp / "baseline"
    try:
        network = generate(tmp / "net", 1, args.posts)
        network_file = network.root / "network.toml"
        ours = blog_cost(ROOT, network_file, tmp)
        print(f"one blog of {args.posts} posts built: {ours / 1e9:.3f} G instructions (this tree, imports excluded)")
        if args.baseline:
            subprocess.run(["git", "worktree", "add", "--detach", "-q", str(worktree), args.baseline], cwd=ROOT,
                           check=True)
            theirs = blog_cost(worktree, network_file, tmp)
            print(f"the same with {args.baseline}: {theirs / 1e9:.3f} G instructions; ratio {ours / theirs:.3f}x")
    finally:
        if worktree.exists():
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
