"""A small RPPS extract in the real format (bench/make_directory.py's header and Luhn numbers)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from comments_service.domain.rpps import import_directory


def _bench_module(name: str):
    """Load bench/<name>.py by path: putting bench/ on sys.path would shadow the `planet` plugin package."""
    path = Path(__file__).resolve().parents[2] / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_directory = _bench_module("make_directory")
HEADER_52, EXTRA_56, luhn_complete = make_directory.HEADER_52, make_directory.EXTRA_56, make_directory.luhn_complete


def extract_row(rpps, last, first, profession="10", specialty=("SM54", "Médecine générale")):
    code, label = specialty if specialty else ("", "")
    skill = ("S", "Spécialité ordinale", code, label) if specialty else ("", "", "", "")
    fields = ["8", rpps, "8" + rpps, "DR", "Docteur", "MME", "Madame", last, first, profession, "Médecin", "C", "Civil",
              *skill, "L", "Libéral"] + [""] * 25 + ["58", "Nièvre"] + [""] * 6
    assert len(fields) == 52
    return "|".join(fields) + "|"


# The directory of the tests: (rpps, last name, first name, profession, specialty)
CLAIRE = luhn_complete("1000000101")
KARIM = luhn_complete("1000000102")
HELENE = luhn_complete("1000000103")
CANDIDATE = luhn_complete("1000000104")  # the pseudonymous physician of the privacy test
OTHER = luhn_complete("1000000105")
NURSE = luhn_complete("1000000106")
PEOPLE = [
    (CLAIRE, "LEFEBVRE", "Claire", "10", ("SM54", "Médecine générale")),
    (KARIM, "BENALI", "Karim", "10", ("SM42", "Psychiatrie")),
    (HELENE, "ROUSSEAU", "Hélène", "10", ("SM14", "Chirurgie infantile")),
    (CANDIDATE, "QUINTARD-VALMORE", "Éléonore", "10", ("SM54", "Médecine générale")),
    (OTHER, "MARTIN", "Paul", "10", ("SM38", "Ophtalmologie")),
    (NURSE, "DURAND", "Sophie", "60", None),
]


def write_extract(path: Path, people=PEOPLE) -> Path:
    lines = [HEADER_52] + [extract_row(r, last, first, prof, spec) for r, last, first, prof, spec in people]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def import_people(app, tmp_path: Path, people=PEOPLE, name="PS_LibreAcces_Personne_activite_202611230000.txt",
                  accept_shrink=False):
    """Import `people` as the app's directory; `accept_shrink` for a smaller re-import (this directory is so
    small that one physician less is already more than the 10 % an import may lose unasked)."""
    return import_directory(write_extract(tmp_path / name, people), app.config["DIRECTORY_DB"],
                            accept_shrink=accept_shrink)


