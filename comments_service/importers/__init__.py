"""Importers of comments from other systems (WordPress WXR today).

Each importer reads an export without touching the database, matches its posts to the posts the
service knows, then writes one transaction per post, recording every source comment under an
import key (the `imports` table of migration m003_import) so that a second run imports nothing.
"""
