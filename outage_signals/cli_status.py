"""``outage-signals collect statuspage``: read providers' Statuspage pages into the store.

Registered on the ``collect`` group by :mod:`outage_signals.cli`. The library does the work
(:mod:`outage_signals.status_history`); this module parses options and prints.
"""

from __future__ import annotations

import json

import click

from outage_signals.catalog import load_catalog
from outage_signals.cli_common import _fail_cleanly, _note, open_store
from outage_signals.errors import OutageSignalsError


@click.command("statuspage")
@click.option("--service", "services", multiple=True, metavar="KEY",
              help="Catalog key whose status page to read (repeatable). Default: every catalog "
                   "service whose status page is a Statuspage (status_api = \"statuspage\").")
@click.option("--url", metavar="URL",
              help="Read this Statuspage base URL for the one --service instead of the "
                   "catalog's (a proxy, a page the catalog lacks).")
@click.option("--store", "store_path", is_flag=False, flag_value="", default=None, metavar="[DB]",
              help="Post store to keep the incidents in (default: the per-user store).")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"),
              help="Also write every stored incident of these services as JSON Lines (- is "
                   "stdout).")
@click.option("--max-wait", type=click.IntRange(min=0), default=60, show_default=True,
              help="Longest wait in seconds for a rate-limited or failing page before giving up "
                   "on it.")
@_fail_cleanly
def statuspage(services, url, store_path, output, max_wait):
    """Read providers' Atlassian Statuspage pages (summary.json and incidents.json).

    Each page's recent incidents (resolved ones included) are kept in the post store, one
    row per incident, updated when the provider changes it, so reading again never
    duplicates. Scheduled runs (`outage-signals run`) read the pages themselves and mark each
    incident the provider acknowledged with when, and how many minutes after our alert;
    `outage-signals backtest --store` reports that lead time.

    \b
    Examples:
      outage-signals collect statuspage
      outage-signals collect statuspage --service github --service discord
      outage-signals collect statuspage --service chatgpt -o openai-incidents.jsonl
    """
    from outage_signals import status_history
    from outage_signals.retrying import RetryPolicy

    catalog = load_catalog()
    keys = [catalog.get(key).key for key in services]
    if url and len(keys) != 1:
        raise click.UsageError("--url needs exactly one --service")
    urls = status_history.page_urls(keys or [s.key for s in catalog], catalog,
                                    {keys[0]: url} if url else None)
    missing = [k for k in keys if k not in urls]
    if missing:
        raise OutageSignalsError(f"no Statuspage page known for {', '.join(missing)}; give --url "
                                 "or set status_page and status_api = \"statuspage\" in your "
                                 "catalog")

    def say(event, service, **fields):
        if event == "status_retry":
            _note(f"statuspage {service}: {fields['reason']}")
        elif event == "status_failed":
            _note(f"statuspage {service}: {fields['error']}")

    with open_store(store_path) as store:
        report = status_history.poll(store, urls, policy=RetryPolicy(max_wait=float(max_wait)),
                                     log=say, summaries=True)
        for key, summary in report.summaries.items():
            open_now = ", ".join(f"{i.name} ({i.impact}, since {_hm(i.acknowledged_at)})"
                                 for i in summary.incidents) or "no open incident"
            _note(f"statuspage {key}: {summary.description} [{summary.indicator}]; "
                  f"{report.read[key]} recent incidents, {report.changed[key]} new or changed; "
                  f"{open_now}")
        if output:
            for key in urls:
                for incident in status_history.load(store, key):
                    output.write(json.dumps({"service": key, **incident.to_dict()},
                                            ensure_ascii=False) + "\n")
        _note(f"store: {store.path}")
    if report.failures:
        failed = [f.split(":", 1)[0] for f in report.failures]
        raise OutageSignalsError(f"{len(failed)} of {len(urls)} status page(s) failed: "
                                 f"{', '.join(failed)}; the others were saved")


def _hm(ts) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC")
