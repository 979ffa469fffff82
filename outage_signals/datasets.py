"""Where the evaluation data lives, for notebooks and scripts run from a checkout.

- :func:`samples_dir`: the bundled samples (``data/samples`` of the repository, written by
  ``scripts/make-samples``), found by walking up from the working directory, so a notebook
  finds them from ``notebooks/`` as well as from the repository root.
- :func:`sample_truth`: the true outages of a sample (its ``.truth.json``).
- :func:`shared_data_dir`: the shared data folder beside the repository (``../shared/data``:
  NAB realTweets, the postmortem table of real outages). It is not part of the repository and
  may be absent; callers skip what needs it when this returns ``None``. The environment
  variable ``OUTAGE_SIGNALS_SHARED_DATA`` points elsewhere.
- :func:`nab_realtweets`: the NAB realTweets development subset found there, as count series
  with their anomaly labels and scoring windows (timestamps UTC).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from outage_signals.backtesting import read_count_csv
from outage_signals.errors import InputError
from outage_signals.records import parse_time
from outage_signals.simulation.profiles import OutageEvent

#: Environment variable naming the shared data folder (overrides the search).
SHARED_DATA_ENV = "OUTAGE_SIGNALS_SHARED_DATA"
#: The NAB subfolder of the shared data folder and the series it holds.
NAB_DIR = "nab-realtweets"
NAB_FILES = tuple(f"Twitter_volume_{name}.csv" for name in ("AAPL", "AMZN", "CRM", "FB", "IBM"))
#: NAB ignores alarms in the first min(15 % of rows, 750 rows) of each file.
NAB_PROBATION_SHARE, NAB_PROBATION_MAX = 0.15, 750


def _upwards(start: Path | None) -> list[Path]:
    here = (start or Path.cwd()).resolve()
    return [here, *here.parents]


def samples_dir(start: Path | None = None) -> Path:
    """``data/samples`` of the checkout that holds ``start`` (default: the working directory).

    Raises :class:`InputError` when no parent holds it (an installed package without the
    repository has no samples; ``scripts/make-samples`` writes them).
    """
    for folder in _upwards(start):
        candidate = folder / "data" / "samples"
        if (candidate / "chatgpt-replay.jsonl.gz").is_file():
            return candidate
    raise InputError(f"no data/samples above {start or Path.cwd()}; run from a checkout of "
                     "outage-signals (scripts/make-samples writes them)")


def sample_truth(name: str, start: Path | None = None) -> list[OutageEvent]:
    """The true outages of sample ``name`` (``"chatgpt-replay"``), from the
    ``NAME.truth.json`` that ``outage-signals simulate --truth`` wrote beside it."""
    path = samples_dir(start) / f"{name}.truth.json"
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
        return [OutageEvent(e["service"], parse_time(e["start"], "start"), parse_time(e["end"], "end"),
                            event_id=e.get("event_id")) for e in truth["events"]]
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a truth file ({exc})") from None


def shared_data_dir(start: Path | None = None) -> Path | None:
    """The shared data folder, or ``None`` when there is none.

    ``$OUTAGE_SIGNALS_SHARED_DATA`` when set (``None`` if it is not a directory); otherwise
    the first ``shared/data`` directory found walking up from ``start`` (default: the
    working directory), which for a checkout at ``work/main`` is ``work/shared/data``.
    """
    named = os.environ.get(SHARED_DATA_ENV)
    if named:
        return Path(named) if Path(named).is_dir() else None
    for folder in _upwards(start):
        candidate = folder / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


@dataclass(frozen=True)
class LabelledSeries:
    """A count series with anomaly labels, as NAB scores it.

    ``counts``: values per bin (UTC index, fixed spacing). ``labels``: the annotators' anomaly
    times (UTC). ``windows``: ``(start, end)`` spans NAB scores against, one per label.
    ``probation``: rows at the start where alarms are not scored.
    """

    name: str
    counts: pd.Series
    labels: tuple[pd.Timestamp, ...]
    windows: tuple[tuple[pd.Timestamp, pd.Timestamp], ...]
    probation: int

    @property
    def scored_from(self) -> pd.Timestamp:
        """First bin whose alarms count (after the probation)."""
        return self.counts.index[self.probation]


def _utc(text: str) -> pd.Timestamp:
    stamp = pd.Timestamp(text)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def nab_realtweets(directory: Path | None = None) -> list[LabelledSeries] | None:
    """The NAB realTweets development subset, or ``None`` when its files are not all there.

    ``directory`` defaults to ``nab-realtweets`` in :func:`shared_data_dir`. Series are named
    by ticker (``AAPL``); NAB's naive timestamps are taken as UTC.
    """
    if directory is None:
        shared = shared_data_dir()
        if shared is None:
            return None
        directory = shared / NAB_DIR
    directory = Path(directory)
    needed = [directory / name for name in (*NAB_FILES, "labels.json", "windows.json")]
    if not all(path.is_file() for path in needed):
        return None
    try:
        labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
        windows = json.loads((directory / "windows.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{directory}: cannot read the NAB labels ({exc})") from None
    out = []
    for name in NAB_FILES:
        _, counts = read_count_csv(directory / name)
        probation = min(int(NAB_PROBATION_SHARE * len(counts)), NAB_PROBATION_MAX)
        out.append(LabelledSeries(
            name=name.removeprefix("Twitter_volume_").removesuffix(".csv"), counts=counts,
            labels=tuple(sorted(_utc(t) for t in labels.get(name, []))),
            windows=tuple((_utc(a), _utc(b)) for a, b in windows.get(name, [])),
            probation=probation))
    return out
