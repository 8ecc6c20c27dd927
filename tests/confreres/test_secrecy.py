"""The medical secrecy rules (confreres.secrecy): realistic sentences of French doctors' posts, what each rule
must catch, and the hard negatives it must leave alone (doses, consultation dates, lab values, RPPS, the Code)."""

from __future__ import annotations

from pathlib import Path

import pytest

from confreres import secrecy

ROOT = Path(__file__).resolve().parents[2]

# (sentence, kind, severity, the span it must flag)
POSITIVES = [
    # NIR with a valid key (97 - number mod 97), every spacing, Corsica 2A/2B
    ("Sa carte Vitale porte le 1 84 12 75 123 456 40, je l'ai noté.", "nir", "refuse", "1 84 12 75 123 456 40"),
    ("NIR : 184127512345640", "nir", "refuse", "184127512345640"),
    ("n° SS 2 69 02 99 341 732 85 (mère)", "nir", "refuse", "2 69 02 99 341 732 85"),
    ("immatriculée 2.85.07.13.055.001.53 à la CPAM", "nir", "refuse", "2.85.07.13.055.001.53"),
    ("Sécu : 1-58-06-75-056-123-69.", "nir", "refuse", "1-58-06-75-056-123-69"),
    ("né en Corse, numéro 1 85 02 2A 123 456 82", "nir", "refuse", "1 85 02 2A 123 456 82"),
    ("numéro 2 79 11 2B 045 012 80 sur l'ordonnance", "nir", "refuse", "2 79 11 2B 045 012 80"),
    ("1 93 03 94 012 345 55", "nir", "refuse", "1 93 03 94 012 345 55"),
    ("(n° 1 72 05 69 123 004 63)", "nir", "refuse", "1 72 05 69 123 004 63"),
    # NIR without its key: a warning (it cannot be checked)
    ("Son numéro commence par 1 84 12 75 123 456, sans la clé.", "nir_sans_cle", "warn", "1 84 12 75 123 456"),
    # phones, French formats and +33
    ("Appelez-la au 06 12 34 56 78 si besoin.", "telephone", "refuse", "06 12 34 56 78"),
    ("Sa fille : 06.12.34.56.78.", "telephone", "refuse", "06.12.34.56.78"),
    ("tél. 01-45-67-89-10", "telephone", "refuse", "01-45-67-89-10"),
    ("portable 0612345678", "telephone", "refuse", "0612345678"),
    ("joignable au +33 6 12 34 56 78", "telephone", "refuse", "+33 6 12 34 56 78"),
    ("au +33612345678 le soir", "telephone", "refuse", "+33612345678"),
    ("au +33 (0)4 78 12 34 56", "telephone", "refuse", "+33 (0)4 78 12 34 56"),
    ("au 0033 5 56 12 34 56", "telephone", "refuse", "0033 5 56 12 34 56"),
    ("le 09 87 65 43 21, numéro de son fils", "telephone", "refuse", "09 87 65 43 21"),
    # e-mail addresses
    ("Elle m'écrit de jeanne.durand58@orange.fr chaque semaine.", "email", "refuse", "jeanne.durand58@orange.fr"),
    ("contact : m.bernard+sante@gmail.com.", "email", "refuse", "m.bernard+sante@gmail.com"),
    ("<secretariat@cabinet-dupont.fr>", "email", "refuse", "secretariat@cabinet-dupont.fr"),
    # full dates of birth
    ("Patiente née le 12/03/1958, hypertendue.", "naissance", "warn", "née le 12/03/1958"),
    ("née le 3 mars 1958 à Besançon", "naissance", "warn", "née le 3 mars 1958"),
    ("né le 1er janvier 1947", "naissance", "warn", "né le 1er janvier 1947"),
    ("Il est né le 07.11.62.", "naissance", "warn", "né le 07.11.62"),
    ("DDN : 14/02/1990", "naissance", "warn", "DDN : 14/02/1990"),
    ("ddn 14-02-1990", "naissance", "warn", "ddn 14-02-1990"),
    ("date de naissance : le 5 août 1971", "naissance", "warn", "date de naissance : le 5 août 1971"),
    # patient-like mentions
    ("J'ai revu M. Lambert ce matin.", "patient", "warn", "M. Lambert"),
    ("Mme Durand-Lefort est revenue.", "patient", "warn", "Mme Durand-Lefort"),
    ("Mlle Perrin, 19 ans, anorexique", "patient", "warn", "Mlle Perrin"),
    ("Madame MARTIN se plaint de vertiges.", "patient", "warn", "Madame MARTIN"),
    ("Monsieur Girard refuse le traitement.", "patient", "warn", "Monsieur Girard"),
    ("le petit Lucas avait de la fièvre", "patient", "warn", "le petit Lucas"),
    ("La petite Inès pleurait.", "patient", "warn", "La petite Inès"),
    ("un homme de 54 ans de Vesoul", "patient", "warn", "54 ans de Vesoul"),
    ("une patiente de 32 ans, habitant à Lons-le-Saunier", "patient", "warn", "32 ans, habitant à Lons-le-Saunier"),
    ("un enfant de 8 ans d'Annecy", "patient", "warn", "8 ans d'Annecy"),
    ("agriculteur de 61 ans originaire de Châlons-en-Champagne", "patient", "warn",
     "61 ans originaire de Châlons-en-Champagne"),
]

