"""Medical secrecy in the comment service. The rules are confreres.secrecy's (one module for the build, the push
and the service); here is what the service keeps of them, and who sees it.

- A comment with a finding waits for moderation whatever the blog's policy (actions/comments.py): `hold(text)`
  is what comments.secrecy stores ({"reason", "flags"}, JSON), `held(row)` reads it back; its author is told the
  reason, its moderators see the flagged spans (`marked`); no public read ever selects the column.
- A post: the warnings its build found (each post's `secrecy` in PUT /api/sites/<slug>/posts: line, column,
  kind, reason and the flagged span only), kept in posts.secrecy for its blog's moderators, replaced at each
  announce that carries them and cleared when a post has none (`record_posts`); listed by `post_warnings`.
"""

from __future__ import annotations

import json

from markupsafe import Markup, escape

from comments_service.domain import validate
from comments_service.domain.posts import bump_post, query
from confreres import secrecy

KINDS = frozenset(secrecy.LABELS)
MAX_POST_WARNINGS = 50  # per post: a longer list is cut (the pusher saw them all)
MAX_SPAN = 200  # characters of a flagged span kept for the moderators
MAX_REASON = 300


def flags(text: str) -> list[dict]:
    """The findings of a text as the API gives them: kind, severity, label and reason in French, offsets, span."""
    return [
        {"kind": f.kind, "severity": f.severity, "label": secrecy.label(f), "start": f.start, "end": f.end,
         "line": f.line, "column": f.column, "text": f.text}
        for f in secrecy.scan(text)
    ]


def check(text: str) -> dict:
    """POST /api/secrecy-check: {"held", "message", "flags"} for a comment being typed."""
    findings = secrecy.scan(text)
    return {"held": bool(findings), "message": secrecy.comment_warning(findings), "flags": flags(text)}


def hold(text: str) -> str | None:
    """What comments.secrecy stores for a comment that must wait for a moderator; None when nothing is found."""
    findings = secrecy.scan(text)
    if not findings:
        return None
    return json.dumps({"reason": secrecy.comment_reason(findings), "flags": flags(text)}, ensure_ascii=False)


def held(row) -> dict | None:
    """{"reason", "flags"} of a comment held for secrecy; None otherwise (or for a row read without the column)."""
    value = row["secrecy"] if row is not None and "secrecy" in row.keys() else None  # noqa: SIM118 (sqlite3.Row: `in` looks at values)
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def hold_edited(db, row) -> None:
    """Inside an edit's transaction: the new text is held as a new comment would be (an approved comment goes
    back to the queue); a held one without findings any more loses its flags and stays for the moderator."""
    value = hold(row["text"])
    if value is None:
        if held(row):
            db.conn.execute("UPDATE comments SET secrecy = NULL WHERE id = ?", (row["id"],))
        return
    if row["status"] not in ("approved", "pending"):
        return
    db.conn.execute("UPDATE comments SET status = 'pending', secrecy = ? WHERE id = ?", (value, row["id"]))
    if row["status"] == "approved":
        bump_post(db, row["post_url"])  # it leaves the public thread


def marked(text: str, found: list[dict]) -> Markup:
    """The comment's source, escaped, each flagged span in <mark> (its label as title): for moderators only."""
    out, at = [], 0
    for flag in sorted(found, key=lambda f: f.get("start", 0)):
        start, end = flag.get("start"), flag.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and at <= start < end <= len(text)):
            continue
        out += [escape(text[at:start]),
                Markup('<mark class="secret" title="{}">{}</mark>').format(flag.get("label", ""), text[start:end])]
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


def mail_marked(text: str, found: list[dict]) -> str:
    """The same for a plain-text mail: each flagged span between ⟦ and ⟧."""
    out, at = [], 0
    for flag in sorted(found, key=lambda f: f.get("start", 0)):
        start, end = flag.get("start"), flag.get("end")
        if isinstance(start, int) and isinstance(end, int) and at <= start < end <= len(text):
            out += [text[at:start], "⟦", text[start:end], "⟧"]
            at = end
    return "".join(out) + text[at:]


# -- posts -----------------------------------------------------------------------------------------

def _warning(item) -> dict | None:
    """One warning of a post from the build, kept only when well formed (never refuses the blog's list)."""
    if not isinstance(item, dict) or item.get("kind") not in KINDS:
        return None
    line, column = item.get("line"), item.get("column")
    reason, span = item.get("reason"), item.get("text")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (line, column)):
        return None
    if not isinstance(reason, str) or not isinstance(span, str):
        return None
    source = item.get("source")
    return {"source": validate.one_line(source)[:MAX_SPAN] if isinstance(source, str) else "",
            "line": line, "column": column, "kind": item["kind"],
            "reason": validate.one_line(reason)[:MAX_REASON], "text": validate.one_line(span)[:MAX_SPAN]}


def record_posts(db, slug: str, payload) -> None:
    """Inside the announce's transaction: each post whose entry carries `secrecy` gets exactly those warnings
    (none: cleared). An entry without the key (an older build, a list read back from posts.json) keeps them."""
    for item in payload.get("posts", []) if isinstance(payload, dict) else []:
        if not isinstance(item, dict) or "secrecy" not in item:
            continue
        given = item["secrecy"] if isinstance(item["secrecy"], list) else []
        warnings = [w for w in map(_warning, given[:MAX_POST_WARNINGS]) if w]
        url = validate.thread_url(item.get("url"), "url")
        db.conn.execute(
            "UPDATE posts SET secrecy = ? WHERE url = ? AND site = ?",
            (json.dumps(warnings, ensure_ascii=False) if warnings else None, url, slug),
        )


def post_warnings(db, sites: list[str] | None) -> list[dict]:
    """The published posts with secrecy warnings of these blogs (None: all; domain/moderation.moderated_sites):
    url, title, site, warnings."""
    if sites == []:
        return []
    where, params = "listed = 1 AND secrecy IS NOT NULL", []
    if sites is not None:
        where += f" AND site IN ({','.join('?' * len(sites))})"
        params.extend(sites)
    rows = query(db, f"SELECT url, title, site, secrecy FROM posts WHERE {where} ORDER BY site, published DESC", params)
    return [{"url": r["url"], "title": r["title"], "site": r["site"], "warnings": json.loads(r["secrecy"])}
            for r in rows]
