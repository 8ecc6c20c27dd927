"""Markdown source -> safe HTML, once, when a comment is written or edited.

Reads then serve the stored HTML as is (Remark42's way), instead of re-rendering and
re-sanitising on every GET (Isso's). `confreres.sanitize.clean` is the only sanitiser: whatever
Markdown produces — raw HTML included — goes through its allowlist before it is stored.
"""

from __future__ import annotations

import markdown

from confreres.sanitize import clean

EXTENSIONS = ("nl2br", "sane_lists", "fenced_code")


def to_html(text: str) -> str:
    html = markdown.markdown(text, extensions=list(EXTENSIONS), output_format="html")
    return clean(html)
