"""Where each enrolment stands against its programme version's completion rule.

The rule: attend at least `min_attendance_percent` of the cohort's sessions (cancelled ones
do not count; excused absences are not attendance), and pass every assignment marked
`required_for_completion`. This module is the one place that reads it; certification asks
here and never recomputes it.
"""

import math
from dataclasses import dataclass, field

from django.db.models import Count, Q

from training.models import (
    Assignment,
    Attendance,
    AttendanceStatus,
    Enrolment,
    Outcome,
    Session,
    SessionStatus,
    Submission,
    SubmissionStatus,
)


@dataclass
class Standing:
    enrolment: Enrolment
    sessions_total: int
    sessions_present: int
    min_attendance_percent: int
    required: dict[int, str] = field(default_factory=dict)  # assignment id: title
    passed: set[int] = field(default_factory=set)

    @property
    def attendance_percent(self) -> int:
        return math.floor(100 * self.sessions_present / self.sessions_total) if self.sessions_total else 0

    @property
    def sessions_needed(self) -> int:
        """More sessions to attend to reach the minimum share."""
        wanted = math.ceil(self.min_attendance_percent * self.sessions_total / 100)
        return max(0, wanted - self.sessions_present)

    @property
    def assignments_missing(self) -> list[str]:
        return [title for pk, title in self.required.items() if pk not in self.passed]

    @property
    def steps_short(self) -> int:
        """Sessions still needed plus required assignments not yet passed."""
        return self.sessions_needed + len(self.assignments_missing)

    @property
    def meets_rule(self) -> bool:
        return self.sessions_total > 0 and self.steps_short == 0


def enrolment_standing_list(enrolment_ids) -> dict[int, Standing]:
    """{enrolment id: Standing} in five queries, whatever the number of enrolments."""
    enrolments = list(
        Enrolment.objects.filter(pk__in=list(enrolment_ids)).select_related(
            "member", "cohort__version__programme"
        )
    )
    if not enrolments:
        return {}
    cohort_ids = {e.cohort_id for e in enrolments}
    version_ids = {e.cohort.version_id for e in enrolments}
    held = dict(
        Session.objects.filter(cohort_id__in=cohort_ids)
        .exclude(status=SessionStatus.CANCELLED)
        .values("cohort_id")
        .annotate(n=Count("pk"))
        .values_list("cohort_id", "n")
    )
    present = dict(
        Attendance.objects.filter(enrolment__in=enrolments, status=AttendanceStatus.PRESENT)
        .exclude(session__status=SessionStatus.CANCELLED)
        .values("enrolment_id")
        .annotate(n=Count("pk"))
        .values_list("enrolment_id", "n")
    )
    required: dict[int, dict[int, str]] = {pk: {} for pk in version_ids}
    for pk, title, version_id in Assignment.objects.filter(
        module__version_id__in=version_ids, required_for_completion=True
    ).values_list("pk", "title", "module__version_id"):
        required[version_id][pk] = title
    passed: dict[int, set[int]] = {}
    for enrolment_id, assignment_id in (
        Submission.objects.filter(
            Q(enrolment__in=enrolments), status=SubmissionStatus.SUBMITTED, outcome=Outcome.PASS
        )
        .values_list("enrolment_id", "assignment_id")
        .distinct()
    ):
        passed.setdefault(enrolment_id, set()).add(assignment_id)
    return {
        e.pk: Standing(
            enrolment=e,
            sessions_total=held.get(e.cohort_id, 0),
            sessions_present=present.get(e.pk, 0),
            min_attendance_percent=e.cohort.version.min_attendance_percent,
            required=required[e.cohort.version_id],
            passed=passed.get(e.pk, set()),
        )
        for e in enrolments
    }
