"""The ``outage-signals`` command line: a thin layer over the library.

Each command parses its options, calls one library function and prints the result. Errors the
user can fix (:class:`~outage_signals.errors.OutageSignalsError`) become one line on stderr and
exit status 1; click's own usage errors exit 2.
"""

from __future__ import annotations

import json
import sys

import click

from outage_signals import __version__, classifying, locating
from outage_signals.catalog import load_catalog
from outage_signals.cli_common import (
    DURATION,
    TIME,
    _fail_cleanly,
    _labeled,
    _model,
    _note,
    _read,
    input_options,
    model_option,
    open_store,
    posts_from,
    store_option,
)
from outage_signals.errors import InputError
from outage_signals.jsonl import write_posts
from outage_signals.output import FORMATS, render


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="outage-signals")
def main():
    """Notice online-service outages in social-media posts.

    \b
    Examples:
      outage-signals detect data/samples/chatgpt-replay.jsonl.gz
      outage-signals classify posts.jsonl > scored.jsonl
      outage-signals simulate --service slack --days 2 -o slack.jsonl
    """


@main.command()
@input_options(required=False)
@store_option
@click.option("--service", "services", multiple=True, metavar="KEY",
              help="Only this catalog key (repeatable). Default: every service found.")
@click.option("--since", type=TIME, help="Ignore posts before this time (UTC if no zone).")
@click.option("--until", type=TIME, help="Ignore posts at or after this time (UTC if no zone).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format. Default: table on a terminal, json otherwise.")
@click.option("--bin", "bin_size", default="1min", show_default=True,
              help="Count bin width (a pandas offset such as 1min or 5min).")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False),
              help="Judge services against baselines fitted earlier (`outage-signals baseline`) "
                   "instead of fitting on this window.")
@click.option("--chart", "chart_dir", type=click.Path(file_okay=False),
              help="Also write a spread chart per incident (SVG: share and lift per country "
                   "and region, first reporters marked) into this directory.")
@model_option
@_fail_cleanly
def detect(inputs, store_path, services, since, until, fmt, bin_size, baseline_file, chart_dir,
           model_path, skip_invalid, rejects):
    """Find outages in posts already on disk: classify, count, detect, locate.

    INPUT is JSON Lines of post records (.jsonl, .jsonl.gz, a directory of them, or - for
    stdin); --store reads the post store instead. Prints one row (or JSON object) per
    incident, with the estimated start and its interval, end, peak rate, ratio to baseline,
    posts and the countries reporting.

    \b
    Examples:
      outage-signals detect data/samples/chatgpt-replay.jsonl.gz
      outage-signals detect posts/ --service chatgpt --since 2024-12-26T12:00Z --format json
      outage-signals detect today.jsonl --baseline baselines.json
      outage-signals detect --store --since 6h --service slack
      outage-signals detect data/samples/chatgpt-replay.jsonl.gz --chart charts/
    """
    from outage_signals import baseline_store
    from outage_signals.pipeline import detect as run_detect

    stored = baseline_store.load(baseline_file) if baseline_file else None
    catalog, posts = _posts_for_counting(inputs, services, bin_size, skip_invalid, rejects,
                                         store_path=store_path, since=since, until=until)
    incidents = run_detect(posts, catalog, model=_model(model_path, catalog),
                           services=list(services) or None, since=since, until=until,
                           bin_size=bin_size, baselines=stored, progress=_note)
    fmt = fmt or ("table" if sys.stdout.isatty() else "json")
    click.echo(render(incidents, fmt), nl=False)
    if chart_dir:
        from outage_signals.spread_chart import write_charts

        paths = write_charts(incidents, chart_dir)
        _note(f"wrote {len(paths)} spread chart{'s' if len(paths) != 1 else ''} to {chart_dir}")


@main.command()
@input_options(required=False)
@store_option
@click.option("--step", type=DURATION, default="5min", show_default=True,
              help="Time between the simulated scheduled runs.")
@click.option("--service", "services", multiple=True, metavar="KEY",
              help="Only this catalog key (repeatable; posts input). For a count CSV: the "
                   "service name (default: the file name).")
@click.option("--bin", "bin_size", default="1min", show_default=True,
              help="Count bin width for posts input (a count CSV keeps its own spacing).")
@click.option("--warmup", type=DURATION, default="1d", show_default=True,
              help="History before the first run; no incidents are raised inside it.")
