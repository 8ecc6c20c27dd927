"""This blog's own Pelican settings.

The network sets the rest at build time from network.toml: title, author, public URL, theme,
feeds and output folder. Keep PLUGINS listed: with none listed Pelican loads every installed one.
"""

TIMEZONE = "Europe/Paris"
DEFAULT_LANG = "fr"
DEFAULT_PAGINATION = 10
PLUGINS = ["comments", "crosslinks"]
