"""One RSA key pair per actor (2048 bits, `cryptography`), made the first time the actor is asked for and kept
in `fed_actors`. The public key is in the actor's document; the private one is read only by `private_key`,
for signing, and never leaves the database (no export reads this table).

A blog removed from network.toml whose farewell was queued (farewell.py: `retired` set) keeps its key as long as
those Deletes may still be sent (they are signed with it, and its followers' servers check them against the key
they kept: its actor answers 404 by then); the sender then forgets it (`forget_retired`)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from comments_service.core.db import write
from comments_service.domain.posts import iso, query_one, utcnow

KEY_BITS = 2048


def _row(db, name: str):
    return query_one(db, "SELECT public_pem, private_pem FROM fed_actors WHERE name = ?", (name,))


def _ensure(db, name: str):
    row = _row(db, name)
    if row is not None:
        return row
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    with write(db):  # two processes may race: the first key stays, the other is thrown away
        db.conn.execute(
            "INSERT OR IGNORE INTO fed_actors (name, public_pem, private_pem, created) VALUES (?, ?, ?, ?)",
            (name, public_pem, private_pem, iso(utcnow())),
        )
    return _row(db, name)


def public_pem(db, name: str) -> str:
    return _ensure(db, name)["public_pem"]


def private_key(db, name: str) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(_ensure(db, name)["private_pem"].encode("ascii"), password=None)


def made(db, name: str) -> bool:
    """Whether `name` has a key pair (made when its actor was first served or first signed something)."""
    return _row(db, name) is not None


def retire(db, name: str, stamp: str) -> None:
    """Mark `name`'s key to be forgotten once its last delivery is done (inside the caller's transaction)."""
    db.conn.execute("UPDATE fed_actors SET retired = ? WHERE name = ?", (stamp, name))


def keep(db, name: str) -> None:
    """`name` is a member again (it announced its posts): its key is no longer to be forgotten."""
    db.conn.execute("UPDATE fed_actors SET retired = NULL WHERE name = ? AND retired IS NOT NULL", (name,))


def forget_retired(db, members: list[str]) -> list[str]:
    """Delete the key pairs of the retired actors (not among `members`, the actors network.toml lists) that no
    queued delivery or activity still needs; the names forgotten."""
    if db.conn.execute("SELECT 1 FROM fed_actors WHERE retired IS NOT NULL LIMIT 1").fetchone() is None:
        return []  # the usual case, at every run of the sender: no write lock taken for nothing
    marks = ",".join("?" * len(members)) or "NULL"
    with write(db):
        rows = db.conn.execute(
            f"DELETE FROM fed_actors WHERE retired IS NOT NULL AND name NOT IN ({marks}) AND NOT EXISTS ("
            " SELECT 1 FROM fed_activities a WHERE a.actor = fed_actors.name AND (a.audience != '' OR EXISTS ("
            "  SELECT 1 FROM fed_deliveries d WHERE d.activity_id = a.id AND d.state = 'queued'))) RETURNING name",
            tuple(members),
        ).fetchall()
    return sorted(row[0] for row in rows)
