"""`outage-signals run` and `watch`: the operator's scheduled cycle (see
:mod:`outage_signals.running`)."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from outage_signals.catalog import load_catalog
from outage_signals.cli_common import DURATION, TIME, _fail_cleanly, _model, model_option
from outage_signals.config import config_dir
from outage_signals.errors import ConfigError

#: Environment variable naming the deployment config when --config is not given.
ENV_DEPLOY = "OUTAGE_SIGNALS_DEPLOY"


def _config_path(given: str | None) -> Path:
    if given:
        return Path(given)
    if os.environ.get(ENV_DEPLOY):
        return Path(os.environ[ENV_DEPLOY])
    path = config_dir() / "deploy.toml"
    if not path.is_file():
        raise ConfigError(f"no deployment config: pass --config FILE, set {ENV_DEPLOY}, or write "
                          f"{path} (example in docs/operations.md)")
    return path


def _cycle(config_path, dry_run, now, model_path):
    from outage_signals.deploy_config import load_deploy_config
    from outage_signals.running import run_cycle

    catalog = load_catalog()
    config = load_deploy_config(_config_path(config_path), catalog)
    return run_cycle(config, catalog, now=now, dry_run=dry_run,
                     model=_model(model_path, catalog) if model_path else None)


_config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), metavar="FILE",
    help=f"Deployment config (TOML; default ${ENV_DEPLOY}, else "
         "~/.config/outage-signals/deploy.toml). See docs/operations.md.")


@click.command()
@_config_option
@click.option("--dry-run", is_flag=True,
              help="Collect nothing, change nothing, send nothing: detect on the stored posts "
                   "and print the alerts a real run would send.")
@click.option("--now", type=TIME, metavar="TIME",
              help="Run as if it were TIME (UTC): replay stored posts, e.g. to try a config "
                   "on an old outage.")
@model_option
@_fail_cleanly
def run(config_path, dry_run, now, model_path):
    """One scheduled cycle: collect since the last run, classify, detect over the recent
    window, reconcile with the incidents already announced, alert, exit.

    Safe from cron: overlapping runs skip (a lock), a killed run is finished by the next one,
    every alert goes out once per incident change (new, escalated, updated, resolved), and a
    failing destination is retried without holding up the others. Logs one JSON line per
    event on stderr. Exit status: 0 done (or skipped), 1 configuration error, 3 done but a
    source or destination failed (the next run retries).

    \b
    Examples:
      outage-signals run --config /etc/outage-signals/deploy.toml
      outage-signals run --config deploy.toml --dry-run
      */5 * * * *  outage-signals run --config /etc/outage-signals/deploy.toml 2>>/var/log/outage-signals.log
    """
    result = _cycle(config_path, dry_run, now, model_path)
    sys.exit(result.status)


@click.command()
@_config_option
@click.option("--every", type=DURATION, default="5min", show_default=True,
              help="Time between cycle starts.")
@model_option
@_fail_cleanly
def watch(config_path, every, model_path):
    """Run a cycle every --every until interrupted (Ctrl-C), for machines without cron or
    systemd timers. Each cycle is `outage-signals run`.

    \b
    Example:
      outage-signals watch --config deploy.toml --every 5min
    """
    period = every.total_seconds()
    try:
        while True:
            started = time.monotonic()
            _cycle(config_path, False, None, model_path)
            time.sleep(max(0.0, period - (time.monotonic() - started)))
    except KeyboardInterrupt:
        click.echo(f"outage-signals: watch stopped at {datetime.now(UTC):%H:%M:%S} UTC", err=True)
