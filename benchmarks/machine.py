"""What a benchmark ran on, shared by the scripts in this folder (they import it as a sibling)."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

import numpy as np
import pandas as pd
import scipy


def describe() -> dict[str, Any]:
    """Platform, CPU model, CPU count and the versions that matter for speed."""
    return {"platform": platform.platform(), "processor": _cpu_model(),
            "cpu_count": os.cpu_count(), "python": sys.version.split()[0],
            "numpy": np.__version__, "pandas": pd.__version__, "scipy": scipy.__version__}


def one_line(info: dict[str, Any]) -> str:
    """One line for a report."""
    return (f"{info['platform']}; processor {info['processor']}; {info['cpu_count']} CPUs; "
            f"Python {info['python']}")


def _cpu_model() -> str:
    """``platform.processor()``, else the model name Linux gives (the former is often empty)."""
    if platform.processor():
        return platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle
                          if line.startswith("model name")), "")
    except OSError:
        model = ""
    return f"{platform.machine()} ({model})" if model else platform.machine() or "(unknown)"
