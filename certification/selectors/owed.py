"""Who is owed a certificate: enrolments whose completion rule holds but that have none.

The rule is training's (training.selectors.standing): this asks it, never recomputes it.
Issuing normally follows the pass or the register that completes an enrolment, in an
after-commit receiver (certification.receivers); if that receiver fails (the cache or the
broker down, a worker killed) the certificate is still owed, and this finds it for the sweep
(certification.services.certificates.certificates_owed_issue) and the integrity check.
"""

from certification.models import Certificate
from training.models import Enrolment
from training.selectors.standing import enrolment_standing_list


def enrolments_owed_window(*, after: int = 0, limit: int | None = None) -> tuple[list[int], int | None]:
    """Among enrolments without a certificate (a revoked one counts as one), pk > `after`, in
    order, at most `limit` of them: the ids of those that meet the rule, and the last id
    looked at (None: nothing left to look at). Six queries, whatever the number of
    enrolments: the candidates, then the rule's own five."""
    candidates = (
        Enrolment.objects.filter(pk__gt=after)
        .exclude(pk__in=Certificate.objects.values("enrolment_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ids = list(candidates[:limit] if limit else candidates)
    if not ids:
        return [], None
    standings = enrolment_standing_list(ids)
    return sorted(pk for pk, standing in standings.items() if standing.meets_rule), ids[-1]


def enrolments_owed_certificate() -> list[int]:
    """Ids of every enrolment that meets the rule and has no certificate. Six queries."""
    return enrolments_owed_window()[0]
