"""Medical secrecy: what, in a text, could identify a patient (issue 15). The one place for the rules.

Pure functions on text, importing nothing of the project, so the build (confreres.checks), the push and,
later, the comment service share them. `scan(text)` returns `Finding`s with a severity:

- "refuse": a French social security number (NIR) whose key checks, a French phone number, an e-mail address;
- "warn": a NIR written without its key, a full date of birth, a patient-like mention (« Mme Durand »,
  « le petit Lucas », « un homme de 54 ans de Vesoul »).

A post's `Secret: vérifié` accepts its findings on purpose (its author's own cabinet phone, a public figure),
never a NIR: `blocking(findings, verified)` says which still stop a publication.

A comment has no `Secret:`: any finding holds it for moderation (comments_service.domain.secrecy);
`label`, `comment_warning` and `comment_reason` are what its author reads, as they type and once it is sent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

VERIFIED = "vérifié"  # the value of a post's `Secret:` metadata that accepts its findings

_SEP = r"[ .\-\u00a0\u202f]?"
# Each number pattern starts with the digit (or « + ») it needs, and says after it what may not precede it:
# `([1-478])(?<![\w.,/-][1-478])` matches what `(?<![\w.,/-])([1-478])` does (tests/confreres/test_secrecy.py
# keeps that plain form to compare), but lets the regex engine skip to the next such character instead of
# trying every position: a third of the time, and a build scans every post of a blog.
# sex, year, month, department (2A/2B: Corsica), commune, order, then the optional 2-digit key
_NIR = re.compile(
    rf"([1-478])(?<![\w.,/-][1-478]){_SEP}(\d\d){_SEP}(\d\d){_SEP}(\d\d|2[AaBb]){_SEP}(\d{{3}}){_SEP}(\d{{3}})"
    rf"(?:{_SEP}(\d\d))?(?![\w/]|[.,\-]\d)"
)
# +33 or 0033 (an optional « (0) » after), or a French 0X; then four pairs of digits
_PHONE = re.compile(
    rf"(?:\+(?<![\w+.,/-]\+)33{_SEP}(?:\(0\){_SEP})?[1-9]|0(?<![\w+.,/-]0)(?:033{_SEP}(?:\(0\){_SEP})?[1-9]|[1-9]))"
    rf"(?:{_SEP}\d\d){{4}}(?![\w/]|[.,\-]\d)"
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_MONTHS = r"(?:janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre)"
_FULL_DATE = rf"(?:\d{{1,2}}[/.\-]\d{{1,2}}[/.\-](?:\d{{4}}|\d\d)\b|(?:1er|\d{{1,2}})\s+{_MONTHS}\s+\d{{4}}\b)"
# « \s*(?::\s*)? », not « \s*:?\s* »: the same text, but two \s* side by side split a run of N spaces in N ways, each
# tried to the end of the run when no date follows (« DDN » then 10,000 spaces: 2.5 s; 64 KB: 140 s). Now one pass.
_BIRTH = re.compile(
    rf"(?:\bn[ée]e?s?\s+le\s+|\bDDN\s*(?::\s*)?|\bdate\s+de\s+naissance\s*(?::\s*)?(?:le\s+)?){_FULL_DATE}",
    re.IGNORECASE,
)
_NAME = r"(?:[A-ZÀ-Ý][a-zà-ÿ]{2,}(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?|[A-Z]{2,}\b)"
_CIVILITY = r"(?:M\.|Mme|Mlle|Monsieur|Madame|Mademoiselle)"
_TITLE = re.compile(  # a civility followed by another one is not a name (« Mme Mme », « Monsieur Madame »)
    rf"(?<!\w)(?:{_CIVILITY}|[Ll]e\s+petit|[Ll]a\s+petite)[ \u00a0]+(?!{_CIVILITY}(?!\w)){_NAME}"
)
_TOWN = r"[A-ZÀ-Ý][a-zà-ÿ]+(?:-(?:sur|sous|en|le|la|les|de|du|des|lès|[A-ZÀ-Ý][a-zà-ÿ]+))*"
_AGE_TOWN = re.compile(
    rf"\b\d{{1,3}}[ \u00a0]+ans,?[ \u00a0]+(?:de|d['’]|à|habitant[ \u00a0]+à|vivant[ \u00a0]+à|domicilié[e]?[ \u00a0]+à"
    rf"|originaire[ \u00a0]+de)[ \u00a0]*{_TOWN}"
)


@dataclass(frozen=True)
class Finding:
    kind: str  # "nir" | "nir_sans_cle" | "telephone" | "email" | "naissance" | "patient"
    severity: str  # "refuse" | "warn"
    line: int  # 1-based, in the text scanned
    column: int  # 1-based
    text: str  # the matched span
    reason: str  # in French, for the author
    start: int = 0  # offsets in the text: the span to highlight
    end: int = 0

    def message(self, source: str) -> str:
        """« content/x.md, ligne 3, colonne 12 : raison (« extrait ») » for the pusher."""
        return f"{source}, ligne {self.line}, colonne {self.column} : {self.reason} (« {self.text} »)"


def nir_key(number: str) -> int:
    """The key of a 13-character NIR: 97 - (number mod 97), Corsica's 2A read as 19 and 2B as 18."""
    number = number.upper()
    digits = number[:5] + number[5:7].replace("2A", "19").replace("2B", "18") + number[7:]
    return 97 - int(digits) % 97


