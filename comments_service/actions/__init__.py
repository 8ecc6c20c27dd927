"""The use cases: one transaction each, the only layer that calls both domain and mail.

The web views and the CLI call these instead of repeating "write + record + queue the mail"; each
function keeps the exact effect (rows, mails) the copies it replaces had.
"""
