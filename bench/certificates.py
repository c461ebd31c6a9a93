"""Benchmark: certificate PDFs in bulk, against bare WeasyPrint, and the second download.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/future_leaders \\
    .venv/bin/python bench/certificates.py --cohorts 20 80

In a database of its own (`<name>_certificates`, dropped and made afresh) it makes one cohort
per size, every trainee certified (certificate_issue_manually, as staff do), and measures:

- the bulk run: the task `certification.certificate_pdfs_render` for the cohort, run in this
  process (its body, without a broker) into empty storage: PDFs per second, SQL queries per
  certificate, renders counted from certification.pdf's log record of each;
- bare WeasyPrint: the same template's HTML for the same certificates, made beforehand (the
  data inlined), each written to PDF by WeasyPrint and nothing else, just before and just
  after the bulk run (the machine's load may change: the rate is the mean of the two);
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
    parser.add_argument("--cohorts", type=int, nargs="+", default=[20, 80], help="certificates per cohort")
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


def bare_rate(pages: list[str]) -> float:
    """PDFs per second of WeasyPrint alone, on ready-made HTML."""
    from django.conf import settings
    from weasyprint import HTML

    base_url = (settings.BASE_DIR / "static").resolve().as_uri() + "/"
    started = time.perf_counter()
    for page in pages:
        HTML(string=page, base_url=base_url).write_pdf()
    return len(pages) / (time.perf_counter() - started)


def measure_bulk(size: int, renders: RenderCount) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from certification.models import Certificate
    from certification.pdf import certificate_html
    from certification.tasks import certificate_pdfs_render_task

    cohort = cohort_certified(size)
    pages = [certificate_html(c) for c in Certificate.objects.filter(enrolment__cohort=cohort)]
    bare_before = bare_rate(pages)
    renders.count = 0
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = certificate_pdfs_render_task.apply(args=[cohort.pk]).get()
        seconds = time.perf_counter() - started
    bare_after = bare_rate(pages)
    assert result == {"certificates": size, "rendered": size}, result
    assert renders.count == size, renders.count
    again = certificate_pdfs_render_task.apply(args=[cohort.pk]).get()
    assert again["rendered"] == 0, again
    return {
        "size": size,
        "seconds": seconds,
        "pdfs/s": size / seconds,
        "bare before": bare_before,
        "bare after": bare_after,
        "bare": (bare_before + bare_after) / 2,
        "queries": len(captured),
        "queries per certificate": len(captured) / size,
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
        ("bulk run (certification.certificate_pdfs_render)", lambda r: f"{r['seconds']:.2f} s"),
        ("PDFs per second, bulk run", lambda r: f"{r['pdfs/s']:.1f}"),
        (
            "PDFs per second, bare WeasyPrint (before, after: mean)",
            lambda r: f"{r['bare before']:.1f}, {r['bare after']:.1f}: {r['bare']:.1f}",
        ),
        ("bulk ÷ bare", lambda r: f"{r['pdfs/s'] / r['bare']:.2f}"),
        ("SQL queries (per certificate)", lambda r: f"{r['queries']} ({r['queries per certificate']:.3f})"),
    ]
    body = [[label, *(value(row) for row in bulk)] for label, value in lines]
    ratios = [row["pdfs/s"] / row["bare"] for row in bulk]
    queries = [row["queries"] for row in bulk]
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
            "The bulk task's body in this process, into empty storage; bare WeasyPrint renders "
            "the same certificates' HTML, made beforehand, just before and just after it.",
            "",
            markdown_table(headers, body),
            "",
            "The holder's downloads through the view (Django's test client):",
            "",
            markdown_table(["download", "time", "WeasyPrint renders"], download_rows),
            "",
            goal_line(
                f"bulk PDFs per second at least {RATIO_GOAL}x bare WeasyPrint",
                met=min(ratios) >= RATIO_GOAL,
                figure=", ".join(f"{ratio:.2f}x" for ratio in ratios),
            ),
            goal_line(
                "SQL queries per cohort flat in its size",
                met=len(set(queries)) == 1,
                figure=" / ".join(str(q) for q in queries) + " queries in all",
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
        bulk.append(measure_bulk(size, renders))
        print(f"cohort of {size} measured", file=sys.stderr)
    download = measure_download(args.downloads, renders)
    media.cleanup()
    print(markdown(bulk, download))


if __name__ == "__main__":
    main()
