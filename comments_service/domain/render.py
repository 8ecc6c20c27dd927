"""Markdown source -> safe HTML, once, when a comment is written or edited.

Reads then serve the stored HTML as is (Remark42's way), instead of re-rendering and
re-sanitising on every GET (Isso's). `confreres.sanitize.clean` is the only sanitiser: whatever
Markdown produces — raw HTML included — goes through its allowlist before it is stored.
"""

from __future__ import annotations

import re
import threading

import markdown

from confreres.markdown_fast import guard
from confreres.sanitize import clean

EXTENSIONS = ("nl2br", "sane_lists", "fenced_code")
_TAG = re.compile(r"<[^>]*>")
_local = threading.local()


def _converter() -> markdown.Markdown:
    """One Markdown instance per thread: building one costs more than converting a comment."""
    md = getattr(_local, "md", None)
    if md is None:
        md = _local.md = guard(markdown.Markdown(extensions=list(EXTENSIONS), output_format="html"))
    return md


def to_html(text: str) -> str:
    return clean(_converter().reset().convert(text))


def is_blank(html: str) -> bool:
    """True when sanitised HTML shows no text (e.g. the comment was only a <script>)."""
    return not _TAG.sub("", html).replace("&nbsp;", "").strip()
