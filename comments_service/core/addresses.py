"""The canonical form of an e-mail address: one inbox, whatever variant of it was typed.

The one owner of the rule, for every layer that stores or keys an address. `normalise_email` is what is STORED
(accounts, guest comments, reply subscriptions, mail_addresses, the letter's subscribers, the outbox's recipients)
and what every lookup compares, so that `Jean.Dupont@Exemple.fr` and `jean.dupont@exemple.fr`, `Élodie@…` and
`élodie@…` (SQLite's NOCASE folds ASCII letters only), an accent typed composed or decomposed, an IDN domain in
Unicode (`médecin.fr`) or in punycode (`xn--mdecin-bva.fr`) are one person for signing in, the export, the
deletion, « ne plus rien recevoir » and every unsubscribe link (core/migrations.m031_canonical_addresses gave the
rows stored before their canonical form). `address_key` goes further, for what is keyed by inbox: the per-address
caps on mails a stranger can ask for (mail/outbox.sent_to_address), « ne plus rien recevoir »
(mail/outbox.is_blocked), the keyed hash a blog's block keeps of an author's address (domain/blocks.email_hash).
"""

from __future__ import annotations

import unicodedata

import idna


def _domain(domain: str) -> str:
    """The domain as DNS knows it: lower case, IDNA 2008 (UTS #46, non-transitional: `ß` stays `ß`) in punycode.
    A domain IDNA refuses is kept lowered: the caller's validation (validate.EMAIL_RE) refuses it then."""
    lowered = domain.lower()
    if lowered.isascii() and "xn--" not in lowered:
        return lowered
    try:
        return idna.encode(lowered, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return lowered


def normalise_email(email: str | None) -> str:
    """The stored, compared form: spaces around removed, Unicode NFC, lower case (every script's letters, not
    ASCII's alone), the domain in punycode. Local parts are compared without case, as every mail provider does;
    nothing else is folded (no `ß` -> `ss`, no dots removed): two different inboxes never share it."""
    value = unicodedata.normalize("NFC", (email or "").strip())
    local, at, domain = value.rpartition("@")
    if not at:
        return unicodedata.normalize("NFC", value.lower())
    return f"{unicodedata.normalize('NFC', local.lower())}@{_domain(domain)}"


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
