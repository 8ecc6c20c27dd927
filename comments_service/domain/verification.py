"""Verified physicians: the levels `declared` -> `verified` -> `revoked` of ../shared/reference/rpps-directory.md.

- **declared**: the RPPS passes Luhn, is found with profession 10 in the current directory import,
  and the declared last and first names match it (case and accents aside). One account per RPPS, but
  without disclosure: a number another account holds gives a *contested* declaration that looks like
  any other and is never verified automatically (see `declare`). Declarations are limited per account.
- **verified**: declared, plus one proof: a Pro Santé Connect login returning that RPPS (web/psc.py);
  vouching by two already verified physicians who know the candidate ("Je connais ce confrère", each
  types the candidate's surname, which the server compares without showing it); a moderator's review
  of a proof (CPS or ordinal card...), where the moderator types the RPPS read on the proof; or, for
  the founding members, a grant from the admin's terminal (`confreres verify grant`).
- **revoked**: the RPPS is gone from a newer directory import (struck off, deceased, no longer a
  physician), or a moderator decided so, with a reason. The member's past comments lose the badge, and
  their vouches stop counting: whoever was verified only thanks to them goes back to `declared`
  (`withdraw_vouches`).

What is stored is the minimum: a keyed hash of the RPPS (HMAC with the secret key: unique, one
account per RPPS, and enough for the re-check after each import), level, method, dates, who approved,
profession and specialty codes. The RPPS and the name as declared live in `verification_identities`,
read only by the admin commands (`confreres verify list`) and by comparisons that answer yes or no.
Every decision is written to `verification_log` (who, when, why, which proof).

The badge itself is kept on the account (`accounts.badge_level`, `badge_specialty`) so the sign-in
layer reads it with the account; store.add_comment records it on each comment at posting time, and
a revocation (or a return to `declared`) clears it from the member's past comments and gives their
threads a new version (ETag). The specialty shows only if the member opts in (`accounts.show_specialty`,
off for new accounts); changing that choice re-applies it to their past badged comments too
(`apply_specialty_choice`), so a member who hides it hides it everywhere.
"""

from __future__ import annotations

import hmac
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from comments_service.core.db import connect, write
from comments_service.core.errors import ApiError
from comments_service.domain import accounts, blocks, public, validate
from comments_service.domain.comments import check_signed_in, iso, query, query_one, utcnow
from comments_service.domain.posts import bump_post, bump_site_answers
from comments_service.domain.public import METHOD_TITLES
from comments_service.domain.rpps import (
    Directory,
    canonical_rpps,
    luhn_ok,
    name_key,
    name_keys,
    names_match,
    scripts,
)
from confreres.names import name_forms, name_lookups, same_words

LEVELS = ("declared", "verified", "revoked")
VOUCHES_NEEDED = 2
METHOD_LABELS = {
    "psc": "connexion Pro Santé Connect",
    "vouching": "parrainage de deux confrères vérifiés",
    "review": "examen d'un justificatif par un modérateur",
    "grant": "membre fondateur (administrateur)",
}
# Proofs a moderator may review (the reference's list; the postal code is a review of the letter's code).
PROOFS = {
    "cps": "carte CPS ou e-CPS",
    "ordinal": "carte ordinale (Ordre des médecins)",
    "attestation": "attestation d'inscription au tableau de l'Ordre",
    "postal": "code envoyé par courrier à l'adresse d'exercice de l'annuaire",
}
REVIEWER_ROLES = frozenset({"moderator", "admin"})
VOUCH_TOKEN_BYTES = 18  # 24 URL-safe characters of secrets.token_urlsafe
VOUCH_EVENTS_FAILED = ("vouch_failed", "vouch_blocked")  # attempts shown to the candidate
MAX_NAME = 100
MAX_REASON = 1000


# -- keys, directory, links -------------------------------------------------------------------------

def rpps_hash(secret: str, rpps: str) -> str:
    """The keyed hash stored instead of the RPPS (HMAC-SHA256 with the service's secret key)."""
    return hmac.digest(secret.encode(), b"confreres-rpps:" + rpps.encode(), "sha256").hex()


def directory(app) -> Directory:
    """The app's handle on the imported directory (it reopens itself after a new import)."""
    handle = app.extensions.get("confreres_directory")
    if handle is None or str(handle.path) != str(app.config["DIRECTORY_DB"]):
        handle = app.extensions["confreres_directory"] = Directory(app.config["DIRECTORY_DB"])
    return handle


def vouch_link(db, account_id: int, now: datetime | None = None) -> str:
    """The token of the candidate's vouching link (/verification/parrainer/<token>), made on first use.

    Random and stored (vouch_links), so it says nothing of the account and cannot be enumerated, and the
    candidate can replace it (`renew_vouch_link`) when it went further than the confrères it was meant for.
    """
    row = query_one(db, "SELECT token FROM vouch_links WHERE account_id = ?", (account_id,))
    if row is not None:
        return row["token"]
    with write(db):
        check_signed_in(db, {"id": account_id})  # deleted while the page waited for its turn to write
        db.conn.execute(
            "INSERT OR IGNORE INTO vouch_links (account_id, token, created) VALUES (?, ?, ?)",
            (account_id, secrets.token_urlsafe(VOUCH_TOKEN_BYTES), iso(now or utcnow())),
        )
        return query_one(db, "SELECT token FROM vouch_links WHERE account_id = ?", (account_id,))["token"]


def renew_vouch_link(db, account_id: int, now: datetime | None = None) -> str:
    """A new vouching link for the candidate; the old one stops working at once (audit-logged)."""
    moment = now or utcnow()
    token = secrets.token_urlsafe(VOUCH_TOKEN_BYTES)
    with write(db):
        check_signed_in(db, {"id": account_id})
        db.conn.execute(
            "INSERT INTO vouch_links (account_id, token, created) VALUES (?, ?, ?)"
            " ON CONFLICT (account_id) DO UPDATE SET token = excluded.token, created = excluded.created",
            (account_id, token, iso(moment)),
        )
        _log(db, account_id, "vouch_link_renewed", method="vouching", actor_id=account_id,
             actor=_actor_label(db, account_id, "membre"), now=moment)
    return token


def candidate_of_link(db, token: str) -> int | None:
    """The account whose current vouching link this is; None for an unknown, replaced or old-style link."""
    if not token or len(token) > 100:
        return None
    row = query_one(db, "SELECT account_id FROM vouch_links WHERE token = ?", (token,))
    return row["account_id"] if row else None


# -- reads --------------------------------------------------------------------------------------------

def get(db, account_id: int) -> sqlite3.Row | None:
    return query_one(db, "SELECT * FROM verifications WHERE account_id = ?", (account_id,))


def level_of(db, account_id: int) -> str | None:
    row = query_one(db, "SELECT level FROM verifications WHERE account_id = ?", (account_id,))
    return row["level"] if row else None


def _identity(db, account_id: int) -> sqlite3.Row | None:
    return query_one(db, "SELECT * FROM verification_identities WHERE account_id = ?", (account_id,))


def account_row(db, account_id: int) -> sqlite3.Row:
    row = query_one(db, "SELECT * FROM accounts WHERE id = ?", (account_id,))
    if row is None:
        raise ApiError(404, "unknown_account", "Ce compte n'existe pas.")
    return row


