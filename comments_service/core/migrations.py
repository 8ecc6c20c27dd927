"""The schema: every migration of the comment service, in the order it is applied, and `migrate`.

Applied in the order they are defined here, which is not the order of their numbers: m005_verification
is defined, and applied, before m004_mentions. The names are stored in deployed databases (table
`_sqlite_migrations`, migration set `comments_service`): never rename, never reorder, never edit one that
has shipped — only append. Migrations are sqlite-utils' `Migrations`; `core/db.py` owns the connection;
`migrate` is what `init-db`, AUTO_MIGRATE at start-up, the bench and the tests run.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("comments_service")


def _run(db: Database, *statements: str) -> None:
    for sql in statements:
        db.execute(sql)


@migrations()
def m001_initial(db: Database) -> None:
    """Posts (threads), accounts, comments, reports.

    `accounts`/`account_sites` are the extension point of sign-in and verification; the badge of a
    comment is recorded on the comment at posting time; the e-mail, IP hash and account id of a
    comment never leave the service.
    """
    _run(
        db,
        """
        CREATE TABLE posts (
            url TEXT PRIMARY KEY,
            site TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            published TEXT,
            reply_to TEXT,
            comments_mode TEXT CHECK (comments_mode IS NULL OR comments_mode IN ('open', 'confreres', 'closed')),
            listed INTEGER NOT NULL DEFAULT 1,
            version INTEGER NOT NULL DEFAULT 0,
            synced TEXT NOT NULL
        )
        """,
        "CREATE INDEX posts_site ON posts (site, listed)",
        """
        CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            display_name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'author', 'moderator', 'admin')),
            created TEXT NOT NULL,
            last_seen TEXT
        )
        """,
        """
        CREATE TABLE account_sites (
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            site TEXT NOT NULL,
            PRIMARY KEY (account_id, site)
        )
        """,
        "CREATE INDEX account_sites_site ON account_sites (site)",
        """
        CREATE TABLE comments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            post_url TEXT NOT NULL REFERENCES posts (url),
            site TEXT NOT NULL,
            parent_id INTEGER REFERENCES comments (id),
            account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
            author_name TEXT NOT NULL DEFAULT '',
            email TEXT,
            website TEXT,
            badge_level TEXT,
            badge_specialty TEXT,
            is_post_author INTEGER NOT NULL DEFAULT 0,
            text TEXT NOT NULL DEFAULT '',
            html TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'rejected', 'spam', 'deleted')),
            created TEXT NOT NULL,
            edited TEXT,
            moderated TEXT,
            ip_hash TEXT,
            notify INTEGER NOT NULL DEFAULT 0,
            edit_nonce TEXT
        )
        """,
        "CREATE INDEX comments_thread ON comments (post_url, status)",
        "CREATE INDEX comments_parent ON comments (parent_id)",
        "CREATE INDEX comments_status_created ON comments (status, created)",
        "CREATE INDEX comments_site_status ON comments (site, status, created)",
        "CREATE INDEX comments_email ON comments (email COLLATE NOCASE) WHERE email IS NOT NULL",
        "CREATE INDEX comments_account ON comments (account_id) WHERE account_id IS NOT NULL",
        """
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
            reason TEXT NOT NULL,
            created TEXT NOT NULL,
            ip_hash TEXT,
            resolved TEXT,
            resolved_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL
        )
        """,
        "CREATE INDEX reports_comment ON reports (comment_id)",
        "CREATE INDEX reports_open ON reports (resolved, created)",
    )


@migrations()
def m002_accounts_mail(db: Database) -> None:
    """Sign-in, profiles, moderation and notifications (issue 3, items 5-6; issue 4, item 1).

    - accounts get their profile: specialty shown or not, declaration of interests (Markdown source
      and its sanitised HTML), notification settings;
    - sessions: the SHA-256 of each session token (cookie or bearer), never the token itself;
    - used_tokens: nonces of single-use signed links (magic links, one-click moderation), kept until
      the link would have expired anyway;
    - outbox: every mail, queued in the same transaction as what caused it, sent after the commit;
    - mail_addresses: double opt-in and "never write to me again" per address;
    - subscriptions: reply notifications asked for, per address and per thread;
    - author_notices: which new comment was (or will be, in a daily digest) told to which blog author,
      so that a comment is never in two digests.
    """
    _run(
        db,
        "ALTER TABLE accounts ADD COLUMN show_specialty INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE accounts ADD COLUMN interests TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE accounts ADD COLUMN interests_html TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE accounts ADD COLUMN notify_comments TEXT NOT NULL DEFAULT 'immediate'"
        " CHECK (notify_comments IN ('immediate', 'daily', 'never'))",
        "ALTER TABLE accounts ADD COLUMN notify_replies INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE comments ADD COLUMN moderated_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL",
        "ALTER TABLE comments ADD COLUMN reply_notified TEXT",
        """
        CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('cookie', 'bearer')),
            created TEXT NOT NULL,
            expires TEXT NOT NULL
        )
        """,
        "CREATE INDEX sessions_account ON sessions (account_id)",
        "CREATE INDEX sessions_expires ON sessions (expires)",
        """
        CREATE TABLE used_tokens (
            nonce TEXT PRIMARY KEY,
            purpose TEXT NOT NULL,
            used TEXT NOT NULL,
            expires TEXT NOT NULL
        )
        """,
        "CREATE INDEX used_tokens_expires ON used_tokens (expires)",
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            recipient TEXT NOT NULL COLLATE NOCASE,
            subject TEXT NOT NULL,
            message TEXT NOT NULL,
            created TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            claimed TEXT,
            sent TEXT,
            last_error TEXT
        )
        """,
        "CREATE INDEX outbox_unsent ON outbox (id) WHERE sent IS NULL",
        "CREATE INDEX outbox_recipient ON outbox (recipient, kind, created)",
        """
        CREATE TABLE mail_addresses (
            email TEXT PRIMARY KEY COLLATE NOCASE,
            created TEXT NOT NULL,
            confirm_sent TEXT,
            confirmed TEXT,
            blocked TEXT
        )
        """,
        """
        CREATE TABLE subscriptions (
            email TEXT NOT NULL COLLATE NOCASE,
            post_url TEXT NOT NULL REFERENCES posts (url) ON DELETE CASCADE,
            created TEXT NOT NULL,
            PRIMARY KEY (email, post_url)
        )
        """,
        "CREATE INDEX subscriptions_post ON subscriptions (post_url)",
        """
        CREATE TABLE author_notices (
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
            mode TEXT NOT NULL CHECK (mode IN ('immediate', 'daily')),
            created TEXT NOT NULL,
            queued TEXT,
            outbox_id INTEGER,
            PRIMARY KEY (account_id, comment_id)
        )
        """,
        "CREATE INDEX author_notices_waiting ON author_notices (account_id) WHERE queued IS NULL",
        "CREATE INDEX author_notices_comment ON author_notices (comment_id)",
    )


