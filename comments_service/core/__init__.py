"""Infrastructure every layer may use: configuration, the database and its migrations, signed tokens and
their salts, the one error type, the events, the background worker, client integers. Imports nothing of the
service above it."""
