"""A Node harness folder made ready for the outside-verifier tests: `npm ci` once, while its
lock file is unchanged. Skips locally without node and npm; fails under CI=true."""

import fcntl
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI

STAMP_NAME = ".future-leaders-lock.sha256"


def missing(reason: str):
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def npm_installed(folder: Path, *, what: str) -> Path:
    """`folder` with its node_modules installed from its package-lock.json."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        missing(f"needs node and npm (apt-get install nodejs npm) to run {what}")
    stamp = folder / "node_modules" / STAMP_NAME
    lock = hashlib.sha256((folder / "package-lock.json").read_bytes()).hexdigest()
    # Parallel test workers (pytest-xdist) take turns: one installs, the others then see the stamp.
    with (folder / ".npm-ci.lock").open("w") as turn:
        fcntl.flock(turn, fcntl.LOCK_EX)
        _install_unless_stamped(folder, npm=npm, stamp=stamp, lock=lock)
    return folder


def _install_unless_stamped(folder: Path, *, npm: str, stamp: Path, lock: str) -> None:
    if not stamp.exists() or stamp.read_text() != lock:
        done = subprocess.run(  # noqa: S603 - npm with fixed arguments
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci failed in {folder}:\n{done.stdout}\n{done.stderr}")
        stamp.write_text(lock)
