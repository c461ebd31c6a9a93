"""`make run` on a fresh machine: the SQLite file, migrated (every migration, AddIndexOnline
included) and seeded with the demo data, serves each role's pages. The suite itself runs on
PostgreSQL under CI, so SQL written for PostgreSQL alone (a concurrent index, `SET LOCAL`,
`date_trunc`) would pass every other test and still break the first command a newcomer types."""

import pytest

from tests.config.test_settings import _run_manage

DEMO_LOGINS = ["staff", "regional", "trainer", "trainee"]

# `make setup`'s commands, then each demo role signed in: the home page and every page it
# links to, printed as "<role> <status> <path>". One process: each Django start costs seconds.
SETUP_AND_FIRST_VISIT = """
import re
from django.core.management import call_command
from django.test import Client
from members.models import User
call_command("migrate", interactive=False, verbosity=0)
call_command("load_seeds", "--demo", verbosity=0)
call_command("dashboard_rebuild", "--check")  # fails if the seeds left a kept figure out of step
for role in {roles!r}:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=f"{{role}}@demo.futureleaders.example"))
    home = client.get("/", follow=True)
    print(role, home.status_code, "/")
    links = dict.fromkeys(re.findall(r'href="(/[^"#?]*)"', home.content.decode()))
    for path in links:
        if not path.startswith(("/static/", "/media/", "/accounts/logout")):
            print(role, client.get(path, follow=True).status_code, path)
"""


@pytest.mark.processes
def test_make_run_sets_up_and_serves_on_sqlite(tmp_path):
    demo = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "REDIS_URL": "",
        "DEBUG": "true",
        "DEMO_MODE": "true",
        "HTTPS": "false",
    }
    result = _run_manage("shell", "-c", SETUP_AND_FIRST_VISIT.format(roles=DEMO_LOGINS), **demo)
    assert result.returncode == 0, result.stdout[-1000:] + result.stderr[-3000:]
    assert "0 tally rows differed" in result.stdout
    lines = result.stdout.splitlines()
    visits = [line.split(" ", 2) for line in lines if line.startswith(tuple(DEMO_LOGINS))]
    assert {role for role, _status, _path in visits} == set(DEMO_LOGINS)
    assert len(visits) > 4 * 5, visits
    failed = [visit for visit in visits if visit[1] != "200"]
    assert failed == [], failed
