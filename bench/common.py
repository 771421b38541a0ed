"""Helpers shared by the benchmarks: the JSON last line and process memory."""

from __future__ import annotations

import json
import os
from typing import Any

import psutil


def report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")


def rss_mb(pid: int | None = None) -> float:
    return psutil.Process(pid or os.getpid()).memory_info().rss / 2**20
