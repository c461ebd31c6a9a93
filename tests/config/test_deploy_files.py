"""The shipped deployment files (deploy/; docs/deployment.md) parse and start what they say:
the Procfile's processes run as written, gunicorn's settings check out, and the reference
nginx configuration serves the app over TLS, keeps uploads out, and passes static files.

nginx is installed by .ci/run; under CI=true its part fails without it, locally it skips.
"""

import http.client
import os
import shlex
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.tasks import ping
from tests.ports import free_port
from tests.tls import self_signed_certificate

pytestmark = pytest.mark.processes  # gunicorn, nginx, a worker and beat

DEPLOY = Path(settings.BASE_DIR) / "deploy"
HOST = "futureleaders.example"
IN_CI = os.environ.get("CI") == "true"


def _procfile() -> dict[str, str]:
    processes = {}
    for line in (DEPLOY / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = command.strip()
    return processes


def _env(**extra) -> dict:
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
        "DEBUG": "false",
        "HTTPS": "false",
        "ALLOWED_HOSTS": f"127.0.0.1,localhost,{HOST}",
        **extra,
    }


def _start(command: str, **env) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - the Procfile's own commands
        shlex.split(command),
        cwd=settings.BASE_DIR,
        env=_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
    return output.decode(errors="replace")


def _get(url: str, *, host: str | None = None, context=None, timeout: float = 5.0):
    """(status, headers, body) of a GET, redirects not followed."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        link = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=context)
    else:
        link = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        link.request("GET", parts.path, headers={"Host": host} if host else {})
        response = link.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        link.close()


def _wait_for(url: str, process: subprocess.Popen, **kwargs):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args} stopped:\n{_stop(process)[-3000:]}")
        try:
            return _get(url, **kwargs)
        except (OSError, http.client.HTTPException):
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer within a minute:\n{_stop(process)[-3000:]}")


def test_the_procfile_names_the_four_processes_with_commands_that_exist():
    processes = _procfile()
    assert set(processes) == {"release", "web", "worker", "beat"}
    venv_bin = Path(sys.executable).parent
    for command in processes.values():
        program = shlex.split(command)[0]
        assert (venv_bin / program).exists() or program == "python", program
    assert "--queues=celery,sweeps" in processes["worker"]  # beat's sweeps go to their own queue


def test_gunicorn_settings_check_out():
    result = subprocess.run(  # noqa: S603 - gunicorn's own check of our settings
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--check-config",
            "--config",
            str(DEPLOY / "gunicorn.conf.py"),
            "config.wsgi",
        ],
        cwd=settings.BASE_DIR,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_web_process_serves_and_nginx_proxies_it(tmp_path):
    port = free_port()
    web = _start(_procfile()["web"], PORT=str(port), WEB_CONCURRENCY="1")
    try:
        status, headers, _body = _wait_for(f"http://127.0.0.1:{port}/healthz/live", web)
        assert status == 200

        nginx = "/usr/sbin/nginx"
        if not Path(nginx).exists():
            if IN_CI:
                pytest.fail("nginx is missing: .ci/run installs nginx-light")
            pytest.skip("nginx is not installed (`apt-get install nginx-light`; .ci/run does)")
        cert, key = self_signed_certificate(tmp_path, host=HOST)
        http_port, https_port = free_port(), free_port()
        site = (
            (DEPLOY / "nginx.conf")
            .read_text()
            .replace("127.0.0.1:8000", f"127.0.0.1:{port}")
            .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
            .replace("/etc/ssl/futureleaders/fullchain.pem", str(cert))
            .replace("/etc/ssl/futureleaders/privkey.pem", str(key))
            .replace("/srv/future-leaders/var/static/", f"{settings.STATIC_ROOT}/")
        )
        (tmp_path / "logs").mkdir()
        (tmp_path / "nginx.conf").write_text(
            # The workers read the static files where the checkout is (root's, in CI).
            ("user root;\n" if os.geteuid() == 0 else "")
            + "daemon off;\npid nginx.pid;\nerror_log logs/error.log;\nevents {}\n"
            "http {\ninclude /etc/nginx/mime.types;\naccess_log off;\n"
            f"client_body_temp_path {tmp_path}/body;\nproxy_temp_path {tmp_path}/proxy;\n"
            f"{site}\n}}\n"
        )
        command = [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)  # noqa: S603
        assert checked.returncode == 0, checked.stderr
        proxy = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            tls = ssl.create_default_context(cafile=str(cert))
            tls.check_hostname = False  # the request goes to 127.0.0.1 with Host: futureleaders.example
            base = f"https://127.0.0.1:{https_port}"
            status, headers, _body = _wait_for(f"{base}/healthz/live", proxy, host=HOST, context=tls)
            assert status == 200
            status, headers, _body = _get(f"http://127.0.0.1:{http_port}/", host=HOST)
            assert (status, headers["Location"]) == (301, f"https://{HOST}/")
            assert _get(f"{base}/media/anything.pdf", host=HOST, context=tls)[0] == 404
            static_file = next(Path(settings.STATIC_ROOT).rglob("*.css"))
            static_url = f"{base}/static/{static_file.relative_to(settings.STATIC_ROOT)}"
            status, headers, _body = _get(static_url, host=HOST, context=tls)
            assert status == 200
            assert "immutable" in headers["Cache-Control"]
        finally:
            proxy.terminate()
            proxy.wait(timeout=30)
    finally:
        _stop(web)


@pytest.mark.celery_as_configured
@pytest.mark.django_db(transaction=True)  # beat keeps its schedule in the test database
def test_the_worker_and_beat_start_as_the_procfile_says(redis_url):
    if connection.vendor != "postgresql":
        pytest.skip("beat keeps its schedule in PostgreSQL here (make test uses it under CI=true)")
    database = connection.settings_dict
    host = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    database_url = f"postgres://{database['USER']}@{host}/{database['NAME']}"
    processes = _procfile()
    worker = _start(
        processes["worker"] + " --pool=solo --without-gossip --without-mingle", REDIS_URL=redis_url
    )
    beat = _start(processes["beat"], REDIS_URL=redis_url, DATABASE_URL=database_url)
    try:
        assert ping.delay().get(timeout=60) == "pong"
        time.sleep(3)
        assert beat.poll() is None, _stop(beat)
    finally:
        _stop(worker)
        beat_log = _stop(beat)
    assert "beat: Starting" in beat_log
    assert "Traceback" not in beat_log, beat_log[-3000:]
