"""The W3C Nu HTML checker (vnu.jar, from the npm registry) as one long-lived local service.

The jar takes 10-15 s to start on this machine (it reads its schemas and the HTML spec), and
then checks a page in well under a tenth of a second: the browser tests start it once, on the
first page they check, and ask it about every page after that, so a test fails on the page
it visited rather than at the end of the run. It listens on the loopback address only and
reads nothing from the network (its schemas and spec are built into the jar).
"""

import json
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.certification.npm_harness import missing, npm_installed
from tests.ports import free_port

FOLDER = Path(__file__).parent
JAR = FOLDER / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# A service for one test run, on a machine of few cores: the quick compiler only and one
# collector thread. For starting (schemas read) and 330 documents checked here, 18 CPU-seconds
# instead of 29 (startup 6 instead of 11), in the same time. The quick compiler's frames are
# larger: reading the schemas recurses deeply, and overflowed a 1 MB stack.
JVM_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss8m", "-Xmx768m"]
STARTUP_SECONDS = 120  # on a loaded 2-core machine; it is usually up in 15


@dataclass(frozen=True)
class NuError:
    line: int
    message: str
    extract: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message} [{self.extract.strip()}]"


class NuChecker:
    """One vnu.jar service for the whole test session, started on first use."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._url = ""
        self._up = False

    def errors(self, html: str) -> list[NuError]:
        """The Nu checker's errors (not warnings) for one HTML document."""
        self.launch()
        self._wait_until_up()
        request = urllib.request.Request(  # noqa: S310 - our own service on the loopback address
            f"{self._url}?out=json&level=error",
            data=html.encode(),
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            messages = json.load(response)["messages"]
        return [
            NuError(
                line=message.get("lastLine", 0),
                message=message["message"],
                extract=message.get("extract", ""),
            )
            for message in messages
            if message["type"] in {"error", "non-document-error"}
        ]

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None
            self._log.close()

    def launch(self) -> None:
        """Start the service without waiting for it: the browser tests call this as they
        begin, so that the jar reads its schemas while the live server and Chromium start."""
        if self._process is not None:
            return
        java = shutil.which("java")
        if not java:
            missing("needs Java for the Nu HTML checker (apt-get install default-jre-headless; .ci/run does)")
        npm_installed(FOLDER, what="the Nu HTML checker")
        port = free_port()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the service
        self._url = f"http://127.0.0.1:{port}/"
        self._process = subprocess.Popen(  # noqa: S603 - java with fixed arguments
            [
                java,
                *JVM_OPTIONS,
                "-Dnu.validator.servlet.bind-address=127.0.0.1",
                "-cp",
                str(JAR),
                "nu.validator.servlet.Main",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._log,  # a file, not a pipe: a full pipe would stall the service
        )
        self._up = False

    def _wait_until_up(self) -> None:
        if self._up:
            return
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._log.seek(0)
                said = self._log.read().decode(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"The Nu checker stopped: {said}")
            try:
                urllib.request.urlopen(self._url, timeout=2).close()  # noqa: S310
                self._up = True
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"The Nu checker did not start within {STARTUP_SECONDS} s")
