"""Pieces every command shares: error handling, progress notes, time and span parameters,
input and model options, reading posts from files or the store."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import wraps

import click

from outage_signals import classifying
from outage_signals.config import parse_span
from outage_signals.errors import InvalidRecordError, OutageSignalsError
from outage_signals.jsonl import RecordReader
from outage_signals.records import parse_time


def _fail_cleanly(func):
    """Turn library errors into click's one-line, exit-1 errors."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except OutageSignalsError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def _note(message: str) -> None:
    click.echo(f"outage-signals: {message}", err=True)


_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*(min|m|h|d|w)$")
_AGO_UNITS = {"min": 60, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class Time(click.ParamType):
    """An ISO 8601 time; a value without a zone is taken as UTC. ``30min``, ``6h``, ``2d`` or
    ``1w`` mean that long before now."""

    name = "TIME"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        text = value.strip()
        ago = _AGO.match(text)
        if ago:
            seconds = float(ago.group(1)) * _AGO_UNITS[ago.group(2)]
            return datetime.now(UTC) - timedelta(seconds=seconds)
        try:
            return parse_time(text)
        except InvalidRecordError:
            try:
                naive = datetime.fromisoformat(text)
            except ValueError:
                self.fail(f"{value!r} is not an ISO 8601 time like 2024-12-26T18:40Z or a span "
                          "before now like 6h", param, ctx)
            return naive.replace(tzinfo=UTC) if naive.tzinfo is None else naive.astimezone(UTC)


TIME = Time()


def input_options(func=None, *, required: bool = True):
    """``INPUT...``, ``--skip-invalid`` and ``--rejects``, shared by every reading command.

    ``required=False`` for commands that can read the store instead (with :func:`store_option`).
    """
    if func is None:
        return lambda f: input_options(f, required=required)
    func = click.option("--rejects", default="rejected.jsonl", show_default=True,
                        type=click.Path(dir_okay=False),
                        help="Side file for rejected lines (with --skip-invalid).")(func)
    func = click.option("--skip-invalid", is_flag=True,
                        help="Write malformed lines to --rejects and go on, instead of stopping.")(
        func)
    return click.argument("inputs", nargs=-1, required=required,
                          metavar="INPUT..." if required else "[INPUT]...")(func)


def store_option(func):
    """``--store [PATH]``: read posts from the post store (the default one without PATH)."""
    return click.option(
        "--store", "store_path", is_flag=False, flag_value="", default=None, metavar="[DB]",
        help="Read posts from the SQLite post store that `collect` and `import` fill (the "
             "per-user default store when no path is given) instead of INPUT files.")(func)


def open_store(store_path: str | None):
    """The store at ``store_path`` (``""`` or ``None``: the per-user default)."""
    from outage_signals.storing import PostStore

    return PostStore(store_path or None)


def posts_from(inputs, store_path, skip_invalid: bool, rejects: str, *, services=(), since=None,
               until=None) -> list:
    """Posts from INPUT files or, with ``--store``, from the store (within the window)."""
    if store_path is not None:
        if inputs:
            raise click.UsageError("give INPUT files or --store, not both")
        with open_store(store_path) as store:
            posts = list(store.posts(services=list(services) or None, since=since, until=until))
            _note(f"read {len(posts):,} posts from {store.path}")
            return posts
    if not inputs:
        raise click.UsageError("give INPUT files (or --store)")
    return _read(inputs, skip_invalid, rejects)


def model_option(func):
    """``--model PATH``: a relevance model from `outage-signals train` instead of the bundled one."""
    return click.option("--model", "model_path", type=click.Path(dir_okay=False),
                        help="Relevance model file written by `outage-signals train` "
                             "(default: the bundled model).")(func)


def _model(model_path, catalog):
    if model_path:
        model = classifying.load_model(model_path, catalog)
        _note(f"model {model_path} (threshold {model.threshold:.2f})")
        return model
    return classifying.default_model(catalog)


def _labeled(names) -> list:
    """Labelled examples from each of ``names`` (files or directories), in order."""
    return [example for name in names for example in classifying.load_labeled(name)]


def _read(inputs, skip_invalid: bool, rejects: str):
    reader = RecordReader(list(inputs), skip_invalid=skip_invalid, rejects_path=rejects)
    posts = list(reader)
    if reader.rejected:
        _note(f"skipped {reader.rejected} invalid line(s), written to {rejects}; first: "
              f"{reader.first_problem}")
    return posts


class Duration(click.ParamType):
    """A time span such as 5min, 1h or 2d (pandas Timedelta syntax)."""

    name = "SPAN"

    def convert(self, value, param, ctx):
        import pandas as pd

        if isinstance(value, pd.Timedelta):
            return value
        try:
            return parse_span(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = Duration()
