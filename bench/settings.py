"""Settings for benchmarks: the project's own, plus the floor view's URL (bench/urls.py)."""

import os
from pathlib import Path

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# bench/throughput.py collects the static files into a folder of its own (whitenoise serves
# them, DEBUG off), rather than into var/static, which other work may be serving.
if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
