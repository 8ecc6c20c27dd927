"""Publishing with `git push`: a bare repository per blog whose pre-receive hook builds the push.

`pre-receive` (not `post-receive`) because only it can refuse: a push whose content does not
build is rejected with the build's message in the doctor's terminal, and the live site is left
as it was. An accepted push is swapped in atomically by the build, then the network index is
rewritten and the published URLs are printed back to the pusher.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from confreres import registry
from confreres.registry import Network

BRANCH = "main"
ZERO = "0" * 40
# Always-set variables git exports to hooks beyond `git rev-parse --local-env-vars`.
_EXTRA_GIT_VARS = ("GIT_QUARANTINE_PATH", "GIT_PUSH_OPTION_COUNT", "GIT_EXEC_PATH", "GIT_REFLOG_ACTION")

HOOK = """#!/bin/sh
# Confrères: build every push to {branch} before accepting it (installed by `confreres publish init`).
exec {python} -m confreres.publish hook --network {network} --site {slug}
"""


class PublishError(Exception):
    pass


def _git(*args: str, cwd: Path | None = None, env: dict | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise PublishError(f"git {' '.join(args)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def clean_git_env(environ: dict | None = None) -> dict:
    """A copy of the environment without git's repository variables (set inside hooks)."""
    env = dict(os.environ if environ is None else environ)
    try:
        names = subprocess.run(
            ["git", "rev-parse", "--local-env-vars"], capture_output=True, text=True, env={"PATH": env.get("PATH", "")}
        ).stdout.split()
    except OSError:
        names = []
    for name in (*names, *_EXTRA_GIT_VARS):
        env.pop(name, None)
    for name in list(env):
        if name.startswith("GIT_PUSH_OPTION_"):
            env.pop(name)
    return env


def init(network: Network, slug: str, repo: Path) -> Path:
    """Create a bare repository for `slug`, seeded with the site's current files, with the hook."""
    site = network.site(slug)
    repo = Path(repo).resolve()
    if repo.exists() and any(repo.iterdir()):
        raise PublishError(f"{repo} exists and is not empty")
    if not site.path.is_dir():
        raise PublishError(f"no site folder at {site.path}")
    env = clean_git_env()
    _git("init", "--quiet", "--bare", f"--initial-branch={BRANCH}", str(repo), env=env)
    with tempfile.TemporaryDirectory(prefix="confreres-seed-") as tmp:
        work = Path(tmp) / "site"
        shutil.copytree(site.path, work, ignore=shutil.ignore_patterns("__pycache__", "output", "*.pyc"))
        (work / ".gitignore").write_text("__pycache__/\noutput/\n*.pyc\n", encoding="utf-8")
        _git("init", "--quiet", f"--initial-branch={BRANCH}", cwd=work, env=env)
        _git("add", "-A", cwd=work, env=env)
        ident = ["-c", "user.name=Confrères", "-c", "user.email=publication@confreres.invalid"]
        _git(*ident, "commit", "--quiet", "-m", f"Contenu initial de {site.title}", cwd=work, env=env)
        _git("push", "--quiet", str(repo), f"{BRANCH}:{BRANCH}", cwd=work, env=env)
    hook = repo / "hooks" / "pre-receive"
    hook.write_text(
        HOOK.format(
            branch=BRANCH,
            python=shlex.quote(sys.executable),
            network=shlex.quote(str(network.source.resolve())),
            slug=shlex.quote(slug),
        ),
        encoding="utf-8",
    )
    hook.chmod(0o755)
    return repo


def _export_tree(rev: str, target: Path):
    """Write the pushed revision's files to `target` (runs with git's hook environment: quarantine)."""
    proc = subprocess.run(["git", "archive", "--format=tar", rev], capture_output=True)
    if proc.returncode != 0:
        raise PublishError(proc.stderr.decode(errors="replace").strip())
    target.mkdir(parents=True)
    with tempfile.TemporaryFile() as buf:
        buf.write(proc.stdout)
        buf.seek(0)
        with tarfile.open(fileobj=buf) as tar:
            tar.extractall(target, filter="data")


def _changed_files(old: str, new: str) -> set[str]:
    if old == ZERO:
        return set()
    proc = subprocess.run(["git", "diff", "--name-only", old, new], capture_output=True, text=True)
    return set(proc.stdout.split("\n")) - {""}


