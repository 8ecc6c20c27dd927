"""Use cases of the verification that reach the mail transport: the directory re-check run from cron.

domain/verification.py decides and queues the notices (through mail/notices.tell_member); handing
them to the transport at the end of the report is the mail side's job, done here.
"""

from __future__ import annotations

from collections.abc import Iterator

from comments_service.domain import verification
from comments_service.mail import outbox
from comments_service.mail import transport as mailer


def recheck_directory(app, *, force: bool = False) -> Iterator[str]:
    """domain/verification.recheck_directory's report lines, then the revocation notices sent now."""
    return verification.recheck_directory(app, send_now=lambda: _send_now(app), force=force)


def _send_now(app) -> str:
    """Hand the revocation notices to the mail transport now (the import runs from cron, not a request)."""
    if not mailer.transport(app.config):
        return "  Avis aux membres révoqués : en attente dans la file des e-mails (aucun transport configuré)."
    with app.app_context():
        result = outbox.deliver(app.config)
    return f"  Avis aux membres révoqués : {result['sent']} envoyé(s), {result['failed']} en échec (réessayés plus tard)."
