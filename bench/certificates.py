"""Benchmark: certificate PDFs in bulk, against bare WeasyPrint, and the second download.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/future_leaders \\
    .venv/bin/python bench/certificates.py --cohorts 15 60 --rounds 3

In a database of its own (`<name>_certificates`, dropped and made afresh) it makes one cohort
per size, every trainee certified (certificate_issue_manually, as staff do), and measures:

- in each of --rounds rounds, bare WeasyPrint: the same template's HTML for the same
  certificates, made beforehand (the data inlined), each written to PDF by WeasyPrint and
  nothing else; then the bulk run: the task `certification.certificate_pdfs_render` for the
  cohort, run in this process (its body, without a broker) into empty storage. PDFs per
  second of each by the wall clock (each round's ratio; the median is the figure) and by
  this process's CPU time (which the load of other processes hardly changes); SQL queries
  per certificate; renders counted from certification.pdf's log record of each;
- the second download of one certificate by its holder, through the view (Django's test
  client, bench.settings): time, and renders (must be 0), against the first download.

Storage is a temporary folder (MEDIA_ROOT). Prints a Markdown section on standard output.
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

RATIO_GOAL = 0.85


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cohorts", type=int, nargs="+", default=[15, 60], help="certificates per cohort")
    parser.add_argument("--rounds", type=int, default=3, help="bare and bulk runs per cohort")
    parser.add_argument("--downloads", type=int, default=20, help="second downloads timed (median shown)")
    return parser.parse_args(argv)


class RenderCount(logging.Handler):
    """Counts certification.pdf's "Rendered the PDF" records: one per WeasyPrint render."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.count = 0

    def emit(self, record):
        if record.getMessage().startswith("Rendered the PDF"):
            self.count += 1


def cohort_certified(size: int):
    """A cohort of `size` trainees, each certified by staff."""
    from certification.services.certificates import certificate_issue_manually
    from members.permissions import Role
    from tests.factories import CohortFactory, EnrolmentFactory, UserFactory

    staff = UserFactory(role=Role.NATIONAL_STAFF)
    cohort = CohortFactory(capacity=size)
    for _ in range(size):
        certificate_issue_manually(enrolment=EnrolmentFactory(cohort=cohort), actor=staff, reason="Bench.")
    return cohort


def bare_renders(pages: list[str]) -> tuple[float, float]:
    """WeasyPrint alone, on ready-made HTML: (wall seconds, CPU seconds of this process)."""
    from django.conf import settings
    from weasyprint import HTML

    base_url = (settings.BASE_DIR / "static").resolve().as_uri() + "/"
    wall, cpu = time.perf_counter(), time.process_time()
    for page in pages:
        HTML(string=page, base_url=base_url).write_pdf()
    return time.perf_counter() - wall, time.process_time() - cpu


def storage_empty(certificate_ids: list[int]) -> None:
    from django.core.files.storage import default_storage

    from certification.services.pdfs import certificate_pdf_stored_names

    for certificate_id in certificate_ids:
        for name in certificate_pdf_stored_names(certificate_id=certificate_id):
            default_storage.delete(name)


