"""The directory's name index: a display name that is a physician's name ("Prénom Nom", "Nom Prénom", "Dr Nom")."""

from __future__ import annotations

import sqlite3

from comments_service.domain.rpps import Directory, import_directory, name_keys
from tests.comments_service.directory_kit import write_extract


def test_name_keys_fold_case_accents_and_titles():
    assert name_keys("Claire Lefèbvre") == ["fclairelefebvre"]
    assert name_keys("Dr. LEFEBVRE") == ["flefebvre", "llefebvre"]
    assert name_keys("docteure Claire Lefebvre") == ["fclairelefebvre", "lclairelefebvre"]
    assert name_keys("Le Stéthoscope") == ["flestethoscope"]
    assert name_keys("Dr") == [] and name_keys("  ") == []


def test_name_taken_by_full_name_either_order_or_titled_surname(tmp_path):
    target = tmp_path / "d.sqlite3"
    import_directory(write_extract(tmp_path / "PS_LibreAcces_Personne_activite_x.txt"), target)
    directory = Directory(target)
    for taken in ("Claire Lefebvre", "LEFEBVRE Claire", "Dr Lefebvre", "Dr Claire Lefebvre", "Pr Benali",
                  "Éléonore Quintard-Valmore", "eleonore quintard valmore", "Dr Quintard Valmore"):
        assert directory.name_taken(taken), taken
    for free in ("Lefebvre", "Claire", "Le Stéthoscope bleu", "Dr House", "Sophie Durand"):  # Durand is a nurse
        assert not directory.name_taken(free), free


def test_name_taken_on_a_directory_imported_before_the_index(tmp_path):
    target = tmp_path / "d.sqlite3"
    import_directory(write_extract(tmp_path / "PS_LibreAcces_Personne_activite_x.txt"), target)
    conn = sqlite3.connect(target)
    conn.execute("DROP TABLE names")
    conn.commit()
    conn.close()
    directory = Directory(target)
    assert directory.name_taken("Dr Lefebvre") and not directory.name_taken("Dr House")
    assert sorted(directory.numbers())[0].startswith("1")
