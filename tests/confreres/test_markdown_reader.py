"""One Markdown instance for a whole build reads every post exactly as Pelican's one-instance-per-post reader."""

from __future__ import annotations

import pytest
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


def test_dates_written_the_french_way_are_read_as_french_readers_mean_them(tmp_path):
    """« 01/03/2025 » is the 1st of March: Pelican alone reads the 3rd of January (and « 13/03/2025 » the 13th of
    March: posts silently misdated, or scheduled months ahead); « 1er mars 2025 à 8h30 » is refused by it."""
    dates = {"01/03/2025": "2025-03-01 00:00", "05/06/2025 08:30": "2025-06-05 08:30", "1/3/25 8h": "2025-03-01 08:00",
             "1er mars 2025 à 8h30": "2025-03-01 08:30", "samedi 14 mars 2026": "2026-03-14 00:00",
             "3 déc. 2025 18:05": "2025-12-03 18:05", "2025-03-14 08:30": "2025-03-14 08:30"}
    reader = ReusedMarkdownReader(settings())
    for n, (written, meant) in enumerate(dates.items()):
        (tmp_path / f"{n}.md").write_text(f"Title: T\nDate: {written}\nModified: {written}\n\nCorps.\n", encoding="utf-8")
        _, metadata = reader.read(str(tmp_path / f"{n}.md"))
        assert metadata["date"].strftime("%Y-%m-%d %H:%M") == meant, written
        assert metadata["modified"] == metadata["date"], written


def test_a_date_that_is_no_day_is_still_refused_as_written(tmp_path):
    (tmp_path / "faux.md").write_text("Title: T\nDate: 31/02/2025\n\nCorps.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="31/02/2025"):  # the build's message names the date as the doctor wrote it
        ReusedMarkdownReader(settings()).read(str(tmp_path / "faux.md"))


def test_iso_dates_are_read_without_dateutil_as_pelican_reads_them(tmp_path):
    """The fast path (iso_date) gives Pelican's own datetime, of its type; every other form is left to Pelican."""
    from pelican.utils import SafeDatetime, get_date

    from confreres.markdown_reader import iso_date

    fast = ["2025-03-01", "2025-03-01 08:30", "2025-03-01T08:30", "2025-03-01 08:30:15", " 2025-12-31 23:59 "]
    for written in fast:
        moment = iso_date(written)
        assert type(moment) is SafeDatetime and moment == get_date(written), written
        (tmp_path / "p.md").write_text(f"Title: T\nDate: {written}\n\nCorps.\n", encoding="utf-8")
        assert ReusedMarkdownReader(settings()).read(str(tmp_path / "p.md"))[1]["date"] == get_date(written)
    # a zone, a partial date, two spaces, Pelican's underscore, no such day or hour: Pelican's reading (or refusal)
    for written in ["2025-03-01 08:30+02:00", "2025-03-01T08:30Z", "2025-03", "2025-03-01  08:30", "2025-03-01_08:30",
                    "2025-02-30", "2025-03-01 24:00"]:
        assert iso_date(written) is None, written
    (tmp_path / "z.md").write_text("Title: T\nDate: 2025-03-01 08:30+02:00\n\nCorps.\n", encoding="utf-8")
    assert ReusedMarkdownReader(settings()).read(str(tmp_path / "z.md"))[1]["date"] == get_date("2025-03-01 08:30+02:00")
    (tmp_path / "x.md").write_text("Title: T\nDate: 2025-02-30\n\nCorps.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="2025-02-30"):
        ReusedMarkdownReader(settings()).read(str(tmp_path / "x.md"))