NEGATIVES = [
    "Doliprane 1000 mg 3 fois par jour, pas plus de 4 g par 24 h.",
    "Amoxicilline 1 g matin, midi et soir pendant 7 jours.",
    "Lors de la consultation du 12/03/2024, la tension était à 13/8.",
    "Revu le 3 mars 2024 puis le 14.05.2024.",
    "HbA1c 7,2 %, TSH 2,5 mUI/L, créatinine 85 µmol/L, DFG 78 mL/min/1,73 m².",
    "CRP à 120 mg/L, leucocytes 15 000/mm³, plaquettes 250 000.",
    "Mon numéro RPPS est 10003456789 ; mon ADELI 751234567.",
    "Voir les articles R.4127-4 et L.1110-4 du Code de la santé publique, et R. 4127-35.",
    "Depuis 1958, puis en 2024 : soixante-six ans de recul.",
    "Le cabinet est au 12 rue de la Paix, 75012 Paris.",
    "ISBN 978-2-07-036822-8, ou 9782070368228 sans tirets.",
    "Le numéro 1 84 12 75 123 456 99 ne passe pas la clé.",
    "184127512345699",
    "1841275123456",
    "En 2023, 1 234 567 passages aux urgences ; 15, 112 ou 114 en cas d'urgence.",
    "Le 3114 est le numéro national de prévention du suicide.",
    "un homme de 54 ans, fumeur, hypertendu",
    "Il est né en 1958 à la maternité.",
    "M. le Président de l'Ordre, Madame la Ministre, Mme la directrice",
    "M. X et Mme Y : j'anonymise toujours ainsi, ou par une initiale (Mme D.).",
    "le petit déjeuner, la petite enfance, Le Petit Prince",
    "Dr Martin et le Pr Dupont ont publié dans la revue.",
    "Voir https://www.has-sante.fr/jcms/p_3286386/fr et doi:10.1056/NEJMoa2034577.",
    "@drmartin sur les réseaux, ou #MedTwitter",
    "Tension 120/80 mmHg, pouls 72/min, SpO2 98 %, IMC 27,4 kg/m².",
    "Le mardi 12 mars à 14 h 30, puis à 16 h.",
    "Version 1.2.3.4, ticket 0-12-34, lot 06/12/34/56/78.",
    "Le courrier commençait par « Madame Monsieur », ou « Mme Mme » par erreur de frappe.",
]


@pytest.mark.parametrize("text,kind,severity,span", POSITIVES)
def test_positive(text, kind, severity, span):
    findings = [f for f in secrecy.scan(text) if f.kind == kind]
    assert findings, f"nothing found in {text!r}"
    assert findings[0].severity == severity
    assert findings[0].text == span
    assert text[findings[0].start:findings[0].end] == span
    assert findings[0].reason  # in French, for the author


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(text):
    assert secrecy.scan(text) == []


def test_line_and_column_are_one_based_in_the_whole_text():
    text = "Title: Un cas\nDate: 2024-03-12\n\nJe l'ai appelée au 06 12 34 56 78 hier.\n"
    (finding,) = secrecy.scan(text)
    assert (finding.line, finding.column) == (4, 20)
    assert finding.message("content/cas.md") == (
        "content/cas.md, ligne 4, colonne 20 : " + finding.reason + " (« 06 12 34 56 78 »)")


def test_nir_key_corsica():
    assert secrecy.nir_key("1841275123456") == 40
    assert secrecy.nir_key("185022A123456") == 97 - int("1850219123456") % 97
    assert secrecy.nir_key("279112b045012") == 97 - int("2791118045012") % 97


