"""One Markdown instance for a whole build reads every post exactly as Pelican's one-instance-per-post reader."""

from __future__ import annotations

from pelican.readers import MarkdownReader
from pelican.settings import DEFAULT_CONFIG, configure_settings

from confreres.markdown_reader import ReusedMarkdownReader

POSTS = {
    "notes.md": "Title: Notes\nSummary: Un *résumé* avec une note[^1].\nTags: a, b\n\nTexte[^1] et une HTML.\n\n"
                "[^1]: La première note.\n\n*[HTML]: HyperText Markup Language\n",
    "second.md": "Title: Deuxième\nDate: 2025-05-01 08:00\n\nPas d'abréviation ici : HTML.[^a]\n\n[^a]: Une autre note.\n",
    "table.md": "Title: Tableau\nSummary: Sans note.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~~python\nprint(1)\n~~~\n",
    "sans-meta.md": "Juste un paragraphe, sans en-tête.\n",
    "meta-dans-resume.md": "Title: Piège\nSummary: Author: pas une métadonnée\n\nCorps.\n",
}


def settings():
    return configure_settings(dict(DEFAULT_CONFIG, PATH="/tmp"))


def test_posts_read_one_after_the_other_are_read_as_pelican_reads_each(tmp_path):
    for name, text in POSTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    reused = ReusedMarkdownReader(settings())
    for _ in range(2):  # and again: nothing of a post stays in the instance for the next
        for name in POSTS:
            expected = MarkdownReader(settings()).read(str(tmp_path / name))
            assert reused.read(str(tmp_path / name)) == expected, name
    content, metadata = reused.read(str(tmp_path / "second.md"))
    assert "<abbr" not in content and "fn:a" in content  # notes.md's abbreviation did not leak
    assert reused.read(str(tmp_path / "meta-dans-resume.md"))[1]["summary"] == "<p>Author: pas une métadonnée</p>"
