"""What to search for on Bluesky and Mastodon, from the service catalog.

Both networks match the words of a query together (no boolean OR to build one long query as on
X), so each catalog search term ("slack down", "is slack down", ...) is a query of its own.
Mastodon also has hashtag timelines, the one listing its servers serve to anyone: the service's
name and key as hashtags, alone and with "down" (#slack, #slackdown).
"""

from __future__ import annotations

from outage_signals.catalog import Service


def search_terms(service: Service) -> list[str]:
    """The catalog's search terms, or "<name> down" and "<name> outage" for a service without."""
    return list(service.search_terms) or [f"{service.name} down", f"{service.name} outage"]


def hashtags(service: Service) -> list[str]:
    """Hashtags without ``#``, lower case: name and key squeezed to letters and digits, each
    alone and with "down" ("Facebook Messenger", key ``messenger``: facebookmessenger,
    facebookmessengerdown, messenger, messengerdown)."""
    tags: dict[str, None] = {}
    for word in (service.name, service.key):
        squeezed = "".join(ch for ch in word.lower() if ch.isalnum())
        if squeezed:
            tags[squeezed] = None
            tags[f"{squeezed}down"] = None
    return list(tags)