@migrations()
def m003_import(db: Database) -> None:
    """Import keys (importers/): a comment brought from another system is recorded under (site, source,
    source id), e.g. ("dr-a", "wordpress", "42"), so that a second import of the same export adds nothing.

    The key outlives the comment (ON DELETE SET NULL): a comment a moderator deleted after an import
    does not come back with the next run.
    """
    _run(
        db,
        """
        CREATE TABLE imports (
            site TEXT NOT NULL,
            source TEXT NOT NULL,
            source_id TEXT NOT NULL,
            comment_id INTEGER REFERENCES comments (id) ON DELETE SET NULL,
            imported TEXT NOT NULL,
            PRIMARY KEY (site, source, source_id)
        )
        """,
        "CREATE INDEX imports_comment ON imports (comment_id) WHERE comment_id IS NOT NULL",
    )


@migrations()
def m005_verification(db: Database) -> None:
    """Verified physicians (issue 4; domain/verification.py): levels declared -> verified -> revoked.

    - accounts.badge_level / badge_specialty: what the badge shows, kept by domain/verification.py only ('verified'
      and the directory's specialty label); sign-in reads them with the account (accounts.session_account);
    - verifications: the minimum, one row per account: a keyed hash (HMAC) of the RPPS, unique (one
      account per RPPS) and enough for the re-check after each directory import; level, method, dates,
      who approved, profession and specialty codes;
    - verification_identities: the RPPS and the name as declared, for the network's admins only (never
      read by any public path; removed with the account);
    - vouches: "Je connais ce confrère", one per voucher and candidate, never oneself;
    - verification_log: the audit log (who, when, why, which proof) of every decision.
    """
    _run(
        db,
        "ALTER TABLE accounts ADD COLUMN badge_level TEXT CHECK (badge_level IS NULL OR badge_level = 'verified')",
        "ALTER TABLE accounts ADD COLUMN badge_specialty TEXT",
        """
        CREATE TABLE verifications (
            account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
            level TEXT NOT NULL CHECK (level IN ('declared', 'verified', 'revoked')),
            rpps_hash TEXT NOT NULL UNIQUE,
            profession TEXT NOT NULL DEFAULT '10',
            specialty_codes TEXT NOT NULL DEFAULT '',
            specialty TEXT NOT NULL DEFAULT '',
            method TEXT CHECK (method IS NULL OR method IN ('psc', 'vouching', 'review', 'grant')),
            declared TEXT NOT NULL,
            verified TEXT,
            approved_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
            revoked TEXT,
            revoked_reason TEXT,
            checked TEXT
        )
        """,
        "CREATE INDEX verifications_level ON verifications (level)",
        """
        CREATE TABLE verification_identities (
            account_id INTEGER PRIMARY KEY REFERENCES verifications (account_id) ON DELETE CASCADE,
            rpps TEXT NOT NULL,
            last_name TEXT NOT NULL,
            first_name TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE vouches (
            candidate_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            voucher_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            created TEXT NOT NULL,
            PRIMARY KEY (candidate_id, voucher_id),
            CHECK (candidate_id != voucher_id)
        )
        """,
        "CREATE INDEX vouches_voucher ON vouches (voucher_id)",
        """
        CREATE TABLE verification_log (
            id INTEGER PRIMARY KEY,
            account_id INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
            event TEXT NOT NULL,
            method TEXT,
            proof TEXT,
            reason TEXT,
            actor_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
            actor TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL
        )
        """,
        "CREATE INDEX verification_log_account ON verification_log (account_id, id)",
    )


