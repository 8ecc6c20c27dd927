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


def test_real_file_quirks_bom_crlf_quotes_and_another_column_order(tmp_path):
    """A byte order mark, CRLF line ends, quotes inside values, a newer release's added columns and another column
    order: the needed columns are found by name, and the BOM no longer hides the first one's."""
    header = (HEADER_52 + EXTRA_56).split("|")[:-1]
    lines = [row(CLAIRE, 'D"ARC', "Claire", columns=56).split("|")[:-1],
             row(KARIM, "BENALI", '"Karim"', columns=56).split("|")[:-1]]
    order = [1, *[i for i in reversed(range(len(header))) if i != 1]]  # Identifiant PP first, right after the BOM
    text = "\r\n".join("|".join(fields[i] for i in order) + "|" for fields in [header, *lines]) + "\r\n"
    source = tmp_path / "PS_LibreAcces_Personne_activite_202611230000.txt"
    source.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    report = import_directory(source, tmp_path / "d.sqlite3")
    assert (report.rows, report.physicians) == (2, 2)
    directory = Directory(tmp_path / "d.sqlite3")
    assert directory.lookup(CLAIRE).last_name == 'D"ARC' and directory.lookup(KARIM).first_name == '"Karim"'
    assert directory.lookup(CLAIRE).specialties == ("Médecine générale",)


def test_the_published_zip_is_read_as_it_comes(tmp_path):
    """The extract is published in a zip beside two other files: its Personne_activite member is streamed."""
    import zipfile

    body = (HEADER_52 + "\n" + row(CLAIRE, "LEFEBVRE", "Claire") + "\n").encode("utf-8")
    archive = tmp_path / "PS_LibreAcces_202611230000.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("PS_LibreAcces_Dipl_AutExerc_202611230000.txt", "Type d'identifiant PP|\n")
        out.writestr("PS_LibreAcces_Personne_activite_202611230000.txt", body)
        out.writestr("PS_LibreAcces_SavoirFaire_202611230000.txt", "Type d'identifiant PP|\n")
    target = tmp_path / "d.sqlite3"
    assert import_directory(archive, target).physicians == 1
    assert Directory(target).meta()["source"] == "PS_LibreAcces_Personne_activite_202611230000.txt"
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as out:
        out.writestr("PS_LibreAcces_SavoirFaire_202611230000.txt", "x|\n")
    with pytest.raises(DirectoryError, match=r"one PS_LibreAcces_Personne_activite file \(0 found; its files: "
                                             r"PS_LibreAcces_SavoirFaire_202611230000.txt\)"):
        import_directory(other, target)


@pytest.mark.parametrize("cut", ["ascii", "inside a character"])
def test_a_cut_short_file_is_refused_naming_its_last_line(tmp_path, cut):
    """An interrupted download ends in the middle of a line: that line's values cannot be trusted (a shorter RPPS,
    a name cut short), and the file lacks the rest of the directory. Refused, its line named, the old import kept."""
    target = tmp_path / "directory.sqlite3"
    import_directory(write(tmp_path, [row(CLAIRE, "LEFEBVRE", "Claire")]), target)
    whole = write(tmp_path, [row(CLAIRE, "LEFEBVRE", "Claire"), row(KARIM, "BENALI", "Karim", skill=("S",
                  "Spécialité ordinale", "SM42", "Psychiatrie"))]).read_bytes()
    end = whole.index(b"Psychiatrie") + 3  # in the middle of a value
    if cut != "ascii":
        end = whole.index("é".encode(), whole.index(KARIM.encode())) + 1  # between the two bytes of « é »
    source = tmp_path / "PS_LibreAcces_Personne_activite_202611230000.txt"
    source.write_bytes(whole[:end])
    expected = r"line 3 has \d+ fields where the header has 52: a damaged line, or a file cut short" if cut == "ascii" \
        else r"line 3: the file stops in the middle of this line: an interrupted download"
    with pytest.raises(DirectoryError, match=expected):
        import_directory(source, target)
    assert Directory(target).lookup(CLAIRE) and not Directory(target).lookup(KARIM), "the previous import is kept"
    assert not list(tmp_path.glob(".*importing"))


