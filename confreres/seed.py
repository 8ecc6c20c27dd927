"""Demo accounts and comments, written through the comment service's own store (never raw SQL).

The threads are written for this project: composite situations, no patient identifiable, as the
network's charter asks. Seeding is idempotent: a database that has comments is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class Comment:
    author: str
    text: str
    days_ago: float
    email: str | None = None
    website: str | None = None
    pending: bool = False
    replies: list[Comment] = field(default_factory=list)


THREADS: dict[tuple[str, str], list[Comment]] = {
    ("dr-lefebvre", "epuisement-en-zone-rurale"): [
        Comment(
            "Marie, infirmière libérale",
            "Merci pour ce billet. Je fais ma tournée dans une vallée voisine et je reconnais tout : "
            "les appels à 22 h « parce que le cabinet était fermé », les visites qui s'enchaînent.\n\n"
            "Ce qui nous a aidées, entre infirmières, c'est un **vrai** tour de rôle le week-end, écrit, "
            "et tenu même quand c'est gênant.",
            40,
            email="marie.demo@example.org",
            replies=[
                Comment(
                    "Thomas, interne en médecine générale",
                    "Le tour de rôle écrit, c'est exactement ce qui manquait dans mon dernier stage. "
                    "Personne n'osait dire non, donc c'était toujours la même qui disait oui.",
                    38,
                    replies=[
                        Comment(
                            "Marie, infirmière libérale",
                            "Oui. Et le jour où la personne qui dit toujours oui s'arrête, tout le monde "
                            "découvre à quel point elle portait le reste.",
                            37,
                            email="marie.demo@example.org",
                        )
                    ],
                )
            ],
        ),
        Comment(
            "Un lecteur du Morvan",
            "Patient de la région : on ne se rend pas compte, de l'autre côté du bureau. "
            "Merci de l'écrire sans se plaindre, on comprend mieux pourquoi il faut parfois attendre.",
            35,
        ),
        Comment(
            "Jeanne",
            "Est-ce que les maisons de santé changent vraiment quelque chose, ou est-ce qu'on déplace "
            "juste la fatigue ailleurs ?",
            20,
            replies=[
                Comment(
                    "Paul, kinésithérapeute",
                    "De mon côté, oui : on se parle enfin entre professionnels, et les dossiers suivent. "
                    "Mais ça ne remplace pas les médecins qui manquent.",
                    19,
                )
            ],
        ),
    ],
    ("dr-benali", "epuisement-vu-du-divan"): [
        Comment(
            "Sophie, médecin du travail",
            "Très juste sur la honte de consulter quand on est soi-même soignant. Le dispositif d'écoute "
            "dédié aux soignants existe, mais il reste trop peu connu. Merci d'en parler.",
            30,
            replies=[
                Comment(
                    "Karim (lecteur)",
                    "Je ne savais pas que ça existait. Est-ce confidentiel vis-à-vis de l'employeur ?",
                    29,
                    replies=[
                        Comment(
                            "Sophie, médecin du travail",
                            "Oui, c'est confidentiel : l'employeur n'est pas informé de l'appel.",
                            28,
                        )
                    ],
                )
            ],
        ),
        Comment(
            "Antoine",
            "La phrase sur le « cynisme comme armure » m'a fait du bien. On croit être devenu dur, "
            "on est surtout fatigué.",
            25,
        ),
        # recent: the debate between the two blogs is live this week (the planet's « Débats en cours », the letter)
        Comment(
            "Claire, interne en psychiatrie",
            "Je reviens sur ce billet après une semaine de gardes : le « cynisme comme armure », je l'ai vu chez moi "
            "avant de le voir chez les autres. Merci d'en débattre d'un blog à l'autre.",
            2,
        ),
    ],
    ("dr-rousseau", "expliquer-une-operation-a-un-enfant"): [
        Comment(
            "Claire, maman",
            "Le doudou qui « se fait opérer aussi », avec un bracelet au poignet : c'est ce qui a tout changé "
            "pour notre fils. Merci aux équipes qui prennent ce temps-là.",
            60,
            replies=[
                Comment(
                    "Nadia, infirmière puéricultrice",
                    "On le fait dès qu'on peut ! Et la visite du bloc la veille, quand l'organisation le permet.",
                    58,
                )
            ],
        ),
        Comment(
            "Julien",
            "Question de parent : jusqu'à quel âge peut-on accompagner l'enfant jusqu'à l'endormissement ? "
            "Cela varie-t-il selon les hôpitaux ?",
            12,
        ),
    ],
    ("dr-lefebvre", "vaccination-au-cabinet"): [
        Comment(
            "Hélène, pharmacienne",
            "Même constat au comptoir : les chiffres ne convainquent personne, la confiance oui. "
            "Prendre cinq minutes de plus vaut toutes les affiches.",
            15,
        ),
        Comment("Visiteur pressé", "Vous êtes payés par les labos de toute façon.", 2, pending=True),
    ],
    ("dr-benali", "les-mots-qui-stigmatisent"): [
        Comment(
            "Élise, étudiante en psychologie",
            "« Un schizophrène » contre « une personne qui vit avec une schizophrénie » : la différence "
            "paraît petite à l'écrit, elle est immense à l'oral. Merci.",
            9,
        ),
    ],
    ("dr-rousseau", "checklist-au-bloc"): [
        Comment(
            "Dr Marc, anesthésiste",
            "La check-list n'est utile que si chacun ose parler. Le plus dur n'est pas de la lire, "
            "c'est que l'interne se sente autorisé à dire « stop ».",
            6,
        ),
        Comment("Anne", "Est-ce qu'on peut demander à voir la check-list quand on est parent ?", 1, pending=True),
    ],
}


DEMO_DOMAIN = "demo.confreres.invalid"  # .invalid: no demo mail can ever reach a real mailbox


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: str
    sites: tuple[str, ...]
    label: str


def _mailbox_name(name: str) -> str:
    """"Dr Hélène Rousseau" -> "helene.rousseau"."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = [w for w in plain.replace("-", " ").split() if w not in ("dr", "dr.", "docteur", "pr", "pr.")]
    return ".".join("".join(ch for ch in w if ch.isalnum()) for w in words)


