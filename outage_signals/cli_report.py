"""Commands that draw what ``detect`` found: ``plot`` (a chart file) and ``report`` (a standalone
HTML page). Registered on the main group by :mod:`outage_signals.cli`."""

from __future__ import annotations

import click

from outage_signals.cli_common import (
    TIME,
    _fail_cleanly,
    _model,
    _note,
    input_options,
    model_option,
    posts_from,
    store_option,
)
from outage_signals.errors import InputError


def _scan_options(func):
    """Window, bin, baseline and model options shared by ``plot`` and ``report``."""
    for option in reversed([
        click.option("--since", type=TIME, help="Ignore posts before this time (UTC if no zone)."),
        click.option("--until", type=TIME, help="Ignore posts at or after this time (UTC if no zone)."),
        click.option("--bin", "bin_size", default="1min", show_default=True,
                     help="Count bin width (a pandas offset such as 1min or 5min), as for detect."),
        click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False),
                     help="Judge services against baselines fitted earlier (`outage-signals "
                          "baseline`) instead of fitting on this window."),
        model_option,
    ]):
        func = option(func)
    return func


def _timelines(inputs, store_path, services, since, until, bin_size, baseline_file, model_path,
               skip_invalid, rejects):
    """Check the options, read the posts, and build the timelines (as ``detect`` scans)."""
    from outage_signals import baseline_store
    from outage_signals.catalog import load_catalog
    from outage_signals.timeline import check_bin, timelines

    check_bin(bin_size)
    catalog = load_catalog()
    for key in services:
        catalog.get(key)  # fail before reading a large input
    stored = baseline_store.load(baseline_file) if baseline_file else None
    posts = posts_from(inputs, store_path, skip_invalid, rejects, services=services, since=since,
                       until=until)
    if store_path is None:
        _note(f"read {len(posts):,} posts")
    return timelines(posts, catalog, model=_model(model_path, catalog),
                     services=list(services) or None, since=since, until=until,
                     bin_size=bin_size, baselines=stored, progress=_note)


@click.command()
@input_options(required=False)
@store_option
@click.option("--service", metavar="KEY",
              help="Catalog key to draw. Default: the service with the most serious incident "
                   "(else the most relevant posts).")
@click.option("--incident", "incident_no", type=click.IntRange(min=1), metavar="N",
              help="Zoom on the service's Nth incident in order of start, as detect lists them. "
                   "Default: the most serious (likely first, then most posts).")
@_scan_options
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Chart file to write: .png, .svg or .pdf.")
@_fail_cleanly
def plot(inputs, store_path, service, incident_no, since, until, bin_size, baseline_file,
         model_path, output, skip_invalid, rejects):
    """Draw a service's reports per minute against its baseline, incidents marked.

    The top panel spans the whole window with every incident shaded; below it, close-ups of
    one incident: the onset (start, its interval, detected_at and the alarm bins) and the
    recovery (end). INPUT is JSON Lines of post records, as for detect; --store reads the
    post store. The same classifier, baseline and detector as detect, so the chart shows
    what detect reports.

    \b
    Examples:
      outage-signals plot data/samples/chatgpt-replay.jsonl.gz --service chatgpt -o chatgpt.png
      outage-signals plot posts/ --service slack --since 2025-01-07T00:00Z -o slack.svg
      outage-signals plot --store --service discord --since 2d --incident 2 -o discord.png
    """
    from outage_signals.plotting import figure_format, save_figure, timeline_figure
    from outage_signals.timeline import most_telling

    figure_format(output)  # refuse a wrong suffix before the work
    lines = _timelines(inputs, store_path, (service,) if service else (), since, until, bin_size,
                       baseline_file, model_path, skip_invalid, rejects)
    line = lines[0] if service else most_telling(lines)
    if not service:
        _note(f"drawing {line.service} (choose another with --service)")
    incident = None
    if incident_no is not None:
        if incident_no > len(line.incidents):
            raise InputError(f"{line.service} has {len(line.incidents)} incident(s) in this window; "
                             f"--incident {incident_no} is out of range")
        incident = line.incidents[incident_no - 1]
    save_figure(timeline_figure(line, incident), output)
    _note(f"wrote {output}: {line.service}, {len(line.incidents)} incident(s)")


@click.command()
@input_options(required=False)
@store_option
@click.option("--service", "services", multiple=True, metavar="KEY",
              help="Catalog key to report on (repeatable). Default: every service with an "
                   "incident (or, when none has one, the one with the most relevant posts).")
@_scan_options
@click.option("--title", help="Heading of the page. Default: names the services.")
@click.option("--no-charts", is_flag=True,
              help="Leave out the timeline images (a much smaller file; spread charts stay).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="HTML file to write.")
@_fail_cleanly
def report(inputs, store_path, services, since, until, bin_size, baseline_file, model_path,
           title, no_charts, output, skip_invalid, rejects):
    """Write a standalone HTML report: charts, incidents, places and example posts.

    Per service: reports per minute against the baseline with each incident's start interval,
    first alert and recovery marked (as `plot` draws it); a table of incidents; and per
    incident its spread chart (countries and regions, lift against the usual mix), the most
    confidently relevant posts and the first reports. The page has no scripts and loads
    nothing from the network: images are embedded, so it can be mailed or attached as is.
    INPUT is JSON Lines of post records, as for detect; --store reads the post store.

    \b
    Examples:
      outage-signals report data/samples/chatgpt-replay.jsonl.gz -o chatgpt-report.html
      outage-signals report posts/ --service slack --service zoom --since 2025-01-07 -o r.html
      outage-signals report today.jsonl --baseline baselines.json -o today.html
    """
    from outage_signals.html_report import render_html, write_html
    from outage_signals.timeline import by_seriousness

    lines = _timelines(inputs, store_path, services, since, until, bin_size, baseline_file,
                       model_path, skip_invalid, rejects)
    if not services:
        lines = by_seriousness([line for line in lines if line.incidents]) or by_seriousness(lines)[:1]
    shown = ["the post store"] if store_path is not None else list(inputs)
    write_html(render_html(lines, inputs=shown, title=title, charts=not no_charts), output)
    incidents = sum(len(line.incidents) for line in lines)
    _note(f"wrote {output}: {len(lines)} service(s), {incidents} incident(s)")
