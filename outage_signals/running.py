"""One scheduled cycle (`outage-signals run`): collect -> status pages -> classify -> store ->
detect -> reconcile -> notify -> exit.

Made for cron and systemd timers, which start it every few minutes whatever happened before:

- **one at a time**: an exclusive lock on ``<store>.lock`` (``flock``, released by the kernel
  when the process dies, so a killed run never blocks the next); a run that finds it taken
  logs ``skipped`` and exits 0;
- **resumable**: collectors write each page with its checkpoint, the ledger commits incidents
  with their outbox rows (:mod:`outage_signals.ledger`), delivery marks each row as it goes
  (:mod:`outage_signals.delivery`); a run killed anywhere leaves a state the next run
  finishes, never a duplicate;
- **observable**: one JSON line per event on stderr (``ts`` UTC, ``event``, fields), never a
  secret; exit status :data:`EXIT_OK`, :data:`EXIT_CONFIG` or :data:`EXIT_PARTIAL`.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from outage_signals import alert_messages, delivery
from outage_signals.catalog import Catalog
from outage_signals.deploy_config import DeployConfig
from outage_signals.errors import CollectError, CredentialsError, OutageSignalsError
from outage_signals.ledger import Alert, Ledger
from outage_signals.records import format_time
from outage_signals.storing import PostStore, default_store_path

#: Exit statuses: all done (or skipped: another run holds the lock); a configuration or usage
#: error (nothing was done); the cycle ran but a source or a destination failed (details in
#: the log; the next run retries).
EXIT_OK, EXIT_CONFIG, EXIT_PARTIAL = 0, 1, 3


def json_logger(stream=None) -> Callable[..., None]:
    """``log(event, **fields)`` writing one JSON object per line (``ts`` first, UTC)."""
    def log(event: str, **fields: Any) -> None:
        line = {"ts": format_time(datetime.now(UTC).replace(microsecond=0)), "event": event, **fields}
        print(json.dumps(line, ensure_ascii=False, default=str), file=stream or sys.stderr,
              flush=True)
    return log


@contextmanager
def run_lock(store_path: Path) -> Iterator[bool]:
    """Hold the run lock for ``store_path`` if free: yields ``True``, or ``False`` when another
    process holds it (then nothing must be done)."""
    lock_path = store_path.with_name(store_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield True
    finally:
        handle.close()  # closing releases the lock


@dataclass
class CycleResult:
    """What one cycle did."""

    status: int = EXIT_OK
    skipped: bool = False
    collected: int = 0
    detected: int = 0
    alerts: list[Alert] = field(default_factory=list)
    sent: int = 0
    failures: list[str] = field(default_factory=list)


def _collector(source: str, options: dict[str, Any]):
    from outage_signals.config import load_user_config

    if source == "reddit":
        from outage_signals.collectors.reddit import RedditCollector
        from outage_signals.source_settings import reddit_settings

        return RedditCollector(reddit_settings(load_user_config(), site_name=options.get("site")))
    if source == "twitter":
        from outage_signals.collectors.twitter import TwitterCollector
        from outage_signals.source_settings import twitter_settings

        return TwitterCollector(twitter_settings(load_user_config()),
                                archive=bool(options.get("archive", False)))
    if source == "bluesky":
        from outage_signals.collectors.bluesky import BlueskyCollector
        from outage_signals.source_settings import bluesky_settings

        return BlueskyCollector(bluesky_settings(load_user_config()),
                                languages=tuple(options.get("languages", ())))
    if source == "mastodon":
        from outage_signals.collectors.mastodon import MastodonCollector
        from outage_signals.source_settings import mastodon_settings

        return MastodonCollector(mastodon_settings(load_user_config(),
                                                   instances=options.get("instances")))
    raise OutageSignalsError(f"no collector for source {source!r}")


def collect_step(config: DeployConfig, catalog: Catalog, store: PostStore, now: datetime,
                 log: Callable[..., None], result: CycleResult,
                 sleep: Callable[[float], None] = time.sleep) -> None:
    """Fill the window's gaps for every configured source and service; a failing source is
    logged and the others go on."""
    from outage_signals.collectors.base import Driver
    from outage_signals.retrying import RetryPolicy

    since = now - config.window
    for source, options in config.sources.items():
        try:
            collector = _collector(source, options)
        except (CredentialsError, OutageSignalsError) as exc:
            log("collect_failed", source=source, error=str(exc))
            result.failures.append(f"{source}: {exc}")
            continue
        policy = RetryPolicy(max_wait=float(options.get("max_wait", 120)), sleep=sleep)
        driver = Driver(collector, store, policy=policy, max_posts=options.get("max_posts"),
                        now=lambda: now)
        for key in config.services:
            try:
                report = driver.collect(catalog.get(key), since, now)
            except CollectError as exc:
                log("collect_failed", source=source, service=key, error=str(exc))
                result.failures.append(f"{source} {key}: {exc}")
                continue
            result.collected += report.counts.inserted
            log("collected", source=source, service=key, requests=report.requests,
                new=report.counts.inserted, changed=report.counts.updated,
                in_window=report.counts.total, incomplete=report.incomplete)


def status_step(config: DeployConfig, catalog: Catalog, store: PostStore,
                log: Callable[..., None], result: CycleResult,
                sleep: Callable[[float], None] = time.sleep) -> None:
    """Read the status pages of the watched services that have one (``[status_pages]``) and
    store their incidents; a page that fails is logged and counts as a failed source."""
    from outage_signals import status_history
    from outage_signals.retrying import RetryPolicy

    if not config.status_pages:
        return
    urls = status_history.page_urls(config.services, catalog, config.status_urls)
    if not urls:
        return
    # A status page is a nice-to-have next to the alert itself: give up on it sooner than on a
    # source of posts.
    report = status_history.poll(store, urls, policy=RetryPolicy(max_wait=30.0, sleep=sleep), log=log)
    result.failures += [f"status page {f}" for f in report.failures]


def status_lookup(store: PostStore) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """``lookup(record)``: the stored status-page incident confirming an incident record, as
    its ``status_page`` object, or ``None``."""
    from outage_signals import status_history

    cache: dict[str, list] = {}

    def lookup(record: dict[str, Any]) -> dict[str, Any] | None:
        service = record["service"]
        if service not in cache:
            cache[service] = status_history.load(store, service)
        return status_history.acknowledgement(record, cache[service]) if cache[service] else None
    return lookup


def detect_step(config: DeployConfig, catalog: Catalog, store: PostStore, now: datetime,
                model=None) -> list[dict[str, Any]]:
    """Incidents (contract dicts) in the stored posts of the window ending ``now``."""
    from outage_signals import classifying
    from outage_signals.pipeline import detect

    # The detector judges the window against a baseline: a stored one (`baseline = FILE`), else
    # one fitted on `history` before now. Fitting on the window alone fails on long outages:
    # hours into one, the outage *is* the baseline and the alert would "resolve" itself.
    baselines = None
    if config.baseline is not None:
        from outage_signals import baseline_store

        baselines = baseline_store.load(config.baseline)
    since = now - (config.window if baselines else max(config.history, config.window))
    # Every post: imported posts may carry no service and are matched to the catalog by
    # name, as `detect --store` does.
    posts = list(store.posts(since=since, until=now))
    if not posts:
        return []
    model = model or classifying.default_model(catalog)
    found = detect(posts, catalog, model=model, services=list(config.services), since=since,
                   until=now, bin_size=config.bin, baselines=baselines)
    recent = now - config.window
    return [inc for inc in found if inc["end"] is None or inc["end"] >= format_time(recent)]


def run_cycle(config: DeployConfig, catalog: Catalog, *, now: datetime | None = None,
              dry_run: bool = False, log: Callable[..., None] | None = None,
              out=None, sleep: Callable[[float], None] = time.sleep, model=None,
              sender=delivery.send) -> CycleResult:
    """One cycle (see the module). ``now``: the cycle's clock (UTC; default the real time).
    ``dry_run``: collect nothing, change nothing, send nothing; print on ``out`` (stdout)
    what would be sent. ``model``: the relevance model (default the bundled one); ``sender``:
    one delivery attempt (:func:`outage_signals.delivery.send`)."""
    log = log or json_logger()
    out = out or sys.stdout
    result = CycleResult()
    store_path = config.store or default_store_path()
    with run_lock(store_path) as held:
        if not held:
            log("skipped", reason="another run holds the lock", lock=f"{store_path}.lock")
            result.skipped = True
            return result
        clock = now or datetime.now(UTC)
        log("cycle_started", config=str(config.path), services=len(config.services),
            window_start=format_time(clock - config.window), now=format_time(clock),
            dry_run=dry_run)
        with PostStore(store_path) as store:
            ledger = Ledger(store)
            if not dry_run:
                collect_step(config, catalog, store, clock, log, result, sleep)
                status_step(config, catalog, store, log, result, sleep)
            detected = detect_step(config, catalog, store, clock, model)
            result.detected = len(detected)
            for incident in detected:
                log("detected", service=incident["service"], level=incident["level"],
                    start=incident["start"], end=incident["end"], posts=incident["posts"])
            alerts = ledger.reconcile(detected, config.services, clock, min_level=config.min_level,
                                      destinations=config.destinations,
                                      window_start=clock - config.window,
                                      resolve_after=config.resolve_after, dry_run=dry_run,
                                      status=status_lookup(store))
            result.alerts = alerts
            for alert in alerts:
                log("alert_queued" if not dry_run else "alert_would_queue", alert=alert.event,
                    incident=alert.incident.key(), level=alert.incident.level)
            if dry_run:
                _print_dry_run(ledger, alerts, config, clock, out)
            else:
                sent = delivery.deliver(ledger, config.destinations, lambda: clock, log,
                                        sleep=sleep, sender=sender)
                result.sent = sent.sent
                result.failures += sent.errors
        result.status = EXIT_PARTIAL if result.failures else EXIT_OK
        log("cycle_done", status=result.status, collected=result.collected,
            detected=result.detected, alerts=len(result.alerts), sent=result.sent,
            failures=len(result.failures))
    return result


def _print_dry_run(ledger: Ledger, alerts: list[Alert], config: DeployConfig, now: datetime,
                   out) -> None:
    """What a real run would send now: rows already owed, then this cycle's alerts."""
    owed = [(row["destination"], row["payload"]) for row in ledger.pending(now)]
    for alert in alerts:
        payload = {"delivery_id": "(dry run)", "event": alert.event,
                   "incident_key": alert.incident.key(), "incident": alert.incident.record}
        owed += [(d.name, payload) for d in config.destinations
                 if d.wants(alert.incident.service, alert.incident.level, alert.event)]
    if not owed:
        print("nothing to send", file=out)
    for name, payload in owed:
        print(f"--> {name}: {alert_messages.title(payload)}", file=out)
        for line in alert_messages.body(payload).splitlines():
            print(f"    {line}", file=out)
