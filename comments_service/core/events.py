"""The named events of the comment service: every one is declared here, on blinker (Flask's own signals).

An event says that something was written and committed; whatever is slow or networked (waking the mail
sender, later federation) plugs in as a receiver instead of being called by the code that writes. Each
event is emitted only once its write transaction has committed, so a receiver never runs inside a
transaction and never sees a comment that might be rolled back. Receivers are connected per app
(`register(app, fn)`, or `signal.connect(fn, sender=app)`), so test apps do not share them. A failing
receiver is logged, never turned into an error for the commenter whose comment is already stored.

| event (signal name)     | emitted by, after the commit                                     | listened by              |
|-------------------------|------------------------------------------------------------------|--------------------------|
| `comment.created`       | actions.comments.create_comment (the API and the no-JS form)     | mail.notices (all below), federation.answers |
| `comment.edited`        | actions.comments (PATCH /api/comments/<id>)                      | mail.notices, federation.answers |
| `comment.deleted`       | actions.comments (DELETE /api/comments/<id>)                     | mail.notices, federation.answers |
| `comment.reported`      | actions.comments (POST /api/comments/<id>/report, the no-JS « Signaler » form) | mail.notices |
| `comment.moderated`     | web.moderation_pages (API, queue page, mailed action links)      | mail.notices, federation.answers |
| `posts.synced`          | web.api (PUT /api/sites/<slug>/posts)                            | mail.notices             |
| `mention.created`       | actions.mentions.process (a verified Webmention, new)            | mail.notices             |
| `mention.updated`       | actions.mentions.process (a verified Webmention, changed)        | mail.notices             |
| `mention.deleted`       | actions.mentions.process (the source is gone or no longer links) | mail.notices             |
| `mention.moderated`     | web.moderation_pages (API, queue page, mailed action links)      | mail.notices             |
| `mail.queued`           | web.account (a sign-in link), web.letter (a letter's opt-in)     | mail.notices             |
| `account.deleted`       | actions.accounts.delete_account (API and page); `answers`: its comments pushed to the fediverse, read before the deletion | mail.notices, federation.answers |
| `account.renamed`       | actions.accounts.announce_rename: web.account (API and page), web.verification (a declaration under a new name), confreres.cli (`admin create --name`, `verify grant --display-name`) | mail.notices, federation.answers |
| `verification.declared` | web.verification (a declaration: API and page)                   | mail.notices             |
| `verification.revoked`  | web.verification (a revocation: API and page)                    | mail.notices             |

mail.notices listens with `register(app, _after_commit)`: it hears every event and wakes the mail sender
when the request queued a mail. Tests listen the same way. A new event is one line below plus a row here;
`emit` refuses a name not declared here (LookupError), and tests/comments_service/core/test_events.py checks
that every `emit` call of the service names a declared event and that every declared event is emitted.
"""

from __future__ import annotations

from collections.abc import Callable

from blinker import NamedSignal, Namespace
from flask import current_app

signals = Namespace()

comment_created = signals.signal("comment.created")
comment_edited = signals.signal("comment.edited")
comment_deleted = signals.signal("comment.deleted")
comment_reported = signals.signal("comment.reported")
comment_moderated = signals.signal("comment.moderated")
posts_synced = signals.signal("posts.synced")
mention_created = signals.signal("mention.created")
mention_updated = signals.signal("mention.updated")
mention_deleted = signals.signal("mention.deleted")
mention_moderated = signals.signal("mention.moderated")
mail_queued = signals.signal("mail.queued")
account_deleted = signals.signal("account.deleted")
account_renamed = signals.signal("account.renamed")  # its public name changed: every past comment shows the new one
verification_declared = signals.signal("verification.declared")
verification_revoked = signals.signal("verification.revoked")

EVENTS: tuple[str, ...] = tuple(signals)  # every declared name, in the order above

_RECEIVERS = "confreres_events"  # app.extensions key: the app's receivers, strongly held, in order


def signal(event: str | NamedSignal) -> NamedSignal:
    """The declared signal for `event` (its name or the signal itself); LookupError for any other."""
    name = event.name if isinstance(event, NamedSignal) else event
    found = signals.get(name)
    if found is None or (isinstance(event, NamedSignal) and found is not event):
        raise LookupError(f"undeclared event {name!r}: declare it in comments_service/core/events.py")
    return found


def register(app, listener: Callable[[str, dict], None]) -> None:
    """Connect `listener(event_name, data)` to every event, for `app` only.

    The app holds the receivers (blinker keeps weak references), so they live and go with it.
    """
    held = app.extensions.setdefault(_RECEIVERS, [])
    for one in signals.values():
        receiver = _receiver(listener, one.name)
        held.append(receiver)
        one.connect(receiver, sender=app)


def _receiver(listener: Callable[[str, dict], None], name: str) -> Callable[..., None]:
    def receive(sender, /, **data) -> None:
        listener(name, data)

    return receive


def emit(event: str | NamedSignal, /, **data) -> None:
    """Send `event` to the current app's receivers (and those connected for any sender).

    Called once the write transaction has committed. Receivers run in the order they were registered;
    one that fails is logged and the others still run.
    """
    sent = signal(event)
    app = current_app._get_current_object()
    held = {id(fn): rank for rank, fn in enumerate(app.extensions.get(_RECEIVERS, ()))}
    for receiver in sorted(sent.receivers_for(app), key=lambda fn: held.get(id(fn), -1)):
        try:
            receiver(app, **data)
        except Exception:  # noqa: BLE001 - a receiver must not undo an acknowledged write
            app.logger.exception("after-commit listener failed on %s", sent.name)
