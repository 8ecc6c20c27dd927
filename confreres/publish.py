"""Publishing with `git push`: a bare repository per blog whose pre-receive hook builds the push.

`pre-receive` (not `post-receive`) because only it can refuse: a push whose content does not
build is rejected with the build's message in the doctor's terminal, and the live site is left
as it was. An accepted push is swapped in atomically by the build, then the network index is
rewritten and the published URLs are printed back to the pusher.

A push carries data, never code. Before anything is built, the pushed tree is inspected (`check_tree`):
only Markdown texts, images and files under `content/`, a `site.toml`, a README and a `.gitignore` are
accepted; Python files, plugins, themes, templates, symlinks and submodules are refused by name. The build
of the push then runs in a separate process whose environment carries no secret (`build_env`), as
`$CONFRERES_BUILD_USER` when the hook runs as root, and the hook itself announces the posts with the blog's
own token (`<repo>/confreres-site-token`, written by `init`), never with the service's secret key.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from confreres import registry
from confreres.french import seconds_fr
from confreres.registry import Network
from confreres.releases import RELEASES as RELEASES_DIR
from confreres.releases import atomic_write, blog_lock, disk_refusal

BRANCH = "main"
ZERO = "0" * 40
# Always-set variables git exports to hooks beyond `git rev-parse --local-env-vars`.
_EXTRA_GIT_VARS = ("GIT_QUARANTINE_PATH", "GIT_PUSH_OPTION_COUNT", "GIT_EXEC_PATH", "GIT_REFLOG_ACTION")

HOOK = """#!/bin/sh
# Confrères: build every push to {branch} before accepting it (installed by `confreres publish init`).
exec {python} -m confreres.publish hook --network {network} --site {slug}
"""


TOKEN_FILE = "confreres-site-token"
ENV_TOKEN = "CONFRERES_SITE_TOKEN"
ENV_BUILD_USER = "CONFRERES_BUILD_USER"
ENV_BUILD_TIMEOUT = "CONFRERES_PUSH_TIMEOUT"  # seconds a push's build may take (default BUILD_TIMEOUT)
BUILD_TIMEOUT = 600.0
ENV_PUSH_MAX = "CONFRERES_PUSH_MAX_MB"  # megabytes of git objects one push may bring (default MAX_PUSH_BYTES)

# What a blog's repository may hold (see docs/operating.md, "What a push may contain").
ROOT_FILES = {"site.toml", ".gitignore"}
README = re.compile(r"README(\.[A-Za-z]+)?")
STATIC_DIRS = ("images", "files", "extra")
MARKDOWN = (".md", ".markdown", ".mkd", ".mdown")
FORBIDDEN_DIRS = {"plugins", "plugin", "themes", "theme", "templates"}
CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".pyw", ".pyz", ".so")
SETTINGS_FILES = {"pelicanconf.py", "publishconf.py"}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Variables the build of a push may see: no secret ever reaches it.
# What one push may hold, checked from `git ls-tree` before anything is extracted: a few KB of git objects can name
# a tree of millions of files (the same blob in folders of folders), or gigabytes. A blog is texts and pictures.
MAX_FILES = 20_000
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 500 * 1024 * 1024
# What one push may bring to the server's repository, every ref and past commit included (what git received in its
# quarantine): only main's last tree is built and checked, a branch or a tag is stored as it comes.
MAX_PUSH_BYTES = MAX_TOTAL_BYTES
PUBLISHED = ".{slug}.published"  # beside the releases: the commit the last accepted push published

BUILD_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "CONFRERES_NETWORK", "CONFRERES_DEMO_ORIGIN")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|KEY|SMTP|CREDENTIAL", re.IGNORECASE)


class PublishError(Exception):
    pass


def check_path(mode: str, path: str) -> str:
    """Why `path` (of git mode `mode`) cannot be in a blog's repository, in French; "" when it may."""
    parts = path.split("/")
    name = parts[-1]
    if mode == "120000":
        return "lien symbolique refusé (il pourrait désigner un fichier du serveur)"
    if mode == "160000":
        return "sous-module git refusé"
    if CONTROL.search(path):  # a line break in a name splits every list of files (git's, the build's, this one)
        return "nom de fichier avec un retour à la ligne ou un caractère de contrôle : renommez-le"
    if name.lower() == ".gitattributes":  # `git archive` obeys it: what is published would not be what was checked
        return ("fichier .gitattributes refusé : il ferait modifier ou omettre par git des fichiers à la publication "
                "(export-subst, export-ignore, filtres)")
    if name in SETTINGS_FILES:
        return (f"les réglages d'un blog ne sont plus du code : supprimez ce fichier (git rm {path}) "
                "et mettez la pagination ou le fuseau horaire dans site.toml")
    if name.lower().endswith(CODE_SUFFIXES):
        return "fichier de code refusé : un blog ne contient que des textes, des images et des fichiers"
    if FORBIDDEN_DIRS & {p.lower() for p in parts[:-1]}:
        return "extensions, thèmes et gabarits sont ceux du réseau : dossier refusé"
    if mode not in ("100644", "100755"):
        return f"type de fichier git refusé ({mode})"
    if len(parts) == 1:
        if name in ROOT_FILES or README.fullmatch(name):
            return ""
        return "hors de la structure d'un blog (content/, site.toml, README, .gitignore)"
    if parts[0] != "content":
        return "hors de la structure d'un blog (content/, site.toml, README, .gitignore)"
    if len(parts) > 2 and parts[1] in STATIC_DIRS or name == ".gitignore":
        return ""
    if not name.lower().endswith(MARKDOWN):
        return ("seuls les billets et pages en Markdown (.md) sont lus ; les images et fichiers vont dans "
                "content/images/ ou content/files/")
    return ""


