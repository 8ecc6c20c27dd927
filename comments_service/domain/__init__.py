"""What the network knows and decides: posts, threads and comments, received mentions, accounts,
verification, the moderation queue and its policy. Returns rows and facts; never sends mail, never renders a
page."""