def test_a_damaged_line_is_named_not_skipped(tmp_path, network_file, monkeypatch):
    """A line with more or fewer fields than the header (a `|` inside a value, a line cut in two) was skipped or
    imported with its values shifted; the import now stops and names it, in one line from the command."""
    from confreres.cli import cli

    good = row(CLAIRE, "LEFEBVRE", "Claire")
    for damaged in (good.replace("LEFEBVRE", "LE|FEBVRE"), "8|" + KARIM + "|"):
        with pytest.raises(DirectoryError, match=r"line 3 has (53|2) fields where the header has 52"):
            import_directory(write(tmp_path, [good, damaged, good]), tmp_path / "d.sqlite3")
    assert not (tmp_path / "d.sqlite3").exists()
    monkeypatch.setenv("CONFRERES_SECRET_KEY", "cli-test")
    monkeypatch.setenv("CONFRERES_DB", str(tmp_path / "c.sqlite3"))
    result = CliRunner().invoke(cli, ["--network", str(network_file), "directory", "import",
                                      str(write(tmp_path, [good, "8|" + KARIM + "|"]))])
    assert result.exit_code == 1 and "line 3 has 2 fields where the header has 52" in result.output, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_a_much_smaller_directory_is_refused_unless_accepted(tmp_path):
    """A download cut short at a line end, or another extract with the same columns, has all its lines right but
    lacks most physicians; imported, the re-check would revoke every member it lacks. Under 90 % of the physicians
    of the directory in place it is refused (DirectoryShrank), the old one kept, unless accept_shrink."""
    from comments_service.domain.rpps import DirectoryShrank

    target = tmp_path / "directory.sqlite3"
    numbers = [luhn_complete(f"10000010{i:02d}") for i in range(20)]
    import_directory(write(tmp_path, [row(n, f"NOM{i}", "Prénom") for i, n in enumerate(numbers)]), target)
    import_directory(write(tmp_path, [row(n, f"NOM{i}", "Prénom") for i, n in enumerate(numbers[:18])]), target)
    assert Directory(target).meta()["physicians"] == "18", "90 % of the directory in place: imported"
    cut = write(tmp_path, [row(n, f"NOM{i}", "Prénom") for i, n in enumerate(numbers[:16])])
    with pytest.raises(DirectoryShrank, match=r"has 16 physicians where the directory in place has 18 \(89%, under "
                                              r"90%\): a download cut short, or another extract\? Nothing was imported"):
        import_directory(cut, target)
    assert Directory(target).lookup(numbers[17]) and not list(tmp_path.glob(".*importing"))
    assert import_directory(cut, target, accept_shrink=True).physicians == 16
    assert not Directory(target).lookup(numbers[17])


def test_a_file_without_physicians_is_never_imported(tmp_path):
    """A header alone, or only other professions: imported, it would revoke every member; refused even on a
    first import and even when a shrink is accepted."""
    target = tmp_path / "directory.sqlite3"
    for lines in ([], [row(NURSE, "MARTIN", "Paul", profession="60", skill=("", "", "", ""))]):
        with pytest.raises(DirectoryError, match=r"no physician \(profession 10\) in \d rows"):
            import_directory(write(tmp_path, lines), target, accept_shrink=True)
    assert not target.exists() and not list(tmp_path.glob(".*importing"))


def test_a_check_refusing_the_new_directory_keeps_the_old_one(tmp_path):
    """`check` sees the new file before it replaces the directory in place (the members' re-check uses it)."""
    target = tmp_path / "directory.sqlite3"
    import_directory(write(tmp_path, [row(CLAIRE, "LEFEBVRE", "Claire")]), target)
    seen = []

    def check(path):
        seen.append(Directory(path).lookup(KARIM))
        raise DirectoryError("refused by the check")

    with pytest.raises(DirectoryError, match="refused by the check"):
        import_directory(write(tmp_path, [row(KARIM, "BENALI", "Karim")]), target, check=check)
    assert seen[0] is not None and seen[0].last_name == "BENALI"
    assert Directory(target).lookup(CLAIRE) and not Directory(target).lookup(KARIM)
    assert not list(tmp_path.glob(".*importing"))
