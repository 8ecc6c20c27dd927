"""After-commit hooks: where notifications (and anything slow or networked) plug in.

The API calls `emit` only once the write transaction has committed, so a listener never runs
inside a transaction and never sees a comment that might be rolled back. Listeners are per app
(`register(app, fn)`), so test apps do not share them. A failing listener is logged, never
turned into an error for the commenter whose comment is already stored.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

EVENTS = (
    "comment.created", "comment.edited", "comment.deleted", "comment.reported", "posts.synced",
    "comment.moderated", "mail.queued", "account.deleted", "mention.moderated",
)


def register(app, listener: Callable[[str, dict], None]) -> None:
    app.extensions.setdefault("confreres_hooks", []).append(listener)


def emit(event: str, **data) -> None:
    for listener in current_app.extensions.get("confreres_hooks", []):
        try:
            listener(event, data)
        except Exception:  # noqa: BLE001 - a listener must not undo an acknowledged write
            current_app.logger.exception("after-commit listener failed on %s", event)