@migrations()
def m004_mentions(db: Database) -> None:
    """Answers between blogs and Webmention (issue 5).

    - posts.excerpt: the plain-text excerpt a blog's build sends with each post, shown where the
      post appears as an answer in another blog's thread; posts_reply_to finds a post's answers;
    - webmention_requests: each received Webmention, queued until verified in the background; the
      sender follows it at /webmention/<token>;
    - mentions: verified Webmentions, one per (source, post), moderated like comments.
    """
    _run(
        db,
        "ALTER TABLE posts ADD COLUMN excerpt TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX posts_reply_to ON posts (reply_to) WHERE reply_to IS NOT NULL",
        """
        CREATE TABLE webmention_requests (
            id INTEGER PRIMARY KEY,
            token TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            target TEXT NOT NULL,
            post_url TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'processing', 'done', 'failed')),
            result TEXT,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            received TEXT NOT NULL,
            not_before TEXT NOT NULL,
            claimed TEXT,
            processed TEXT
        )
        """,
        "CREATE INDEX webmention_requests_queue ON webmention_requests (state, not_before)",
        "CREATE INDEX webmention_requests_pair ON webmention_requests (source, target, state)",
        """
        CREATE TABLE mentions (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            target TEXT NOT NULL,
            post_url TEXT NOT NULL REFERENCES posts (url),
            site TEXT NOT NULL,
            type TEXT NOT NULL DEFAULT 'mention'
                CHECK (type IN ('mention', 'reply', 'like', 'repost', 'bookmark')),
            url TEXT NOT NULL,
            author_name TEXT NOT NULL DEFAULT '',
            author_url TEXT,
            title TEXT NOT NULL DEFAULT '',
            html TEXT NOT NULL DEFAULT '',
            published TEXT,
            content_hash TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'spam')),
            created TEXT NOT NULL,
            updated TEXT,
            verified TEXT NOT NULL,
            moderated TEXT,
            UNIQUE (source, post_url)
        )
        """,
        "CREATE INDEX mentions_thread ON mentions (post_url, status)",
        "CREATE INDEX mentions_site_status ON mentions (site, status, created)",
    )


@migrations()
def m006_member_profiles(db: Database) -> None:
    """Public member profiles and answers between blogs notified by mail (issue 5, items 3-4).

    - accounts.public_id: the profile's handle (/membres/<public_id>), 16 random hex digits, given to
      existing accounts here and to every new one by a trigger, so it says nothing of the e-mail, the
      name, the RPPS or the order of accounts; accounts.profile_public: the member's « Profil public »
      setting (on unless they hide it; a hidden profile answers 404 like an unknown one);
    - answers_announced: each (answer, answered post) pair of posts of different blogs seen once by
      actions.posts.sync_posts: a rebuild announcing the same answer again never mails again;
    - answer_notices: which announced answer was (or will be, in a daily digest) told to which author
      of the answered blog, like author_notices for comments.
    """
    _run(
        db,
        "ALTER TABLE accounts ADD COLUMN public_id TEXT",
        "ALTER TABLE accounts ADD COLUMN profile_public INTEGER NOT NULL DEFAULT 1",
        "UPDATE accounts SET public_id = lower(hex(randomblob(8))) WHERE public_id IS NULL",
        "CREATE UNIQUE INDEX accounts_public_id ON accounts (public_id)",
        """
        CREATE TRIGGER accounts_public_id_new AFTER INSERT ON accounts WHEN new.public_id IS NULL
        BEGIN
            UPDATE accounts SET public_id = lower(hex(randomblob(8))) WHERE id = new.id;
        END
        """,
        """
        CREATE TABLE answers_announced (
            answer_url TEXT NOT NULL,
            answered_url TEXT NOT NULL,
            created TEXT NOT NULL,
            PRIMARY KEY (answer_url, answered_url)
        )
        """,
        """
        CREATE TABLE answer_notices (
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            answer_url TEXT NOT NULL,
            answered_url TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('immediate', 'daily')),
            created TEXT NOT NULL,
            queued TEXT,
            outbox_id INTEGER,
            PRIMARY KEY (account_id, answer_url, answered_url)
        )
        """,
        "CREATE INDEX answer_notices_waiting ON answer_notices (account_id) WHERE queued IS NULL",
    )
    # answers already known before this migration were never mailed: they are not news any more
    db.execute(
        "INSERT OR IGNORE INTO answers_announced (answer_url, answered_url, created)"
        " SELECT a.url, a.reply_to, a.synced FROM posts a JOIN posts b ON b.url = a.reply_to"
        " WHERE a.site != b.site"
    )


@migrations()
def m007_verification_privacy(db: Database) -> None:
    """Verification leftovers of issue 4 (domain/verification.py): specialty opt-in, declarations rate-limited per account.

    - accounts.show_specialty becomes opt-in. SQLite cannot change a column's default without rebuilding
      `accounts` (which half the schema references), so the default stays 1 in the schema and
      accounts.ensure_account, the only INSERT, writes 0 explicitly. Existing accounts: 0 is always an
      explicit choice and stays; 1 was the old default (and the account form re-posted the pre-ticked
      box), so it is turned off wherever it has never shown anything, i.e. for every account without a
      comment carrying its specialty. Members whose comments already show it keep it (it is what they
      saw applied on their account page; hiding it stays one click away).
    - verification_attempts: one row per declaration that reached the directory, for the per-account
      limit (DECLARATIONS_PER_DAY) that keeps anyone from probing the directory or the members through
      declarations; rows older than two days are purged as new ones come.
    """
    _run(
        db,
        "UPDATE accounts SET show_specialty = 0 WHERE show_specialty != 0 AND id NOT IN"
        " (SELECT account_id FROM comments WHERE account_id IS NOT NULL AND badge_specialty IS NOT NULL)",
        """
        CREATE TABLE verification_attempts (
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            created TEXT NOT NULL
        )
        """,
        "CREATE INDEX verification_attempts_account ON verification_attempts (account_id, created)",
    )


