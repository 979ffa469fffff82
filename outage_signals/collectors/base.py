"""The collector interface and the one driver every collector runs under.

A collector knows one API: which queries to send for a service (:meth:`Collector.queries`),
how to fetch one page of a query (:meth:`Collector.fetch`, converting SDK objects into
:class:`~outage_signals.records.Post` at once) and what its failures mean
(:meth:`Collector.judge`). Everything else lives here, once:

- **Windows and passes.** Listings come newest first. A *pass* pages one query from the newest
  post down to a window start. The checkpoint of each ``(source, service, query)`` remembers the
  time span already *covered* by finished passes, so the next run only collects the gap since
  (plus :data:`OVERLAP`, because search indexes lag behind posting).
- **Resuming.** After every page the page's posts and the pass's cursor are saved in one
  transaction. A run that was killed, rate limited past its patience or out of budget leaves a
  *pending* pass; the next run finishes it first, from its cursor.
- **Retries** go through :func:`outage_signals.retrying.call` with the collector's judge.

Times are aware UTC datetimes; checkpoint states store them as ISO 8601 strings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from outage_signals import retrying
from outage_signals.catalog import Service
from outage_signals.errors import CollectError
from outage_signals.records import Post, format_time, parse_time
from outage_signals.storing import PostStore, SaveCounts

#: How far back each run re-reads the edge of the span already covered: search indexes show
#: posts minutes after they were made, and a post seen twice is stored once anyway.
OVERLAP = timedelta(minutes=15)


@dataclass(frozen=True)
class Query:
    """One listing to page through. ``key`` names its checkpoint and must stay stable;
    ``params`` are the collector's own (a search string, a subreddit)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Window:
    """``[since, until)`` in UTC."""

    since: datetime
    until: datetime

    def __contains__(self, ts: datetime) -> bool:
        return self.since <= ts < self.until


@dataclass
class Page:
    """One response. ``posts``: every post on it, in or out of the window (the driver filters).
    ``cursor``: where the next page starts, ``None`` when the listing is exhausted. ``oldest``:
    the oldest post time on the page (it ends a newest-first pass). ``billed``: items the API
    counted against the budget (defaults to ``len(posts)``)."""

    posts: list[Post]
    cursor: str | None
    oldest: datetime | None = None
    billed: int | None = None


class StaleCursor(Exception):
    """The API no longer accepts a saved cursor; the pass restarts from its newest page."""


class QueryUnavailable(Exception):
    """This listing cannot be read (a missing or private subreddit, a deleted thread); the
    collect notes it and goes on with the other queries."""


class Collector(ABC):
    """One source. Subclasses set :attr:`source` and implement the three methods."""

    source: str = ""
    #: Largest page the API serves.
    page_size: int = 100
    #: Smallest page the API accepts (X refuses max_results below 10).
    min_page_size: int = 1
    #: Most items a listing ever serves (Reddit: about 1000), ``None`` when unlimited. A pass that
    #: reaches it before its window start gets a note saying older posts are out of reach.
    listing_cap: int | None = None

    @abstractmethod
    def queries(self, service: Service) -> list[Query]:
        """The listings to page for ``service``."""

    @abstractmethod
    def fetch(self, query: Query, service: Service, window: Window, cursor: str | None,
              limit: int) -> Page:
        """One page of ``query`` (at most ``limit`` items) starting at ``cursor``.

        Raise :class:`StaleCursor` if the API rejects the cursor."""

    @abstractmethod
    def judge(self, exc: BaseException) -> retrying.Verdict | None:
        """What a failure means (see :func:`outage_signals.retrying.call`)."""

    def failure_group(self, query: Query) -> str | None:
        """The server ``query`` depends on when a collect reads several independent ones
        (Mastodon instances), else ``None``. When retries give up on a query of a group, the
        group's other queries are skipped, the other groups are still collected, and the
        collect then fails naming the group; with ``None`` the first failure stops the
        collect."""
        return None