@click.option("--history", type=DURATION, default="28d", show_default=True,
              help="How much past each day's baseline is fitted on.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format. Default: table on a terminal, json otherwise.")
@click.option("--status", "status_file", type=click.Path(exists=True, dir_okay=False),
              help="Status-page incidents (JSON Lines from `collect statuspage -o`) to measure "
                   "the lead against; with --store the stored ones are used.")
@model_option
@_fail_cleanly
def backtest(inputs, store_path, step, services, bin_size, warmup, history, fmt, status_file,
             model_path, skip_invalid, rejects):
    """Replay history as if a scheduled run had happened every --step, seeing only the past.

    Each UTC day's baseline is fitted on the days before it (without the incidents already
    found); alarms use only data up to each run; `detected_at` is the first run that raised
    the incident at its level. Extra fields: `possible_at` (first run that saw it at all) and
    `start_at_detection` (the start as estimated at `detected_at`).

    INPUT is posts (JSON Lines, as for detect) or count series: CSV files with a `timestamp`
    column (naive times are UTC) and a `count` or `value` column, one service per file;
    --store replays the post store.

    Where a provider's status page acknowledged an incident (stored by `collect statuspage`
    or given with --status), the incident gets `status_page` with `lead_minutes` (the
    acknowledgement minus `detected_at`: positive when we were first) and a summary line goes
    to stderr.

    \b
    Examples:
      outage-signals backtest data/samples/chatgpt-replay.jsonl.gz --step 1min
      outage-signals backtest Twitter_volume_AAPL.csv --step 5min --format csv
      outage-signals backtest --store --service slack
      outage-signals backtest posts.jsonl --status github-incidents.jsonl
    """
    from outage_signals import backtesting, status_history

    # Read first: a bad line should stop the command before minutes of replay.
    status_known = status_history.read_jsonl(status_file) if status_file else None
    replay = backtesting.Replay(step=step, warmup_days=warmup.total_seconds() / 86400,
                                history_days=history.total_seconds() / 86400)
    series = _count_csvs(inputs, services)
    if series is not None:
        incidents = backtesting.backtest_counts(series, replay, progress=_note)
    else:
        catalog, posts = _posts_for_counting(inputs, services, bin_size, skip_invalid, rejects,
                                             store_path=store_path)
        incidents = backtesting.backtest_posts(posts, catalog, replay,
                                               model=_model(model_path, catalog),
                                               services=list(services) or None,
                                               bin_size=bin_size, progress=_note)
    _status_lead(incidents, store_path, status_known)
    fmt = fmt or ("table" if sys.stdout.isatty() else "json")
    click.echo(render(incidents, fmt), nl=False)


def _status_lead(incidents, store_path, known) -> None:
    """Mark the incidents a status page confirmed (``known``: status incidents by service,
    else the store's), and say how far ahead we were."""
    from outage_signals import status_history

    if known is None and store_path is None:
        return
    if known is None:
        with open_store(store_path) as store:
            known = status_history.stored_by_service(store)
    status_history.annotate(incidents, known)
    _note(status_history.lead_summary(incidents) or
          f"none of {len(incidents)} incidents matches a status-page incident")


@main.command()
@input_options(required=False)
@store_option
@click.option("--service", "services", multiple=True, metavar="KEY",
              help="Only this catalog key (repeatable; posts input). For a count CSV: the "
                   "service name (default: the file name).")
@click.option("--bin", "bin_size", default="1min", show_default=True,
              help="Count bin width for posts input.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write the baselines (JSON).")