def vouches(db, candidate_id: int) -> list[dict]:
    """Who vouched for the candidate (their public names only) and when."""
    return [
        {"name": r["display_name"] or "Un confrère vérifié", "created": r["created"]}
        for r in query(
            db,
            "SELECT a.display_name, v.created FROM vouches v JOIN accounts a ON a.id = v.voucher_id"
            " WHERE v.candidate_id = ? ORDER BY v.created, v.voucher_id",
            (candidate_id,),
        )
    ]


def status(db, account_id: int) -> dict:
    """What a member sees of their own verification: never the RPPS nor the declared name."""
    row = get(db, account_id)
    account = account_row(db, account_id)
    if row is None:
        return {
            "level": None, "method": None, "method_label": None, "specialty": None,
            "show_specialty": bool(_col(account, "show_specialty", 0)), "declared": None, "verified": None,
            "revoked": None, "revoked_reason": None, "vouches": [], "vouches_needed": VOUCHES_NEEDED,
            "failed_vouches": 0,
        }
    return {
        "level": row["level"],
        "method": row["method"],
        "method_label": METHOD_LABELS.get(row["method"]),
        "specialty": row["specialty"] or None,
        "show_specialty": bool(_col(account, "show_specialty", 0)),
        "declared": row["declared"],
        "verified": row["verified"],
        "revoked": row["revoked"],
        "revoked_reason": row["revoked_reason"],
        "vouches": vouches(db, account_id),
        "vouches_needed": VOUCHES_NEEDED,
        "failed_vouches": failed_vouches(db, account_id),
    }


def failed_vouches(db, candidate_id: int) -> int:
    """How many times confrères tried to vouch for the candidate with a wrong surname (or past the limits)."""
    return query_one(
        db, f"SELECT COUNT(*) AS n FROM verification_log WHERE account_id = ? AND event IN {VOUCH_EVENTS_FAILED!r}",
        (candidate_id,),
    )["n"]


def _col(row, key: str, default=None):
    return row[key] if key in row.keys() else default  # noqa: SIM118 - sqlite3.Row: `in` tests values


def account_badge(db, account: dict | None) -> dict | None:
    """The badge the signed-in member's next comment gets (public.badge: label, tooltip), or None; for the
    « Connecté·e » lines of the widget (`account.badge`) and of the no-JS thread page."""
    if not account:
        return None
    row = get(db, account["id"])
    return public.badge({
        "badge_level": account.get("badge_level"), "badge_specialty": account.get("badge_specialty"),
        "badge_method": row["method"] if row else None, "account_level": row["level"] if row else None,
    })


def badge_title(method: str | None) -> str | None:
    return METHOD_TITLES.get(method or "")


# -- input --------------------------------------------------------------------------------------------

def _text(value, field: str, label: str, required: bool = True, limit: int = MAX_NAME) -> str:
    if value is not None and not isinstance(value, str):
        raise ApiError(400, "invalid_type", f"{label[0].upper()}{label[1:]} doit être une chaîne.", field)
    value = validate.one_line(value or "")
    if not value:
        if required:
            raise ApiError(400, "missing_field", f"Indiquez {label}.", field)
        return ""
    if len(value) > limit:
        raise ApiError(400, "too_long", f"{label[0].upper()}{label[1:]} est trop long ({limit} caractères au plus).", field)
    return value


