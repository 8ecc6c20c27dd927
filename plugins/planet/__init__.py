"""Pelican plugin: the planet of the network (sites/planet).

`fetch` fetches outside feeds (conditional GET, timeouts, size cap, last good copy, 410), `entries`
turns feed bytes into sanitised, dated, deduplicated entries, `generator` writes the pages and the
feeds. The build (confreres.planet_build) gives the plugin its sources in the PLANET_* settings.
"""

from __future__ import annotations

from pelican import signals


def get_generators(pelican_object):
    from .generator import PlanetGenerator

    return PlanetGenerator


def register():
    signals.get_generators.connect(get_generators)