def replace_source(dest: Path, tree: Path):
    """Make the site's source folder the pushed tree, by rename (the old one is removed after)."""
    dest = Path(dest)
    staging = dest.with_name(f".{dest.name}.incoming-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(tree, staging)
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(staging, dest)
    shutil.rmtree(old, ignore_errors=True)


def hook(network_file: str, slug: str, stdin=sys.stdin, out=sys.stdout) -> int:
    """The pre-receive hook: 0 accepts the push, anything else rejects it."""
    from confreres.build import announce_posts

    network = registry.load(network_file)
    site = network.site(slug)
    updates = [line.split() for line in stdin.read().splitlines() if line.strip()]
    target = [u for u in updates if len(u) == 3 and u[2] == f"refs/heads/{BRANCH}"]
    if not target:
        print(f"Confrères : rien à publier (seule la branche {BRANCH} est publiée).", file=out)
        return 0
    old, new, _ = target[0]
    if new == ZERO:
        print(f"Confrères : la branche {BRANCH} ne peut pas être supprimée.", file=out)
        return 1
    with tempfile.TemporaryDirectory(prefix=f"confreres-push-{slug}-") as tmp:
        tree = Path(tmp) / "site"
        try:
            _export_tree(new, tree)
            changed = _changed_files(old, new)
        except PublishError as exc:
            print(f"Confrères : impossible de lire la révision poussée : {exc}", file=out)
            return 1
        # From here on nothing must see the pushed repository's variables.
        os.environ.clear()
        os.environ.update(clean_git_env())
        print(f"Confrères : construction de « {site.title} »…", file=out, flush=True)
        from confreres import freshness

        service = freshness.fetch(network.comments_url)  # before the snapshot: recorded with it
        version = service.versions.get(slug) if service else None
        result = _build_in_child(network_file, slug, str(network.output), str(tree), version)
        if not result.ok:
            print("Confrères : publication REFUSÉE, le site en ligne n'a pas changé.", file=out)
            print(result.error, file=out)
            return 1
        replace_source(site.path, tree)
    from confreres.build import refresh_crosslinks

    for other in refresh_crosslinks(network, network.output, [result], service=service):
        if other.slug != slug and other.ok:
            print(f"Confrères : « {network.site(other.slug).title} » mis à jour (réponse entre blogs).", file=out)
    from confreres.planet_build import front_page

    # outside feeds: last copies (`confreres planet refresh`)
    front_page(network, network.output, fetch=False, service=service)
    announce_posts(network, site, result.articles, out=out)
    from confreres.webmention import send_after_build

    send_after_build(network, site, network.output, stream=out)  # policies.webmention_send
    print(f"Confrères : publié en {result.seconds:.1f} s → {site.url}", file=out)
    for article in result.articles:
        if not changed or article.get("source") and f"content/{article['source']}" in changed:
            print(f"  {article['title']} : {article['url']}", file=out)
    _print_withheld(result.withheld, out)
    return 0


def _print_withheld(posts: list[dict], out):
    """Drafts and scheduled posts were pushed but not published: say so, and how to see them."""
    from confreres.checks import withheld_line

    if posts:
        print("Confrères : non publiés (aperçu : `confreres preview`, voir le README) :", file=out)
    for post in posts:
        print(f"  {withheld_line(post)}", file=out)


def _build_in_child(network_file: str, slug: str, out: str, source: str, comments_version: str | None = None):
    """One fresh process, as for every build (Pelican's state is process-global)."""
    from concurrent.futures import ProcessPoolExecutor

    from confreres.build import _context, build_site

    with ProcessPoolExecutor(max_workers=1, mp_context=_context()) as pool:
        return pool.submit(build_site, network_file, slug, out, source, True, comments_version).result()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="confreres.publish")
    sub = parser.add_subparsers(dest="command", required=True)
    hook_cmd = sub.add_parser("hook", help="pre-receive hook entry point")
    hook_cmd.add_argument("--network", required=True)
    hook_cmd.add_argument("--site", required=True)
    args = parser.parse_args(argv)
    return hook(args.network, args.site)


if __name__ == "__main__":
    sys.exit(main())