@_fail_cleanly
def baseline(inputs, store_path, services, bin_size, output, skip_invalid, rejects):
    """Fit each service's seasonal baseline on history, once, for later `detect --baseline`.

    A scheduled run then judges today's posts against weeks of history without reading them
    again. Surges found in the history are left out of the fit. Give at least a day of
    history; a week adds a weekend factor, two weeks a factor per weekday.

    INPUT is posts (JSON Lines) or count CSVs (`timestamp`, `count` or `value`); --store
    fits on the post store.

    \b
    Examples:
      outage-signals baseline archive/2025-01/ -o baselines.json
      outage-signals detect today.jsonl --baseline baselines.json
    """
    from outage_signals import baseline_store
    from outage_signals.pipeline import count_posts

    fitted = {}
    series = _count_csvs(inputs, services)
    if series is not None:
        for key, counts in series:
            fitted[key] = baseline_store.fit_service(counts)
        history = (min(c.index[0] for _, c in series), max(c.index[-1] for _, c in series))
    else:
        catalog, posts = _posts_for_counting(inputs, services, bin_size, skip_invalid, rejects,
                                             store_path=store_path)
        counted = count_posts(posts, catalog, services=list(services) or None,
                              bin_size=bin_size, progress=_note)
        if counted is None:
            raise InputError("no posts to fit a baseline on")
        for key in counted.services:
            fitted[key] = baseline_store.fit_service(counted.counts[key], counted.chatter[key])
        history = (counted.counts.index[0], counted.until)
    baseline_store.save(output, fitted, history)
    days = (history[1] - history[0]).total_seconds() / 86400
    _note(f"wrote baselines of {len(fitted)} service(s) from {days:.1f} days of history to {output}")


def _count_csvs(inputs, services) -> list | None:
    """``(service, counts)`` per count-CSV input, or ``None`` when the inputs are posts.

    Mixing the two kinds, or a number of --service values that does not match the files, is
    a user error.
    """
    from outage_signals import backtesting

    csvs = [name for name in inputs if name.lower().endswith(".csv")]
    if not csvs:
        return None
    if len(csvs) != len(inputs):
        raise InputError("give either count CSV files or post files, not both")
    if services and len(services) != len(csvs):
        raise InputError("with count CSVs, give one --service per file (or none)")
    return [backtesting.read_count_csv(name, services[n] if services else None)
            for n, name in enumerate(csvs)]


def _posts_for_counting(inputs, services, bin_size: str, skip_invalid: bool, rejects: str, *,
                        store_path=None, since=None, until=None):
    """Check the options, then read the posts (files, or the store): ``(catalog, posts)``."""
    _check_bin(bin_size)
    catalog = load_catalog()
    for key in services:
        catalog.get(key)  # fail before reading a large input
    posts = posts_from(inputs, store_path, skip_invalid, rejects, services=services, since=since,
                       until=until)
    if store_path is None:
        _note(f"read {len(posts):,} posts")
    return catalog, posts


def _check_bin(bin_size: str) -> None:
    import pandas as pd

    try:
        delta = pd.Timedelta(pd.tseries.frequencies.to_offset(bin_size))
    except (ValueError, TypeError):
        raise InputError(f"--bin {bin_size!r} is not a time span like 1min or 5min") from None
    if delta < pd.Timedelta("1min") or delta > pd.Timedelta("1h"):
        raise InputError(f"--bin {bin_size!r} must be between 1min and 1h")


@main.command()
@input_options
@click.option("-o", "--output", default="-", show_default=True,
              help="Where to write (JSONL; .gz compresses; - is stdout).")
@model_option
@_fail_cleanly
def classify(inputs, output, model_path, skip_invalid, rejects):
    """Add `relevance` (0–1) and `relevant` to each post, using the bundled model or --model.

    A post without `service` is scored for every service its text names (listed in
    `services`), and its relevance is the highest of those.

    \b
    Example:
      outage-signals classify data/samples/chatgpt-replay.jsonl.gz -o scored.jsonl
      outage-signals classify posts.jsonl --model my-model.skops -o scored.jsonl
    """
    posts = _read(inputs, skip_invalid, rejects)
    catalog = load_catalog()
    model = _model(model_path, catalog)
    count = write_posts(classifying.annotate(posts, model), output)
    _note(f"classified {count:,} posts (threshold {model.threshold:.2f})")


@main.command()
@click.argument("labeled", nargs=-1, type=click.Path(exists=True), metavar="[LABELED]...")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write the model (skops).")
@click.option("--no-bundled", is_flag=True,
              help="Train on LABELED only, without the bundled corpus.")
