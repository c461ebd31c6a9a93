"""Settings for benchmarks: the project's own, plus the floor view's URL (bench/urls.py)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
