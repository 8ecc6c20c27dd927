"""Names as people write them, reduced to what a reader sees: the one normalisation of the directory's lookups
(comments_service/domain/rpps.py), of the member names a guest may not sign with (domain/verification.py) and of
the index that makes that check cheap (`name_index`, stored on each account by accounts.set_display_name and by
the migration m027_member_name_index).

A leaf module (it imports no project module), so that the schema's migrations, below the domain, compute the
same index as the domain does. Changing what these functions return (a look-alike letter added to LOOKALIKES, a
title to TITLE_RE, another signature) changes the stored index: it must come with a migration that fills the
columns again (`name_index` over every account, as m027 does), or guests' names would be compared to stale keys.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import product


def normalise(text: str) -> str:
    """casefold + accents stripped + spaces collapsed: the key for headers and for names."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.replace("’", "'").split())


# Cyrillic and Greek letters that look like Latin ones (lower case: after casefold), and Latin variants NFKD
# keeps: "Kаrim" with U+0430 is "Karim" to a reader, so it is to a name comparison.
CONFUSABLES = str.maketrans(
    "авеіјкмнорстухѕһԁԛԝүӏ" "αβεηικμνορτυχζϲ" "ıɑɡ",
    "abeijkmhopctyxshdqwyl" "abenikmvoptuxzc" "iag",
)


# Beyond CONFUSABLES, for comparing the names people sign with at run time (never the directory's stored keys):
# letters and digits a reader takes for one another in a name — I, l, 1 and | (« CIaire », « C1aire »), 0 and o,
# Latin small capitals (« ʟefebvre »), ь for b. Applied to name_key's output: one character for one.
LOOKALIKES = str.maketrans(
    "l1|0" "ʟɪᴄᴏᴠᴡᴢʀʙɢʜᴊᴋᴍɴᴘᴛᴜʏᴅᴇꜰᴀ" "ьꙇ",
    "iiio" "iicovwzrbghjkmnptuydefa" "bi",
)


def skeleton(key: str) -> str:
    """A name_key (or a word of name_tokens) with look-alike letters made one: « CIaire » reads « Claire »."""
    return key.translate(LOOKALIKES)


def scripts(text: str) -> set[str]:
    """The scripts of the letters of `text` (LATIN, CYRILLIC, GREEK, CHEROKEE...), from their Unicode names."""
    found = set()
    for ch in text:
        if ch.isalpha():
            try:
                found.add(unicodedata.name(ch).split(" ", 1)[0])
            except ValueError:
                found.add("?")
    return found


def name_key(text: str) -> str:
    """A name reduced to its letters: 'Lefèbvre-Durand' == 'LEFEBVRE DURAND', 'Kаrim' (Cyrillic а) == 'Karim'."""
    return "".join(c for c in normalise(text).translate(CONFUSABLES) if c.isalnum())


def name_tokens(text: str) -> list[str]:
    """The words of a name as name_key folds them, title aside: 'Dr. K. Benali' -> ['k', 'benali']."""
    folded = normalise(text)
    titled = TITLE_RE.match(folded)
    words = re.split(r"[^\w']+|_", folded[titled.end():] if titled else folded)  # "O'Neil" is one word
    return [key for key in map(name_key, words) if key]


TITLE_RE = re.compile(r"^(?:docteure?|doctoresse|dre?|pre?|professeure?|prof)\b\.?\s*")


def name_keys(text: str) -> list[str]:
    """The keys under which `text`, as a display name, would be a physician's name (see _index_names).

    "Claire Lefebvre", "Lefebvre Claire" -> the full-name key; "Dr Lefebvre", "Dr Claire Lefebvre" ->
    the full-name key and the last-name key (a title before a surname names a physician).
    """
    folded = normalise(text)
    titled = TITLE_RE.match(folded)
    if titled:
        folded = folded[titled.end():]
    key = name_key(folded)
    if not key:
        return []
    if not titled:
        return ["f" + key]
    surname = "".join(word for word in name_tokens(folded) if len(word) > 1)  # "Dr K. Benali" is "Dr Benali"
    return ["f" + key, "l" + key] + (["l" + surname] if surname and surname != key else [])


# -- members' names, as a guest's typed name is compared to them (domain/verification.check_author_name) -------------

@lru_cache(maxsize=65536)
def name_forms(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(full-name key, words) of a name, look-alike letters made one (skeleton): the key is () when the name has
    no letter, else one skeleton of name_keys' full-name key."""
    return tuple(map(skeleton, name_keys(name)[:1])), tuple(map(skeleton, name_tokens(name)))


def same_words(mine: tuple[str, ...], theirs: tuple[str, ...]) -> bool:
    """Whether the words `mine` read as `theirs`: the same words in any order, an initial standing for a word (either
    way), but a typed initial never for their last word (the surname), and initials alone are no name."""
    if len(mine) != len(theirs) or not any(len(word) > 1 for word in mine):
        return False
    rest = list(enumerate(theirs))
    last = len(theirs) - 1
    for word in sorted(mine, key=len, reverse=True):  # whole words first, then initials take what is left
        match = next(((i, other) for i, other in rest if other == word or (len(word) == 1 and other[0] == word
                      and i != last) or (len(other) == 1 and word[0] == other)), None)
        if match is None:
            return False
        rest.remove(match)
    return True


MAX_WORD_VARIANTS = 6  # a typed name of more whole words than this is looked up by its signature (2**6 forms at most)


def _words(words) -> str:
    return " ".join(sorted(words))


def _signature(words: tuple[str, ...]) -> str:
    return f"{len(words)}:{''.join(sorted(word[0] for word in words))}"


def name_index(display_name: str) -> tuple[str, str, str]:
    """What an account stores of its public name for the guests' check: (name_key, name_words, name_sig).

    - name_key: the full-name key of name_forms ('' when the name has no letter);
    - name_words: its words (name_forms), sorted, joined by a space;
    - name_sig: the number of words and their sorted first letters ("2:cl" for « Claire Lefebvre »).

    Each is a necessary condition of a match (`name_lookups` says which values a typed name may match), so the
    check reads only the accounts they find, never every member.
    """
    (key, words) = name_forms(display_name or "")
    return (key[0] if key else "", _words(words), _signature(words))


def name_lookups(typed: str) -> tuple[str, tuple[str, ...], str | None] | None:
    """The values of name_index that a member's name must have for `typed` to read as it; None when no name can.

    (key, word forms, signature): a member's name matches only if its name_key is `key`, or its name_words is one
    of the word forms, or — given only when some form is not listed — its name_sig is the signature. same_words
    pairs words that share their first letter, and needs as many words on both sides: the signature is equal for
    every pair it accepts. When every typed word is whole (the usual case), a member's word can only be the same
    word or its initial: the forms list every such choice, far narrower than the signature. A typed initial stands
    for any word of that letter: then the signature is the lookup.
    """
    key, words = name_forms(typed)
    if not key:  # no letter: no member's name reads as it (as check_author_name has always decided)
        return None
    if not any(len(word) > 1 for word in words):  # initials alone (or no word): same_words never accepts them
        return key[0], (), None
    if all(len(word) > 1 for word in words) and len(words) <= MAX_WORD_VARIANTS:
        forms = tuple(sorted({_words(choice) for choice in product(*((word, word[0]) for word in words))}))
        return key[0], forms, None
    return key[0], (), _signature(words)