@dataclass
class CollectReport:
    """What a collect did, per query and in total."""

    service: str
    source: str
    requests: int = 0
    counts: SaveCounts = field(default_factory=SaveCounts)
    notes: list[str] = field(default_factory=list)
    #: Posts the API returned (billed), in or out of the window.
    fetched: int = 0
    #: True when the run stopped early (budget); the next run resumes.
    incomplete: bool = False

    def absorb(self, other: CollectReport) -> None:
        """Add another collect of the same service (more queries) to this report."""
        self.requests += other.requests
        self.counts += other.counts
        self.notes += other.notes
        self.fetched += other.fetched
        self.incomplete = self.incomplete or other.incomplete


def _span(state: dict[str, Any] | None, name: str) -> tuple[datetime, datetime] | None:
    if not state or not state.get(name):
        return None
    lo, hi = state[name]
    return parse_time(lo, name), parse_time(hi, name)


def _merge(covered: tuple[datetime, datetime] | None,
           span: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    """Union of two spans if they touch; otherwise the newer one (older coverage is forgotten,
    which only costs a re-read)."""
    if covered is None or span[0] > covered[1] or covered[0] > span[1]:
        return span if covered is None or span[1] >= covered[1] else covered
    return min(covered[0], span[0]), max(covered[1], span[1])


def _gaps(window: Window, covered: tuple[datetime, datetime] | None) -> list[Window]:
    """Parts of ``window`` not yet covered, newest first; the upper edge overlaps by OVERLAP."""
    if covered is None or covered[1] <= window.since or covered[0] >= window.until:
        return [window]
    gaps = []
    if window.until > covered[1]:
        gaps.append(Window(max(window.since, covered[1] - OVERLAP), window.until))
    if window.since < covered[0]:
        gaps.append(Window(window.since, covered[0]))
    return gaps


def _iso_span(span: tuple[datetime, datetime]) -> list[str]:
    return [format_time(span[0]), format_time(span[1])]


@dataclass
class Driver:
    """Runs a collector for one service into a store.

    ``max_posts``: budget of items fetched (X bills per post), ``None`` for no limit.
    ``log``: progress and wait messages (one line each). ``now``: the clock, for tests.
    """

    collector: Collector
    store: PostStore
    policy: retrying.RetryPolicy = field(default_factory=retrying.RetryPolicy)
    max_posts: int | None = None
    log: Callable[[str], None] = lambda message: None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def collect(self, service: Service, since: datetime, until: datetime | None = None,
                queries: list[Query] | None = None) -> CollectReport:
        """Collect ``service``'s posts created in ``[since, until)`` (``until`` default: now)."""
        until = until or self.now()
        if since >= until:
            raise CollectError(f"empty window: since {format_time(since)} is not before "
                               f"until {format_time(until)}")
        report = CollectReport(service=service.key, source=self.collector.source)
        failed: dict[str, CollectError] = {}
        groups: set[str] = set()
        for query in queries if queries is not None else self.collector.queries(service):
            if self._budget_left(report) == 0:
                report.incomplete = True
                break
            group = self.collector.failure_group(query)
            if group is not None:
                groups.add(group)
                if group in failed:
                    continue
            try:
                self._collect_query(service, query, Window(since, until), report)
            except CollectError as exc:
                if group is None:
                    raise
                # One dead server must not cost the others' posts: note it, go on, fail at
                # the end (what was read is saved; the next run resumes the failed pass).
                failed[group] = exc
                report.incomplete = True
                report.notes.append(f"{group}: gave up ({exc})")
                self.log(f"{self.collector.source} {group}: gave up, going on with the others: {exc}")
        if failed:
            first = next(iter(failed.values()))
            if len(groups) == 1:
                raise first
            names = ", ".join(failed)
            others = ("the others were collected and saved" if len(failed) < len(groups)
                      else "all failed")
            raise CollectError(f"{len(failed)} of {len(groups)} {self.collector.source} servers "
                               f"failed ({names}): {first}; {others}; run again to resume")
        return report

    def _budget_left(self, report: CollectReport) -> int | None:
        if self.max_posts is None:
            return None
        return max(0, self.max_posts - report.fetched)

    def _collect_query(self, service: Service, query: Query, window: Window,
                       report: CollectReport) -> None:
        source = self.collector.source
        state = self.store.checkpoint(source, service.key, query.key) or {}
        covered = _span(state, "covered")
        pending = state.get("pending")
        if pending:
            span = _span(pending, "window")
            assert span is not None
            self.log(f"{source} {query.key}: resuming an unfinished pass "
                     f"({format_time(span[0])} to {format_time(span[1])})")
            covered = self._run_pass(service, query, Window(*span), pending.get("cursor"),
                                     covered, report)
            if covered is None:
                return
        for gap in _gaps(window, covered):
            covered = self._run_pass(service, query, gap, None, covered, report)
            if covered is None:
                return

    def _run_pass(self, service: Service, query: Query, window: Window, cursor: str | None,
                  covered: tuple[datetime, datetime] | None,
                  report: CollectReport) -> tuple[datetime, datetime] | None:
        """Page ``query`` over ``window`` from ``cursor``; return the new covered span, or
        ``None`` when the pass stopped early (its pending state is saved)."""
        source, collector = self.collector.source, self.collector
        key = (source, service.key, query.key)
        base = {"covered": _iso_span(covered)} if covered else {}
        page_no = 0
        seen, oldest_seen = 0, None
        while True:
            left = self._budget_left(report)
            if left is not None and left < collector.min_page_size:
                report.incomplete = True
                report.notes.append(f"{query.key}: stopped at the --max-posts budget; "
                                    "run again to continue")
                self.store.set_checkpoint(*key, {**base, "pending": {
                    "window": _iso_span((window.since, window.until)), "cursor": cursor}})
                return None
            limit = collector.page_size if left is None else min(collector.page_size, left)
            page_no += 1
            what = f"{source} {query.key} page {page_no}"
            try:
                page = retrying.call(
                    lambda c=cursor, n=limit: collector.fetch(query, service, window, c, n),
                    judge=collector.judge, policy=self.policy, what=what, log=self.log)
            except StaleCursor:
                self.log(f"{what}: the saved cursor has expired; restarting this pass")
                cursor, page_no = None, 0
                continue
            except QueryUnavailable as exc:
                report.notes.append(f"{query.key}: skipped, {exc}")
                self.log(f"{what}: skipped, {exc}")
                return None
            report.requests += 1
            report.fetched += page.billed if page.billed is not None else len(page.posts)
            keep = [p for p in page.posts if p.created_at in window]
            seen += len(page.posts)
            if page.oldest is not None:
                oldest_seen = min(oldest_seen or page.oldest, page.oldest)
            finished = (page.cursor is None or not page.posts or page.cursor == cursor
                        or (page.oldest is not None and page.oldest < window.since))
            if finished:
                cap = collector.listing_cap
                if cap and seen >= 0.9 * cap and oldest_seen and oldest_seen > window.since:
                    report.notes.append(
                        f"{query.key}: the listing ends at {format_time(oldest_seen)}, after the "
                        f"window start ({source} serves about {cap} items per listing)")
                new_covered = _merge(covered, (window.since, window.until))
                state = {**base, "covered": _iso_span(new_covered)}
            else:
                state = {**base, "pending": {"window": _iso_span((window.since, window.until)),
                                             "cursor": page.cursor}}
            report.counts += self.store.save(keep, checkpoint=(*key, state))
            self.log(f"{what}: {len(page.posts)} posts, {len(keep)} in the window")
            if finished:
                return new_covered
            cursor = page.cursor
