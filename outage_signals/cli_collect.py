"""Commands that bring posts in and out of the store: ``collect``, ``import``, ``export``,
``store`` and ``configure``. Registered on the main group by :mod:`outage_signals.cli`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from outage_signals.catalog import load_catalog
from outage_signals.cli_common import TIME, _fail_cleanly, _note, input_options, open_store
from outage_signals.config import load_user_config, user_config_path
from outage_signals.errors import CollectError, InputError
from outage_signals.importers import FORMATS as IMPORT_FORMATS
from outage_signals.jsonl import write_posts
from outage_signals.records import format_time

DEFAULT_SPAN = timedelta(days=1)


def _collect_options(func):
    options = [
        click.option("--service", "services", multiple=True, required=True, metavar="KEY",
                     help="Catalog key to collect for (repeatable; see `outage-signals services`)."),
        click.option("--since", type=TIME, help="Window start: ISO time (UTC if no zone) or a span "
                     "before now such as 6h. Default: 24 hours ago; parts of the window already "
                     "collected are skipped."),
        click.option("--until", type=TIME, help="Window end (exclusive). Default: now."),
        click.option("-o", "--output", type=click.Path(dir_okay=False),
                     help="Also write the window's posts to this JSONL file (.gz compresses; - is "
                          "stdout)."),
        click.option("--store", "store_path", is_flag=False, flag_value="", default=None,
                     metavar="[DB]", help="Post store to write to (default: the per-user store; "
                                          "see `outage-signals store`)."),
        click.option("--max-posts", type=click.IntRange(min=1),
                     help="Stop after the API has returned this many posts (a budget); the next "
                          "run continues where this one stopped."),
        click.option("--max-wait", type=click.IntRange(min=0), default=900, show_default=True,
                     help="Longest rate-limit wait in seconds; a longer one stops the run "
                          "(everything so far is saved and the next run resumes)."),
        click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run(collector, services, since, until, output, store_path, max_posts, max_wait, quiet,
         after=None) -> None:
    """Collect each service into the store, report, then optionally write the window out."""
    from outage_signals.collectors.base import Driver
    from outage_signals.retrying import RetryPolicy

    catalog = load_catalog()
    chosen = [catalog.get(key) for key in services]
    until = until or datetime.now(UTC)
    since = since or until - DEFAULT_SPAN
    log = (lambda message: None) if quiet else _note
    failure: CollectError | None = None
    with open_store(store_path) as store:
        driver = Driver(collector, store, policy=RetryPolicy(max_wait=float(max_wait)),
                        max_posts=max_posts, log=log)
        for service in chosen:
            try:
                report = driver.collect(service, since, until)
                if after is not None:
                    extra = after(driver, store, service, since, until)
                    if extra is not None:
                        report.absorb(extra)
            except CollectError as exc:
                failure = exc
                _note(f"{collector.source} {service.key}: stopped: {exc}")
                break
            counts = report.counts
            _note(f"{collector.source} {service.key}: {report.requests} requests, {counts.total:,} "
                  f"posts in the window ({counts.inserted:,} new, {counts.updated:,} changed, "
                  f"{counts.unchanged:,} already stored)")
            for note in report.notes:
                _note(f"{collector.source} {service.key}: {note}")
        if output:
            written = write_posts(store.posts(services=list(services), sources=[collector.source],
                                              since=since, until=until), output)
            _note(f"wrote {written:,} posts ({format_time(since)} to {format_time(until)}) to {output}")
        store_name = store.path
    if failure is not None:
        raise failure
    if not quiet:
        _note(f"store: {store_name}")


@click.group()
def collect():
    """Pull posts from a live source into the post store (resumable, never duplicated).

    Every page of posts is saved together with a checkpoint, so an interrupted collect
    resumes where it stopped and a window collected twice changes nothing. Credentials
    come from the environment or the user config file (`outage-signals configure`).

    \b
    Examples:
      outage-signals collect reddit --service slack --since 6h
      outage-signals collect twitter --service chatgpt --since 2h --max-posts 500
      outage-signals collect bluesky --service slack --since 6h
      outage-signals collect mastodon --service slack --instance mastodon.social
      outage-signals detect --store --since 6h
    """


@collect.command()
@_collect_options
@click.option("--comments", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also read the comments of this many of the newest outage threads found "
                   "(\"is X down?\" megathreads).")
@click.option("--site", help="praw.ini section to read credentials from (praw's site name).")
@click.option("--oauth-url", help="API base URL (default https://oauth.reddit.com; env "
                                  "OUTAGE_SIGNALS_REDDIT_OAUTH_URL).")
@click.option("--reddit-url", help="Token endpoint base URL (default https://www.reddit.com; env "
                                   "OUTAGE_SIGNALS_REDDIT_URL).")
@_fail_cleanly
def reddit(services, since, until, output, store_path, max_posts, max_wait, quiet, comments, site,
           oauth_url, reddit_url):
    """Collect Reddit posts with praw: catalog searches over r/all and the service's own
    subreddits, newest first, down to --since.

    Credentials: REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET (add REDDIT_USERNAME and
    REDDIT_PASSWORD for a script app), the user config file, or praw.ini. Reddit lists at
    most about 1000 posts per query; older posts are out of its reach.

    \b
    Examples:
      outage-signals collect reddit --service slack --since 6h
      outage-signals collect reddit --service chatgpt --comments 3 -o chatgpt.jsonl
    """
    from outage_signals.collectors.reddit import RedditCollector
    from outage_signals.source_settings import reddit_settings

    settings = reddit_settings(load_user_config(), site_name=site, oauth_url=oauth_url,
                               reddit_url=reddit_url)
    collector = RedditCollector(settings)

    def read_threads(driver, store, service, since, until):
        if not comments:
            return None
        queries = collector.thread_queries(store.posts(services=[service.key], since=since,
                                                       until=until), comments)
        return driver.collect(service, since, until, queries=queries) if queries else None

    _run(collector, services, since, until, output, store_path, max_posts, max_wait, quiet,
         after=read_threads)


@collect.command()
@_collect_options
@click.option("--archive", is_flag=True,
              help="Full-archive search (X Pro or Enterprise access) instead of the last 7 days.")
@click.option("--api-url", help="API base URL (default https://api.twitter.com; env "
                                "OUTAGE_SIGNALS_X_API_URL).")
@_fail_cleanly
def twitter(services, since, until, output, store_path, max_posts, max_wait, quiet, archive,
            api_url):
    """Collect posts from X with tweepy (API v2 search): any of the service's names with a
    problem word, retweets excluded, with author and place.

    Credentials: X_BEARER_TOKEN or the user config file. X bills per post read: set
    --max-posts to cap a run; the next run continues from where the budget ran out.

    \b
    Examples:
      outage-signals collect twitter --service chatgpt --since 2h --max-posts 500
      outage-signals collect twitter --service aws --archive --since 2024-12-01 --until 2024-12-02
    """
    from outage_signals.collectors.twitter import TwitterCollector
    from outage_signals.source_settings import twitter_settings

    settings = twitter_settings(load_user_config(), api_url=api_url)
    _run(TwitterCollector(settings, archive=archive), services, since, until, output, store_path,
         max_posts, max_wait, quiet)


@collect.command()
@_collect_options
@click.option("--lang", "languages", multiple=True, metavar="CODE",
              help="Only posts in this language (BCP-47, e.g. en or pt-BR; repeatable, one search "
                   "each). Default: every language.")
@click.option("--api-url", help="Server to log in at and search through (default "
                                "https://bsky.social; env OUTAGE_SIGNALS_BLUESKY_URL).")
@_fail_cleanly
def bluesky(services, since, until, output, store_path, max_posts, max_wait, quiet, languages,
            api_url):
    """Collect Bluesky posts with the atproto SDK (app.bsky.feed.searchPosts): each of the
    service's search terms over the window, newest first, with author handle, link and language.

    Credentials: BLUESKY_HANDLE and BLUESKY_APP_PASSWORD (an app password, from Settings >
    Privacy and security > App passwords) or the user config file; Bluesky refuses searches
    without a login. The login session is kept in a private file beside the config file and
    refreshed, as Bluesky allows few logins a day.

    \b
    Examples:
      outage-signals collect bluesky --service slack --since 6h
      outage-signals collect bluesky --service chatgpt --lang en --lang ja -o chatgpt.jsonl
    """
    from outage_signals.collectors.bluesky import BlueskyCollector
    from outage_signals.source_settings import bluesky_settings

    settings = bluesky_settings(load_user_config(), service_url=api_url)
    _run(BlueskyCollector(settings, languages=languages), services, since, until, output,
         store_path, max_posts, max_wait, quiet)


@collect.command()
@_collect_options
@click.option("--instance", "instances", multiple=True, metavar="HOST",
              help="Instance to read, as a host (mastodon.social) or URL; repeatable. Default: "
                   "MASTODON_INSTANCES, else the config file's list, else mastodon.social.")
@_fail_cleanly
def mastodon(services, since, until, output, store_path, max_posts, max_wait, quiet, instances):
    """Collect Mastodon statuses with Mastodon.py from several instances at once: the service's
    hashtag timelines (#slack, #slackdown), and full-text search where you have a token.

    Reblogs are skipped, HTML becomes text, authors are user@instance, and a post seen on two
    instances is stored once. Credentials (optional): MASTODON_ACCESS_TOKEN, a token of your
    home instance (the first of MASTODON_INSTANCES or the config file's list); it is sent to
    that instance only and enables search there.

    \b
    Examples:
      outage-signals collect mastodon --service slack --since 6h
      outage-signals collect mastodon --service aws --instance mastodon.social --instance hachyderm.io
    """
    from outage_signals.collectors.mastodon import MastodonCollector
    from outage_signals.source_settings import mastodon_settings

    settings = mastodon_settings(load_user_config(), instances=instances)
    _run(MastodonCollector(settings), services, since, until, output, store_path, max_posts,
         max_wait, quiet)


@click.command("import")
@input_options
@click.option("--format", "fmt", required=True, type=click.Choice(IMPORT_FORMATS),
              help="twarc2: JSONL pages or flattened tweets; reddit-dump: Pushshift / "
                   "Arctic-Shift submissions or comments.")
@click.option("--service", metavar="KEY", help="Set this catalog key on every post (default: "
                                              "none; services are then matched by name).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write JSONL here instead of the store (.gz compresses; - is stdout).")
@click.option("--store", "store_path", is_flag=False, flag_value="", default=None, metavar="[DB]",
              help="Post store to write to (default: the per-user store).")
@_fail_cleanly
def import_(inputs, fmt, service, output, store_path, skip_invalid, rejects):
    """Read archives you already have into the store (or a JSONL file), streamed.

    FILE may be plain, .gz, .zst (Pushshift dumps), .bz2 or .xz. Importing the same file
    twice changes nothing. A bad line stops the import naming its file and line, unless
    --skip-invalid sends it to --rejects.

    \b
    Examples:
      outage-signals import search.jsonl --format twarc2
      outage-signals import RS_2024-12.zst --format reddit-dump --service chatgpt
      outage-signals import tweets.jsonl --format twarc2 -o posts.jsonl.gz
    """
    from outage_signals.importers import ArchiveReader

    if service:
        load_catalog().get(service)
    if output and store_path is not None:
        raise click.UsageError("give -o or --store, not both")
    reader = ArchiveReader(list(inputs), fmt, skip_invalid=skip_invalid, rejects_path=rejects,
                           service=service)
    if output:
        written = write_posts(reader, output)
        _note(f"wrote {written:,} posts to {output}")
    else:
        from outage_signals.storing import SaveCounts

        counts = SaveCounts()
        with open_store(store_path) as store:
            batch = []
            for post in reader:
                batch.append(post)
                if len(batch) >= 5000:
                    counts += store.save(batch)
                    batch.clear()
                    _note(f"{counts.total:,} posts imported")
            counts += store.save(batch)
            _note(f"imported {counts.total:,} posts ({counts.inserted:,} new, {counts.updated:,} "
                  f"changed, {counts.unchanged:,} already stored) into {store.path}")
    if reader.rejected:
        _note(f"skipped {reader.rejected} invalid line(s), written to {rejects}; first: "
              f"{reader.first_problem}")


@click.command()
@click.option("--store", "store_path", metavar="DB", help="Post store (default: the per-user store).")
@click.option("--service", "services", multiple=True, metavar="KEY", help="Only posts collected "
              "for this service (repeatable).")
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable).")
@click.option("--since", type=TIME, help="Window start (ISO, UTC if no zone; or a span like 6h).")
@click.option("--until", type=TIME, help="Window end (exclusive).")
@click.option("-o", "--output", required=True, help="Output file: .jsonl, .jsonl.gz, .parquet, "
                                                    "or - for JSONL on stdout.")
@_fail_cleanly
def export(store_path, services, sources, since, until, output):
    """Write stored posts in a time window to JSON Lines or Parquet, oldest first.

    \b
    Examples:
      outage-signals export --service slack --since 2d -o slack.jsonl.gz
      outage-signals export --since 2025-06-01 --until 2025-06-02 -o june1.parquet
    """
    with open_store(store_path) as store:
        posts = store.posts(services=list(services) or None, sources=list(sources) or None,
                            since=since, until=until)
        if output.endswith(".parquet"):
            from outage_signals.exporting import write_parquet

            count = write_parquet(posts, output)
        else:
            count = write_posts(posts, output)
    _note(f"wrote {count:,} posts to {output}")


@click.command("store")
@click.option("--store", "store_path", metavar="DB", help="Post store (default: the per-user store).")
@_fail_cleanly
def store_info(store_path):
    """Show what the post store holds: posts per source and service, and collect checkpoints.

    \b
    Example:
      outage-signals store
    """
    with open_store(store_path) as store:
        click.echo(f"store: {store.path} (schema {store.schema_version}, {store.count():,} posts)")
        for source, service, count, oldest, newest in store.summary():
            click.echo(f"  {source:<9} {service or '-':<20} {count:>9,}  "
                       f"{format_time(oldest)} .. {format_time(newest)}")
        for source, service, query, state in store.checkpoints():
            covered = state.get("covered")
            where = f"covered {covered[0]} .. {covered[1]}" if covered else "nothing covered yet"
            if state.get("pending"):
                where += "; a pass is unfinished (the next collect resumes it)"
            click.echo(f"  checkpoint {source} {service} {query[:60]!r}: {where}")


@click.command()
@click.argument("source", type=click.Choice(["reddit", "twitter", "bluesky", "mastodon"]))
@_fail_cleanly
def configure(source):
    """Save a source's credentials in the user config file (created with 0600 permissions).

    Asks for each value; secrets are not echoed. Leave a value empty to skip it.
    Environment variables still win over the file.

    \b
    Examples:
      outage-signals configure reddit
      outage-signals configure twitter
      outage-signals configure bluesky
      outage-signals configure mastodon
    """
    from outage_signals.source_settings import write_source_table

    if source == "reddit":
        values = {
            "client_id": click.prompt("Reddit client id", default="", show_default=False),
            "client_secret": click.prompt("Reddit client secret", hide_input=True, default="",
                                          show_default=False),
            "username": click.prompt("Reddit username (script apps only)", default="",
                                     show_default=False),
        }
        if values["username"]:
            values["password"] = click.prompt("Reddit password", hide_input=True)
        if not (values["client_id"] and values["client_secret"]):
            raise InputError("a client id and a client secret are both needed "
                             "(create an app at https://www.reddit.com/prefs/apps)")
    elif source == "bluesky":
        values = {
            "handle": click.prompt("Bluesky handle (e.g. you.bsky.social)"),
            "app_password": click.prompt("Bluesky app password", hide_input=True),
        }
    elif source == "mastodon":
        values = {
            "instances": click.prompt("Mastodon instances, comma-separated (the first is your home)",
                                      default="mastodon.social"),
            "access_token": click.prompt("Access token of your home instance (optional)",
                                         hide_input=True, default="", show_default=False),
        }
        from outage_signals.source_settings import mastodon_instance_url

        for name in values["instances"].replace(",", " ").split():
            mastodon_instance_url(name)  # a bad instance name fails here, not on a run
    else:
        values = {"bearer_token": click.prompt("X API bearer token", hide_input=True)}
    path = user_config_path()
    write_source_table(path, source, values)
    _note(f"wrote [{source}] to {path} (readable by you only)")