def test_a_nir_is_never_accepted_by_secret_verifie():
    text = "Mme Durand, 06 12 34 56 78, NIR 1 84 12 75 123 456 40"
    refuse, warn = secrecy.blocking(secrecy.scan(text), is_verified=True)
    assert [f.kind for f in refuse] == ["nir"] and warn == []
    refuse, warn = secrecy.blocking(secrecy.scan(text), is_verified=False)
    assert sorted(f.kind for f in refuse) == ["nir", "telephone"] and [f.kind for f in warn] == ["patient"]


@pytest.mark.parametrize("value,expected", [("vérifié", True), ("Vérifié ", True), ("verifie", True),
                                            ("VÉRIFIÉ", True), ("oui", False), ("", False), (None, False)])
def test_verified(value, expected):
    assert secrecy.verified(value) is expected


@pytest.mark.parametrize("path", sorted(ROOT.glob("sites/*/content/**/*.md")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_refusal_on_the_demo_posts(path):
    refused = [f for f in secrecy.scan(path.read_text(encoding="utf-8")) if f.severity == "refuse"]
    assert refused == []


def test_the_number_patterns_match_what_their_plain_forms_do():
    """secrecy's NIR and phone patterns are written for speed; these are what they mean, written plainly."""
    import random
    import re

    sep = secrecy._SEP
    plain = {
        secrecy._NIR: re.compile(
            rf"(?<![\w.,/-])([1-478]){sep}(\d\d){sep}(\d\d){sep}(\d\d|2[AaBb]){sep}(\d{{3}}){sep}(\d{{3}})"
            rf"(?:{sep}(\d\d))?(?![\w/]|[.,\-]\d)"),
        secrecy._PHONE: re.compile(
            rf"(?<![\w+.,/-])(?:(?:\+|00)33{sep}(?:\(0\){sep})?[1-9]|0[1-9])(?:{sep}\d\d){{4}}(?![\w/]|[.,\-]\d)"),
    }
    pieces = [*"0123456789 .-,/+()aAbBx\n_é", "\u00a0", "\u202f", "33", "0033", "+33", "(0)", "06", "2A", "2B"]
    rng = random.Random(15)
    for _ in range(30_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        for fast, reference in plain.items():
            assert [m.groups() + (m.span(),) for m in fast.finditer(text)] == \
                [m.groups() + (m.span(),) for m in reference.finditer(text)], text


def test_the_birth_pattern_matches_what_its_plain_form_does():
    """_BIRTH reads « \\s*(?::\\s*)? » where its plain form reads « \\s*:?\\s* » (the same text, without the
    backtracking): both find the same spans."""
    import random
    import re

    plain = re.compile(
        rf"(?:\bn[ée]e?s?\s+le\s+|\bDDN\s*:?\s*|\bdate\s+de\s+naissance\s*:?\s*(?:le\s+)?){secrecy._FULL_DATE}",
        re.IGNORECASE)
    pieces = ["DDN", "ddn", "date de naissance", "née le", "né le", " ", "  ", "\n", ":", " : ", "le ", "12/03/1958",
              "3 mars 1958", "1er janvier 1947", "07.11.62", "14", "/", "x", "é"]
    rng = random.Random(21)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        assert [m.span() for m in secrecy._BIRTH.finditer(text)] == [m.span() for m in plain.finditer(text)], text


@pytest.mark.parametrize(("label", "run"), [
    ("DDN", " " * 65_536 + "x"),
    ("ddn", "\n" * 65_536),
    ("date de naissance", "\u00a0" * 65_536 + ":"),
    ("Date de naissance :", " " * 65_536 + "le x"),
], ids=["ddn-spaces", "ddn-newlines", "date-nbsp", "date-colon"])
def test_a_birth_label_then_a_run_of_spaces_costs_one_pass(label, run):
    """« DDN » then 10,000 spaces and no date took 2.5 s of a worker (a comment, the secrecy check as one types);
    64 KB, 140 s, as the two « \\s* » around the optional colon tried every split of the run. Scanned in another
    process (the regex engine holds the GIL: a thread could not be waited for), with a guard against a hang (one
    pass takes milliseconds), not a timing."""
    import json
    import subprocess
    import sys

    code = "import json, sys; from confreres import secrecy; print(json.dumps(len(secrecy.scan(sys.stdin.read()))))"
    done = subprocess.run([sys.executable, "-c", code], input=label + run, capture_output=True, text=True,
                          timeout=20, check=True, cwd=ROOT)
    assert json.loads(done.stdout) == 0
    dated = f"{label} 12/03/1958"
    assert [(f.kind, f.text) for f in secrecy.scan(dated)] == [("naissance", dated)]
