"""confreres.french: the dates other software writes, read the one way (exports, feeds)."""

from __future__ import annotations

from datetime import UTC, datetime

from confreres.french import de_fr, utc_datetime, when_fr


def test_utc_datetime_reads_what_exports_and_feeds_write():
    assert utc_datetime("2025-05-01T09:00:00+02:00") == datetime(2025, 5, 1, 7, tzinfo=UTC)
    assert utc_datetime(" 2025-05-01T09:00:00Z ") == datetime(2025, 5, 1, 9, tzinfo=UTC)
    assert utc_datetime("2025-05-01T09:00:00") == datetime(2025, 5, 1, 9, tzinfo=UTC), "no offset: UTC"
    for junk in ("", "hier", None, 3, "0001-01-01T00:00:00+01:00"):
        assert utc_datetime(junk) is None, junk


def test_when_fr_says_paris_time():
    assert when_fr(datetime(2025, 3, 1, 13, 5, tzinfo=UTC)) == "1er mars 2025 à 14 h 05"
    assert when_fr(datetime(2025, 7, 14, 8, 0, tzinfo=UTC)) == "14 juillet 2025 à 10 h 00"


def test_de_is_elided_before_a_vowel_or_an_h():
    assert [de_fr(n) for n in ("Paul", "Anne", "Élodie", "Hélène", "Yves", "Œdipe", "Dr Martin", "", "« Zoé »")] == [
        "de Paul", "d'Anne", "d'Élodie", "d'Hélène", "d'Yves", "d'Œdipe", "de Dr Martin", "de ", "de « Zoé »"]
