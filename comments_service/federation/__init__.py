"""The fediverse (ActivityPub): every member blog is an actor a Mastodon user can follow, and so is the
network (`planete`, which announces every member post).

Between the web layer and the use cases (pyproject's `service-layers`): `web/federation.py` serves the
routes; here live what they answer and what they do.

- `urls`: the actors' and objects' addresses, all under the service's `comments_url` (`<comments_url>ap/...`);
- `keys`: one RSA key pair per actor, made once, kept in the database (the private key never leaves it);
- `signatures`: HTTP Signatures (draft-cavage, as Mastodon) through the `apsig` library;
- `documents`: actors, WebFinger, NodeInfo, outboxes and followers collections;
- `articles`: the announced posts as `Article` objects, and what changed since the last announce;
- `remote`: remote actors fetched through confreres.safe_http (no private address unless allow-listed);
- `delivery`: the persistent outgoing queue (retries with backoff), sent by a worker thread or by
  `confreres federation deliver`;
- `inbox`: what a signed activity does (Follow, Undo, Delete of an actor);
- `replies`: replies from the fediverse become comments; likes and boosts counted;
- `notes`: approved local comments as Notes, and each Article's `replies` collection.
- `farewell`: a blog removed from network.toml taken off its followers' servers (Deletes), on the operator's
  command.
"""