def demo_accounts(network) -> list[DemoAccount]:
    """Each demo blogger, author of their blog, and one network moderator."""
    accounts = [
        DemoAccount(f"{_mailbox_name(site.author)}@{DEMO_DOMAIN}", site.author, "author", (site.slug,),
                    f"auteur de « {site.title} »")
        for site in network.sites
    ]
    accounts.append(DemoAccount(f"moderation@{DEMO_DOMAIN}", "Équipe de modération", "moderator", (),
                                "modération de tout le réseau"))
    return accounts


def seed_accounts(network, db) -> int:
    """Create the demo accounts through the service's own store; returns how many were new."""
    from comments_service.domain import accounts

    created = 0
    for demo in demo_accounts(network):
        if accounts.find_account(db, demo.email) is None:
            accounts.ensure_account(db, demo.email, role=demo.role, sites=demo.sites, display_name=demo.name)
            created += 1
    return created


def seed_demo(network, app) -> int:
    """Write the demo accounts and threads into the service's database; returns how many comments were added."""
    from comments_service.core.db import get_db
    from comments_service.domain import comments as store
    from comments_service.domain import validate
    from comments_service.domain.posts import get_post

    now = datetime.now(UTC)
    added = 0
    with app.app_context():
        db = get_db()
        seed_accounts(network, db)
        if store.query_one(db, "SELECT 1 FROM comments LIMIT 1"):
            return 0

        def add(post, comment: Comment, parent: int | None):
            nonlocal added
            data = validate.CommentInput(
                url=post["url"], text=comment.text, parent=parent, author=comment.author,
                email=comment.email, website=comment.website,
            )
            row, _ = store.add_comment(
                db, network, post, data, policy="all" if comment.pending else "none",
                now=now - timedelta(days=comment.days_ago),
            )
            added += 1
            for reply in comment.replies:
                add(post, reply, row["id"])

        for (slug, post_slug), comments in THREADS.items():
            try:
                site = network.site(slug)
            except KeyError:
                continue
            post = get_post(db, f"{site.url}{post_slug}.html")
            if post is None:
                continue  # the post is not built (or was renamed): nothing to attach comments to
            for comment in comments:
                add(post, comment, None)
    return added


# -- verified physicians (issue 4) -------------------------------------------------------------------------

# The demo's RPPS extract (written by the demo, in the real format): the three bloggers, three physicians
# whose numbers a visitor may declare, and a few hundred random rows from bench/make_directory.py.
DEMO_FOUNDERS = {  # slug -> (RPPS body, last name, first name, specialty code, label)
    "dr-lefebvre": ("1990000011", "LEFEBVRE", "Claire", "SM54", "Médecine générale"),
    "dr-benali": ("1990000022", "BENALI", "Karim", "SM42", "Psychiatrie"),
    "dr-rousseau": ("1990000033", "ROUSSEAU", "Hélène", "SM14", "Chirurgie infantile"),
}
DEMO_FREE = [  # for visitors: declare one of these on /comments/verification
    ("1990000044", "ARNAUD", "Camille", "SM54", "Médecine générale"),
    ("1990000055", "MERCIER", "Julien", "SM40", "Pédiatrie"),
    ("1990000066", "HADDAD", "Inès", "SM42", "Psychiatrie"),
]
DEMO_FILLER_PROFESSIONALS = 300


def demo_author_email(network, site) -> str:
    """The demo account of a blog's author (demo_accounts): sign in with it, the mail lands in /comments/dev/mail."""
    return next(a.email for a in demo_accounts(network) if a.sites == (site.slug,))