@migrations()
def m008_followups(db: Database) -> None:
    """Mails for received Webmentions awaiting moderation.

    - mention_notices: which pending mention was (or will be, in a daily digest) told to which author of
      its blog, like author_notices for comments; a mention is told once, whatever the updates its
      source sends later.
    """
    _run(
        db,
        """
        CREATE TABLE mention_notices (
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            mention_id INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
            mode TEXT NOT NULL CHECK (mode IN ('immediate', 'daily')),
            created TEXT NOT NULL,
            queued TEXT,
            outbox_id INTEGER,
            PRIMARY KEY (account_id, mention_id)
        )
        """,
        "CREATE INDEX mention_notices_waiting ON mention_notices (account_id) WHERE queued IS NULL",
        "CREATE INDEX mention_notices_mention ON mention_notices (mention_id)",
    )


@migrations()
def m009_public_versions(db: Database) -> None:
    """posts.public_version: moves only with what a blog's static pages show of the thread (posts.bump_post).

    `version` moves with every write (the thread's ETag: an author sees their own pending comment);
    `public_version` leaves out what only the moderators and the comment's author see (a comment or
    mention awaiting moderation, then rejected), so GET /api/sites's `comments_version`, built from it,
    does not cost `confreres build` a rebuild for them. Posts with comments start at their version, so
    every blog's `comments_version` stays what it was.
    """
    _run(
        db,
        "ALTER TABLE posts ADD COLUMN public_version INTEGER NOT NULL DEFAULT 0",
        "UPDATE posts SET public_version = version WHERE EXISTS (SELECT 1 FROM comments c WHERE c.post_url = posts.url)",
    )


@migrations()
def m010_current_names(db: Database) -> None:
    """Issue 10: one line per name, and signed-in comments under their author's current public name.

    - names stored before validate.one_line (comments.author_name, accounts.display_name) lose their line
      breaks, controls and bidi overrides;
    - a comment written signed in showed the name it was written under beside the link to its author's
      profile, which shows the current name: a member who took a pseudonym was named by their older
      comments. From now on accounts.set_display_name renames them; here, comments of accounts that have a
      public name take it, and their threads get a new version (posts.bump_post's rule: the thread's ETag,
      and `public_version` for those that show the comment, so the static snapshots are rebuilt).
    """
    import time

    from confreres.sanitize import one_line  # the leaf rule of `validate.one_line`, shared by every layer

    for table, column in (("comments", "author_name"), ("accounts", "display_name")):
        for rowid, value in db.execute(f"SELECT rowid, {column} FROM {table} WHERE {column} != ''").fetchall():
            if one_line(value) != value:
                db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (one_line(value), rowid))
    renamed = (
        " FROM comments c JOIN accounts a ON a.id = c.account_id"
        " WHERE c.status != 'deleted' AND a.display_name != '' AND c.author_name != a.display_name"
    )
    touched = db.execute(f"SELECT c.post_url, MAX(c.status = 'approved'){renamed} GROUP BY c.post_url").fetchall()
    db.execute(
        "UPDATE comments SET author_name = (SELECT display_name FROM accounts a WHERE a.id = comments.account_id)"
        f" WHERE id IN (SELECT c.id{renamed})"
    )
    stamp = int(time.time() * 1000)
    for url, shown in touched:
        db.execute("UPDATE posts SET version = max(version + 1, ?) WHERE url = ?", (stamp, url))
        if shown:
            db.execute("UPDATE posts SET public_version = max(public_version + 1, ?) WHERE url = ?", (stamp, url))


@migrations()
def m011_vouch_links(db: Database) -> None:
    """Vouching links that say nothing (issue 10; verify.vouch_link).

    The link was the account id, signed: anyone could read the id in it, and it could never be withdrawn.
    vouch_links holds each candidate's current token, random, replaced when the candidate asks for a new
    link (the old one then answers 404, as the old signed links do). Vouch attempts are counted from
    verification_log (`vouch_failed`), whose index starts with the candidate.
    """
    _run(
        db,
        """
        CREATE TABLE vouch_links (
            account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
            token TEXT NOT NULL UNIQUE,
            created TEXT NOT NULL
        )
        """,
    )


@migrations()
def m012_secrecy(db: Database) -> None:
    """Medical secrecy (issue 15; domain/secrecy.py).

    comments.secrecy: why a comment waits for moderation whatever its blog's policy (the French reason and the
    flagged spans, JSON), for its author and its moderators; NULL for any other comment. posts.secrecy: the
    warnings the post's last build found (line, column, reason, flagged span, JSON), for its blog's moderators;
    NULL when it has none. No public read selects either column.
    """
    _run(
        db,
        "ALTER TABLE comments ADD COLUMN secrecy TEXT",
        "ALTER TABLE posts ADD COLUMN secrecy TEXT",
    )


