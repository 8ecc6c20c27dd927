"""E-mail: the outbox and its sender thread, consent (double opt-in, unsubscribe), and who hears what."""
