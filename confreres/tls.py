"""The one TLS context of a process, made on import: what every HTTP client of the static side verifies with.

httpx loads the CA bundle again for each client it makes (~20 ms). The build's forkserver imports this module
(confreres.releases.process_pool_context), so each blog's process inherits the loaded context instead.
"""

from __future__ import annotations

import ssl

import certifi

CONTEXT = ssl.create_default_context(cafile=certifi.where())
