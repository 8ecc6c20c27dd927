# The planet: the network's front page, built by plugins/planet (see confreres/planet_build.py).
# Its name, URL and sources come from network.toml; these are its own settings.
TIMEZONE = "Europe/Paris"
DEFAULT_LANG = "fr"
PLUGINS = ["planet"]
PLANET_PER_PAGE = 15  # entries per page
PLANET_FEED_ITEMS = 50  # entries in each planet feed
PLANET_EXCERPT_LENGTH = 320  # characters of each excerpt
PLANET_SERVICE_TIMEOUT = 2.0  # seconds for each call to the comment service (counts, debates)
PLANET_FETCH_TIMEOUT = 10.0  # seconds for the whole exchange with one outside feed
PLANET_FETCH_MAX_BYTES = 2 * 1024 * 1024  # an outside feed larger than this is refused
# The network's icon at the root, where browsers ask for it on every page of every blog (/favicon.ico).
EXTRA_PATH_METADATA = {"extra/favicon.ico": {"path": "favicon.ico"}}
