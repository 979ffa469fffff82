"""Writing posts to Parquet for researchers (pandas and pyarrow read it in one line).

Columns are those of :data:`outage_signals.records.FRAME_DTYPES` (``created_at`` UTC), plus
``record``: the full contract JSON object as a string, so no field is lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from outage_signals.errors import InputError
from outage_signals.jsonl import atomic_replace
from outage_signals.records import Post, to_frame


def write_parquet(posts: Iterable[Post], path: str) -> int:
    """Write ``posts`` to ``path`` atomically; returns the number written.

    Needs pyarrow (``pip install 'outage-signals[parquet]'``).
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError("Parquet output needs pyarrow: pip install 'outage-signals[parquet]' "
                         "(or write .jsonl.gz)") from None
    posts = list(posts)
    frame = to_frame(posts)
    frame["record"] = [json.dumps(p.to_dict(), ensure_ascii=False) for p in posts]
    with atomic_replace(Path(path)) as tmp:
        frame.to_parquet(tmp, index=False)
    return len(posts)
