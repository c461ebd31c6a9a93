"""django-dbbackup's commands log each line once, in our format (they add a handler of their own
when their logger has none, and the line then also reaches ours)."""

import os
import subprocess
import sys

from django.conf import settings


def test_a_backup_command_prints_each_line_once(tmp_path):
    environment = {
        **os.environ,
        # An empty SQLite file is enough to back up; the command's logging is what is read.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "BACKUP_DIR": str(tmp_path),
    }
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "dbbackup", "--noinput", "--output-filename=empty.dump"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output = (result.stdout + result.stderr).splitlines()
    lines = [line for line in output if "Writing file to empty.dump" in line]
    assert len(lines) == 2, lines  # the dump and its metadata file, one line each
    assert all("dbbackup.command" in line for line in lines), "in our format, which names the logger"