def make_directory_module():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "make_directory.py"
    spec = importlib.util.spec_from_file_location("confreres_make_directory", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _extract_line(make, body: str, last: str, first: str, code: str, label: str) -> tuple[str, str]:
    rpps = make.luhn_complete(body)
    fields = ["8", rpps, "8" + rpps, "DR", "Docteur", "", "", last, first, "10", "Médecin", "C", "Civil",
              "S", "Spécialité ordinale", code, label, "L", "Libéral"] + [""] * 25 + ["58", "Nièvre"] + [""] * 6
    return rpps, "|".join(fields) + "|\n"


def write_demo_directory(path) -> dict[str, str]:
    """Write the demo extract to `path`; returns {"Prénom NOM": RPPS} of the named physicians."""
    import random

    make = make_directory_module()
    named: dict[str, str] = {}
    rng = random.Random(7)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(make.HEADER_52 + "\n")
        for body, last, first, code, label in [*DEMO_FOUNDERS.values(), *DEMO_FREE]:
            rpps, line = _extract_line(make, body, last, first, code, label)
            named[f"{first} {last}"] = rpps
            out.write(line)
        for number in range(1, DEMO_FILLER_PROFESSIONALS + 1):
            for line in make.rows_for(rng, number, 52):
                out.write(line)
    return named


def seed_verification(network, app, source=None) -> list[str]:
    """Import the demo directory when none is, verify the bloggers as founding members; lines to print.

    Idempotent: an imported directory and verified founders are left as they are.
    """
    from pathlib import Path

    from comments_service.core.db import connect
    from comments_service.domain import accounts
    from comments_service.domain import verification as verify
    from comments_service.domain.rpps import Directory, import_directory

    lines: list[str] = []
    target = Path(app.config["DIRECTORY_DB"])
    make = make_directory_module()
    if not Directory(target).available:
        source = Path(source) if source else network.root / "var" / "demo-directory.txt"
        write_demo_directory(source)
        report = import_directory(source, target)
        lines.append(f"Annuaire RPPS de démonstration importé : {report.physicians} médecins ({source}).")
    db = connect(app.config["DB"])
    try:
        with app.app_context():
            for site in network.sites:
                founder = DEMO_FOUNDERS.get(site.slug)
                if founder is None:
                    continue
                body, last, first, _code, _label = founder
                email = demo_author_email(network, site)
                row = accounts.find_account(db, email)
                if row is None:
                    row, _ = accounts.ensure_account(db, email, role="author", sites=(site.slug,), display_name=site.author)
                if verify.level_of(db, row["id"]) != "verified":
                    try:
                        verify.grant(app, db, row["id"], make.luhn_complete(body), last, first,
                                     reason="blogueur fondateur (démonstration)", actor="démonstration (seed)")
                    except verify.ApiError as exc:  # e.g. a real directory imported instead of the demo's
                        lines.append(f"  {site.author} : non vérifié ({exc.message})")
                        continue
                    # Showing one's specialty is opt-in; the demo's founders opt in (once: a later choice stays).
                    accounts.update_profile(db, row["id"], {"show_specialty": 1})
                _founder_reply(db, network, site, accounts.session_account(accounts.get_account(db, row["id"])))
                lines.append(f"  {site.author} : médecin vérifié, compte {email}")
    finally:
        db.close()
    free = ", ".join(f"{first} {last} ({make.luhn_complete(body)})" for body, last, first, _c, _l in DEMO_FREE)
    lines.append(f"  RPPS libres de l'annuaire de démo (à déclarer sur /comments/verification) : {free}")
    return lines


FOUNDER_REPLIES = {
    "dr-lefebvre": "Merci à toutes et à tous. Le tour de rôle écrit, on l'a enfin mis en place au cabinet : "
    "c'est inconfortable la première fois, puis tout le monde respire.",
    "dr-benali": "Merci pour ce rappel. J'ajoute que ces dispositifs acceptent aussi les internes et les étudiants.",
    "dr-rousseau": "Merci ! Les équipes de pédiatrie font ce travail tous les jours, ce billet est aussi pour elles.",
}


def _founder_reply(db, network, site, account: dict) -> None:
    """The blogger answers the first comment of their most commented demo thread (badge and « Auteur » mark)."""
    from comments_service.domain import comments as store
    from comments_service.domain import validate
    from comments_service.domain.posts import get_post

    if store.query_one(db, "SELECT 1 FROM comments WHERE account_id = ? LIMIT 1", (account["id"],)):
        return
    for (slug, post_slug), comments in THREADS.items():
        if slug != site.slug or not comments:
            continue
        post = get_post(db, f"{site.url}{post_slug}.html")
        first = post and store.query_one(
            db, "SELECT id FROM comments WHERE post_url = ? AND parent_id IS NULL AND status = 'approved' ORDER BY id",
            (post["url"],),
        )
        if not first:
            continue
        data = validate.CommentInput(url=post["url"], text=FOUNDER_REPLIES.get(site.slug, "Merci !"), parent=first["id"])
        store.add_comment(db, network, post, data, policy="none", account=account)
        return
