"""A seeded simulator of social-media post streams around known outages.

Use :func:`simulate` with :class:`ServiceProfile` volumes and :class:`OutageEvent` truths; read
real outage times with :func:`load_events`. The result carries the true starts and ends and a
label for every post, which the metrics in :mod:`outage_signals.metrics` score against.
"""

from outage_signals.simulation.events import load_events
from outage_signals.simulation.generator import Simulation, simulate
from outage_signals.simulation.profiles import OutageEvent, ServiceProfile

__all__ = ["OutageEvent", "ServiceProfile", "Simulation", "load_events", "simulate"]
