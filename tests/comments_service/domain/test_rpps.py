"""The RPPS directory: Luhn, streaming import of the real format, atomic replacement, lookups."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from comments_service.domain.rpps import (
    Directory,
    DirectoryError,
    canonical_rpps,
    import_directory,
    luhn_ok,
    names_match,
)
from tests.comments_service.directory_kit import EXTRA_56, HEADER_52, luhn_complete  # noqa: E402


def test_luhn_as_in_the_reference():
    assert luhn_complete("1012345678") == "10123456781"
    assert luhn_ok("10123456781") and not luhn_ok("10123456782")
    assert luhn_ok("810123456781"), "the national form 8 + RPPS"
    assert luhn_ok("101 2345 6781")
    assert not luhn_ok("1012345678") and not luhn_ok("abc") and not luhn_ok("")
    assert canonical_rpps("810123456781") == "10123456781"


def row(rpps, last, first, profession="10", skill=("S", "Spécialité ordinale", "SM54", "Médecine générale"), columns=52):
    fields = ["8", rpps, "8" + rpps, "DR", "Docteur", "MME", "Madame", last, first, profession, "Médecin", "C", "Civil",
              *skill, "L", "Libéral"] + [""] * 25 + ["58", "Nièvre"] + [""] * 6
    assert len(fields) == 52
    if columns == 56:
        fields += ["", "", "", ""]
    return "|".join(fields) + "|"


def write(tmp_path, lines, header=HEADER_52, encoding="utf-8"):
    path = tmp_path / "PS_LibreAcces_Personne_activite_202611230000.txt"
    path.write_bytes((header + "\n").encode("utf-8") + ("\n".join(lines) + "\n").encode(encoding))
    return path


CLAIRE = luhn_complete("1000000001")
KARIM = luhn_complete("1000000002")
NURSE = luhn_complete("1000000003")


@pytest.mark.parametrize("columns", [52, 56])
def test_import_keeps_physicians_and_their_specialties(tmp_path, columns):
    header = HEADER_52 + (EXTRA_56 if columns == 56 else "")
    source = write(tmp_path, [
        row(CLAIRE, "LEFÈBVRE", "Claire", columns=columns),
        row(CLAIRE, "LEFÈBVRE", "Claire", skill=("CAPA", "Capacité", "CAPA10", "Médecine d'urgence"), columns=columns),
        row(KARIM, "BENALI", "Karim", skill=("S", "Spécialité ordinale", "SM42", "Psychiatrie"), columns=columns),
        row(NURSE, "MARTIN", "Paul", profession="60", skill=("", "", "", ""), columns=columns),
    ], header=header)
    target = tmp_path / "directory.sqlite3"
    report = import_directory(source, target)
    assert (report.rows, report.physician_rows, report.physicians) == (4, 3, 2)
    directory = Directory(target)
    claire = directory.lookup(CLAIRE)
    assert claire.last_name == "LEFÈBVRE" and claire.specialties == ("Médecine générale",)
    assert directory.lookup("8" + KARIM).specialties == ("Psychiatrie",)
    assert directory.lookup(NURSE) is None, "only profession 10 is kept"
    assert names_match(claire, "Lefebvre", "claire") and names_match(claire, " lefèbvre ", "CLAIRE")
    assert not names_match(claire, "Lefebvre", "Claude")


def test_headers_are_matched_by_normalised_name_not_position(tmp_path):
    drifted = HEADER_52.replace("Prénom d'exercice", "PRENOM D’EXERCICE").replace("Nom d'exercice", "Nom d'Exercice")
    report = import_directory(write(tmp_path, [row(CLAIRE, "LEFEBVRE", "Claire")], header=drifted), tmp_path / "d.sqlite3")
    assert report.physicians == 1


def test_a_missing_column_is_named(tmp_path):
    header = HEADER_52.replace("Code profession|", "")
    with pytest.raises(DirectoryError, match="'code profession'"):
        import_directory(write(tmp_path, [], header=header), tmp_path / "d.sqlite3")


def test_a_windows_1252_file_is_refused_with_its_line_and_the_old_import_kept(tmp_path):
    target = tmp_path / "directory.sqlite3"
    import_directory(write(tmp_path, [row(CLAIRE, "LEFEBVRE", "Claire")]), target)
    bad = write(tmp_path, [row(KARIM, "BENALI", "Karim"), row(NURSE, "HÉLÈNE", "Zoé")], encoding="cp1252")
    with pytest.raises(DirectoryError, match=r"line 2 is not UTF-8"):
        import_directory(bad, target)
    assert Directory(target).lookup(CLAIRE) is not None, "a failed import leaves the previous one in place"
    assert not list(tmp_path.glob(".*importing")), "no temporary file is left behind"


def test_a_new_import_replaces_the_old_one_for_an_open_reader(tmp_path):
    target = tmp_path / "directory.sqlite3"
    import_directory(write(tmp_path, [row(CLAIRE, "LEFEBVRE", "Claire")]), target)
    reader = Directory(target)
    assert reader.lookup(CLAIRE)
    import_directory(write(tmp_path, [row(KARIM, "BENALI", "Karim")]), target)
    assert reader.lookup(CLAIRE) is None and reader.lookup(KARIM), "the reader sees the new file"


def test_cli_import(tmp_path, network_file, monkeypatch):
    from confreres.cli import cli

    monkeypatch.setenv("CONFRERES_SECRET_KEY", "cli-test")
    monkeypatch.setenv("CONFRERES_DB", str(tmp_path / "c.sqlite3"))
    source = write(tmp_path, [row(CLAIRE, "LEFEBVRE", "Claire"), row(KARIM, "BENALI", "Karim")])
    result = CliRunner().invoke(cli, ["--network", str(network_file), "directory", "import", str(source)])
    assert result.exit_code == 0, result.output
    assert "2\u202fmédecins" in result.output or "2 médecins" in result.output
    assert re.search(r"médecins \(\d+,\d\u202fs\)", result.output), "a decimal comma, as the other commands say it"
    assert Directory(tmp_path / "directory.sqlite3").lookup(KARIM)
    bad = tmp_path / "bad.txt"
    bad.write_text("a|b|\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--network", str(network_file), "directory", "import", str(bad)])
    assert result.exit_code != 0 and "lacks the column" in result.output
