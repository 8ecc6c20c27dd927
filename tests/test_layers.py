"""The import contracts of pyproject.toml: they hold on the tree, and an import that points up breaks them.

`make lint` runs `lint-imports` the same way; these tests show that the contracts can fail, on a copy of the
packages with one forbidden import added (the editable install is shadowed by PYTHONPATH).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{root / 'plugins'}")
    return subprocess.run([str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True)


def test_the_contracts_hold():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "message"),
    [
        ("comments_service/domain/comments.py", "from comments_service.mail import notices",
         "comments_service.domain is not allowed to import comments_service.mail"),
        ("comments_service/core/db.py", "import comments_service.web.api",
         "comments_service.core is not allowed to import comments_service.web"),
        ("comments_service/mail/transport.py", "from comments_service.mail import outbox",
         "comments_service.mail.transport is not allowed to import comments_service.mail.outbox"),
        ("confreres/build.py", "import comments_service.domain.comments",
         "confreres.build -> comments_service.domain.comments"),
        ("plugins/planet/generator.py", "from comments_service.web import api",
         "planet.generator -> comments_service.web.api"),
        ("confreres/registry.py", "import confreres.build",
         "confreres.registry is not allowed to import confreres.build"),
    ],
)
def test_an_import_that_points_up_breaks_a_contract(tmp_path, module, line, message):
    for name in ("comments_service", "confreres", "plugins"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    done = lint(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in " ".join(done.stdout.split()), done.stdout
