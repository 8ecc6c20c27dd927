"""Changing the secret key on purpose (`confreres service rotate-key`, docs/operating.md): what the database keyed with
the old key is keyed again with the new one, in the transaction that records the new key's fingerprint
(core/identity.py), or nothing is. Without it, a new key left every member's RPPS hash unmatched (the next directory
import found none of them) and every block by e-mail blocking nobody.

What the key keyed, and what becomes of it:

- the members' RPPS hashes (`verifications.rpps_hash`, plain, `contested:…` or `revoked:…`): computed again from the
  number `verification_identities` keeps (no old key needed; `rehash_rpps`, also run by `accept-settings`);
- the blocked authors' e-mail keys (`author_blocks.email_hash`): a block keeps no address, so every address the
  database knows (accounts, comments, subscriptions, the letter's subscribers, the outbox) is hashed under the old
  key and a block whose key it gives is keyed again under the new one (the old key is needed). A key no known
  address gives is dropped (it could never match again), and so is a block then left naming nobody;
- the IP hashes (comments, reports, blocks by address): the address itself is never stored, so they cannot be
  re-keyed; they are erased, since they would never match again (a block by address made from an older comment
  would have stored a dead key: it now says the address is no longer known);
- the sessions: random tokens, not keyed, but all ended: whoever held the leaked key could forge a sign-in link
  for any address (an admin's) and keep the session it opened.

What the key signs without the database keeping it cannot be carried over and is refused from then on: the links of
the mails already sent or still waiting in the outbox (sign-in, confirmations, one-click moderation, « ne plus rien
recevoir », the letter's unsubscribe links), open forms, the guests' edit links, the Pro Santé Connect cookie of a
login under way, the blogs' site tokens (`confreres publish init`, `confreres site-token`).
"""

from __future__ import annotations

from comments_service.core import identity
from comments_service.core.db import write
from comments_service.domain import blocks
from comments_service.domain.verification import rpps_hash

# Every column that holds an address a blocked author may have written with (blocks.email_hash's input).
ADDRESS_COLUMNS = (("accounts", "email"), ("comments", "email"), ("mail_addresses", "email"),
                   ("subscriptions", "email"), ("letter_subscribers", "email"), ("outbox", "recipient"))


class RotationRefused(Exception):
    """The rotation cannot be done as asked; nothing was changed (the message, in French, says why)."""


def rehash_rpps(db, secret: str) -> dict[str, int]:
    """Inside the caller's transaction: each verification row's RPPS hash made again under `secret` from the number
    it is about, its prefix (contested:<id>:, revoked:<id>:) kept. Idempotent. {"rpps": rows changed,
    "rpps_lost": rows whose number is not stored (none should be: they can no longer be matched)}."""
    counts = {"rpps": 0, "rpps_lost": 0}
    rows = db.conn.execute(
        "SELECT v.account_id, v.rpps_hash, i.rpps FROM verifications v"
        " LEFT JOIN verification_identities i ON i.account_id = v.account_id"
    ).fetchall()
    for account_id, value, number in rows:
        if not number:
            counts["rpps_lost"] += 1
            continue
        fresh = value[: value.rfind(":") + 1] + rpps_hash(secret, number)  # a hash has no ':'; the prefix ends with one
        if fresh != value:
            db.conn.execute("UPDATE verifications SET rpps_hash = ? WHERE account_id = ?", (fresh, account_id))
            counts["rpps"] += 1
    return counts


def _email_keys(db, old: str, new: str, wanted: set[str]) -> dict[str, str]:
    """{old e-mail key: new one} for the wanted old keys that an address the database knows gives."""
    found: dict[str, str] = {}
    for table, column in ADDRESS_COLUMNS:
        for (email,) in db.conn.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL"):
            digest = blocks.email_hash(old, email)
            if digest in wanted and digest not in found:
                found[digest] = blocks.email_hash(new, email)
                if len(found) == len(wanted):
                    return found
    return found


def _rekey_blocks(db, old: str, new: str) -> dict[str, int]:
    counts = {"blocks_email": 0, "blocks_email_lost": 0, "blocks_address_lost": 0, "blocks_removed": 0}
    rows = db.conn.execute(
        "SELECT id, account_id, email_hash, ip_hash FROM author_blocks WHERE email_hash IS NOT NULL OR ip_hash IS NOT NULL"
    ).fetchall()
    keys = _email_keys(db, old, new, {r[2] for r in rows if r[2]})
    for block_id, account_id, email_key, ip_key in rows:
        fresh = keys.get(email_key) if email_key else None
        counts["blocks_email"] += fresh is not None
        counts["blocks_email_lost"] += bool(email_key) and fresh is None
        counts["blocks_address_lost"] += ip_key is not None
        if account_id is None and fresh is None:
            db.conn.execute("DELETE FROM author_blocks WHERE id = ?", (block_id,))
            counts["blocks_removed"] += 1
        else:
            db.conn.execute("UPDATE author_blocks SET email_hash = ?, ip_hash = NULL WHERE id = ?", (fresh, block_id))
    return counts


def rotate(db, config, old: str) -> dict[str, int]:
    """Re-key the database from the `old` secret key to the app's (`config`), and record the new one, in one
    transaction; RotationRefused (nothing changed) when `old` is not the key the database records, or is the new one.
    Returns how many of each were re-keyed, dropped or ended (the keys of `rehash_rpps`, `_rekey_blocks`, and
    "ip_hashes", "sessions", "outbox_waiting": mails still to send, whose links the old key signed)."""
    new = str(config["SECRET_KEY"])
    if not old.strip():
        raise RotationRefused("l'ancienne clé secrète n'est pas donnée (CONFRERES_OLD_SECRET_KEY, ou tapée à l'invite)")
    if old == new:
        raise RotationRefused("la nouvelle clé secrète (CONFRERES_SECRET_KEY) est l'ancienne : rien à changer")
    with write(db):
        found = identity.recorded(db)
        recorded = found.get("secret_key")
        if recorded == identity.fingerprint(new):
            raise RotationRefused("la base enregistre déjà la clé de CONFRERES_SECRET_KEY : rien à changer")
        if recorded != identity.fingerprint(old):
            raise RotationRefused("l'ancienne clé donnée n'est pas celle que la base enregistre"
                                  + ("" if recorded else " (elle n'en enregistre aucune)"))
        if identity.mismatch(config, {k: v for k, v in found.items() if k != "secret_key"}) == "mail_transport":
            raise RotationRefused("la base envoie son courrier par SMTP, cet environnement l'écrirait dans des fichiers "
                                  "(CONFRERES_MAIL_DIR) : chargez l'environnement du service")
        counts = rehash_rpps(db, new)
        counts.update(_rekey_blocks(db, old, new))
        counts["ip_hashes"] = sum(
            db.conn.execute(f"UPDATE {table} SET ip_hash = NULL WHERE ip_hash IS NOT NULL").rowcount
            for table in ("comments", "reports")
        )
        counts["sessions"] = db.conn.execute("DELETE FROM sessions").rowcount
        counts["outbox_waiting"] = db.conn.execute("SELECT COUNT(*) FROM outbox WHERE sent IS NULL").fetchone()[0]
        identity.record_key(db, new)
        identity.record(db, config, replace=False)  # a transport recorded for the first time, as any start would
    return counts
