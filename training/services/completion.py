"""How an enrolment ends once its cohort has finished: completed, or not completed and why.

The one place that moves an enrolment to `completed` or `incomplete` (the data generator
aside, which writes history in bulk and keeps to the same rule). Two callers:

- the cohort finishing (training.services.cohort_lifecycle, and a cohort set to finished by
  hand in cohort_update): each enrolled trainee is settled against the completion rule
  (training.selectors.standing) as it stands at the end, or by the certificate they already
  hold (`certified_at`, kept by certification);
- certification issuing a certificate (certification.services.certificates): once the cohort
  has finished, the enrolment is completed, whether it was still enrolled or had ended not
  completed (a resubmission passed, or attendance corrected, after the end).

A certificate issued while the cohort is still running leaves the enrolment enrolled: the
trainee still takes part (registers, reminders and hand-ins count enrolled trainees), and
the cohort's end completes it.

Both are idempotent: an enrolment already settled is left as it is. Locks: the cohort row
(when finishing) before its enrolments, as the enrolment services do; issuing locks only
the enrolment, never the cohort, so the two cannot deadlock.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from training.models import Cohort, CohortStatus, Enrolment, EnrolmentStatus
from training.selectors.standing import Standing, enrolment_standing_list
from training.services.enrolment import _status_set

# Enrolments a certificate may still complete once the cohort has finished.
COMPLETABLE_STATUSES = [EnrolmentStatus.ENROLLED, EnrolmentStatus.INCOMPLETE]


@dataclass
class SettleReport:
    completed: list[int] = field(default_factory=list)  # enrolment ids
    incomplete: list[int] = field(default_factory=list)


def completion_note_for(standing: Standing) -> str:
    """What the completion rule still lacked, in a sentence: "Attended 2 of 3 sessions (3
    needed); 1 assignment not passed: Power map"."""
    parts = []
    if standing.sessions_total == 0:
        parts.append(_("The cohort held no sessions"))
    elif standing.sessions_needed:
        parts.append(
            ngettext(
                "Attended %(present)d of %(total)d session (%(wanted)d needed)",
                "Attended %(present)d of %(total)d sessions (%(wanted)d needed)",
                standing.sessions_total,
            )
            % {
                "present": standing.sessions_present,
                "total": standing.sessions_total,
                "wanted": standing.sessions_present + standing.sessions_needed,
            }
        )
    missing = standing.assignments_missing
    if missing:
        parts.append(
            ngettext(
                "%(count)d assignment not passed: %(titles)s",
                "%(count)d assignments not passed: %(titles)s",
                len(missing),
            )
            % {"count": len(missing), "titles": ", ".join(missing)}
        )
    return "; ".join(parts)


def _complete(enrolment: Enrolment, *, actor, note: str) -> None:
    if enrolment.completion_note:
        enrolment.completion_note = ""  # it said why not completed: no longer true
        enrolment.save(update_fields=["completion_note"])
    _status_set(enrolment, EnrolmentStatus.COMPLETED, actor=actor, note=note)


@transaction.atomic
def cohort_enrolments_settle(*, cohort: Cohort, actor=None) -> SettleReport:
    """The cohort has finished: each enrolled trainee becomes completed (the rule holds, or
    they hold a certificate) or not completed, with what was lacking in `completion_note`.
    Each change leaves an EnrolmentEvent (and a webhook event). Settling again changes
    nothing. Seven reads whatever the number of trainees, then per trainee two writes (status,
    event), three when not completed (its note)."""
    report = SettleReport()
    locked = Cohort.objects.select_for_update().filter(pk=cohort.pk, status=CohortStatus.FINISHED).first()
    if locked is None:
        return report  # not finished (or no longer): nothing ends yet
    enrolments = list(
        Enrolment.objects.select_for_update()
        .filter(cohort_id=locked.pk, status=EnrolmentStatus.ENROLLED)
        .order_by("pk")
    )
    standings = enrolment_standing_list([enrolment.pk for enrolment in enrolments])
    for enrolment in enrolments:
        standing = standings[enrolment.pk]
        if standing.meets_rule or enrolment.certified_at is not None:
            _complete(enrolment, actor=actor, note=_("The cohort finished: the completion rule is met."))
            report.completed.append(enrolment.pk)
            continue
        enrolment.completion_note = completion_note_for(standing)
        enrolment.save(update_fields=["completion_note"])
        _status_set(
            enrolment,
            EnrolmentStatus.INCOMPLETE,
            actor=actor,
            note=_("The cohort finished: %(note)s.") % {"note": enrolment.completion_note},
        )
        report.incomplete.append(enrolment.pk)
    return report


@transaction.atomic
def enrolment_complete_on_certification(*, enrolment_id: int, actor=None) -> Enrolment | None:
    """A certificate was issued for this enrolment: once its cohort has finished, it is
    completed (also after ending not completed). While the cohort runs nothing changes here;
    the cohort's end completes it. Call it inside the issuing transaction. Returns the
    enrolment if it changed."""
    enrolment = (
        Enrolment.objects.select_for_update(of=("self",))
        .select_related("cohort")
        .filter(pk=enrolment_id, status__in=COMPLETABLE_STATUSES, cohort__status=CohortStatus.FINISHED)
        .first()
    )
    if enrolment is None:
        return None
    _complete(enrolment, actor=actor, note=_("Certificate issued."))
    return enrolment
