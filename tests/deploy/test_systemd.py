"""The systemd units of deploy/systemd, as `confreres deploy systemd` writes them for a network: systemd itself
reads them (`systemd-analyze verify`, drop-in included), every command they start exists, and a timer replaces
each periodic command of docs/operating.md."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from confreres.cli import cli
from confreres.deploy import GUNICORN, NGINX_SITE
from tests.gunicorn import CONFIG

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
# what the docs ask to run periodically (README's command table, docs/operating.md), each with its timer
PERIODIC = {"notify send", "notify digest", "build", "planet refresh", "backup", "service purge-ips",
            "webmention process", "letter send", "federation deliver"}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "operating.md"


@pytest.fixture
def units(make_network, tmp_path) -> Path:
    network = make_network()
    out = tmp_path / "units"
    result = CliRunner().invoke(cli, ["--network", str(network.source), "deploy", "systemd", str(out)])
    assert result.exit_code == 0, result.output
    assert "systemctl enable --now confreres-comments.service confreres-backup.timer" in result.output
    return out


def read(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def verify(folder: Path) -> subprocess.CompletedProcess:
    files = sorted(str(p) for p in folder.glob("*.service")) + sorted(str(p) for p in folder.glob("*.timer"))
    env = {**os.environ, "SYSTEMD_UNIT_PATH": f"{folder}:"}  # the folder first: its drop-in is read
    return subprocess.run([SYSTEMD_ANALYZE, "verify", *files], capture_output=True, text=True, env=env)


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is missing (Debian's systemd package)")
def test_systemd_reads_every_unit_without_a_warning(units):
    done = verify(units)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    # and it would say so: a misspelt key in the shared drop-in, a command that does not exist
    dropin = units / "confreres-.service.d" / "confreres.conf"
    dropin.write_text(dropin.read_text(encoding="utf-8") + "ProtectSytem=strict\n", encoding="utf-8")
    service = units / "confreres-build.service"
    service.write_text(service.read_text(encoding="utf-8").replace("/confreres build", "/confreres-nope build"),
                       encoding="utf-8")
    broken = verify(units)
    assert "Unknown key 'ProtectSytem'" in broken.stderr and "confreres-nope" in broken.stderr, broken.stderr


def test_every_timer_starts_an_existing_confreres_command(units):
    timers = sorted(units.glob("*.timer"))
    commands = set()
    for timer in timers:
        assert "OnCalendar" in read(timer)["Timer"], timer.name
        service = read(timer.with_suffix(".service"))["Service"]
        assert service["Type"] == "oneshot"
        argv = shlex.split(service["ExecStart"])
        assert Path(argv[0]).name == "confreres" and Path(argv[0]).is_file(), argv
        words = [a for a in argv[1:] if not a.startswith(("-", "/"))]
        commands.add(" ".join(words))
        result = CliRunner().invoke(cli, [*argv[1:], "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, (timer.name, result.output)
    assert commands == PERIODIC
    if SYSTEMD_ANALYZE:
        for timer in timers:
            calendar = read(timer)["Timer"]["OnCalendar"]
            assert subprocess.run([SYSTEMD_ANALYZE, "calendar", calendar], capture_output=True).returncode == 0


def test_the_comment_service_unit_runs_the_app_nginx_proxies_to(units):
    unit = read(units / "confreres-comments.service")
    argv = shlex.split(unit["Service"]["ExecStart"])
    assert Path(argv[0]).name == "gunicorn" and Path(argv[0]).is_file()
    assert argv[argv.index("--workers") + 1] == "2"
    assert "--preload" in argv  # as tests/gunicorn.py runs it: every test of a real gunicorn runs the unit's way
    assert argv[argv.index("--bind") + 1] == GUNICORN
    assert argv[-1] == "comments_service:create_app()"
    assert argv[argv.index("--config") + 1] == CONFIG  # as tests/gunicorn.py: the access log without query strings
    assert unit["Service"]["Environment"] == "CONFRERES_PROXY_FIX=1"  # nginx's X-Forwarded-* are trusted
    assert "--gunicorn, default 127.0.0.1:8001" in NGINX_SITE.read_text(encoding="utf-8")
    shared = read(units / "confreres-.service.d" / "confreres.conf")["Service"]
    assert shared["User"] == "confreres" and shared["EnvironmentFile"] == "/etc/confreres/env"
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes"}.items():
        assert shared[key] == value, key
    assert unit["Service"]["ReadWritePaths"].endswith("/var")  # the database: the only place it writes


def test_docs_install_the_timers_instead_of_cron(units):
    text = DOCS.read_text(encoding="utf-8")
    for name in ("confreres-comments.service", "confreres deploy systemd", "confreres deploy nginx"):
        assert name in text, name
    for timer in sorted(units.glob("*.timer")):  # each timer the command enables has its row
        assert f"| `{timer.name}` |" in text, timer.name
    # the two letter timers are one per frequency, both needed (tests/comments_service/mail/test_letter.py runs them)
    assert "**Both letter timers are needed**, one per frequency" in text
    crontab = [line for line in text.splitlines() if "* * *" in line]
    assert len(crontab) == 1, crontab  # cron stays as one line, an alternative


def test_the_mails_readers_get_at_a_time_of_day_leave_on_paris_time(units):
    """The letters and the digest are sent at 7:00 (6:30) for French readers; on a server kept in UTC, as most are,
    a bare time of day would send them at 8:00 or 9:00 Paris time."""
    for name in ("confreres-letter.timer", "confreres-letter-daily.timer", "confreres-notify-digest.timer"):
        calendar = read(units / name)["Timer"]["OnCalendar"]
        assert calendar.endswith(" Europe/Paris"), (name, calendar)
        if SYSTEMD_ANALYZE:
            shown = subprocess.run([SYSTEMD_ANALYZE, "calendar", calendar], capture_output=True, text=True,
                                   env={"TZ": "UTC", "PATH": "/usr/bin:/bin"})
            assert shown.returncode == 0 and "Europe/Paris" in shown.stdout, shown.stdout + shown.stderr
