"""The named events (core/events.py): every emit names a declared event; per-app receivers, after commit."""

from __future__ import annotations

import ast
import gc
import re
import weakref
from pathlib import Path

import pytest
from flask import Flask

import comments_service
from comments_service.core import events

SERVICE = Path(comments_service.__file__).parent


def _emitted() -> list[tuple[str, str]]:
    """(where, name pattern) of every `events.emit(...)` call of the service, whatever the module's alias."""
    found = []
    for path in sorted(SERVICE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases, direct = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "comments_service.core":
                aliases |= {a.asname or a.name for a in node.names if a.name == "events"}
            elif isinstance(node, ast.ImportFrom) and node.module == "comments_service.core.events":
                direct |= {a.asname or a.name for a in node.names if a.name == "emit"}
            elif isinstance(node, ast.Import):
                aliases |= {a.asname for a in node.names if a.name == "comments_service.core.events" and a.asname}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if not (
                isinstance(func, ast.Attribute) and func.attr == "emit"
                and isinstance(func.value, ast.Name) and func.value.id in aliases
            ) and not (isinstance(func, ast.Name) and func.id in direct):
                continue
            where = f"{path.relative_to(SERVICE.parent)}:{node.lineno}"
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((where, re.escape(first.value)))
            elif isinstance(first, ast.JoinedStr):  # f"mention.{action}": each formatted part is one word
                found.append((where, "".join(
                    re.escape(part.value) if isinstance(part, ast.Constant) else r"[a-z_]+" for part in first.values
                )))
            elif isinstance(first, ast.Attribute) and isinstance(first.value, ast.Name) and first.value.id in aliases:
                signal = getattr(events, first.attr, None)
                found.append((where, re.escape(signal.name) if signal is not None else "<undeclared>"))
            else:
                found.append((where, "<not a name>"))
    return found


def test_every_emit_names_a_declared_event_and_every_event_is_emitted():
    emitted = _emitted()
    assert len(emitted) >= 15  # the after-commit calls of the web layer and the use cases (actions), at least
    for where, pattern in emitted:
        assert any(re.fullmatch(pattern, name) for name in events.EVENTS), f"{where}: undeclared event {pattern}"
    for name in events.EVENTS:
        assert any(re.fullmatch(pattern, name) for _, pattern in emitted), f"{name} is declared, never emitted"


def test_the_list_is_derived_from_the_signals():
    assert tuple(events.signals) == events.EVENTS
    assert "comment.created" in events.EVENTS and "verification.revoked" in events.EVENTS
    assert events.signal("mention.created") is events.mention_created
    documented = set(re.findall(r"^\| `([a-z_.]+)`", events.__doc__, re.M))
    assert documented == set(events.EVENTS)  # the docstring's table lists each event, and only those


def test_an_undeclared_event_fails_loudly():
    app = Flask("events-test")
    with app.app_context():
        with pytest.raises(LookupError, match="comment.creatd"):
            events.emit("comment.creatd", comment_id=1)
        from blinker import NamedSignal

        with pytest.raises(LookupError):
            events.emit(NamedSignal("comment.created"), comment_id=1)  # same name, not the declared signal


def test_receivers_are_per_app_in_order_and_a_failing_one_is_logged(caplog):
    first, other = Flask("events-first"), Flask("events-other")
    heard = []
    events.register(first, lambda event, data: heard.append(("a", event, data)))
    events.register(first, lambda event, data: 1 / 0)
    events.register(first, lambda event, data: heard.append(("b", event, data)))
    events.register(other, lambda event, data: heard.append(("other", event, data)))

    with first.app_context():
        events.emit("comment.created", comment_id=7, sender="kept")  # any keyword, even `sender`
        events.emit(events.posts_synced, site="dr-a")
    assert heard == [
        ("a", "comment.created", {"comment_id": 7, "sender": "kept"}),
        ("b", "comment.created", {"comment_id": 7, "sender": "kept"}),
        ("a", "posts.synced", {"site": "dr-a"}),
        ("b", "posts.synced", {"site": "dr-a"}),
    ]
    failures = [r for r in caplog.records if "after-commit listener failed" in r.getMessage()]
    assert [r.getMessage() for r in failures] == [
        "after-commit listener failed on comment.created", "after-commit listener failed on posts.synced",
    ]


def test_receivers_go_with_their_app():
    app = Flask("events-gone")

    def listener(event, data):
        pass

    events.register(app, listener)
    gone = weakref.ref(listener)
    del app, listener
    gc.collect()
    assert gone() is None  # blinker held it weakly, the app strongly: nothing outlives the app


def test_the_service_hears_every_event(app):
    """The app's own receiver (mail.notices, waking the sender) is connected to every event."""
    for name in events.EVENTS:
        assert list(events.signal(name).receivers_for(app)), name
