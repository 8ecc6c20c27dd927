"""The canonical form of an e-mail address: one inbox, whatever variant of it was typed.

The one owner of the rule, for every layer that keys something by inbox: the per-address caps on mails a stranger
can ask for (mail/outbox.sent_to_address), « ne plus rien recevoir » (mail/outbox.is_blocked), the keyed hash a
blog's block keeps of an author's address (domain/blocks.email_hash), and the migrations that key existing rows
(core/migrations.m028_mail_address_key; m025 applied the same rule in SQL).
"""

from __future__ import annotations


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()


def address_key(email: str | None) -> str:
    """Normalised (case, spaces) and without the `+tag` of its local part, so that `Victim+1@example.org`,
    `victim+2@…` and `victim@…` share one key (most providers deliver them to one inbox). Only what is keyed by inbox
    uses it: a mail still goes to the address as typed, which still signs into its own account. A local part that
    starts with `+` keeps it (no empty key shared by every such address)."""
    normalised = normalise_email(email)
    local, at, domain = normalised.rpartition("@")
    if not at:
        return normalised
    return f"{local.split('+', 1)[0] or local}@{domain}"