def measure_bulk(size: int, rounds: int, renders: RenderCount) -> dict:
    """`rounds` times: bare WeasyPrint on the cohort's pages, then the bulk task into empty
    storage. Each round's wall-clock ratio is kept (the median is shown: the load moves
    between rounds), and the CPU time of this process over all rounds, which other
    processes' load hardly changes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from certification.models import Certificate
    from certification.pdf import certificate_html
    from certification.tasks import certificate_pdfs_render_task

    cohort = cohort_certified(size)
    certificates = list(Certificate.objects.filter(enrolment__cohort=cohort))
    pages = [certificate_html(certificate) for certificate in certificates]
    wall_ratios, bulk_walls, bare_walls = [], [], []
    bulk_cpu = bare_cpu = 0.0
    queries = set()
    for _ in range(rounds):
        bare_wall, cpu = bare_renders(pages)
        bare_walls.append(bare_wall)
        bare_cpu += cpu
        storage_empty([certificate.pk for certificate in certificates])
        renders.count = 0
        with CaptureQueriesContext(connection) as captured:
            wall, cpu_started = time.perf_counter(), time.process_time()
            result = certificate_pdfs_render_task.apply(args=[cohort.pk]).get()
            bulk_wall, cpu = time.perf_counter() - wall, time.process_time() - cpu_started
        assert result == {"certificates": size, "rendered": size}, result
        assert renders.count == size, renders.count
        bulk_walls.append(bulk_wall)
        bulk_cpu += cpu
        wall_ratios.append(bare_wall / bulk_wall)  # (PDFs/s bulk) / (PDFs/s bare)
        queries.add(len(captured))
    again = certificate_pdfs_render_task.apply(args=[cohort.pk]).get()
    assert again["rendered"] == 0, again
    return {
        "size": size,
        "rounds": rounds,
        "pdfs/s": size / statistics.median(bulk_walls),
        "bare": size / statistics.median(bare_walls),
        "wall ratio": statistics.median(wall_ratios),
        "wall ratios": wall_ratios,
        "cpu pdfs/s": size * rounds / bulk_cpu,
        "cpu bare": size * rounds / bare_cpu,
        "cpu ratio": bare_cpu / bulk_cpu,
        "queries": max(queries),
        "all queries": queries,
        "queries per certificate": max(queries) / size,
    }


def measure_download(downloads: int, renders: RenderCount) -> dict:
    from django.test import Client

    from certification.services.certificates import certificate_issue_manually
    from members.permissions import Role
    from tests.factories import EnrolmentFactory, UserFactory

    staff = UserFactory(role=Role.NATIONAL_STAFF)
    certificate = certificate_issue_manually(enrolment=EnrolmentFactory(), actor=staff, reason="Bench.")
    client = Client()
    client.force_login(certificate.holder)
    url = f"/certificates/{certificate.pk}/certificate.pdf"

    def download() -> float:
        started = time.perf_counter()
        response = client.get(url)
        body = b"".join(response.streaming_content)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        assert body.startswith(b"%PDF")
        return elapsed

    renders.count = 0
    first = download()
    first_renders = renders.count
    renders.count = 0
    later = [download() for _ in range(downloads)]
    return {
        "first": first,
        "first renders": first_renders,
        "second": statistics.median(later),
        "second renders": renders.count,
        "downloads": downloads,
    }


def markdown(bulk: list[dict], download: dict) -> str:
    from bench.section import goal_line, markdown_table

    headers = ["", *(f"cohort of {row['size']}" for row in bulk)]
    lines = [
        ("PDFs per second, bulk run (wall clock, median round)", lambda r: f"{r['pdfs/s']:.1f}"),
        ("PDFs per second, bare WeasyPrint (wall clock, median round)", lambda r: f"{r['bare']:.1f}"),
        (
            "bulk ÷ bare, wall clock (median; each round)",
            lambda r: f"{r['wall ratio']:.2f} ({', '.join(f'{x:.2f}' for x in r['wall ratios'])})",
        ),
        ("PDFs per CPU second, bulk run", lambda r: f"{r['cpu pdfs/s']:.1f}"),
        ("PDFs per CPU second, bare WeasyPrint", lambda r: f"{r['cpu bare']:.1f}"),
        ("bulk ÷ bare, CPU time", lambda r: f"{r['cpu ratio']:.2f}"),
        ("SQL queries (per certificate)", lambda r: f"{r['queries']} ({r['queries per certificate']:.3f})"),
    ]
    body = [[label, *(value(row) for row in bulk)] for label, value in lines]
    wall_ratios = [row["wall ratio"] for row in bulk]
    cpu_ratios = [row["cpu ratio"] for row in bulk]
    queries = {count for row in bulk for count in row["all queries"]}
    download_rows = [
        [
            "first download (renders and stores)",
            f"{download['first'] * 1000:.0f} ms",
            str(download["first renders"]),
        ],
        [
            f"second download (median of {download['downloads']})",
            f"{download['second'] * 1000:.1f} ms",
            str(download["second renders"]),
        ],
    ]
    return "\n".join(
        [
            "### Certificate PDFs",
            "",
            f"Each round: bare WeasyPrint on the cohort's certificates' HTML (made beforehand, the "
            f"data inlined), then the bulk task's body (`certification.certificate_pdfs_render`) "
            f"in this process into empty storage; {bulk[0]['rounds']} rounds. The CPU time is this "
            f"process's own, which other work on the machine hardly changes.",
            "",
            markdown_table(headers, body),
            "",
            "The holder's downloads through the view (Django's test client):",
            "",
            markdown_table(["download", "time", "WeasyPrint renders"], download_rows),
            "",
            goal_line(
                f"bulk PDFs per second at least {RATIO_GOAL}x bare WeasyPrint (wall clock, median round)",
                met=min(wall_ratios) >= RATIO_GOAL,
                figure=", ".join(f"{ratio:.2f}x" for ratio in wall_ratios),
            ),
            goal_line(
                f"the same, in CPU time (at least {RATIO_GOAL}x)",
                met=min(cpu_ratios) >= RATIO_GOAL,
                figure=", ".join(f"{ratio:.2f}x" for ratio in cpu_ratios),
            ),
            goal_line(
                "SQL queries per cohort flat in its size",
                met=len(queries) == 1,
                figure=" / ".join(str(row["queries"]) for row in bulk) + " queries in all",
            ),
            goal_line(
                "the second download is served from storage, not rendered",
                met=download["second renders"] == 0 and download["first renders"] == 1,
                figure=f"{download['second renders']} renders in {download['downloads']} downloads, "
                f"{download['second'] * 1000:.1f} ms against {download['first'] * 1000:.0f} ms",
            ),
            "",
        ]
    )


def markdown_section(argv: list[str]) -> str:
    """The benchmark, run in a process of its own (it configures Django for its database)."""
    from bench.section import section_in_subprocess

    return section_in_subprocess(Path(__file__), argv)


def main(argv: list[str] | None = None) -> None:
    from bench.section import database_create, postgres_url_required

    args = parse_args(argv)
    os.environ["DATABASE_URL"] = database_create(postgres_url_required(), "certificates")
    os.environ.pop("REDIS_URL", None)  # tasks run in this process; no broker
    os.environ["EMAIL_URL"] = "dummymail://"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ["HTTPS"] = "false"  # the test client speaks plain HTTP
    media = tempfile.TemporaryDirectory()
    os.environ["MEDIA_ROOT"] = media.name
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("load_seeds", verbosity=0, stdout=sys.stderr)  # standard output is the section
    renders = RenderCount()
    pdf_logger = logging.getLogger("certification.pdf")
    pdf_logger.addHandler(renders)
    pdf_logger.setLevel(logging.DEBUG)
    pdf_logger.propagate = False  # counted, not printed
    print(f"Database {os.environ['DATABASE_URL']}, storage {media.name}", file=sys.stderr)
    bulk = []
    for size in args.cohorts:
        bulk.append(measure_bulk(size, args.rounds, renders))
        print(f"cohort of {size} measured", file=sys.stderr)
    download = measure_download(args.downloads, renders)
    media.cleanup()
    print(markdown(bulk, download))


if __name__ == "__main__":
    main()
