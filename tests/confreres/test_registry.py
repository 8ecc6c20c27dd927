"""network.toml validation: each bad input is refused with a message naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from confreres import registry

GOOD = """
[network]
name = "Réseau"
url = "https://confreres.example/"
comments_url = "https://commentaires.example/"

[policies]
moderation = "all"

[[sites]]
slug = "dr-a"
title = "Blog A"
author = "Dr A"
specialty = "Psychiatrie"
url = "https://a.example/"

[[sites]]
slug = "dr-b"
title = "Blog B"
author = "Dr B"
url = "https://confreres.example/dr-b/"
comments = "confreres"

[[feeds]]
url = "https://dehors.example/feed.xml"
title = "Un blog ami"
"""


def write(tmp_path, text):
    path = tmp_path / "network.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_loads_into_frozen_dataclasses(tmp_path):
    network = registry.load(write(tmp_path, GOOD))
    assert [s.slug for s in network.sites] == ["dr-a", "dr-b"]
    assert network.policies.moderation == "all"
    assert network.moderation_for(network.site("dr-a")) == "all"
    assert network.site("dr-b").comments == "confreres"
    assert network.feeds[0].title == "Un blog ami"
    assert network.origins == {"https://confreres.example", "https://a.example"}
    assert network.site_for_url("https://a.example/billet.html").slug == "dr-a"
    assert network.site_for_url("https://confreres.example/dr-b/x.html").slug == "dr-b"
    assert network.site_for_url("https://confreres.example/dr-bx/x.html") is None
    assert network.site_for_url("https://evil.example/dr-b/") is None
    with pytest.raises(AttributeError):
        network.name = "autre"  # frozen
    with pytest.raises(KeyError, match="blogs connus : dr-a, dr-b"):
        network.site("dr-z")


@pytest.mark.parametrize(
    "change, message",
    [
        (('name = "Réseau"\n', ""), r"network\.name: missing"),
        (('url = "https://confreres.example/"', 'url = "ftp://x.example/"'), r"network\.url: must be an absolute http\(s\) URL"),
        (('url = "https://confreres.example/"', 'url = "https://confreres.example"'), r"network\.url: must end with '/'"),
        (('moderation = "all"', 'moderation = "sometimes"'), r"policies\.moderation: must be one of none, first-comment, all"),
        (('slug = "dr-a"', 'slug = "Dr A!"'), r"sites\[0\]\.slug: 'Dr A!' is not a slug"),
        (('slug = "dr-a"', 'slug = "comments"'), r"sites\[0\]\.slug: 'comments' is reserved"),
        (('slug = "dr-b"', 'slug = "dr-a"'), r"sites\[1\]\.slug: 'dr-a' is used by another site"),
        (('author = "Dr A"\n', ""), r"sites\[0\]\.author: missing"),
        (('title = "Blog A"', "title = 3"), r"sites\[0\]\.title: must be a string, got int"),
        (('url = "https://a.example/"', 'url = "https://confreres.example/dr-b/sub/"'), r"sites\[1\]\.url: .* overlaps the URL of site 'dr-a'"),
        (('url = "https://a.example/"', 'url = "https://a.example/?x=1"'), r"sites\[0\]\.url: must not carry a query"),
        (('comments = "confreres"', 'comments = "vip"'), r"sites\[1\]\.comments: must be one of open, confreres, closed"),
        (('specialty = "Psychiatrie"', 'specialite = "Psychiatrie"'), r"sites\[0\]\.specialite: unknown key"),
        (('[[feeds]]\nurl = "https://dehors.example/feed.xml"', '[[feeds]]\nurl = "dehors"'), r"feeds\[0\]\.url: must be an absolute"),
        (('[policies]', '[policy]'), r"policy: unknown section"),
        (('moderation = "all"', "edit_window_minutes = -5"), r"policies\.edit_window_minutes: must be at least 0"),
    ],
)
def test_bad_file_is_refused_with_the_key_and_the_reason(tmp_path, change, message):
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(registry.RegistryError, match=message) as info:
        registry.load(path)
    assert str(path) in str(info.value)


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(registry.RegistryError, match="not valid TOML"):
        registry.load(write(tmp_path, "[network\nname="))
    with pytest.raises(registry.RegistryError, match="file not found"):
        registry.load(tmp_path / "absent.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('[network]\nname = "Réseau"\n'.encode("latin-1"))
    with pytest.raises(registry.RegistryError, match="not UTF-8"):
        registry.load(bad)


def test_the_project_network_file_is_valid():
    network = registry.load(Path(__file__).resolve().parents[2] / "network.toml")
    assert len(network.sites) >= 3
    for site in network.sites:
        assert site.path.is_dir(), site.slug


@pytest.mark.parametrize(
    "text, where, reason",
    [
        ("pagination = 10\ntimezone = Europe/Paris\n", "ligne 2, colonne 12", 'timezone = "Europe/Paris"'),
        ('timezone = "Europe/Paris\n', "ligne 1, colonne 25", "guillemet fermant"),
        ('timezone = "Europe/Paris', "à la fin du fichier", "guillemet fermant"),
        ("pagination 10\n", "ligne 1, colonne 12", "il manque « = »"),
        ("pagination = 10\npagination = 12\n", "ligne 2, colonne 16", "écrit deux fois"),
        ("pagination = 10 permalinks = \"date\"\n", "ligne 1, colonne 17", "un seul réglage par ligne"),
    ],
    ids=["unquoted", "unclosed-line", "unclosed-end", "no-equals", "twice", "two-on-a-line"],
)
def test_a_mistyped_site_toml_is_explained_in_french(tmp_path, text, where, reason):
    """The doctor who pushed it reads where and what to write, not tomllib's English (« Invalid value »)."""
    (tmp_path / "site.toml").write_text(text, encoding="utf-8")
    with pytest.raises(registry.RegistryError) as info:
        registry.load_site_settings(tmp_path)
    message = str(info.value)
    assert message.startswith("site.toml : ce n'est pas du TOML valide : ")
    assert where in message and reason in message, message
    assert not re.search(r"\b(Invalid|Expected|Cannot|Unterminated|at line|column \d)", message), message