@_fail_cleanly
def train(labeled, output, no_bundled):
    """Train the relevance model on the bundled corpus plus your labelled files.

    LABELED: JSON Lines files (or directories of them) with `text`, `service`, `label`
    (0/1), optionally `kind` and `lang`, as `outage-signals label` writes them. Training is
    deterministic: the same examples give the same model. About 10 s for 6,000 examples.

    \b
    Examples:
      outage-signals train -o outage_signals/data/relevance-model.skops   # the bundled model
      outage-signals train my-labels.jsonl -o my-model.skops
      outage-signals classify posts.jsonl --model my-model.skops
    """
    examples = ([] if no_bundled else classifying.load_labeled()) + _labeled(labeled)
    if not examples:
        raise InputError("nothing to train on: give LABELED files or drop --no-bundled")
    _note(f"training on {len(examples):,} labelled examples")
    model = classifying.fit(examples, load_catalog(), progress=_note)
    model.save(output)
    cv = model.info["grouped_cv"]
    _note(f"wrote {output}: threshold {model.threshold:.2f}; on services held out of each fold "
          f"F1 {cv['f1']:.3f}, precision {cv['precision']:.3f}, recall {cv['recall']:.3f}")


@main.command()
@click.argument("labeled", nargs=-1, type=click.Path(exists=True), metavar="[LABELED]...")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="Score this model (or 'bundled') on every example instead of training on a "
                   "grouped split.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@_fail_cleanly
def evaluate(labeled, model_path, fmt):
    """Precision, recall, F1, PR-AUC and breakdowns of the relevance classifier.

    By default LABELED (default: the bundled corpus) is split by service: about a quarter of
    the services are held out, a model is trained on the rest exactly as `train` does, and
    the held-out posts are scored, next to a keyword rule on the same posts. With --model,
    that model is scored on every example of LABELED (your own held-out set).

    \b
    Examples:
      outage-signals evaluate
      outage-signals evaluate my-labels.jsonl --model bundled --format json
    """
    from outage_signals.relevance_eval import evaluate as run_evaluate
    from outage_signals.relevance_report import render_report

    examples = _labeled(labeled) or classifying.load_labeled()
    catalog = load_catalog()
    model = None
    if model_path:  # "bundled" means the default model (no path)
        model = _model(None if model_path == "bundled" else model_path, catalog)
    report = run_evaluate(examples, catalog, model=model, progress=_note)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        click.echo(render_report(report))


@main.command()
@input_options
@click.option("-o", "--output", "labeled", required=True, type=click.Path(dir_okay=False),
              help="Labelled file to append to (JSON Lines); resumed if it exists.")
@click.option("--kind", "ask_kind", is_flag=True, help="Also ask for a one-word kind.")
@model_option
@_fail_cleanly
def label(inputs, labeled, ask_kind, model_path, skip_invalid, rejects):
    """Label posts for your own services, most uncertain first; resumable.

    For each (post, service) pair the current model is least sure about: y relevant, n not,
    s skip, u undo, q quit, ? help. Every answer is saved at once; run again to resume.
    Then `outage-signals train LABELED -o my-model.skops`.

    \b
    Example:
      outage-signals label collected.jsonl -o my-labels.jsonl
    """
    from outage_signals.labeling import Item, label_loop

    posts = _read(inputs, skip_invalid, rejects)
    catalog = load_catalog()
    model = _model(model_path, catalog)
    items = [Item(post, service, prob) for post, service, prob in
             classifying.score_posts(posts, model)]

    def ask(prompt: str) -> str:
        try:
            return click.prompt(prompt, default="", show_default=False, prompt_suffix="")
        except click.Abort:
            raise EOFError from None

    summary = label_loop(items, labeled, model.threshold, ask, click.echo, ask_kind=ask_kind)
    _note(str(summary))


@main.command("evaluate-locations")
@click.argument("cases", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--misses", type=click.IntRange(min=0), default=20, show_default=True,
              help="How many wrong cases to list (text format).")
@_fail_cleanly
def evaluate_locations(cases, fmt, misses):
    """Accuracy of the location chain on labelled cases (default: the bundled set).

    CASES is JSON Lines of {"id", "method", "kind", "post": {...}, "country", "region"}
    (data/locations/README.md). Reports country and region accuracy per expected method and
    per kind, the share of junk strings that resolve to nothing, and the wrong cases.

    \b
    Examples:
      outage-signals evaluate-locations
      outage-signals evaluate-locations my-cases.jsonl --format json
    """
    from outage_signals import location_eval

    report = location_eval.evaluate(location_eval.read_cases(cases or location_eval.bundled_cases_path()))
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(location_eval.render(report, misses), nl=False)


@main.command()
@input_options
@click.option("-o", "--output", default="-", show_default=True,
              help="Where to write (JSONL; .gz compresses; - is stdout).")
