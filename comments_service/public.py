"""What of a comment may leave the service: the one place that turns rows into public JSON.

API, no-JS page and feeds all go through these functions, so the e-mail, the IP hash, the
account id, the edit nonce and the Markdown source can never leak by a forgotten field: only
the keys written here exist in public output.
"""

from __future__ import annotations

ANONYMOUS = "Anonyme"
BADGE_LABELS = {"verified": "Médecin vérifié"}
BADGE_TITLES = {"verified": "Inscription à l'Ordre des médecins vérifiée par le réseau Confrères"}


def badge(row) -> dict | None:
    """Recorded on the comment at posting time by the server; never taken from the client."""
    level = row["badge_level"]
    if level not in BADGE_LABELS:
        return None
    label = BADGE_LABELS[level]
    if row["badge_specialty"]:
        label = f"{label} · {row['badge_specialty']}"
    return {"level": level, "label": label, "title": BADGE_TITLES[level]}


def author(row) -> dict:
    return {
        "name": row["author_name"] or ANONYMOUS,
        "website": row["website"] or None,
        "badge": badge(row),
        "is_post_author": bool(row["is_post_author"]),
    }


def comment(row, replies: list | None = None) -> dict:
    status = row["status"]
    return {
        "id": row["id"],
        "parent": row["parent_id"],
        "author": author(row),
        "html": row["html"],
        "created": row["created"],
        "edited": row["edited"],
        "deleted": False,
        "status": "pending" if status == "pending" else "approved",
        "replies": replies if replies is not None else [],
    }


def placeholder(row, replies: list | None = None) -> dict:
    """A removed comment that still has visible replies: the thread keeps its shape, nothing else."""
    return {
        "id": row["id"],
        "parent": row["parent_id"],
        "author": {"name": "", "website": None, "badge": None, "is_post_author": False},
        "html": "",
        "created": row["created"],
        "edited": None,
        "deleted": True,
        "status": "deleted",
        "replies": replies if replies is not None else [],
    }