def rpps_input(value, field: str = "rpps") -> str:
    """The 11-digit RPPS from what was typed; a Luhn failure is a typo, said so."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ApiError(400, "missing_field", "Indiquez votre numéro RPPS (11 chiffres, sur votre carte CPS).", field)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > 40:
        raise ApiError(400, "invalid_rpps", "Un numéro RPPS s'écrit avec 11 chiffres.", field)
    rpps = canonical_rpps(value.replace(".", "").replace("-", ""))
    if rpps is None:
        raise ApiError(
            400, "invalid_rpps", "Un numéro RPPS a 11 chiffres (ou 12 chiffres commençant par 8, sa forme nationale).",
            field,
        )
    if not luhn_ok(rpps):
        raise ApiError(
            400, "rpps_typo",
            "Ce numéro RPPS ne passe pas le contrôle de sa clé : probablement une faute de frappe. "
            "Recopiez-le depuis votre carte CPS ou l'annuaire santé.",
            field,
        )
    return rpps


# -- display names and pseudonyms -------------------------------------------------------------------

def check_display_name(app, db, account_id: int | None, name: str, field: str = "display_name", *,
                       others: bool = True) -> None:
    """Refuse (ApiError 400) a display name that would pass its owner off as a physician of the directory, or
    (`others`) as another member.

    A physician's own name is always allowed. For a physician who declared or verified an RPPS, any
    other physician's name ("Prénom Nom", "Nom Prénom", "Dr Nom") is refused, and where the network
    does not allow pseudonyms (policies.pseudonyms = false), anything but their own name is. For other
    members, a titled physician's name ("Dr Nom", "Docteur Prénom Nom") is refused. Call it on every
    profile save and before a declaration.

    A name the account does not bear yet must also be nobody else's, as a guest's must (check_author_name: another
    member's public name in any case, word order, with initials or look-alike letters; no mix of alphabets):
    otherwise anyone could open an account and take a member's pseudonym, which a guest may not sign with. The name
    an account bears already is not checked again (two members named alike before this rule keep their names).
    """
    name = (name or "").strip()
    if not name:
        return
    row = get(db, account_id) if account_id is not None else None
    physician = row is not None and row["level"] in ("declared", "verified")
    if physician:
        identity = _identity(db, account_id)
        if identity is not None and _is_own_name(identity, name):
            return
        network = app.extensions["confreres_network"]
        if not network.policies.pseudonyms:
            raise ApiError(
                400, "pseudonyms_disabled",
                "Sur ce réseau, les médecins vérifiés commentent sous leur nom d'exercice (par exemple « Dr Prénom Nom »).",
                field,
            )
    keys = name_keys(name)
    if (physician or len(keys) > 1) and directory(app).name_taken(name, keys):  # more than one key: a titled name
        raise ApiError(
            400, "name_of_a_physician",
            "Ce nom est celui d'un médecin inscrit à l'annuaire santé : choisissez un autre nom ou pseudonyme.",
            field,
        )
    if others and account_id is not None and name != _display_name(db, account_id):
        if _named_like_a_member(db, name, account_id):
            raise ApiError(
                400, "name_of_a_member",
                "Ce nom est celui d'un autre membre du réseau : choisissez un autre nom ou pseudonyme.",
                field,
            )
        _check_one_script(name, field)


def _display_name(db, account_id: int) -> str:
    row = query_one(db, "SELECT display_name FROM accounts WHERE id = ?", (account_id,))
    return row["display_name"] if row is not None else ""


def _named_like_a_member(db, name: str, own_id: int | None) -> bool:
    """Whether `name` reads as the public name of a member other than `own_id` (case, accents, spaces,
    punctuation, « Dr », look-alike letters aside; in any word order, an initial for a first name)."""
    wanted, words = name_forms(name)  # the full-name key (title, case, accents, punctuation aside) and words
    for row in _members_named_like(db, name):
        key, theirs = name_forms(row["display_name"])
        if row["id"] != own_id and (key == wanted or same_words(words, theirs)):
            return True
    return False


def _check_one_script(name: str, field: str) -> None:
    if len(scripts(name) - {"?"}) > 1:  # « ꓚlaire » (Lisu), « Ꮯlaire » (Cherokee): no table lists every look-alike
        raise ApiError(
            400, "mixed_scripts",
            "Ce nom mélange plusieurs alphabets (latin et cyrillique, par exemple) : écrivez-le dans un seul.",
            field,
        )


def check_author_name(app, db, name: str, account: dict | None = None, field: str = "author") -> None:
    """Refuse (ApiError 400) the name typed with a comment when it passes its writer off as someone else.

    A guest (or a member without a display name, whose comment shows what they type) may not sign with a
    titled physician's name of the directory (check_display_name, the rule of account names) nor with the
    public name of a member of the network, compared the same way (case, accents, spaces and punctuation,
    « Dr » / « Docteur » aside). A member whose display name is set signs with it: nothing typed is used.
    """
    name = (name or "").strip()
    if not name or (account and account.get("display_name")):
        return
    own_id = account["id"] if account else None
    if _named_like_a_member(db, name, own_id):
        raise ApiError(
            400, "name_of_a_member",
            "Ce nom est celui d'un membre du réseau : s'il s'agit de vous, connectez-vous pour commenter ; "
            "sinon, choisissez un autre nom.",
            field,
        )
    check_display_name(app, db, own_id, name, field, others=False)
    _check_one_script(name, field)


def _members_named_like(db, name: str) -> list[sqlite3.Row]:
    """The members whose public name may read as `name`: those whose stored index (names.name_index, kept by
    accounts.set_display_name) has one of the values names.name_lookups gives; check_author_name compares only
    them, the same way as ever. A few rows through indexes, however many members the network has.

    One SELECT per index, joined by UNION: with the partial indexes (WHERE display_name != ''), SQLite 3.40 plans
    `name_key = ? OR name_words IN (...)` as a scan of every account, the very cost this avoids."""
    lookups = name_lookups(name)
    if lookups is None:
        return []
    key, forms, signature = lookups
    select = "SELECT id, display_name FROM accounts WHERE display_name != '' AND "
    parts, params = [select + "name_key = ?"], [key]
    if forms:
        parts.append(select + f"name_words IN ({', '.join(['?'] * len(forms))})")
        params += forms
    if signature is not None:
        parts.append(select + "name_sig = ?")
        params.append(signature)
    return query(db, " UNION ".join(parts), tuple(params))


def same_name(typed: str, name: str) -> bool:
    """Whether `typed` reads as `name`: the same words in any order, an initial standing for a word ("Lefebvre
    Claire", "C. Lefebvre", "Dr K. Benali" for "Dr Karim Benali", either way). An initial does not stand for the
    surname (the last word: "Claire L." is an ordinary guest), nor are initials alone a name."""
    return same_words(name_forms(typed)[1], name_forms(name)[1])


def _is_own_name(identity, name: str) -> bool:
    last, first = identity["last_name"], identity["first_name"]
    own = {"f" + name_key(f"{first} {last}"), "f" + name_key(f"{last} {first}"), "l" + name_key(last)}
    return bool(set(name_keys(name)) & own)


# -- writes ---------------------------------------------------------------------------------------------

def _log(db, account_id, event: str, *, method=None, proof=None, reason=None, actor_id=None, actor="", now=None):
    db.conn.execute(
        "INSERT INTO verification_log (account_id, event, method, proof, reason, actor_id, actor, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (account_id, event, method, proof, reason, actor_id, actor, iso(now or utcnow())),
    )


def _actor_label(db, actor_id: int | None, fallback: str) -> str:
    if actor_id is None:
        return fallback
    row = query_one(db, "SELECT display_name, role FROM accounts WHERE id = ?", (actor_id,))
    if row is None:
        return fallback
    return f"{row['role']} #{actor_id} ({row['display_name'] or 'sans nom'})"


def _checked_physician(app, rpps: str, last_name: str, first_name: str):
    handle = directory(app)
    if not handle.available:
        raise ApiError(
            503, "directory_unavailable",
            "L'annuaire des médecins n'est pas encore importé sur ce service : réessayez plus tard.",
        )
    physician = handle.lookup(rpps)
    if physician is None:
        raise ApiError(
            400, "rpps_unknown",
            "Ce numéro RPPS n'est pas celui d'un médecin dans l'annuaire santé en vigueur. Vérifiez-le, "
            "ou écrivez aux administrateurs du réseau si vous venez d'être inscrit.",
            "rpps",
        )
    if not names_match(physician, last_name, first_name):
        raise ApiError(
            400, "name_mismatch",
            "Le nom et le prénom ne correspondent pas à ceux de l'annuaire pour ce numéro : indiquez vos nom "
            "et prénom d'exercice, tels qu'inscrits à l'Ordre.",
            "last_name",
        )
    return physician


def _claim(db, account_id: int, digest: str) -> None:
    """One account per RPPS, for the paths whose caller may know (the admin's grant, a PSC login that proved
    the number): a member's own declaration never gets this error (see `declare`)."""
    holder = _holder(db, digest, account_id)
    if holder is not None:
        raise ApiError(
            409, "rpps_taken",
            "Ce numéro RPPS est déjà associé à un autre compte du réseau (un compte par médecin). "
            "S'il s'agit bien du vôtre, écrivez aux administrateurs du réseau.",
            "rpps",
        )


def _holder(db, digest: str, account_id: int | None = None) -> sqlite3.Row | None:
    """The verification row of another account that holds this number (declared or verified), if any."""
    row = query_one(db, "SELECT * FROM verifications WHERE rpps_hash = ?", (digest,))
    return row if row is not None and row["account_id"] != account_id else None


CONTESTED = "contested:"


def contested_key(account_id: int, digest: str) -> str:
    """What a contested declaration stores instead of the hash (which stays unique to its holder)."""
    return f"{CONTESTED}{account_id}:{digest}"


def is_contested(row) -> bool:
    return row is not None and row["rpps_hash"].startswith(CONTESTED)


def real_hash(row) -> str:
    """The keyed hash of the number a verification row is about, contested or not."""
    value = row["rpps_hash"]
    return value.split(":", 2)[2] if value.startswith(CONTESTED) else value


def _count_attempt(app, db, account_id: int, now: datetime) -> None:
    """Declarations are limited per account (DECLARATIONS_PER_DAY a day): 429 past it.

    Each declaration that reaches the directory counts, matched or not; Luhn failures and missing
    fields, which reveal nothing, do not. With the contested state below, a declaration never says
    whether a number is held; the limit also keeps the holders' mailboxes and the directory from being
    swept by script.
    """
    limit = int(app.config.get("DECLARATIONS_PER_DAY", 10) or 0)
    if limit <= 0:
        return
    with write(db):
        check_signed_in(db, {"id": account_id})  # deleted while the declaration waited for its turn to write
        db.conn.execute("DELETE FROM verification_attempts WHERE created < ?", (iso(now - timedelta(days=2)),))
        count = query_one(
            db, "SELECT COUNT(*) AS n FROM verification_attempts WHERE account_id = ? AND created > ?",
            (account_id, iso(now - timedelta(days=1))),
        )["n"]
        if count >= limit:
            raise ApiError(
                429, "too_many_declarations",
                f"Vous avez fait {limit} déclarations depuis ce compte en 24 heures, le maximum : réessayez demain, "
                "ou écrivez aux administrateurs du réseau.",
                "rpps",
            )
        db.conn.execute("INSERT INTO verification_attempts (account_id, created) VALUES (?, ?)", (account_id, iso(now)))


def _contest(app, db, account_id: int, holder, now: datetime) -> None:
    """A member declared a number another account holds: audit both sides, tell the holder (at most daily)."""
    _log(db, account_id, "contested", reason=f"numéro déjà déclaré par le compte #{holder['account_id']} "
         f"({holder['level']}) : pas de vérification automatique, examen par un modérateur", actor="service", now=now)
    _log(db, holder["account_id"], "claim_contested", reason=f"le compte #{account_id} a déclaré le même numéro",
         actor="service", now=now)
    _mail_member(app, db, holder["account_id"], kind="verification_contested", once_a_day=True, now=now,
                 subject="quelqu'un a tenté de déclarer votre numéro RPPS", template="verification_contested")


def _resolve_contest(db, row, now: datetime) -> bool:
    """A contested declaration whose number nobody holds any more (the holder was revoked or left) becomes an
    ordinary one; True when the row is (now) uncontested."""
    if not is_contested(row):
        return True
    digest = real_hash(row)
    if _holder(db, digest, row["account_id"]) is not None:
        return False
    db.conn.execute("UPDATE verifications SET rpps_hash = ? WHERE account_id = ?", (digest, row["account_id"]))
    _log(db, row["account_id"], "contest_resolved", reason="le numéro n'est plus détenu par un autre compte",
         actor="service", now=now)
    return True


def _store_declaration(db, account_id, digest, rpps, last_name, first_name, physician, level, now, *, method=None,
                       approved_by=None) -> None:
    stamp = iso(now)
    previous = get(db, account_id)
    if previous is not None and previous["rpps_hash"] != digest:
        db.conn.execute("DELETE FROM vouches WHERE candidate_id = ?", (account_id,))  # they vouched for another number
    codes = ",".join(physician.specialty_codes) if physician else ""
    specialty = physician.specialties[0] if physician and physician.specialties else ""
    try:
        db.conn.execute(
            "INSERT INTO verifications (account_id, level, rpps_hash, profession, specialty_codes, specialty, method,"
            " declared, verified, approved_by, checked) VALUES (?, ?, ?, '10', ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (account_id) DO UPDATE SET level = excluded.level, rpps_hash = excluded.rpps_hash,"
            " profession = excluded.profession, specialty_codes = excluded.specialty_codes, specialty = excluded.specialty,"
            " method = excluded.method, declared = excluded.declared, verified = excluded.verified,"
            " approved_by = excluded.approved_by, revoked = NULL, revoked_reason = NULL, checked = excluded.checked",
            (account_id, level, digest, codes, specialty, method, stamp, stamp if level == "verified" else None,
             approved_by, stamp if physician else None),
        )
    except sqlite3.IntegrityError:  # another account claimed the number in a concurrent request
        raise ApiError(409, "rpps_taken", "Ce numéro RPPS est déjà associé à un autre compte du réseau.", "rpps") from None
    blocks.forget_email_of(db, account_id)  # a block made before must not keep what moderators may not see
    db.conn.execute(
        "INSERT INTO verification_identities (account_id, rpps, last_name, first_name) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (account_id) DO UPDATE SET rpps = excluded.rpps, last_name = excluded.last_name,"
        " first_name = excluded.first_name",
        (account_id, rpps, physician.last_name if physician else last_name,
         physician.first_name if physician else first_name),
    )
    if level == "verified":
        _set_badge(db, account_id)


def _set_badge(db, account_id: int) -> None:
    row = get(db, account_id)
    verified = row is not None and row["level"] == "verified"
    db.conn.execute(
        "UPDATE accounts SET badge_level = ?, badge_specialty = ? WHERE id = ?",
        ("verified" if verified else None, (row["specialty"] or None) if verified else None, account_id),
    )
    bump_site_answers(db, account_id)  # the answers of their blogs show the site's badge (GET /api/sites)


def declare(app, db, account_id: int, rpps, last_name, first_name, *, display_name=None, now=None) -> dict:
    """Level `declared`: Luhn, then the directory (profession 10, names), one account per RPPS.

    One account per RPPS without telling anyone that a physician has an account: a number another
    account already holds is *accepted*, into a contested declaration that looks exactly like any
    other to its author (same answer, same status, same vouching link) but can never be verified
    automatically. Vouches are recorded and do not verify it; Pro Santé Connect (which proves the
    number is the caller's) or a moderator's review of a proof settle it; if the holder is revoked or
    leaves, the next proof finds the number free. The holder gets a mail (« quelqu'un a tenté de
    déclarer votre numéro RPPS », at most one a day), both accounts get an audit entry, and the
    moderators' review page marks the declaration. Refusing with a distinct error would let anyone
    learn, from the public directory, which physicians are members (and then hunt their pseudonyms);
    one vague error for every refusal would still differ from a success. Declarations are limited per
    account (_count_attempt).
    """
    moment = now or utcnow()
    account = account_row(db, account_id)
    current = get(db, account_id)
    if current is not None and current["level"] == "verified":
        raise ApiError(409, "already_verified", "Votre inscription est déjà vérifiée.")
    if current is not None and current["level"] == "revoked":
        raise ApiError(
            409, "verification_revoked",
            "La vérification de ce compte a été révoquée : écrivez aux administrateurs du réseau.",
        )
    number = rpps_input(rpps)
    last = _text(last_name, "last_name", "votre nom d'exercice")
    first = _text(first_name, "first_name", "votre prénom d'exercice")
    name = account["display_name"] if display_name is None else _text(
        display_name, "display_name", "le nom sous lequel vous commenterez (un pseudonyme si vous le souhaitez)"
    )
    if not (name or "").strip():
        raise ApiError(
            400, "missing_field", "Indiquez le nom sous lequel vous commenterez (un pseudonyme si vous le souhaitez).",
            "display_name",
        )
    _count_attempt(app, db, account_id, moment)
    physician = _checked_physician(app, number, last, first)
    digest = rpps_hash(app.config["SECRET_KEY"], number)
    with write(db):
        check_signed_in(db, {"id": account_id})
        holder = _holder(db, digest, account_id)
        stored = digest if holder is None else contested_key(account_id, digest)
        _store_declaration(db, account_id, stored, number, last, first, physician, "declared", moment)
        # The name check needs the stored identity (one's own name is allowed); a refusal rolls all back.
        check_display_name(app, db, account_id, name)
        if name != account["display_name"]:  # their past comments take the new name (accounts.set_display_name)
            accounts.set_display_name(db, account_id, name)
        _log(db, account_id, "declared", actor_id=account_id, actor=_actor_label(db, account_id, "membre"), now=moment)
        if holder is not None:
            _contest(app, db, account_id, holder, moment)
    return status(db, account_id)


def _require_declared(db, candidate_id: int) -> sqlite3.Row:
    row = get(db, candidate_id)
    if row is None:
        raise ApiError(
            404, "not_declared", "Ce membre n'a pas encore déclaré son numéro RPPS : rien à vérifier pour l'instant."
        )
    if row["level"] == "verified":
        raise ApiError(409, "already_verified", "L'inscription de ce confrère est déjà vérifiée.")
    if row["level"] == "revoked":
        raise ApiError(409, "verification_revoked", "La vérification de ce compte a été révoquée.")
    return row


def _become_verified(db, account_id: int, method: str, *, approved_by=None, now=None) -> None:
    db.conn.execute(
        "UPDATE verifications SET level = 'verified', method = ?, verified = ?, approved_by = ?,"
        " revoked = NULL, revoked_reason = NULL WHERE account_id = ?",
        (method, iso(now or utcnow()), approved_by, account_id),
    )
    _set_badge(db, account_id)


def vouch(app, db, candidate_id: int, voucher: dict, last_name, *, now=None) -> dict:
    """A verified physician vouches for a declared candidate they know (they type the candidate's surname).

    Refused: oneself, an unverified voucher, a second vouch by the same voucher, a wrong surname. At
    VOUCHES_NEEDED vouches the candidate is verified. The surname is a secret the answer would otherwise
    let anyone verified guess at will: wrong surnames are limited per voucher and candidate
    (VOUCH_FAILURES_PER_VOUCHER, ever) and per candidate (VOUCH_FAILURES_PER_DAY, 24 hours, all vouchers);
    past either, every attempt gets 429 whatever the name, before it is compared. Every attempt is in the
    audit log (`vouched`, `vouch_failed`, `vouch_blocked`); the candidate sees the failed ones.
    """
    moment = now or utcnow()
    voucher_id = voucher["id"]
    if voucher_id == candidate_id:
        raise ApiError(403, "self_vouch", "On ne peut pas se parrainer soi-même.")
    if level_of(db, voucher_id) != "verified":
        raise ApiError(
            403, "voucher_not_verified",
            "Seuls les médecins dont l'inscription est vérifiée peuvent parrainer un confrère.",
        )
    typed = _text(last_name, "last_name", "le nom d'exercice de ce confrère")
    refusal = None
    with write(db):
        check_signed_in(db, voucher)  # a voucher deleted while the vouch waited for its turn vouches for nobody
        _require_declared(db, candidate_id)
        if query_one(db, "SELECT 1 FROM vouches WHERE candidate_id = ? AND voucher_id = ?", (candidate_id, voucher_id)):
            raise ApiError(409, "already_vouched", "Vous avez déjà parrainé ce confrère.")
        actor = _actor_label(db, voucher_id, "médecin vérifié")
        refusal = vouch_limit(app, db, candidate_id, voucher_id, moment)
        if refusal is not None:
            _log(db, candidate_id, "vouch_blocked", method="vouching", reason=refusal.code, actor_id=voucher_id,
                 actor=actor, now=moment)
        else:
            identity = _identity(db, candidate_id)
            if identity is None or name_key(typed) != name_key(identity["last_name"]):
                _log(db, candidate_id, "vouch_failed", method="vouching", reason="nom d'exercice erroné",
                     actor_id=voucher_id, actor=actor, now=moment)
                refusal = ApiError(
                    400, "name_mismatch",
                    "Ce n'est pas le nom d'exercice que ce confrère a déclaré : ne parrainez que quelqu'un que vous "
                    "connaissez.",
                    "last_name",
                )
            else:
                _record_vouch(db, candidate_id, voucher_id, actor, moment)
    if refusal is not None:  # raised after the commit: the attempt stays in the audit log
        raise refusal
    return status(db, candidate_id)


def vouch_limit(app, db, candidate_id: int, voucher_id: int, now: datetime) -> ApiError | None:
    """The 429 a vouch attempt gets when wrong surnames for this candidate reached a limit, else None."""
    per_voucher = int(app.config.get("VOUCH_FAILURES_PER_VOUCHER", 5) or 0)
    per_day = int(app.config.get("VOUCH_FAILURES_PER_DAY", 10) or 0)
    failed = "SELECT COUNT(*) AS n FROM verification_log WHERE account_id = ? AND event = 'vouch_failed'"
    if per_voucher and query_one(db, failed + " AND actor_id = ?", (candidate_id, voucher_id))["n"] >= per_voucher:
        return ApiError(
            429, "too_many_vouch_attempts",
            f"Vous avez indiqué {per_voucher} fois un nom d'exercice erroné pour ce confrère : vous ne pouvez plus "
            "le parrainer. S'il s'agit bien de quelqu'un que vous connaissez, demandez-lui d'écrire aux "
            "administrateurs du réseau.",
            "last_name",
        )
    if per_day and query_one(db, failed + " AND created > ?", (candidate_id, iso(now - timedelta(days=1))))["n"] >= per_day:
        return ApiError(
            429, "too_many_vouch_attempts",
            "Trop d'essais infructueux de parrainage pour ce confrère aujourd'hui : réessayez demain.",
            "last_name",
        )
    return None


def _record_vouch(db, candidate_id: int, voucher_id: int, actor: str, moment: datetime) -> None:
    db.conn.execute(
        "INSERT INTO vouches (candidate_id, voucher_id, created) VALUES (?, ?, ?)",
        (candidate_id, voucher_id, iso(moment)),
    )
    _log(db, candidate_id, "vouched", method="vouching", actor_id=voucher_id, actor=actor, now=moment)
    count = _valid_vouches(db, candidate_id)
    if count >= VOUCHES_NEEDED:
        if _resolve_contest(db, get(db, candidate_id), moment):
            _become_verified(db, candidate_id, "vouching", now=moment)
            _log(db, candidate_id, "verified", method="vouching", reason=f"{count} parrainages",
                 actor_id=voucher_id, actor=actor, now=moment)
        else:  # the number is another account's: vouches never settle that (see declare)
            _log(db, candidate_id, "verification_held", method="vouching",
                 reason=f"{count} parrainages, mais numéro contesté : examen par un modérateur",
                 actor="service", now=moment)


def _valid_vouches(db, candidate_id: int) -> int:
    """Vouches that count: those whose voucher is verified now."""
    return query_one(
        db,
        "SELECT COUNT(*) AS n FROM vouches v JOIN verifications w ON w.account_id = v.voucher_id"
        " WHERE v.candidate_id = ? AND w.level = 'verified'",
        (candidate_id,),
    )["n"]


def review(app, db, candidate_id: int, moderator: dict, *, proof, rpps_seen, reason, now=None) -> dict:
    """A moderator examined a proof (PROOFS) and types the RPPS read on it: it must be the declared one."""
    moment = now or utcnow()
    if moderator.get("role") not in REVIEWER_ROLES:
        raise ApiError(403, "not_a_moderator", "Seuls les modérateurs du réseau examinent les justificatifs.")
    if moderator["id"] == candidate_id:
        raise ApiError(403, "self_review", "On ne peut pas examiner son propre justificatif.")
    if not isinstance(proof, str) or proof not in PROOFS:  # a list is unhashable: a 500 before
        raise ApiError(400, "invalid_choice", f"Le justificatif vaut {', '.join(PROOFS)}.", "proof")
    why = _text(reason, "reason", "ce que vous avez vérifié (motif)", limit=MAX_REASON)
    number = rpps_input(rpps_seen, "rpps")
    with write(db):
        check_signed_in(db, moderator)  # a moderator deleted while the review waited for its turn decides nothing
        row = _require_declared(db, candidate_id)
        if not hmac.compare_digest(real_hash(row), rpps_hash(app.config["SECRET_KEY"], number)):
            raise ApiError(
                400, "rpps_mismatch", "Le numéro lu sur le justificatif n'est pas celui que ce membre a déclaré.", "rpps"
            )
        if is_contested(row):
            # The proof shows the number is this member's: a holder who only declared it loses it (anyone can
            # type a public RPPS); a verified holder stays, and an admin decides which account to revoke.
            holder = _holder(db, real_hash(row), candidate_id)
            if holder is not None and holder["level"] == "verified":
                raise ApiError(
                    409, "rpps_conflict",
                    "Ce numéro est déjà vérifié sur un autre compte : un administrateur doit d'abord révoquer l'un des "
                    "deux comptes (confreres verify list montre les deux).",
                )
            _drop_unproven_claim(db, candidate_id, real_hash(row), moment, by=f"examen par le modérateur #{moderator['id']}")
            _resolve_contest(db, row, moment)
        _become_verified(db, candidate_id, "review", approved_by=moderator["id"], now=moment)
        _log(db, candidate_id, "verified", method="review", proof=proof, reason=why, actor_id=moderator["id"],
             actor=_actor_label(db, moderator["id"], "modérateur"), now=moment)
    return status(db, candidate_id)


def verify_by_psc(app, db, account_id: int, rpps: str, *, last_name: str, first_name: str, now=None) -> dict:
    """Pro Santé Connect returned this RPPS for the signed-in member (web/psc.py checked the tokens).

    A member who declared must have declared this very RPPS; one who had not is declared from PSC's
    identity (still checked against the directory), then verified.
    """
    moment = now or utcnow()
    number = canonical_rpps(rpps)
    if number is None or not luhn_ok(number):
        raise ApiError(400, "psc_invalid_identity", "Pro Santé Connect n'a pas renvoyé de numéro RPPS valide.")
    digest = rpps_hash(app.config["SECRET_KEY"], number)
    current = get(db, account_id)
    if current is not None and current["level"] == "revoked":
        raise ApiError(409, "verification_revoked", "La vérification de ce compte a été révoquée.")
    if current is not None and current["level"] == "verified" and current["rpps_hash"] == digest:
        return status(db, account_id)
    if current is not None and not hmac.compare_digest(real_hash(current), digest):
        raise ApiError(
            403, "psc_rpps_mismatch",
            "Pro Santé Connect vous a identifié avec un autre numéro RPPS que celui déclaré sur ce compte.",
        )
    handle = directory(app)
    physician = handle.lookup(number) if handle.available else None
    if physician is None:
        raise ApiError(
            403, "rpps_unknown", "Ce numéro RPPS n'est pas celui d'un médecin dans l'annuaire santé en vigueur."
        )
    with write(db):
        check_signed_in(db, {"id": account_id})
        _drop_unproven_claim(db, account_id, digest, moment)
        _claim(db, account_id, digest)
        if is_contested(current):
            _resolve_contest(db, current, moment)
        if current is None:
            _store_declaration(db, account_id, digest, number, last_name or physician.last_name,
                               first_name or physician.first_name, physician, "declared", moment)
            _log(db, account_id, "declared", method="psc", actor="Pro Santé Connect", now=moment)
        _become_verified(db, account_id, "psc", now=moment)
        _log(db, account_id, "verified", method="psc", proof="psc", actor="Pro Santé Connect", now=moment)
    return status(db, account_id)


def _drop_unproven_claim(db, account_id: int, digest: str, now, *, by: str = "Pro Santé Connect") -> None:
    """PSC (or a moderator's review) proved the number is this member's: another account that only *declared*
    it loses that declaration (anyone can type a public RPPS and name); a *verified* holder stays, and the
    conflict goes to the admins."""
    holder = query_one(db, "SELECT account_id, level FROM verifications WHERE rpps_hash = ?", (digest,))
    if holder is None or holder["account_id"] == account_id or holder["level"] != "declared":
        return
    other = holder["account_id"]
    db.conn.execute("DELETE FROM vouches WHERE candidate_id = ?", (other,))
    db.conn.execute("DELETE FROM verifications WHERE account_id = ?", (other,))
    _log(db, other, "declaration_dropped", method="psc" if by == "Pro Santé Connect" else "review",
         reason=f"numéro prouvé par le compte #{account_id} ({by})", actor=by, now=now)


def grant(app, db, account_id: int, rpps, last_name, first_name, *, reason="", actor="admin (CLI)",
          check_directory: bool = True, specialty: str = "", now=None) -> dict:
    """The admin verifies a founding member directly (`confreres verify grant`), audit-logged.

    The directory check (profession 10, names) runs unless `check_directory` is false (a demo
    without a directory); the RPPS must still pass Luhn and belong to no other account.
    """
    moment = now or utcnow()
    account = account_row(db, account_id)
    number = rpps_input(rpps)
    last = _text(last_name, "last_name", "le nom d'exercice")
    first = _text(first_name, "first_name", "le prénom d'exercice")
    physician = None
    if check_directory:
        physician = _checked_physician(app, number, last, first)
    elif directory(app).available:
        found = directory(app).lookup(number)
        physician = found if found and names_match(found, last, first) else None
    digest = rpps_hash(app.config["SECRET_KEY"], number)
    with write(db):
        _claim(db, account_id, digest)
        _store_declaration(db, account_id, digest, number, last, first, physician, "verified", moment, method="grant")
        if physician is None and specialty:
            db.conn.execute("UPDATE verifications SET specialty = ? WHERE account_id = ?", (specialty, account_id))
            _set_badge(db, account_id)
        check_display_name(app, db, account_id, account["display_name"])
        _log(db, account_id, "verified", method="grant", reason=reason or "membre fondateur", actor=actor,
             proof=None if check_directory else "sans annuaire", now=moment)
    return status(db, account_id)


def revoke(app, db, account_id: int, reason, *, actor_id=None, actor="", source="moderator", now=None) -> int:
    """Level `revoked`, with its reason; the badge leaves the account and every past comment.

    Returns how many comments lost their badge. `source` is 'moderator' (a decision; needs the
    moderator or admin role when `actor_id` is given) or 'directory' (the re-check after an import).
    The member's vouches stop counting (withdraw_vouches): see `revoke_report` for who lost their badge.
    """
    return revoke_report(app, db, account_id, reason, actor_id=actor_id, actor=actor, source=source, now=now)[0]


def revoke_report(app, db, account_id: int, reason, *, actor_id=None, actor="", source="moderator", now=None
                  ) -> tuple[int, list[int]]:
    """`revoke`, returning (comments that lost their badge, members sent back to `declared`)."""
    moment = now or utcnow()
    why = _text(reason, "reason", "le motif de la révocation", limit=MAX_REASON)
    if actor_id is not None:
        role = query_one(db, "SELECT role FROM accounts WHERE id = ?", (actor_id,))
        if role is None or role["role"] not in REVIEWER_ROLES:
            raise ApiError(403, "not_a_moderator", "Seuls les modérateurs du réseau révoquent une vérification.")
    with write(db):
        if actor_id is not None:  # a moderator deleted while the decision waited for its turn decides nothing
            check_signed_in(db, {"id": actor_id})
        row = get(db, account_id)
        if row is None or row["level"] == "revoked":
            raise ApiError(409, "not_verified", "Ce compte n'a pas de vérification en cours à révoquer.")
        db.conn.execute(
            "UPDATE verifications SET level = 'revoked', revoked = ?, revoked_reason = ?, rpps_hash = ?"
            " WHERE account_id = ?",
            (iso(moment), why, f"revoked:{account_id}:{row['rpps_hash']}", account_id),
        )  # the number is freed: an impostor's revocation must not lock its real owner out
        _set_badge(db, account_id)
        cleared = clear_comment_badges(db, account_id)
        label = actor or _actor_label(db, actor_id, "modérateur")
        _log(db, account_id, "revoked", method=source, reason=why, actor_id=actor_id, actor=label, now=moment)
        _queue_revocation_mail(app, db, account_id, why, moment)
        demoted = withdraw_vouches(app, db, account_id, moment, actor=label)
    return cleared, demoted


def withdraw_vouches(app, db, voucher_id: int, now: datetime, *, actor: str = "") -> list[int]:
    """The voucher is no longer verified: their vouches stop counting. Returns who went back to `declared`.

    Every vouch they gave is withdrawn (the `vouches` table keeps only vouches that count), with an
    audit entry on the candidate. A member verified *by vouching* who is left with fewer than
    VOUCHES_NEEDED vouches of verified physicians goes back to `declared`: the badge leaves their
    account and past comments (as a revocation does), the audit log says why, a mail tells them how to
    get it back. That member's own vouches then stop counting in turn (an impostor's whole chain
    falls). Members verified by Pro Santé Connect, a moderator's review or a grant keep their level.
    Runs inside the caller's transaction.
    """
    demoted: list[int] = []
    waiting, seen = [(voucher_id, "révoqué")], set()
    while waiting:
        current, why = waiting.pop(0)
        if current in seen:
            continue
        seen.add(current)
        for row in query(db, "SELECT candidate_id FROM vouches WHERE voucher_id = ? ORDER BY created", (current,)):
            candidate = row["candidate_id"]
            db.conn.execute("DELETE FROM vouches WHERE candidate_id = ? AND voucher_id = ?", (candidate, current))
            _log(db, candidate, "vouch_withdrawn", method="vouching", actor=actor or "service", now=now,
                 reason=f"le parrain #{current} n'est plus vérifié ({why}) : son parrainage ne compte plus")
            state = get(db, candidate)
            if state is None or state["level"] != "verified" or state["method"] != "vouching":
                continue
            left = _valid_vouches(db, candidate)
            if left >= VOUCHES_NEEDED:
                continue
            db.conn.execute(
                "UPDATE verifications SET level = 'declared', method = NULL, verified = NULL, approved_by = NULL"
                " WHERE account_id = ?",
                (candidate,),
            )
            _set_badge(db, candidate)
            clear_comment_badges(db, candidate)
            _log(db, candidate, "unverified", method="vouching", actor=actor or "service", now=now,
                 reason=f"{left} parrainage(s) de confrères vérifiés sur {VOUCHES_NEEDED} après le retrait de celui "
                        f"du compte #{current}")
            _queue_suspension_mail(app, db, candidate, now)
            demoted.append(candidate)
            waiting.append((candidate, "revenu au niveau déclaré"))
    return demoted


def clear_comment_badges(db, account_id: int) -> int:
    """Take the badge off the member's past comments and give their threads a new version (ETag)."""
    posts = [r["post_url"] for r in query(
        db, "SELECT DISTINCT post_url FROM comments WHERE account_id = ? AND badge_level IS NOT NULL", (account_id,)
    )]
    cursor = db.conn.execute(
        "UPDATE comments SET badge_level = NULL, badge_specialty = NULL WHERE account_id = ? AND badge_level IS NOT NULL",
        (account_id,),
    )
    for url in posts:
        bump_post(db, url)
    return cursor.rowcount


def apply_specialty_choice(db, account_id: int) -> None:
    """The member showed or hid their specialty (profile): their past badged comments follow, threads get new ETags."""
    account = query_one(db, "SELECT show_specialty, badge_specialty FROM accounts WHERE id = ?", (account_id,))
    if account is None:
        return
    specialty = account["badge_specialty"] if account["show_specialty"] else None
    with write(db):
        posts = [r["post_url"] for r in query(
            db, "SELECT DISTINCT post_url FROM comments WHERE account_id = ? AND badge_level IS NOT NULL", (account_id,)
        )]
        db.conn.execute(
            "UPDATE comments SET badge_specialty = ? WHERE account_id = ? AND badge_level IS NOT NULL",
            (specialty, account_id),
        )
        for url in posts:
            bump_post(db, url)
        bump_site_answers(db, account_id)


def bump_account_threads(db, account_id: int) -> None:
    """New versions for every thread the member wrote in (their name or declaration of interests changed)."""
    with write(db):
        for row in query(db, "SELECT DISTINCT post_url FROM comments WHERE account_id = ?", (account_id,)):
            bump_post(db, row["post_url"])


MEMBER_NOTICE = "confreres_member_notice"  # app.extensions key: the mail side's `tell_member` (mail/notices.py)


def _mail_member(app, db, account_id: int, **notice) -> None:
    """Tell a member about their verification, in this transaction: through the function the mail side
    registered on the app (mail/notices.tell_member queues it in the outbox), so this module sends nothing."""
    app.extensions[MEMBER_NOTICE](app, db, account_id, **notice)


def _queue_revocation_mail(app, db, account_id: int, reason: str, now: datetime) -> None:
    _mail_member(app, db, account_id, subject="vérification révoquée", template="verification_revoked", now=now,
                 reason=reason)


def _queue_suspension_mail(app, db, account_id: int, now: datetime) -> None:
    """Tell a member sent back to `declared` (their vouches no longer reach two verified physicians)."""
    _mail_member(app, db, account_id, subject="votre badge « Médecin vérifié » est suspendu",
                 template="verification_suspended", now=now, vouches_needed=VOUCHES_NEEDED)


# -- the re-check after each directory import ---------------------------------------------------------

# A directory that would revoke more members than this at once is not trusted (recheck_directory): real
# strike-offs and deaths are a few a day, while a cut-short or wrong file, or a changed secret key (the hashes
# no longer match), loses most or all of them.
MAX_REVOKED_SHARE = 0.10
MAX_REVOKED_ANYWAY = 2  # a small network may lose this many in one import whatever its share


class TooManyRevocations(Exception):
    """The directory would revoke too many members at once; nothing was revoked (the message says how many)."""


def _members(db) -> list:
    return query(db, "SELECT account_id, level, rpps_hash, specialty_codes, specialty FROM verifications"
                     " WHERE level IN ('declared', 'verified') ORDER BY account_id")


def _found_numbers(handle: Directory, secret: str, rows) -> dict[str, str]:
    """{keyed hash: RPPS} of the members' numbers present in the directory (matched by hash alone)."""
    wanted = {real_hash(r) for r in rows}  # a contested declaration shares its number's hash with the holder's
    found: dict[str, str] = {}
    if wanted:
        for rpps in handle.numbers():
            digest = rpps_hash(secret, rpps)
            if digest in wanted:
                found[digest] = rpps
    return found


def revocation_refusal(checked: int, missing: int, source: str) -> str | None:
    """Why a directory missing `missing` of the `checked` members may not revoke them all at once, or None."""
    if missing <= MAX_REVOKED_ANYWAY and not (missing == checked and checked > 1):
        return None
    if missing <= checked * MAX_REVOKED_SHARE and missing < checked:
        return None
    return (f"{missing} of the {checked} declared and verified members are missing from {source} (more than "
            f"{MAX_REVOKED_SHARE:.0%} at once, or all of them): a cut-short or wrong file, or a secret key changed "
            "since they declared (CONFRERES_SECRET_KEY: the RPPS hashes no longer match; `confreres service "
            "accept-settings` makes them again under the key it records)? Nobody was revoked")


def check_revocations(app, path) -> str | None:
    """revocation_refusal for the directory file at `path` (a new import, before it replaces the current one)."""
    handle = Directory(path)
    db = connect(app.config["DB"])
    try:
        rows = _members(db)
        found = _found_numbers(handle, app.config["SECRET_KEY"], rows)
        missing = sum(real_hash(r) not in found for r in rows)
        return revocation_refusal(len(rows), missing, handle.meta().get("source", str(path)))
    finally:
        db.close()
        handle.close()


def recheck_directory(app, send_now: Callable[[], str] | None = None, *, force: bool = False) -> Iterator[str]:
    """Re-check every declared and verified member against the directory just imported; yield lines.

    Matching is by the keyed hash alone: each physician number of the new import is hashed and looked
    up among the members'. A member whose number is gone (struck off, deceased, no longer profession
    10) is revoked, with a notice line and a mail; the others get their specialty codes refreshed.
    When some were revoked, the line `send_now()` returns ends the report (actions/verification.py hands
    the mails to the transport there). When too many would be (revocation_refusal), TooManyRevocations
    is raised before any is, unless `force` (the operator saw the numbers and confirms).
    """
    handle = Directory(app.config["DIRECTORY_DB"])
    try:
        if not handle.available:
            yield "Vérification des membres : pas d'annuaire importé, rien à contrôler."
            return
        source = handle.meta().get("source", "l'annuaire")
        secret = app.config["SECRET_KEY"]
        db = connect(app.config["DB"])
        try:
            rows = _members(db)
            found = _found_numbers(handle, secret, rows)
            refusal = revocation_refusal(len(rows), sum(real_hash(r) not in found for r in rows), source)
            if refusal and not force:
                raise TooManyRevocations(refusal)
            revoked: list[str] = []
            notices: list[str] = []
            moment = utcnow()
            for row in rows:
                digest = real_hash(row)
                account_id = row["account_id"]
                if get(db, account_id)["level"] not in ("declared", "verified"):
                    continue  # sent back or revoked earlier in this loop
                if digest in found:
                    physician = handle.lookup(found[digest])
                    codes = ",".join(physician.specialty_codes)
                    specialty = physician.specialties[0] if physician.specialties else row["specialty"]
                    with write(db):
                        db.conn.execute(
                            "UPDATE verifications SET checked = ?, specialty_codes = ?, specialty = ? WHERE account_id = ?",
                            (iso(moment), codes, specialty, account_id),
                        )
                        if specialty != row["specialty"] and row["level"] == "verified":
                            _set_badge(db, account_id)
                    continue
                reason = f"numéro absent de l'annuaire importé ({source}) : radiation, décès ou changement de profession"
                cleared, demoted = revoke_report(app, db, account_id, reason, actor="import de l'annuaire",
                                                 source="directory", now=moment)
                revoked.append(
                    f"  révoqué : compte #{account_id} « {name_of(db, account_id)} » ({row['level']}), absent de "
                    f"l'annuaire ; {cleared} commentaire(s) sans badge désormais"
                )
                notices.extend(
                    f"  sans badge : compte #{other} « {name_of(db, other)} », vérifié par parrainage, n'a plus deux "
                    "parrains vérifiés : revenu au niveau déclaré" for other in demoted
                )
        finally:
            db.close()
        kept = len(rows) - len(revoked)
        yield (f"Vérification des membres : {len(rows)} contrôlé(s) contre {source}, {kept} toujours inscrit(s), "
               f"{len(revoked)} révoqué(s).")
        yield from revoked
        yield from notices
        if revoked and send_now is not None:
            yield send_now()
    finally:
        handle.close()


def name_of(db, account_id: int) -> str:
    row = query_one(db, "SELECT display_name FROM accounts WHERE id = ?", (account_id,))
    return row["display_name"] if row else ""


# -- admin ---------------------------------------------------------------------------------------------

def admin_list(db) -> list[dict]:
    """Everything about every verification, real names and RPPS included: for the admin's terminal only."""
    rows = query(
        db,
        "SELECT v.*, a.email, a.display_name, a.role, i.rpps, i.last_name, i.first_name,"
        " (SELECT COUNT(*) FROM vouches WHERE candidate_id = v.account_id) AS vouch_count,"
        f" v.rpps_hash LIKE '{CONTESTED}%' AS contested"
        " FROM verifications v JOIN accounts a ON a.id = v.account_id"
        " LEFT JOIN verification_identities i ON i.account_id = v.account_id ORDER BY v.level, v.account_id",
    )
    return [dict(r) for r in rows]


def log_of(db, account_id: int) -> list[dict]:
    return [dict(r) for r in query(db, "SELECT * FROM verification_log WHERE account_id = ? ORDER BY id", (account_id,))]


def export_own(db, account_id: int) -> dict | None:
    """The member's own verification for their GDPR export: their RPPS and declared name included (theirs)."""
    row = get(db, account_id)
    if row is None:
        return None
    identity = _identity(db, account_id)
    given = query(db, "SELECT candidate_id, created FROM vouches WHERE voucher_id = ? ORDER BY created", (account_id,))
    return {
        **{k: row[k] for k in ("level", "method", "specialty", "specialty_codes", "declared", "verified", "revoked",
                               "revoked_reason", "checked")},
        "rpps": identity["rpps"] if identity else None,
        "last_name": identity["last_name"] if identity else None,
        "first_name": identity["first_name"] if identity else None,
        "vouches_received": vouches(db, account_id),
        "vouches_given": [{"account": r["candidate_id"], "created": r["created"]} for r in given],
        "log": [
            {**{k: e[k] for k in ("event", "method", "proof", "reason", "actor", "created")},
             **({"reason": OWN_EXPORT_REASONS[e["event"]]} if e["event"] in OWN_EXPORT_REASONS else {})}
            for e in log_of(db, account_id) if e["event"] not in ADMIN_ONLY_EVENTS
        ],
    }


# What a member's own export leaves out or rewords from their audit log: a contested declaration must look
# like any other to its author (declare), and no entry may name another account or why it was revoked.
ADMIN_ONLY_EVENTS = frozenset({"contested", "verification_held", "contest_resolved"})
OWN_EXPORT_REASONS = {
    "claim_contested": "un autre compte a déclaré le même numéro RPPS",
    "declaration_dropped": "numéro prouvé par un autre compte (Pro Santé Connect ou justificatif)",
    "vouch_withdrawn": "un de vos parrains n'est plus vérifié : son parrainage ne compte plus",
    "unverified": "moins de deux parrainages de confrères vérifiés",
}


def candidates(db) -> list[dict]:
    """Declared members waiting for a proof, for the moderators: public name and dates, no identity.

    `contested`: the number is also another account's (declare): only a review settles it."""
    return [
        {**dict(r), "contested": bool(r["contested"])} for r in query(
            db,
            "SELECT v.account_id, a.display_name, v.declared, v.specialty,"
            " (SELECT COUNT(*) FROM vouches WHERE candidate_id = v.account_id) AS vouch_count,"
            f" v.rpps_hash LIKE '{CONTESTED}%' AS contested"
            " FROM verifications v JOIN accounts a ON a.id = v.account_id WHERE v.level = 'declared'"
            " ORDER BY v.declared",
        )
    ]
