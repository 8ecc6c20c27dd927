"""Write a synthetic RPPS extract (`PS_LibreAcces_Personne_activite`) of any size, in the exact format.

One header row (the published 52-column labels, or 56 with --columns 56), `|`-separated, a trailing
`|` on every line, UTF-8, no quoting; Luhn-valid 11-digit RPPS numbers; plausible French names;
several rows per professional (one per activity or skill); a mix of professions (about 40 %
physicians, profession 10). Deterministic for a given --seed.

    .venv/bin/python bench/make_directory.py --rows 2000000 --out /tmp/PS_LibreAcces_Personne_activite.txt
"""

from __future__ import annotations

import argparse
import random

HEADER_52 = (
    "Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité d'exercice|Libellé civilité d'exercice|"
    "Code civilité|Libellé civilité|Nom d'exercice|Prénom d'exercice|Code profession|Libellé profession|"
    "Code catégorie professionnelle|Libellé catégorie professionnelle|Code type savoir-faire|Libellé type savoir-faire|"
    "Code savoir-faire|Libellé savoir-faire|Code mode exercice|Libellé mode exercice|Numéro SIRET site|Numéro SIREN site|"
    "Numéro FINESS site|Numéro FINESS établissement juridique|Identifiant technique de la structure|Raison sociale site|"
    "Enseigne commerciale site|Complément destinataire (coord. structure)|Complément point géographique (coord. structure)|"
    "Numéro Voie (coord. structure)|Indice répétition voie (coord. structure)|Code type de voie (coord. structure)|"
    "Libellé type de voie (coord. structure)|Libellé Voie (coord. structure)|Mention distribution (coord. structure)|"
    "Bureau cedex (coord. structure)|Code postal (coord. structure)|Code commune (coord. structure)|"
    "Libellé commune (coord. structure)|Code pays (coord. structure)|Libellé pays (coord. structure)|"
    "Téléphone (coord. structure)|Téléphone 2 (coord. structure)|Télécopie (coord. structure)|"
    "Adresse e-mail (coord. structure)|Code Département (structure)|Libellé Département (structure)|"
    "Ancien identifiant de la structure|Autorité d'enregistrement|Code secteur d'activité|Libellé secteur d'activité|"
    "Code section tableau pharmaciens|Libellé section tableau pharmaciens|"
)
EXTRA_56 = "Code rôle|Libellé rôle|Code genre activité|Libellé genre activité|"

LAST = ("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèbvre Michel "
        "Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont Lambert Bonnet "
        "François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry Roussel Nicolas Perrin "
        "Morin Mathieu Clément Gauthier Dumont Lopez Fontaine Chevalier Robin Benali Nguyen Haddad Le Gall").split()
FIRST = ("Marie Jean Pierre Claire Karim Hélène Thomas Camille Nicolas Julie Antoine Sophie Léa Hugo Chloé "
         "Louis Inès Paul Émilie Mehdi Anne François Élodie Yasmine Olivier Céline Jérôme Aurélie Loïc").split()
PROFESSIONS = [("10", "Médecin", 40), ("60", "Infirmier", 30), ("21", "Pharmacien", 10), ("70", "Masseur-kinésithérapeute", 10),
               ("40", "Chirurgien-dentiste", 5), ("50", "Sage-femme", 5)]
SPECIALTIES = [("SM54", "Médecine générale"), ("SM53", "Spécialiste en médecine générale"), ("SM42", "Psychiatrie"),
               ("SM38", "Ophtalmologie"), ("SM49", "Santé publique"), ("SM26", "Qualifié en médecine générale"),
               ("SM14", "Chirurgie infantile"), ("SM40", "Pédiatrie")]
DEPARTMENTS = [("58", "Nièvre"), ("69", "Rhône"), ("44", "Loire-Atlantique"), ("75", "Paris"), ("13", "Bouches-du-Rhône")]


def luhn_complete(body: str) -> str:
    """The 11-digit number whose last digit is the Luhn check digit of the 10-digit body."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return body + str((10 - total % 10) % 10)


def rows_for(rng: random.Random, number: int, columns: int):
    rpps = luhn_complete(f"1{number:09d}")
    code, label, _ = rng.choices(PROFESSIONS, weights=[p[2] for p in PROFESSIONS])[0]
    last, first = rng.choice(LAST).upper(), rng.choice(FIRST)
    civ = rng.choice([("M", "Monsieur"), ("MME", "Madame")])
    dept = rng.choice(DEPARTMENTS)
    skills = [("S", "Spécialité ordinale", *rng.choice(SPECIALTIES))] if code == "10" else [("", "", "", "")]
    if code == "10" and rng.random() < 0.3:
        skills.append(("CAPA", "Capacité", "CAPA10", "Médecine d'urgence"))
    for _activity in range(rng.choice((1, 1, 2, 3))):
        for skill in skills:
            fields = ["8", rpps, "8" + rpps, "DR" if code == "10" else "", "Docteur" if code == "10" else "", civ[0], civ[1],
                      last, first, code, label, "C", "Civil", skill[0], skill[1], skill[2], skill[3], "L", "Libéral",
                      "", "", "", "", f"R{number:08d}", f"CABINET {last}", "", "", "", str(rng.randint(1, 99)), "", "R",
                      "Rue", "des Tilleuls", "", f"{dept[0]}000 VILLE", f"{dept[0]}000", f"{dept[0]}001", "VILLE", "99000",
                      "France", "0102030405", "", "", "", dept[0], dept[1], "", "ARS/ONI/CNOM", "SA07", "Cabinet individuel",
                      "", ""]
            if columns == 56:
                fields += ["FON-01", "Titulaire", "GENR01", "Consultation"]
            yield "|".join(fields) + "|\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--columns", type=int, choices=(52, 56), default=52)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    written = 0
    number = 0
    with open(args.out, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER_52 + (EXTRA_56 if args.columns == 56 else "") + "\n")
        while written < args.rows:
            number += 1
            for line in rows_for(rng, number, args.columns):
                out.write(line)
                written += 1
                if written >= args.rows:
                    break
    print(f"{written} rows, {number} professionals -> {args.out}")


if __name__ == "__main__":
    main()