def shown(path: str) -> str:
    """`path` for one line of the pusher's terminal: its control characters written as escapes (`\\n`)."""
    return CONTROL.sub(lambda match: repr(match.group())[1:-1], path)


def check_tree(rev: str, cwd: Path | None = None) -> list[str]:
    """The refused paths of revision `rev`, each with its reason, and what makes it too big to publish (`git ls-tree`
    with sizes, read as it comes: nothing is checked out, a tree of millions of entries is stopped at the cap), or
    empty: without a post or page (a `git rm -r .`), the blog would vanish, or the build fail with a server path."""
    proc = subprocess.Popen(["git", "ls-tree", "-r", "-z", "-l", "--full-tree", rev], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    problems, files, total, buffer, posts = [], 0, 0, b"", 0
    try:
        while chunk := proc.stdout.read(1 << 16):
            *entries, buffer = (buffer + chunk).split(b"\0")
            for entry in entries:
                meta, _, raw_path = entry.partition(b"\t")
                path = raw_path.decode("utf-8", errors="replace")
                mode, _kind, _object, size = (meta.split() + [b"-"] * 4)[:4]
                reason = check_path(mode.decode(), path)
                if not reason and path.encode() != raw_path:  # Pelican, git's lists, the terminal: UTF-8 only
                    reason = ("nom de fichier qui n'est pas en UTF-8 (écrit par un vieux logiciel ?) : "
                              "renommez-le")
                if reason:
                    problems.append(f"{shown(path)} : {reason}")
                elif path.startswith("content/") and path.split("/")[1] not in STATIC_DIRS and \
                        path.lower().endswith(MARKDOWN):
                    posts += 1
                files += 1
                total += int(size) if size.isdigit() else 0
                if size.isdigit() and int(size) > MAX_FILE_BYTES:
                    problems.append(f"{shown(path)} : fichier trop gros ({int(size) // 2**20} Mo ; "
                                    f"{MAX_FILE_BYTES // 2**20} Mo au plus)")
                if files > MAX_FILES or total > MAX_TOTAL_BYTES:
                    problems.append(f"le blog est trop gros : plus de {MAX_FILES:,} fichiers ou de "
                                    f"{MAX_TOTAL_BYTES // 2**20} Mo ; allégez-le (images redimensionnées)"
                                    .replace(",", "\u202f"))
                    proc.kill()
                    return problems
    finally:
        proc.stdout.close()
        error = proc.stderr.read().decode(errors="replace").strip()
        proc.stderr.close()
        code = proc.wait()
    if code != 0:
        raise PublishError(error)
    if not posts:
        problems.append("aucun billet ni page (content/*.md) : publié, le blog serait vide. Pour retirer un billet "
                        "sans l'effacer : « Status: draft » en tête ; pour retrouver vos fichiers : git revert ; "
                        "pour fermer le blog : écrivez à l'administrateur du réseau")
    return problems


def without_secrets(environ: dict) -> dict:
    """`environ` without any variable that could hold a secret (key, password, token, SMTP settings)."""
    return {name: value for name, value in environ.items() if not SECRET_NAME.search(name)}


def build_env(environ: dict, home: str) -> dict:
    """The whole environment of the build of a push: locale and paths, nothing else (no secret)."""
    env = {name: environ[name] for name in BUILD_ENV if name in environ}
    env.update({name: value for name, value in environ.items() if name.startswith("LC_")})
    env["HOME"] = home
    env.setdefault("PATH", os.defpath)
    return env


def site_token_of(git_dir: Path, environ: dict) -> str:
    """The blog's own token (`$CONFRERES_SITE_TOKEN`, else `<repo>/confreres-site-token`), "" without one."""
    token = environ.get(ENV_TOKEN, "").strip()
    if not token:
        try:
            token = (git_dir / TOKEN_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            token = ""
    return token


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
        raise PublishError(f"{repo} existe et n'est pas vide : choisissez un autre chemin pour le dépôt")
    if not site.path.is_dir():
        raise PublishError(f"pas de dossier du blog à {site.path}")
    env = clean_git_env()
    _git("init", "--quiet", "--bare", f"--initial-branch={BRANCH}", str(repo), env=env)
    with tempfile.TemporaryDirectory(prefix="confreres-seed-") as tmp:
        work = Path(tmp) / "site"
        shutil.copytree(site.path, work, ignore=shutil.ignore_patterns("__pycache__", "output", "*.pyc"))
        (work / ".gitignore").write_text("__pycache__/\noutput/\n*.pyc\n", encoding="utf-8")
        _git("init", "--quiet", f"--initial-branch={BRANCH}", cwd=work, env=env)
        _git("add", "-A", cwd=work, env=env)
        ident = ["-c", "user.name=Confrères", "-c", "user.email=publication@confreres.invalid"]
        _git(*ident, "commit", "--quiet", "-m", f"Contenu initial de « {site.title} »", cwd=work, env=env)
        problems = check_tree("HEAD", cwd=work)
        if problems:
            shutil.rmtree(repo, ignore_errors=True)
            raise PublishError(f"{site.path} contient des fichiers qu'une publication refuserait (mettez les "
                               "réglages de pelicanconf.py dans site.toml) :\n" + "\n".join(f"  - {p}" for p in problems))
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
    from confreres.build import secret_key
    from confreres.site_token import site_token

    key = secret_key(network)
    if key:  # the hook announces the posts with this token, never with the secret key
        token = repo / TOKEN_FILE
        token.touch(mode=0o600)
        token.write_text(site_token(key, slug) + "\n", encoding="utf-8")
    return repo


def _export_tree(rev: str, target: Path):
    """Write the pushed revision's files to `target` (runs with git's hook environment: quarantine), `git archive`
    read as it comes: neither in memory nor in a temporary file (which took the disk twice the blog, and on a disk
    nearly full failed in git's English). A file the disk cannot take (a name too long, no space left) is a
    PublishError, in French."""
    target.mkdir(parents=True)
    proc = subprocess.Popen(["git", "archive", "--format=tar", rev], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    problem = None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            tar.extractall(target, filter="data")
        while proc.stdout.read(1 << 16):  # git's padding after the end of the archive: else it dies of SIGPIPE
            pass
    except (tarfile.TarError, OSError) as exc:
        problem = exc
        proc.kill()
    finally:
        proc.stdout.close()
        error = proc.stderr.read().decode(errors="replace").strip()
        proc.stderr.close()
        code = proc.wait()
    if problem is None and code == 0:
        return
    if disk_refusal(problem):  # not a name the disk cannot take
        raise PublishError(disk_refusal(problem))
    if problem is None or code > 0:  # git's own failure (an unknown revision): what it said
        raise PublishError(error or f"git archive : code de sortie {code}")
    name = getattr(problem, "filename", None) or ""
    name = os.path.relpath(name, target) if name and os.path.isabs(str(name)) else name
    raise PublishError(f"{name or 'un fichier'} ne peut pas être écrit sur le serveur "
                       f"({getattr(problem, 'strerror', None) or problem.__class__.__name__}) : nom trop long ?")


def _changed_files(old: str, new: str) -> set[str] | None:
    """The paths the push changed, as the build names them; None for a branch's first push (all are new).

    `-z`: without it git quotes a name with an accent (`"content/m\\303\\251moire.md"`), and the pusher was
    never shown the address of a post whose file name had one."""
    if old == ZERO:
        return None
    proc = subprocess.run(["git", "diff", "-z", "--name-only", old, new], capture_output=True)
    return {name.decode("utf-8", errors="replace") for name in proc.stdout.split(b"\0")} - {""}


def stage_source(dest: Path, tree: Path) -> Path:
    """Copy the pushed tree beside the site's source folder (`.<slug>.incoming-<pid>`), before its build may go live:
    a disk that cannot take it refuses the push while nothing has changed (copied after, a full disk left the push
    online while git refused it, and a traceback in the doctor's terminal). Only folders and plain files (check_tree);
    an OSError keeps its errno (shutil.copytree gathers them into one without)."""
    dest = Path(dest)
    staging = dest.with_name(f".{dest.name}.incoming-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir()
        for folder, dirs, files in os.walk(tree):
            target = staging / os.path.relpath(folder, tree)
            for name in dirs:
                (target / name).mkdir()
            for name in files:
                shutil.copy2(os.path.join(folder, name), target / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def replace_source(dest: Path, staging: Path):
    """Make the site's source folder the staged copy (stage_source) by two renames (the old one is removed after)."""
    dest = Path(dest)
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(staging, dest)
    shutil.rmtree(old, ignore_errors=True)


def hook(network_file: str, slug: str, stdin=sys.stdin, out=sys.stdout) -> int:
    """The pre-receive hook: 0 accepts the push, anything else rejects it."""
    network = registry.load(network_file)
    site = network.site(slug)
    updates = [line.split() for line in stdin.read().splitlines() if line.strip()]
    try:
        limit = push_max(os.environ.get(ENV_PUSH_MAX, ""))
    except PublishError as exc:
        print(f"Confrères : push impossible, le serveur est mal configuré : {exc}", file=out)
        return 1
    brought = incoming_bytes(os.environ.get("GIT_QUARANTINE_PATH", ""))
    if brought > limit:  # refused: git deletes its quarantine, nothing of it stays on the server
        print(f"Confrères : push REFUSÉ, le site en ligne n'a pas changé : il apporte {_mb(brought)} Mo au serveur, "
              f"{_mb(limit)} Mo au plus (toutes branches, étiquettes et anciens commits compris) ; allégez les images "
              "ou les fichiers (un gros fichier effacé depuis reste dans l'historique : git rebase).", file=out)
        return 1
    target = [u for u in updates if len(u) == 3 and u[2] == f"refs/heads/{BRANCH}"]
    if not target:
        print(f"Confrères : rien à publier (seule la branche {BRANCH} est publiée).", file=out)
        return 0
    old, new, _ = target[0]
    if new == ZERO:
        print(f"Confrères : la branche {BRANCH} ne peut pas être supprimée.", file=out)
        return 1

    with blog_lock(Path(network.output), slug, "push"):  # a second push to this blog waits for the first to be done
        discard_dead_pushes(network, slug)
        published = _published(network, slug, old)
        if published:  # it built on what the first one replaced: git refuses it anyway
            print(f"Confrères : publication REFUSÉE, le blog a été publié depuis votre dernière récupération "
                  f"(révision {published[:10]}) : faites « git pull », puis poussez de nouveau.", file=out)
            return 1
        status = _publish(network, network_file, slug, site, old, new, out)
        if status == 0:
            releases_dir = Path(network.output) / RELEASES_DIR
            releases_dir.mkdir(parents=True, exist_ok=True)
            atomic_write(releases_dir / PUBLISHED.format(slug=slug), new + "\n")
        return status


def push_prefix(network: Network, slug: str) -> str:
    """The name of a push's temporary folder up to its random part: the blog's, and its network's (the output's
    path, hashed: two networks of one machine may have a blog of the same slug)."""
    import hashlib

    network_id = hashlib.sha256(str(Path(network.output).resolve()).encode()).hexdigest()[:12]
    return f"confreres-push-{slug}-{network_id}-"


def discard_dead_pushes(network: Network, slug: str) -> None:
    """Remove what pushes of this blog killed before they ended left (under its push lock: no other push of it
    runs): their copy of the pushed tree in the temporary folder, a half-made copy beside `sites/<slug>/`; and
    put back `sites/<slug>/` itself if one died between replace_source's two renames."""
    prefix = push_prefix(network, slug)
    with contextlib.suppress(OSError):
        for entry in os.scandir(tempfile.gettempdir()):
            if entry.name.startswith(prefix) and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
    source = network.site(slug).path
    with contextlib.suppress(OSError):
        for entry in os.scandir(source.parent):
            found = re.fullmatch(rf"\.{re.escape(source.name)}\.(incoming|old)-\d+", entry.name)
            if found and found[1] == "old" and not source.exists():
                os.replace(entry.path, source)
            elif found:
                shutil.rmtree(entry.path, ignore_errors=True)


def _published(network, slug: str, old: str, settle: float = 15.0) -> str:
    """The commit the last accepted push of this blog published when git has it as the branch's head and it is not
    `old` (this push built on what it replaced: refused); "" otherwise. Git moves the branch just after that push's
    hook ends, when this one may already hold the lock: a record younger than `settle` seconds is waited for; an
    older one the branch does not have is a push git refused after all, forgotten."""
    path = Path(network.output) / RELEASES_DIR / PUBLISHED.format(slug=slug)
    while True:
        try:
            recorded, age = path.read_text().strip(), time.time() - path.stat().st_mtime
        except OSError:
            return ""
        if not recorded or recorded == old:
            return ""
        head = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{BRANCH}"],
                              capture_output=True, text=True).stdout.strip()
        if head == recorded:
            return recorded
        if age > settle:
            return ""
        time.sleep(0.1)


def _publish(network, network_file: str, slug: str, site, old: str, new: str, out) -> int:
    """The push's checks, its build and its publication; 0 when published."""
    from confreres.planet_build import PlanetProcess

    planet = PlanetProcess()  # started with the blog's build: it reads the other blogs' feeds meanwhile
    try:
        return _build_and_publish(network, network_file, slug, site, old, new, out, planet)
    finally:
        planet.close()


def _build_and_publish(network, network_file: str, slug: str, site, old: str, new: str, out, planet) -> int:
    from confreres.build import announce_posts, forget_announced
    from confreres.planet_build import KEEP_SEARCH, finish_publish, front_page, start_publish

    token = site_token_of(Path(os.environ.get("GIT_DIR", ".")).resolve(), os.environ)
    try:
        problems = check_tree(new)
    except PublishError as exc:
        print(f"Confrères : impossible de lire la révision poussée : {exc}", file=out)
        return 1
    if problems:
        print("Confrères : publication REFUSÉE, le site en ligne n'a pas changé.", file=out)
        print("Un blog ne contient que des textes (content/*.md), des images et des fichiers (content/images/, "
              "content/files/) et son site.toml ; ces fichiers ne peuvent pas être publiés :", file=out)
        for problem in problems:
            print(f"  - {problem}", file=out)
        return 1
    try:
        drop = _drop_privileges(os.environ.get(ENV_BUILD_USER, ""))
        timeout = build_timeout(os.environ.get(ENV_BUILD_TIMEOUT, ""))
    except PublishError as exc:
        print(f"Confrères : publication impossible, le serveur est mal configuré : {exc}", file=out)
        return 1
    with tempfile.TemporaryDirectory(prefix=push_prefix(network, slug)) as tmp:
        tree = Path(tmp) / "site"
        try:
            _export_tree(new, tree)
            changed = _changed_files(old, new)
        except PublishError as exc:
            print(f"Confrères : impossible de lire la révision poussée : {exc}", file=out)
            return 1
        # From here on nothing sees the pushed repository's variables, nor any secret.
        environ = without_secrets(clean_git_env())
        os.environ.clear()
        os.environ.update(environ)
        print(f"Confrères : construction de « {site.title} »…", file=out, flush=True)
        from confreres import freshness

        service = freshness.fetch(network.comments_url)  # before the snapshot: recorded with it
        version = service.versions.get(slug) if service else None
        if drop:
            shutil.chown(tmp, drop.uid, drop.gid)
            for path in [tree, *tree.rglob("*")]:
                os.lchown(path, drop.uid, drop.gid)
        # The blog's build lock is held from the build until the server's copy of the sources is the pushed one:
        # a cron build waiting for it then builds the push; taken by the child, it was freed before the sources
        # were replaced, and a cron build waiting for it put the blog as it was before the push back online.
        with blog_lock(Path(network.output), slug):
            try:
                staged = stage_source(site.path, tree)
            except OSError as exc:
                print("Confrères : publication REFUSÉE, le site en ligne n'a pas changé.", file=out)
                print(f"{slug} : " + (disk_refusal(exc) or "les fichiers du blog ne peuvent pas être copiés sur le "
                                      f"serveur ({exc.strerror or exc.__class__.__name__})"), file=out)
                return 1
            planet.start(network, network.output, [slug], service)
            result = _build_in_child(network_file, slug, str(network.output), str(tree), version,
                                     env=build_env(environ, tmp), prefix=drop.prefix if drop else [], timeout=timeout,
                                     locked=True)
            if not result.ok:
                from confreres.build import discard_unpublished

                discard_unpublished(Path(network.output), slug)  # a child killed (time limit, OOM): its release
                shutil.rmtree(staged, ignore_errors=True)
                print("Confrères : publication REFUSÉE, le site en ligne n'a pas changé.", file=out)
                print(result.error, file=out)
                return 1
            # the blog is live: the planet is made again (outside feeds: their last copies, `confreres planet
            # refresh`; the search index: the next `confreres build`), beside what follows
            early = start_publish(network, network.output, service, planet, fetch=False)
            replace_source(site.path, staged)
    from confreres.build import refresh_crosslinks

    refreshed = refresh_crosslinks(network, network.output, [result], service=service)
    for other in refreshed:
        if other.slug != slug and other.ok:
            print(f"Confrères : « {network.site(other.slug).title} » mis à jour (réponse entre blogs).", file=out)
    if early is not None:
        finish_publish(network, network.output, service, planet, early, fetch=False,
                       superseded=any(other is not result for other in refreshed))
    else:  # no planet (the plain list of blogs), or its process died
        front_page(network, network.output, fetch=False, service=service, search=KEEP_SEARCH)
    announced = None
    if token:
        announced = announce_posts(network, site, result.articles, out=out, token=token)
    else:
        print(f"Confrères : pas de jeton de blog ({TOKEN_FILE}) : le service de commentaires apprendra "
              "les billets à la prochaine construction du serveur.", file=out)
        forget_announced(network.output, slug)  # that build rebuilds the blog, and so announces it
    from confreres.webmention import send_after_build

    send_after_build(network, site, network.output, stream=out)  # policies.webmention_send
    print(f"Confrères : publié en {seconds_fr(result.seconds)} → {site.url}", file=out)
    for article in result.articles:
        if changed is None or article.get("source") and f"content/{article['source']}" in changed:
            print(f"  {article['title']} : {article['url']}", file=out)
    _print_withheld(result.withheld, out)
    if result.secrecy:
        print("Confrères : ATTENTION, secret médical : vérifiez ces passages (publiés tout de même ; "
              "« Secret: vérifié » en tête du billet les accepte) :", file=out)
        for warning in result.secrecy:
            print(f"  - {warning}", file=out)
    if result.outside:
        print("Confrères : non affichés sur le réseau, qui ne charge que ses propres images et fichiers "
              "(publiés tout de même) :", file=out)
        for warning in result.outside:
            print(f"  - {warning}", file=out)
    if result.replies:
        print("Confrères : réponses à vérifier (publiées tout de même) :", file=out)
        for warning in result.replies:
            print(f"  - {warning}", file=out)
    if announced is False:  # the blog is live: the push stands, the server's next build announces it again
        forget_announced(network.output, slug)
        print("Confrères : le blog est en ligne, mais ses nouveaux billets n'acceptent pas encore de commentaires : "
              "la prochaine construction du serveur les annoncera de nouveau au service.", file=out)
    return 0


def _print_withheld(posts: list[dict], out):
    """Drafts and scheduled posts were pushed but not published: say so, and how to see them."""
    from confreres.checks import withheld_line

    if posts:
        print("Confrères : non publiés (aperçu : `confreres preview`, voir le README) :", file=out)
    for post in posts:
        print(f"  {withheld_line(post)}", file=out)


class _Drop:
    def __init__(self, user: pwd.struct_passwd):
        self.uid, self.gid = user.pw_uid, user.pw_gid
        self.prefix = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups", "--pdeathsig=KILL",
                       "--"]


def _drop_privileges(user: str) -> _Drop | None:
    """How to run the build as `user` ($CONFRERES_BUILD_USER); None when unset or already that user.

    Only root can switch users: any other hook user configured with another build user is refused,
    rather than building with more rights than the operator meant.
    """
    if not user:
        return None
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise PublishError(f"{ENV_BUILD_USER}={user} : utilisateur inconnu") from None
    if entry.pw_uid == os.geteuid():
        return None
    if os.geteuid() != 0:
        raise PublishError(f"{ENV_BUILD_USER}={user} : seul root peut construire sous un autre utilisateur")
    if not shutil.which("setpriv"):
        raise PublishError("setpriv (util-linux) est introuvable")
    return _Drop(entry)


def incoming_bytes(quarantine: str) -> int:
    """The bytes of git objects this push brings: what git holds in its quarantine until the hook accepts (0 without
    one: git older than 2.11)."""
    total = 0
    for folder, _dirs, files in os.walk(quarantine) if quarantine else ():
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f}".replace(".", ",").removesuffix(",0")


def _positive(value: str, name: str, unit: str) -> float | None:
    """A setting's positive, finite number; None when unset; PublishError (in French) for anything else."""
    if not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not 0 < number < float("inf"):
        raise PublishError(f"{name}={value!r} : un nombre de {unit} positif est attendu")
    return number


def push_max(value: str) -> int:
    """$CONFRERES_PUSH_MAX_MB in bytes (MAX_PUSH_BYTES when unset); PublishError when not a positive number."""
    megabytes = _positive(value, ENV_PUSH_MAX, "mégaoctets")
    return MAX_PUSH_BYTES if megabytes is None else int(megabytes * 2**20)


def build_timeout(value: str) -> float:
    """$CONFRERES_PUSH_TIMEOUT read (BUILD_TIMEOUT when unset); PublishError when it is not a positive number."""
    seconds = _positive(value, ENV_BUILD_TIMEOUT, "secondes")
    return BUILD_TIMEOUT if seconds is None else seconds


PR_SET_PDEATHSIG = 1  # prctl(2)


def _dies_with(parent: int):
    """A preexec_fn: the child gets SIGKILL when `parent` (the hook) dies. A hook killed while its build ran (`kill
    -9`, the doctor's connection cut and git with it) made git refuse the push, yet the orphaned build went on and
    put it online. setpriv, which changes the user and so clears this, sets it again (_Drop.prefix)."""
    import ctypes
    import signal

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork

    def preexec():
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # it died before that
            os._exit(1)

    return preexec


def _build_in_child(network_file: str, slug: str, out: str, source: str, comments_version: str | None = None,
                    env: dict | None = None, prefix: list[str] | None = None, timeout: float = BUILD_TIMEOUT,
                    locked: bool = False):
    """A fresh process (Pelican's state is process-global) with only `env`, run through `prefix` (setpriv), stopped
    after `timeout` seconds (the push is refused; the live blog is untouched, its lock freed with the process).
    `locked`: the caller holds the blog's build lock (the child must not wait for it)."""
    from confreres.build import SiteResult

    command = [*(prefix or []), sys.executable, "-m", "confreres.publish", "build", "--network", network_file,
               "--site", slug, "--out", out, "--source", source]
    if comments_version:
        command += ["--comments-version", comments_version]
    if locked:
        command.append("--locked")
    try:
        proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, cwd=Path(source).parent, timeout=timeout,
                              preexec_fn=_dies_with(os.getpid()))
    except subprocess.TimeoutExpired:
        return SiteResult(slug, ok=False, error=f"{slug} : la construction a dépassé {seconds_fr(timeout)} : arrêtée ; "
                                               "allégez le blog ou demandez à l'administrateur du réseau")
    try:
        return SiteResult(**json.loads(proc.stdout.decode().strip().splitlines()[-1]))
    except (ValueError, IndexError, TypeError):
        return SiteResult(slug, ok=False, error=f"{slug} : la construction s'est arrêtée (code de sortie {proc.returncode})")


def _build_command(args) -> int:
    """`python -m confreres.publish build`: build one pushed tree, print its SiteResult as one JSON line."""
    from dataclasses import asdict

    from confreres.build import build_site

    with contextlib.redirect_stdout(sys.stderr):
        result = build_site(args.network, args.site, args.out, args.source, True, args.comments_version,
                            lock=not args.locked)
    print(json.dumps(asdict(result)))
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="confreres.publish")
    sub = parser.add_subparsers(dest="command", required=True)
    hook_cmd = sub.add_parser("hook", help="pre-receive hook entry point")
    hook_cmd.add_argument("--network", required=True)
    hook_cmd.add_argument("--site", required=True)
    build_cmd = sub.add_parser("build", help="build a pushed tree (run by the hook, without secrets)")
    for name in ("--network", "--site", "--out", "--source"):
        build_cmd.add_argument(name, required=True)
    build_cmd.add_argument("--comments-version")
    build_cmd.add_argument("--locked", action="store_true", help="the hook holds the blog's build lock")
    args = parser.parse_args(argv)
    if args.command == "build":
        return _build_command(args)
    return hook(args.network, args.site)


if __name__ == "__main__":
    sys.exit(main())