@migrations()
def m013_letter(db: Database) -> None:
    """« La lettre des confrères » (issue 15): the planet by mail, weekly or daily (domain/letter.py).

    - letter_subscribers: one row per address, with its frequency and filters (JSON lists of specialty and
      blog slugs, empty: the whole network); `confirmed` is set by the double opt-in's link, `nonce` signs
      its links (unsubscribe and confirmation: a new nonce voids the old links); unsubscribing deletes the row;
    - letter_sends: one row per (subscriber, period) claimed in the transaction that queues that letter in the
      outbox (`outbox_id`, NULL when the period had nothing for them): a second run of the period, or one
      resumed after a crash, skips whoever has a row, so nobody gets a period's letter twice.
    """
    _run(
        db,
        """
        CREATE TABLE letter_subscribers (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            frequency TEXT NOT NULL CHECK (frequency IN ('weekly', 'daily')),
            specialties TEXT NOT NULL DEFAULT '[]',
            sites TEXT NOT NULL DEFAULT '[]',
            nonce TEXT NOT NULL,
            created TEXT NOT NULL,
            confirm_sent TEXT,
            confirmed TEXT
        )
        """,
        "CREATE INDEX letter_subscribers_due ON letter_subscribers (frequency, id) WHERE confirmed IS NOT NULL",
        """
        CREATE TABLE letter_sends (
            subscriber_id INTEGER NOT NULL REFERENCES letter_subscribers (id) ON DELETE CASCADE,
            period TEXT NOT NULL,
            claimed TEXT NOT NULL,
            outbox_id INTEGER,
            posts INTEGER NOT NULL DEFAULT 0,
            debates INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (subscriber_id, period)
        )
        """,
        "CREATE INDEX letter_sends_period ON letter_sends (period)",
    )