def test_a_site_toml_saved_with_a_byte_order_mark_is_read(tmp_path):
    """Some Windows editors start a UTF-8 file with a BOM: the settings are read, not « Invalid statement »."""
    (tmp_path / "site.toml").write_bytes('\ufeffpagination = 5\ntimezone = "America/Cayenne"\n'.encode("utf-8"))
    settings = registry.load_site_settings(tmp_path)
    assert (settings.pagination, settings.timezone) == (5, "America/Cayenne")


def test_a_blog_is_found_by_its_slug_in_a_network_of_thousands(tmp_path):
    """`site` and `has_site` read an index by slug (the service asks on every comment): the same answers as the list,
    and a copy of the network with other blogs (dataclasses.replace) answers for its own."""
    import dataclasses
    import pickle

    sites = "".join(f'[[sites]]\nslug = "dr-{n:05d}"\ntitle = "Blog {n}"\nauthor = "Dr {n}"\n'
                    f'url = "https://blogs.example/dr-{n:05d}/"\n' for n in range(12000))
    (tmp_path / "network.toml").write_text(
        '[network]\nname = "Grand"\nurl = "https://blogs.example/"\ncomments_url = "https://c.example/"\n' + sites,
        encoding="utf-8")
    network = registry.load(tmp_path / "network.toml")
    last = network.sites[-1]
    assert network.site("dr-11999") is last and network.has_site("dr-11999") and not network.has_site("dr-12000")
    with pytest.raises(KeyError, match="dr-12000"):
        network.site("dr-12000")
    fewer = dataclasses.replace(network, sites=network.sites[:2])
    assert not fewer.has_site("dr-11999") and fewer.site("dr-00001") is network.sites[1]
    copy = pickle.loads(pickle.dumps(network))  # as the build hands it to its processes
    assert copy.site("dr-11999") == last and copy.has_site("dr-00000")


def test_overlapping_blog_addresses_are_found_as_comparing_every_pair_finds_them():
    """`_overlaps` looks up a URL's beginnings and its neighbour in order instead of comparing every pair of blogs:
    the same verdict, site by site, as the pairwise comparison, on addresses made to overlap often."""
    import bisect
    import random

    rng = random.Random(12)
    for _ in range(300):
        seen: dict[str, str] = {}
        ordered: list[str] = []
        for n in range(rng.randrange(1, 12)):
            norm = "https://h.example/" + "".join(rng.choice("ab/") for _ in range(rng.randrange(0, 5)))
            pairwise = any(norm.startswith(u) or u.startswith(norm) for u in seen)
            assert registry._overlaps(norm, seen, ordered) == pairwise, (norm, seen)
            if not pairwise:
                seen[norm] = f"s{n}"
                bisect.insort(ordered, norm)


def test_a_network_s_origins_are_made_once(tmp_path):
    """CORS asks for them on every request with an Origin: a network of thousands of blogs made the set each time."""
    network = registry.load(write(tmp_path, GOOD))
    assert network.origins is network.origins
    assert network.origins == {"https://confreres.example", "https://a.example"}
