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
    from comments_service import accounts

    created = 0
    for demo in demo_accounts(network):
        if accounts.find_account(db, demo.email) is None:
            accounts.ensure_account(db, demo.email, role=demo.role, sites=demo.sites, display_name=demo.name)
            created += 1
    return created


def seed_demo(network, app) -> int:
    """Write the demo accounts and threads into the service's database; returns how many comments were added."""
    from comments_service import store, validate
    from comments_service.db import get_db

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
            post = store.get_post(db, f"{site.url}{post_slug}.html")
            if post is None:
                continue  # the post is not built (or was renamed): nothing to attach comments to
            for comment in comments:
                add(post, comment, None)
    return added