def _valid_month(month: str) -> bool:
    """01-12, or the codes for an unknown or uncertain month (20, 30-42, 50-99)."""
    value = int(month)
    return 1 <= value <= 12 or value == 20 or 30 <= value <= 42 or value >= 50


def _nirs(text: str):
    for match in _NIR.finditer(text):
        sex, year, month, dept, commune, order, key = match.groups()
        if not _valid_month(month):
            continue
        if key is None:
            if dept.isdigit() and match.group(0).isdigit():
                continue  # 13 bare digits: too many other numbers look like that
            yield match, "nir_sans_cle", "warn", ("ressemble à un numéro de sécurité sociale (sans sa clé) : "
                                                 "retirez-le ou remplacez-le par « X »")
        elif nir_key(sex + year + month + dept + commune + order) == int(key):
            yield match, "nir", "refuse", ("numéro de sécurité sociale (NIR, clé valide) : il ne doit jamais être "
                                          "publié ; retirez-le")


# What a pattern cannot match without: a text lacking it is not scanned by that pattern (a build scans every post).
_TITLE_WORDS = ("M.", "Mme", "Mlle", "Monsieur", "Madame", "Mademoiselle", "petit")
_AN_AGE = re.compile(r"\d[ \u00a0]+ans").search


def _has_at(text: str) -> bool:
    return "@" in text


def _has_title(text: str) -> bool:
    return any(word in text for word in _TITLE_WORDS)


def scan(text: str) -> list[Finding]:
    """Every finding in `text`, in reading order."""
    found = list(_nirs(text))
    for pattern, kind, severity, reason, possible in (
        (_PHONE, "telephone", "refuse", "numéro de téléphone : retirez-le (s'il s'agit du vôtre, publié "
                                        "exprès, ajoutez « Secret: vérifié » en tête du billet)", None),
        (_EMAIL, "email", "refuse", "adresse e-mail : retirez-la (s'il s'agit de la vôtre, publiée exprès, "
                                    "ajoutez « Secret: vérifié » en tête du billet)", _has_at),
        (_BIRTH, "naissance", "warn", "date de naissance complète : gardez au plus l'année ou l'âge", None),
        (_TITLE, "patient", "warn", "ressemble au nom d'un patient : gardez une initiale ou un prénom changé",
         _has_title),
        (_AGE_TOWN, "patient", "warn", "âge et ville ensemble : un patient peut être reconnu ; retirez la ville",
         _AN_AGE),
    ):
        if possible is not None and not possible(text):
            continue
        nirs = [(m.start(), m.end()) for m, *_ in found]
        for match in pattern.finditer(text):
            if kind == "telephone" and any(s <= match.start() < e for s, e in nirs):
                continue
            found.append((match, kind, severity, reason))
    findings = []
    for match, kind, severity, reason in sorted(found, key=lambda f: f[0].start()):
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        findings.append(Finding(kind, severity, line, column, match.group(0), reason, match.start(), match.end()))
    return findings


def verified(value) -> bool:
    """Whether a `Secret:` metadata value is « vérifié » (accents and case aside)."""
    fold = unicodedata.normalize("NFKD", str(value or "")).encode("ascii", "ignore").decode().strip().lower()
    return fold == "verifie"


def blocking(findings: list[Finding], is_verified: bool) -> tuple[list[Finding], list[Finding]]:
    """(what refuses the publication, what is only printed as a warning). `Secret: vérifié` accepts every
    finding but a NIR with a valid key."""
    if is_verified:
        return [f for f in findings if f.kind == "nir"], []
    return [f for f in findings if f.severity == "refuse"], [f for f in findings if f.severity == "warn"]


# What a finding is, for a commenter (a comment has no metadata to accept it: every finding holds it).
LABELS = {
    "nir": "un numéro de sécurité sociale",
    "nir_sans_cle": "ce qui ressemble à un numéro de sécurité sociale",
    "telephone": "un numéro de téléphone",
    "email": "une adresse e-mail",
    "naissance": "une date de naissance complète",
    "patient": "ce qui ressemble au nom d'un patient",
}


def label(finding: Finding) -> str:
    """« un numéro de téléphone », « un âge avec une ville »…: what the finding is, in a French sentence."""
    if finding.kind == "patient" and _AGE_TOWN.fullmatch(finding.text):
        return "un âge avec une ville"
    return LABELS.get(finding.kind, "une donnée qui peut identifier un patient")


def _listed(findings: list[Finding]) -> str:
    parts = list(dict.fromkeys(f"{label(f)} (« {f.text} »)" for f in findings))
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]


def comment_warning(findings: list[Finding]) -> str:
    """What a commenter reads as they type (the widget) or on a form sent back: "" when nothing is found."""
    if not findings:
        return ""
    return (f"Secret médical : votre texte contient {_listed(findings)}. Retirez ce qui permettrait de reconnaître "
            "quelqu'un ; sinon, votre commentaire attendra la relecture d'un modérateur avant d'être publié.")


def comment_reason(findings: list[Finding]) -> str:
    """Why a sent comment waits for moderation whatever the blog's policy (stored with it, shown to its author
    and to the moderators)."""
    return (f"il contient {_listed(findings)} : pour protéger le secret médical, un modérateur le relira "
            "avant toute publication.")
