"""outage-signals: notice online-service outages in social media.

The package is a library of stage modules (records, catalog, classifying, counting, baseline,
detecting, locating) with a thin click CLI on top (:mod:`outage_signals.cli`). See
``docs/architecture.md`` for the map.
"""

__version__ = "0.1.0"