@migrations()
def m014_federation(db: Database) -> None:
    """Issue 13: the fediverse (comments_service/federation/).

    - fed_actors: one RSA key pair per actor (a member blog's slug, or `planete` for the network), made
      once; the private key never leaves this table (no export, no answer reads it but the signer);
    - fed_remote_actors: what we learnt of a remote actor (its key to verify its signatures, its inboxes);
    - fed_followers: who follows which actor (the Follow's id, kept to match an Undo);
    - fed_articles: the Article each announced post was last delivered as (its digest tells an Update);
    - fed_activities: each activity to send, signed by its local `actor`; `audience` names the local actors
      whose followers are to receive it, until the sender turns it into deliveries (a push only writes this);
    - fed_deliveries: the outgoing queue, one activity for one inbox, retried with backoff.
    """
    _run(
        db,
        """
        CREATE TABLE fed_actors (
            name TEXT PRIMARY KEY,
            public_pem TEXT NOT NULL,
            private_pem TEXT NOT NULL,
            created TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE fed_remote_actors (
            id TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            public_pem TEXT NOT NULL,
            inbox TEXT NOT NULL,
            shared_inbox TEXT,
            username TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL DEFAULT '',
            url TEXT,
            fetched TEXT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX fed_remote_actors_key ON fed_remote_actors (key_id)",
        """
        CREATE TABLE fed_followers (
            actor TEXT NOT NULL,
            follower TEXT NOT NULL REFERENCES fed_remote_actors (id) ON DELETE CASCADE,
            follow_id TEXT NOT NULL,
            created TEXT NOT NULL,
            PRIMARY KEY (actor, follower)
        )
        """,
        """
        CREATE TABLE fed_articles (
            post_url TEXT PRIMARY KEY,
            site TEXT NOT NULL,
            object_id TEXT NOT NULL UNIQUE,
            article TEXT NOT NULL,
            digest TEXT NOT NULL,
            published TEXT NOT NULL,
            deleted TEXT
        )
        """,
        "CREATE INDEX fed_articles_site ON fed_articles (site, deleted, published)",
        """
        CREATE TABLE fed_activities (
            id INTEGER PRIMARY KEY,
            actor TEXT NOT NULL,
            activity TEXT NOT NULL,
            audience TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL
        )
        """,
        "CREATE INDEX fed_activities_fanout ON fed_activities (id) WHERE audience != ''",
        """
        CREATE TABLE fed_deliveries (
            id INTEGER PRIMARY KEY,
            activity_id INTEGER NOT NULL REFERENCES fed_activities (id) ON DELETE CASCADE,
            inbox TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before TEXT NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL,
            done TEXT
        )
        """,
        "CREATE INDEX fed_deliveries_due ON fed_deliveries (state, not_before)",
        "CREATE INDEX fed_deliveries_activity ON fed_deliveries (activity_id)",
    )


@migrations()
def m015_federation_replies(db: Database) -> None:
    """Issue 13: replies from the fediverse become comments (federation/replies.py).

    fed_comments ties a comment to the remote Note it came from: the Note's id (a later Update or Delete of
    it finds the comment), its actor (only that actor may change it), the handle shown, and the comment's
    edit nonce (the domain's rule for editing and deleting, kept here, never sent anywhere). fed_reactions
    counts the likes and boosts of each post (one of each kind per remote account; an Undo removes it).
    """
    _run(
        db,
        """
        CREATE TABLE fed_comments (
            comment_id INTEGER PRIMARY KEY REFERENCES comments (id) ON DELETE CASCADE,
            object_id TEXT NOT NULL UNIQUE,
            actor TEXT NOT NULL,
            handle TEXT NOT NULL,
            nonce TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE fed_reactions (
            post_url TEXT NOT NULL,
            actor TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('Like', 'Announce')),
            activity_id TEXT NOT NULL,
            created TEXT NOT NULL,
            PRIMARY KEY (post_url, actor, kind)
        )
        """,
    )


@migrations()
def m016_federation_blocklist(db: Database) -> None:
    """Issue 13: the instances the network's moderators block (federation/blocklist.py, `confreres federation
    block`): their requests are refused, nothing is delivered to them. FEDERATION_BLOCKED_HOSTS still adds
    to it."""
    _run(
        db,
        """
        CREATE TABLE fed_blocked_hosts (
            host TEXT PRIMARY KEY,
            created TEXT NOT NULL
        )
        """,
    )


@migrations()
def m019_write_indexes(db: Database) -> None:
    """The duplicate check of every new comment (domain/comments.add_comment) by an index, not a scan.

    It asks for the same text on the same post within the duplicate window: through comments_thread it
    read every comment of the post, ~5 ms per write at 8,000 comments on one thread (a flood, or a busy
    debate), more than the rest of the write. The index holds the text a second time: a comment's Markdown
    source is short next to its row (html, author, dates), and a write must not slow down with its thread.
    The text comes first: an index led by post_url would compete with comments_thread for the thread reads.
    """
    _run(db, "CREATE INDEX comments_duplicate ON comments (text, post_url)")



@migrations()
def m020_post_moves(db: Database) -> None:
    """A published post's address changes (its title, its Slug or its blog's permalinks edited): its thread
    follows it (domain/moves.py). post_moves keeps each earlier address of a post and where it leads now, so
    that another blog's post still answering it, a reader's page from before the move, a comment sent there,
    all reach the post's thread at its new address.
    """
    _run(
        db,
        """
        CREATE TABLE post_moves (
            old_url TEXT PRIMARY KEY,
            new_url TEXT NOT NULL,
            site TEXT NOT NULL,
            moved TEXT NOT NULL
        )
        """,
        "CREATE INDEX post_moves_new ON post_moves (new_url)",
    )


@migrations()
def m021_duplicate_key(db: Database) -> None:
    """The duplicate check compares what a reader sees (domain/comments.duplicate_key), not the bytes sent: a double
    space, a zero-width character, decomposed accents, `&eacute;` or `\\e` made the same comment new again.
    Older comments have no key: the check looks ten minutes back, they are out of it at once."""
    _run(
        db,
        "ALTER TABLE comments ADD COLUMN text_key TEXT",
        "DROP INDEX comments_duplicate",
        "CREATE INDEX comments_duplicate ON comments (text_key, post_url)",
    )


@migrations()
def m022_outbox_comments(db: Database) -> None:
    """Which comments a waiting mail quotes (mail/outbox.py): a new comment's or a reply's notice, a digest. Each row
    keeps the SHA-256 of the text the mail quotes; when the mail leaves (after an SMTP outage, or from cron), a comment
    deleted, rejected, marked spam or edited since drops it, so that a text withdrawn is never mailed afterwards.
    Mails queued before this migration have no rows: they leave as they are."""
    _run(
        db,
        """
        CREATE TABLE outbox_comments (
            outbox_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
            comment_id INTEGER NOT NULL,
            text_hash TEXT NOT NULL,
            PRIMARY KEY (outbox_id, comment_id)
        )
        """,
        "CREATE INDEX outbox_comments_comment ON outbox_comments (comment_id)",
    )


@migrations()
def m023_author_blocks(db: Database) -> None:
    """A blog's moderators block a commenter on that blog (domain/blocks.py): their next comments there are stored as
    spam and answered as if pending. A block keeps what identifies the author and nothing more: their account, a keyed
    hash of their e-mail (never the address itself), the comment's keyed IP hash when the moderator asked for it (an
    IPv6 client by its /64), plus the display name at the time, who blocked, when, and from which comment, for the
    list. `comments.blocked` marks the comments a block made spam: their writer keeps seeing them as pending."""
    _run(
        db,
        """
        CREATE TABLE author_blocks (
            id INTEGER PRIMARY KEY,
            site TEXT NOT NULL,
            account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
            email_hash TEXT,
            ip_hash TEXT,
            author_name TEXT NOT NULL DEFAULT '',
            comment_id INTEGER,
            blocked_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
            created TEXT NOT NULL
        )
        """,
        "CREATE INDEX author_blocks_site ON author_blocks (site)",
        "ALTER TABLE comments ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0",
    )


@migrations()
def m024_outbox_mentions(db: Database) -> None:
    """Which received Webmentions a waiting mail quotes (mail/outbox.py): a new mention's notice, a digest; the
    mentions' twin of m022_outbox_comments (a table of its own: a mention's id is no comment's). Each row keeps the
    mention's content_hash when the mail was written; when the mail leaves, a mention rejected, marked spam, deleted
    (by a moderator, or its source gone) or changed by its source since drops it. Mails queued before this migration
    have no rows: they leave as they are."""
    _run(
        db,
        """
        CREATE TABLE outbox_mentions (
            outbox_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
            mention_id INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            PRIMARY KEY (outbox_id, mention_id)
        )
        """,
        "CREATE INDEX outbox_mentions_mention ON outbox_mentions (mention_id)",
    )


@migrations()
def m025_outbox_recipient_key(db: Database) -> None:
    """Each mail's recipient in its canonical form (core/addresses.address_key: lower case, no `+tag`), indexed with
    its kind and time: the per-address caps on mails a stranger can ask for (sign-in links, thread and letter
    confirmations: mail/outbox.sent_to_address) count every `+tag` variant of an inbox together, where the address
    as typed gave each variant a cap of its own. Mails queued before are given theirs here by the same rule in SQL
    (its lower() lowers ASCII letters only: an older mail to a local part with other capitals may count apart, for
    the hour or the day a cap looks back)."""
    local = "substr(lower(trim(recipient)), 1, instr(lower(trim(recipient)), '@') - 1)"
    _run(
        db,
        "ALTER TABLE outbox ADD COLUMN recipient_key TEXT",
        f"""
        UPDATE outbox SET recipient_key = CASE WHEN instr({local}, '+') > 1
            THEN substr({local}, 1, instr({local}, '+') - 1) || substr(lower(trim(recipient)), instr(lower(trim(recipient)), '@'))
            ELSE lower(trim(recipient)) END
        """,
        "CREATE INDEX outbox_recipient_key ON outbox (recipient_key, kind, created)",
    )


@migrations()
def m026_unsubscribe_keys(db: Database) -> None:
    """The accounts whose mails' unsubscribe links may carry no key. An account's never-expiring unsubscribe link
    ({"s": "author" | "replies", "a": id}) named only its id, and `accounts.id` is reused once the newest account is
    deleted: the deleted account's links unsubscribed the next one. Links now carry a key of the account's id and
    address (mail/outbox.account_scope), checked before they act (outbox.unsubscribe_holds). The accounts that exist
    now were mailed unkeyed links, which must keep working: they are marked here (1); an account created after
    (0, the default) was never mailed one, so an unkeyed link naming its id is refused. A column added, no table
    rebuilt."""
    _run(
        db,
        "ALTER TABLE accounts ADD COLUMN unsubscribe_unkeyed INTEGER NOT NULL DEFAULT 0",
        "UPDATE accounts SET unsubscribe_unkeyed = 1",
    )


@migrations()
def m027_member_name_index(db: Database) -> None:
    """Each account's public name, indexed for the check every guest comment runs (domain/verification.py
    check_author_name: a guest may not sign with a member's name). It read every member's name and normalised it on
    every guest comment: ~50 ms a comment at 5,000 members, half a second at 50,000. The account now stores what the
    check compares, from its display name by the one function confreres.names.name_index (set with the name by
    accounts.set_display_name): `name_key` (the full-name key), `name_words` (its words, sorted) and `name_sig` (how
    many words and their first letters); the check asks the indexes for the few members whose values a typed name may
    match, and compares them as before. Existing accounts are given theirs here, in Python (the same function).

    The values depend on confreres.names' normalisation: a change to it comes with a migration that fills the columns
    again, as this one does."""
    from confreres.names import name_index  # a leaf: the domain's own function, so both sides agree

    _run(
        db,
        "ALTER TABLE accounts ADD COLUMN name_key TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE accounts ADD COLUMN name_words TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE accounts ADD COLUMN name_sig TEXT NOT NULL DEFAULT ''",
    )
    for account_id, name in db.execute("SELECT id, display_name FROM accounts WHERE display_name != ''").fetchall():
        db.execute(
            "UPDATE accounts SET name_key = ?, name_words = ?, name_sig = ? WHERE id = ?", (*name_index(name), account_id)
        )
    _run(
        db,
        "CREATE INDEX accounts_name_key ON accounts (name_key) WHERE display_name != ''",
        "CREATE INDEX accounts_name_words ON accounts (name_words) WHERE display_name != ''",
        "CREATE INDEX accounts_name_sig ON accounts (name_sig) WHERE display_name != ''",
    )


@migrations()
def m028_mail_address_key(db: Database) -> None:
    """Each address's inbox (core/addresses.address_key: case, spaces and `+tag` ignored) beside the address as typed,
    indexed where it refuses all mail: « ne plus rien recevoir » asked at `paul@…` held for that address only, and
    `Paul+x@…` (the same inbox) was still mailed (mail/outbox.is_blocked now looks the key up). Existing rows are
    given theirs here, in Python (the same function: its lower() is the runtime's, accents included)."""
    from comments_service.core.addresses import address_key

    _run(db, "ALTER TABLE mail_addresses ADD COLUMN address_key TEXT")
    for email, in db.execute("SELECT email FROM mail_addresses").fetchall():
        db.execute("UPDATE mail_addresses SET address_key = ? WHERE email = ?", (address_key(email), email))
    _run(db, "CREATE INDEX mail_addresses_blocked_key ON mail_addresses (address_key) WHERE blocked IS NOT NULL")


@migrations()
def m029_federation_farewell(db: Database) -> None:
    """A blog removed from network.toml said farewell to on the fediverse (federation/farewell.py, `confreres
    federation delete-blog`): `fed_actors.retired` is when its Deletes were queued. Its key is still needed to sign
    them; the sender forgets it (the row) once none of its deliveries is left waiting (keys.forget_retired)."""
    _run(db, "ALTER TABLE fed_actors ADD COLUMN retired TEXT")



@migrations()
def m030_service_settings(db: Database) -> None:
    """What the database records of the configuration it runs with (core/identity.py): `secret_key` holds a keyed
    fingerprint of the secret key (never the key), `mail_transport` "smtp" once a process with SMTP opened it. A
    command run by hand without /etc/confreres/env made a key of its own and signed links the service refused, or
    wrote the mails to files: such a process now stops at start with one line that says so."""
    _run(
        db,
        """
        CREATE TABLE service_settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            recorded TEXT NOT NULL
        )
        """,
    )


@migrations()
def m031_canonical_addresses(db: Database) -> None:
    """Every stored e-mail address in its canonical form (core/addresses.normalise_email: NFC, lower case in every
    script, the domain in punycode), as every writer now stores it and every lookup compares it. SQLite's NOCASE
    folds ASCII letters only: a guest comment signed `Élodie@…` was not `élodie@…`'s, so her account's export and
    deletion missed it, and neither did her « ne plus rien recevoir » reach it. Rows are rewritten in Python (the
    runtime's rule). Where two rows become one: two addresses of one inbox in `mail_addresses` merge (the earliest
    consent, a block kept), a thread's reply subscription is kept once, the letter keeps the confirmed subscription of
    the inbox (else the one already in that form, or rewritten first); two ACCOUNTS of one inbox are not merged (their
    comments, roles, verification stay apart): the one already in that form (else the older) takes it, the other keeps
    its address as stored, and a warning names its id (never the address)."""
    import logging

    from comments_service.core.addresses import address_key, normalise_email

    def changed(sql: str) -> list[tuple]:
        return [(rowid, value, normalise_email(value)) for rowid, value in db.execute(sql).fetchall()
                if normalise_email(value) != value]

    for rowid, _old, new in changed("SELECT rowid, email FROM comments WHERE email IS NOT NULL"):
        db.execute("UPDATE comments SET email = ? WHERE rowid = ?", (new, rowid))
    for rowid, _old, new in changed("SELECT rowid, recipient FROM outbox"):
        db.execute("UPDATE outbox SET recipient = ?, recipient_key = ? WHERE rowid = ?", (new, address_key(new), rowid))
    # Rows are found by rowid, never by their address: the columns are COLLATE NOCASE, so `Marie@…` = `marie@…` there
    # and a lookup by the new address finds the row itself (it was then deleted as its own duplicate).
    for rowid, _old, new in changed("SELECT rowid, email FROM subscriptions"):
        if db.execute("SELECT 1 FROM subscriptions WHERE email = ? AND rowid != ? AND post_url ="
                      " (SELECT post_url FROM subscriptions WHERE rowid = ?)", (new, rowid, rowid)).fetchone():
            db.execute("DELETE FROM subscriptions WHERE rowid = ?", (rowid,))
        else:
            db.execute("UPDATE subscriptions SET email = ? WHERE rowid = ?", (new, rowid))
    for account_id, _old, new in changed("SELECT id, email FROM accounts ORDER BY id"):
        if db.execute("SELECT 1 FROM accounts WHERE email = ? AND id != ?", (new, account_id)).fetchone():
            logging.getLogger(__name__).warning(
                "account #%d keeps its address as stored: another account has the same inbox", account_id
            )
            continue
        db.execute("UPDATE accounts SET email = ? WHERE id = ?", (new, account_id))
    columns = ("created", "confirm_sent", "confirmed", "blocked")
    for rowid, _old, new in changed("SELECT rowid, email FROM mail_addresses"):
        other = db.execute("SELECT rowid FROM mail_addresses WHERE email = ? AND rowid != ?", (new, rowid)).fetchone()
        if other is None:
            db.execute("UPDATE mail_addresses SET email = ?, address_key = ? WHERE rowid = ?", (new, address_key(new), rowid))
            continue
        rows = [db.execute(f"SELECT {', '.join(columns)} FROM mail_addresses WHERE rowid = ?", (key,)).fetchone()
                for key in (rowid, other[0])]
        earliest = [min((r[i] for r in rows if r[i]), default=None) for i in range(len(columns))]
        merged = {"created": earliest[0], "confirm_sent": max((r[1] for r in rows if r[1]), default=None),
                  "confirmed": earliest[2], "blocked": earliest[3]}
        db.execute("DELETE FROM mail_addresses WHERE rowid = ?", (rowid,))
        db.execute(
            f"UPDATE mail_addresses SET {', '.join(f'{c} = ?' for c in columns)}, email = ?, address_key = ?"
            " WHERE rowid = ?", (*[merged[c] for c in columns], new, address_key(new), other[0]),
        )
    for subscriber_id, _old, new in changed("SELECT id, email FROM letter_subscribers ORDER BY id"):
        other = db.execute("SELECT id, confirmed FROM letter_subscribers WHERE email = ? AND id != ?",
                           (new, subscriber_id)).fetchone()
        if other is None:
            db.execute("UPDATE letter_subscribers SET email = ? WHERE id = ?", (new, subscriber_id))
            continue
        confirmed = db.execute("SELECT confirmed FROM letter_subscribers WHERE id = ?", (subscriber_id,)).fetchone()[0]
        loser = other[0] if confirmed and not other[1] else subscriber_id
        db.execute("DELETE FROM letter_sends WHERE subscriber_id = ?", (loser,))
        db.execute("DELETE FROM letter_subscribers WHERE id = ?", (loser,))
        db.execute("UPDATE letter_subscribers SET email = ? WHERE id IN (?, ?)", (new, subscriber_id, other[0]))


def migrate(db: Database) -> list[str]:
    """Apply pending migrations under an exclusive write lock; return the names applied.

    The lock makes concurrent starts (several gunicorn workers) safe: the second waits, then
    finds nothing pending. With nothing pending (every start but an upgrade's) no lock is taken:
    a worker started, or a `confreres` command run, while another process writes for longer than
    busy_timeout (an import, a key rotation) failed with « database is locked », and gunicorn,
    whose worker could not boot, stopped the whole service.
    """
    if not migrations.pending(db):  # a read: WAL readers never wait for a writer
        return []
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        if db.conn.in_transaction:
            db.conn.execute("COMMIT")
    return pending