@_fail_cleanly
def locate(inputs, output, skip_invalid, rejects):
    """Add `location` (country, region, method) to each post, offline.

    Uses the X place, then the profile location; null when nothing names a real place.

    \b
    Example:
      outage-signals locate posts.jsonl | jq -c .location
    """
    posts = locating.annotate(_read(inputs, skip_invalid, rejects))
    count = write_posts(posts, output)
    found = sum(1 for p in posts if p.extra.get("location"))
    _note(f"located {found:,} of {count:,} posts")


@main.command()
@click.option("--service", "services", multiple=True, metavar="KEY", default=("chatgpt",),
              show_default=True, help="Service to simulate (repeatable).")
@click.option("--start", type=TIME, help="Window start (UTC if no zone). Default: 3 days "
              "before the first outage's day, or 2025-01-06T00:00Z.")
@click.option("--days", type=click.FloatRange(min=0.01, max=60), default=3.0, show_default=True,
              help="Window length in days.")
@click.option("--outage", "outages", multiple=True, metavar="KEY@START/END",
              help="A true outage, e.g. chatgpt@2024-12-26T18:40Z/2024-12-27T02:20Z.")
@click.option("--events", "events_file", type=click.Path(exists=True, dir_okay=False),
              help="CSV of real outages (event_id, service, start_utc, end_utc).")
@click.option("--event", "event_ids", multiple=True, metavar="ID",
              help="Use this event_id from --events (repeatable; default: all).")
@click.option("--scale", type=click.FloatRange(min=0.01, max=100), default=1.0,
              show_default=True, help="Multiply every volume by this.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--labels", is_flag=True, help="Add the true `label` and `kind` to each post.")
@click.option("--sample", type=click.IntRange(min=1), help="Keep only N posts, drawn at random.")
@click.option("-o", "--output", default="-", show_default=True,
              help="Where to write posts (JSONL; .gz compresses).")
@click.option("--truth", type=click.Path(dir_okay=False),
              help="Write the true outages and counts here (JSON).")
@_fail_cleanly
def simulate(services, start, days, outages, events_file, event_ids, scale, seed, labels,
             sample, output, truth):
    """Write a realistic, seeded stream of posts around given outages.

    Streams have daily and weekly cycles, bursts, repeat authors, look-alike chatter, several
    sources and languages, and some place and profile locations.

    \b
    Examples:
      outage-signals simulate --service chatgpt --days 3 \\
          --outage chatgpt@2025-01-07T14:00Z/2025-01-07T16:00Z -o chatgpt.jsonl.gz
      outage-signals simulate --events ../shared/data/outage_events.csv \\
          --event chatgpt-2024-12-26 --start 2024-12-25T00:00Z -o replay.jsonl.gz
    """
    from outage_signals.simulation import scenarios

    result = scenarios.run(
        catalog=load_catalog(), services=list(services), start=start, days=days,
        outages=list(outages), events_file=events_file, event_ids=list(event_ids),
        scale=scale, seed=seed)
    posts = result.posts
    if sample is not None and sample < len(posts):
        posts = scenarios.sample(posts, sample, seed)
    if labels:
        for post in posts:
            label, kind = result.labels[post.key]
            post.extra["label"], post.extra["kind"] = label, kind
    count = write_posts(posts, output)
    if truth:
        with open(truth, "w", encoding="utf-8") as handle:
            json.dump(result.truth(), handle, indent=2)
            handle.write("\n")
    _note(f"wrote {count:,} posts with {len(result.events)} outage(s)")


@main.command()
@_fail_cleanly
def services():
    """List the catalog's services (packaged catalog plus your config file).

    \b
    Example:
      outage-signals services | grep bank
    """
    catalog = load_catalog()
    for category, members in catalog.by_category().items():
        for svc in members:
            click.echo(f"{svc.key:<20} {category:<10} {svc.name}")


def _register_io_commands() -> None:
    from outage_signals import cli_collect, cli_run, cli_status

    for command in (cli_collect.collect, cli_collect.import_, cli_collect.export,
                    cli_collect.store_info, cli_collect.configure, cli_run.run, cli_run.watch):
        main.add_command(command)
    cli_collect.collect.add_command(cli_status.statuspage)


_register_io_commands()


def _register_report_commands() -> None:
    from outage_signals import cli_report

    main.add_command(cli_report.plot)
    main.add_command(cli_report.report)


_register_report_commands()
