"""The one atomic swap of a live symlink (confreres.releases.swap_symlink)."""

import os

import pytest

from confreres import releases


def test_swap_symlink_replaces_the_link_and_leaves_no_temporary(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    link = tmp_path / "live"
    releases.swap_symlink(link, "old", ".live.swap")
    assert os.readlink(link) == "old"
    stale = tmp_path / f".live.swap-{os.getpid()}"
    os.symlink("elsewhere", stale)  # left by a run that died between its symlink and its rename
    releases.swap_symlink(link, "new", ".live.swap")
    assert os.readlink(link) == "new" and link.resolve() == (tmp_path / "new").resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live", "new", "old"]


def test_atomic_write_leaves_nothing_behind_when_it_fails(tmp_path):
    from confreres.releases import atomic_write

    target = tmp_path / "occupied"
    target.mkdir()  # os.replace cannot put a file there
    with pytest.raises(OSError):
        atomic_write(target, b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["occupied"], "no temporary file left beside it"


def test_the_process_server_starts_with_its_imports_before_any_pool_asks(tmp_path):
    """A build starts the server first (its Pelican imports beside the build's own preparation): it runs, and its
    preload names Pelican, before a pool exists. In a fresh interpreter: the test process's server may run already."""
    import subprocess
    import sys

    script = (
        "import os, sys; from confreres import releases\n"
        "releases.start_process_server()\n"
        "children = [p for p in os.listdir('/proc') if p.isdigit()"
        " and open(f'/proc/{p}/stat').read().split(')')[1].split()[1] == str(os.getpid())]\n"
        "print([open(f'/proc/{p}/cmdline').read() for p in children])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__)))).stdout
    assert "multiprocessing.forkserver" in out and "'pelican'" in out


def _frozen_objects() -> int:
    import gc

    return gc.get_freeze_count()


def test_a_build_process_keeps_the_servers_imports_out_of_its_collections():
    """A blog's process (forked from the server) finds Pelican and the rest in the GC's permanent generation
    (confreres.frozen): its collections do not walk them, nor copy their pages."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=releases.process_pool_context()) as pool:
        frozen = pool.submit(_frozen_objects).result()
    assert frozen > 20_000  # Pelican, Markdown, Jinja and the build's own modules: ~47,000 objects (none: 0)
