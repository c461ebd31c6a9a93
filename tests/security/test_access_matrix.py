"""Who may reach each URL: every named pattern, asked as every role, against real objects.

The table below states, for each URL name, the answer each role gets, in this order:

    anonymous  trainee  trainee_other  trainer  trainer_other  regional  regional_other  national

The objects in a URL belong to cohort A (region A), its trainer and its trainee; the
"_other" people are those of cohort B (region B). Answers: a status code, `login` (302 to
the sign-in page) or `302` (a redirect elsewhere). `post` rows are asked with an empty body
and rolled back. A URL name missing from the table fails the test: no view is added without
deciding who may use it.

A member whose role changes while signed in (a trainee accredited as a trainer, a trainer
demoted) is a row of test_role_changes.py: the same session asked before and after the change.

To see what every role gets now (when adding rows), run
`H4_OBSERVE=1 .venv/bin/pytest tests/security/test_access_matrix.py -k observe -s`.
"""

import os
import re

import pytest
from django.test import Client
from rest_framework.views import APIView

from tests.security.api_rows import API_ROWS
from tests.security.matrix import (
    Row,
    admin_model_rows,
    clients,
    database_fingerprint,
    mismatches,
    observed_table,
    permitted_role,
    pk,
    takes_post,
    url_patterns,
    view_class,
)
from tests.security.scenario import ROLES

# A security key cannot be made without a real authenticator device: these pages are asked
# about a key that does not exist (allauth asks to sign in again before looking it up).
NO_SUCH_KEY = lambda s: {"pk": 999999}  # noqa: E731

# Named patterns left out of the matrix, each with the reason.
EXCLUDED: dict[str, str] = {}


def _admin_object(view, model):
    if view in ("changelist", "add"):
        return lambda s: {}
    return lambda s: {
        "object_id": model._default_manager.order_by("pk").values_list("pk", flat=True).first() or 1
    }


# No role is Django staff: the admin is for operators (superusers), who are not a member role.
ADMIN_ROWS = admin_model_rows(
    lambda view, model: Row(
        "login login login login login login login login", kwargs=_admin_object(view, model)
    )
)

TABLE: dict[str, Row] = {
    **ADMIN_ROWS,
    **API_ROWS,
    "members:home": Row("200 302 302 302 302 302 302 302"),
    "members:trainee-home": Row("login 302 302 302 302 302 302 302"),
    "members:trainer-home": Row("login 302 302 302 302 302 302 302"),
    "members:staff-home": Row("login 403 403 403 403 403 403 200"),
    "members:consent": Row("login 200 200 200 200 200 200 200", post="login 400 400 400 400 400 400 400"),
    "members:profile-edit": Row(
        "login 200 200 200 200 200 200 200", post="login 400 400 400 400 400 400 400"
    ),
    # Members' data rights: each member their own; erasing another member is national staff's.
    "members:data-rights": Row("login 200 200 200 200 200 200 200", post="login 302 302 302 302 302 302 302"),
    "members:data-export-download": Row(
        "login 404 404 404 404 404 404 404", kwargs=lambda s: {"token": "not-a-link-of-ours"}
    ),
    "members:account-erase": Row(
        "login 200 200 200 200 200 200 200", post="login 400 400 400 400 400 400 400"
    ),
    "members:account-erased": Row("200 200 200 200 200 200 200 200"),
    "members:staff-member-find": Row("login 403 403 403 403 403 403 200"),
    "members:staff-member-erase": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 400",
        kwargs=lambda s: {"pk": s.enrolment.member_id},
    ),
    # The region regional staff oversee is set by national staff only (an empty form is a
    # 400); regional staff cannot set their own. Roles changing mid-session: test_role_changes.py.
    "members:staff-region-list": Row("login 403 403 403 403 403 403 200"),
    "members:staff-region-edit": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 400",
        kwargs=lambda s: {"pk": s.users["regional"].pk},
    ),
    "training:my-training": Row("login 200 200 403 403 403 403 403"),
    # Public: the finder, and each open cohort's page (cohort A is running: only its trainee,
    # who gets their own page of it, may open it; tests/training/test_cohort_finder.py).
    "training:cohort-list": Row("200 200 200 200 200 200 200 200"),
    "training:cohort-detail": Row("404 200 404 404 404 404 404 404", kwargs=pk("cohort")),
    "training:cohort-apply": Row(
        "login 200 404 403 403 403 403 403", post="login 400 404 403 403 403 403 403", kwargs=pk("cohort")
    ),
    "training:enrolment-withdraw": Row(
        "login 200 404 403 403 403 403 403", post="login 302 404 403 403 403 403 403", kwargs=pk("enrolment")
    ),
    "training:enrolment-offer": Row(
        "login 200 404 403 403 403 403 403", post="login 400 404 403 403 403 403 403", kwargs=pk("enrolment")
    ),
    "training:module-detail": Row("login 200 404 200 404 404 404 200", kwargs=pk("module")),
    "training:material-download": Row("login 200 404 200 404 404 404 200", kwargs=pk("material")),
    "training:assignment-detail": Row(
        "login 200 404 403 403 403 403 403", post="login 400 404 403 403 403 403 403", kwargs=pk("assignment")
    ),
    "training:submission-withdraw": Row(
        "login 200 404 403 403 403 403 403", post="login 302 404 403 403 403 403 403", kwargs=pk("submission")
    ),
    "training:submission-file": Row("login 200 404 200 404 404 404 200", kwargs=pk("submission_file")),
    "training:session-apology": Row(
        "login 200 404 403 403 403 403 403", post="login 302 404 403 403 403 403 403", kwargs=pk("session")
    ),
    "training:session-confirm": Row(
        "login 405 405 403 403 403 403 403", post="login 302 404 403 403 403 403 403", kwargs=pk("session")
    ),
    "training:session-ics": Row("login 200 404 200 404 404 404 200", kwargs=pk("session")),
    "training:checkin": Row("login 200 200 403 403 403 403 403", post="login 400 400 403 403 403 403 403"),
    "training:notice-preferences": Row(
        "login 200 200 200 200 200 200 200", post="login 302 302 302 302 302 302 302"
    ),
    "training:notice-unsubscribe": Row(
        "200 200 200 200 200 200 200 200",
        post="200 200 200 200 200 200 200 200",
        kwargs=lambda s: {"token": s.unsubscribe_token},
    ),
    "training:session-reply": Row(
        "200 200 200 200 200 200 200 200",
        post="400 400 400 400 400 400 400 400",
        kwargs=lambda s: {"token": s.reply_token},
    ),
    "training:notice-list": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 302"
    ),
    # Every member's feed holds the sessions they attend or run (so may be empty).
    "training:calendar": Row("login 200 200 200 200 200 200 200", post="login 302 302 302 302 302 302 302"),
    "training:calendar-feed": Row(
        "200 200 200 200 200 200 200 200", kwargs=lambda s: {"token": s.feed_token}
    ),
    "training:manage-cohort-list": Row("login 403 403 200 200 403 403 200"),
    "training:cohort-create": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400"
    ),
    # Regional staff read (never change) their own region's cohorts: the other region's is 404.
    "training:cohort-manage": Row("login 403 403 200 404 200 404 200", kwargs=pk("cohort")),
    "training:cohort-edit": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400", kwargs=pk("cohort")
    ),
    "training:cohort-due-dates": Row(
        "login 403 403 200 404 403 403 200", post="login 403 403 302 404 403 403 302", kwargs=pk("cohort")
    ),
    "training:session-create": Row(
        "login 403 403 200 404 403 403 200", post="login 403 403 400 404 403 403 400", kwargs=pk("cohort")
    ),
    "training:session-edit": Row(
        "login 403 403 200 404 403 403 200", post="login 403 403 400 404 403 403 400", kwargs=pk("session")
    ),
    "training:session-cancel": Row(
        "login 403 403 200 404 403 403 200", post="login 403 403 302 404 403 403 302", kwargs=pk("session")
    ),
    "training:session-register": Row(
        "login 403 403 200 404 403 403 200", post="login 403 403 302 404 403 403 302", kwargs=pk("session")
    ),
    "training:session-checkin-code": Row("login 403 403 200 404 403 403 200", kwargs=pk("session")),
    "training:enrolment-decide": Row(
        "login 403 403 200 404 403 403 200", post="login 403 403 400 404 403 403 400", kwargs=pk("applicant")
    ),
    # Messages to a cohort: those running it write and read every thread (regional staff
    # read cohorts, never write to them); a member reads only what was sent to them.
    "training:message-create": Row(
        "login 403 403 200 404 403 403 200", post="login 403 403 400 404 403 403 400", kwargs=pk("cohort")
    ),
    "training:message-detail-manage": Row("login 403 403 200 404 403 403 200", kwargs=pk("cohort_message")),
    "training:message-thread-manage": Row(
        "login 403 403 200 404 403 403 200",
        post="login 403 403 400 404 403 403 400",
        kwargs=pk("message_thread"),
    ),
    "training:message-inbox": Row("login 200 200 200 200 200 200 200"),
    "training:message-thread": Row(
        "login 200 404 404 404 404 404 404",
        post="login 400 404 404 404 404 404 404",
        kwargs=pk("cohort_message"),
    ),
    "training:marking-queue": Row("login 403 403 200 200 403 403 200"),
    "training:submission-mark": Row(
        "login 403 403 200 404 403 403 200", post="login 403 403 400 404 403 403 400", kwargs=pk("submission")
    ),
    "training:cohort-gradebook": Row("login 403 403 200 404 403 403 200", kwargs=pk("cohort")),
    "training:cohort-gradebook-csv": Row("login 403 403 200 404 403 403 200", kwargs=pk("cohort")),
    "training:moderation-list": Row("login 403 403 403 403 403 403 200"),
    "training:moderation-sample": Row(
        "login 403 403 403 403 403 403 405", post="login 403 403 403 403 403 403 400"
    ),
    "training:moderation-settle": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400", kwargs=pk("moderation")
    ),
    "training:second-marking-list": Row("login 403 403 200 200 403 403 200"),
    "training:moderation-second-mark": Row(
        "login 403 403 200 404 403 403 404", post="login 403 403 400 404 403 403 404", kwargs=pk("moderation")
    ),
    "training:programme-list": Row("login 403 403 403 403 403 403 200"),
    "training:programme-create": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400"
    ),
    "training:programme-detail": Row("login 403 403 403 403 403 403 200", kwargs=pk("programme")),
    "training:programme-edit": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400", kwargs=pk("programme")
    ),
    "training:version-draft-create": Row(
        "login 403 403 403 403 403 403 405", post="login 403 403 403 403 403 403 400", kwargs=pk("programme")
    ),
    "training:version-detail": Row("login 403 403 403 403 403 403 200", kwargs=pk("draft")),
    "training:version-edit": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400", kwargs=pk("draft")
    ),
    "training:version-publish": Row(
        "login 403 403 403 403 403 403 405", post="login 403 403 403 403 403 403 302", kwargs=pk("draft")
    ),
    "training:module-create": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400", kwargs=pk("draft")
    ),
    "training:module-edit": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 400",
        kwargs=pk("draft_module"),
    ),
    "training:module-move": Row(
        "login 403 403 403 403 403 403 405",
        post="login 403 403 403 403 403 403 400",
        kwargs=pk("draft_module"),
    ),
    "training:module-delete": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 302",
        kwargs=pk("draft_module"),
    ),
    "training:material-create": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 400",
        kwargs=pk("draft_module"),
    ),
    "training:material-delete": Row(
        "login 403 403 403 403 403 403 405",
        post="login 403 403 403 403 403 403 302",
        kwargs=pk("draft_material"),
    ),
    "training:assignment-create": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 400",
        kwargs=pk("draft_module"),
    ),
    "training:assignment-edit": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 400",
        kwargs=pk("draft_assignment"),
    ),
    "training:assignment-delete": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 302",
        kwargs=pk("draft_assignment"),
    ),
    "training:criterion-create": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 400",
        kwargs=pk("draft_assignment"),
    ),
    "training:rubric-edit": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 400",
        kwargs=pk("draft_assignment"),
    ),
    "training:criterion-edit": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 400",
        kwargs=pk("draft_criterion"),
    ),
    "training:criterion-move": Row(
        "login 403 403 403 403 403 403 405",
        post="login 403 403 403 403 403 403 400",
        kwargs=pk("draft_criterion"),
    ),
    "training:criterion-delete": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 302",
        kwargs=pk("draft_criterion"),
    ),
    "certification:verify": Row(
        "200 200 200 200 200 200 200 200", kwargs=lambda s: {"code": s.certificate.code}
    ),
    "certification:my-certificates": Row("login 200 200 200 200 200 200 200"),
    "certification:certificate-pdf": Row("login 200 404 404 404 404 404 200", kwargs=pk("certificate")),
    "certification:certificate-name": Row(
        "login 405 405 405 405 405 405 405",
        post="login 302 404 404 404 404 404 404",
        kwargs=pk("certificate"),
    ),
    "certification:certificate-renew": Row(
        "login 405 405 405 405 405 405 405",
        post="login 302 404 404 404 404 404 404",
        kwargs=pk("certificate"),
    ),
    "certification:certificate-credential": Row(
        "login 200 404 404 404 404 404 200", kwargs=pk("certificate")
    ),
    "certification:certificate-credential-json": Row(
        "login 200 404 404 404 404 404 200", kwargs=pk("certificate")
    ),
    "certification:jwks": Row("200 200 200 200 200 200 200 200"),
    "certification:did-document": Row("200 200 200 200 200 200 200 200"),
    "certification:status-list": Row("200 200 200 200 200 200 200 200"),
    "certification:issuer": Row("200 200 200 200 200 200 200 200"),
    "certification:achievement": Row("200 200 200 200 200 200 200 200", kwargs=pk("version")),
    "certification:badge-image": Row("200 200 200 200 200 200 200 200"),
    # Withdrawn (decision 0018): it named every revoked certificate.
    "certification:revocations": Row("410 410 410 410 410 410 410 410"),
    "certification:credential-verify": Row(
        "405 405 405 405 405 405 405 405", post="200 200 200 200 200 200 200 200"
    ),
    "certification:registry": Row("200 200 200 200 200 200 200 200"),
    "certification:registry-me": Row(
        "login 200 404 404 404 404 404 404", post="login 400 404 404 404 404 404 404"
    ),
    "certification:registry-lineage": Row("login 403 403 403 403 403 403 200"),
    "certification:registry-actions": Row("login 403 403 403 403 403 403 200"),
    "certification:registry-action-create": Row(
        "login 405 405 405 405 405 405 405", post="login 400 404 404 404 404 404 404"
    ),
    "certification:registry-action-update": Row(
        "login 200 404 404 404 404 404 404", post="login 400 404 404 404 404 404 404", kwargs=pk("action")
    ),
    "certification:registry-action-delete": Row(
        "login 405 405 405 405 405 405 405", post="login 302 404 404 404 404 404 404", kwargs=pk("action")
    ),
    "certification:registry-entry": Row("404 404 404 404 404 404 404 200", kwargs=pk("entry")),
    "certification:registry-accredit": Row(
        "login 403 403 403 403 403 403 405", post="login 403 403 403 403 403 403 302", kwargs=pk("entry")
    ),
    "certification:staff-overview": Row("login 403 403 403 403 403 403 200"),
    "certification:staff-certificate": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 400",
        kwargs=pk("certificate"),
    ),
    "certification:staff-manual-issue": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400", kwargs=pk("enrolment")
    ),
    "reporting:dashboard": Row("login 403 403 403 403 200 404 200", query=lambda s: f"target={s.target.pk}"),
    "reporting:dashboard-people": Row(
        "login 403 403 403 403 200 404 200", query=lambda s: f"figure=leaders&region={s.region.pk}"
    ),
    "reporting:dashboard-cohorts": Row(
        "login 403 403 403 403 200 404 200", query=lambda s: f"figure=at_risk&region={s.region.pk}"
    ),
    "reporting:dashboard-table": Row(
        "login 403 403 403 403 200 404 200",
        kwargs=lambda s: {"slug": "places"},
        query=lambda s: f"region={s.region.pk}",
    ),
    "reporting:target-list": Row("login 403 403 403 403 403 403 200"),
    "reporting:target-create": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400"
    ),
    "reporting:target-change": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400", kwargs=pk("target")
    ),
    "account_login": Row("200 302 302 302 302 302 302 302", post="200 302 302 302 302 302 302 302"),
    "account_logout": Row("302 200 200 200 200 200 200 200", post="302 302 302 302 302 302 302 302"),
    "account_inactive": Row("200 200 200 200 200 200 200 200"),
    "account_signup": Row("200 302 302 302 302 302 302 302", post="200 302 302 302 302 302 302 302"),
    "account_reauthenticate": Row(
        "login 200 200 200 200 200 200 200", post="login 200 200 200 200 200 200 200"
    ),
    "account_email": Row("login 200 200 200 200 200 200 200", post="login 302 302 302 302 302 302 302"),
    "account_email_verification_sent": Row("200 200 200 200 200 200 200 200"),
    "account_change_password": Row(
        "login 200 200 200 200 200 200 200", post="login 200 200 200 200 200 200 200"
    ),
    "account_set_password": Row(
        "login 302 302 302 302 302 302 302", post="login 302 302 302 302 302 302 302"
    ),
    "account_reset_password": Row("200 200 200 200 200 200 200 200", post="200 200 200 200 200 200 200 200"),
    "account_confirm_login_code": Row(
        "login 302 302 302 302 302 302 302", post="login 302 302 302 302 302 302 302"
    ),
    "account_confirm_email": Row(
        "200 200 200 200 200 200 200 200",
        post="404 404 404 404 404 404 404 404",
        kwargs=lambda s: {"key": s.email_confirmation_key},
    ),
    "account_reset_password_from_key_done": Row("200 200 200 200 200 200 200 200"),
    "account_reset_password_from_key": Row(
        "200 200 200 200 200 200 200 200",
        post="200 200 200 200 200 200 200 200",
        kwargs=lambda s: {"uidb36": s.reset_uidb36, "key": s.reset_key},
    ),
    "account_reset_password_done": Row("200 200 200 200 200 200 200 200"),
    "admin:index": Row("login login login login login login login login"),
    "admin:login": Row("login 403 403 403 403 403 403 403"),
    "admin:logout": Row("302 302 302 302 302 302 302 302"),
    "admin:password_change_done": Row("login login login login login login login login"),
    "admin:autocomplete": Row("login login login login login login login login"),
    "admin:jsi18n": Row("login login login login login login login login"),
    "admin:view_on_site": Row(
        "login login login login login login login login",
        kwargs=lambda s: {"content_type_id": 1, "object_id": 1},
    ),
    "admin:app_list": Row(
        "login login login login login login login login", kwargs=lambda s: {"app_label": "members"}
    ),
    "healthz": Row("200 200 200 200 200 200 200 200"),
    "healthz-live": Row("200 200 200 200 200 200 200 200"),
    "healthz-ready": Row("200 200 200 200 200 200 200 200"),
    # Prometheus metrics: operators' scrapers only (METRICS_ALLOWED_IPS or METRICS_TOKEN, both
    # unset here): a 404 to every member, whatever their role (tests/config/test_metrics.py).
    "metrics": Row("404 404 404 404 404 404 404 404"),
    "audit:entry-list": Row("login 403 403 403 403 403 403 200"),
    # Webhooks: national staff only (webhooks.add_endpoint). An empty form is a 400; the
    # actions take POST only.
    "webhooks:endpoint-list": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400"
    ),
    "webhooks:endpoint-pause": Row(
        "login 403 403 403 403 403 403 405",
        post="login 403 403 403 403 403 403 302",
        kwargs=pk("webhook_endpoint"),
    ),
    "webhooks:endpoint-resume": Row(
        "login 403 403 403 403 403 403 405",
        post="login 403 403 403 403 403 403 302",
        kwargs=pk("webhook_endpoint"),
    ),
    "webhooks:endpoint-rotate": Row(
        "login 403 403 403 403 403 403 405",
        post="login 403 403 403 403 403 403 200",
        kwargs=pk("webhook_endpoint"),
    ),
    "webhooks:endpoint-test": Row(
        "login 403 403 403 403 403 403 405",
        post="login 403 403 403 403 403 403 302",
        kwargs=pk("webhook_endpoint"),
    ),
    "webhooks:endpoint-delete": Row(
        "login 403 403 403 403 403 403 200",
        post="login 403 403 403 403 403 403 302",
        kwargs=pk("webhook_endpoint"),
    ),
    "webhooks:delivery-list": Row("login 403 403 403 403 403 403 200", kwargs=pk("webhook_endpoint")),
    "webhooks:delivery-send-again": Row(
        "login 403 403 403 403 403 403 405",
        post="login 403 403 403 403 403 403 302",
        kwargs=lambda s: {"pk": s.webhook_endpoint.pk, "delivery_pk": s.webhook_delivery.pk},
    ),
    # Member import: national staff only (regional staff read, never write; decision 0014).
    # The world holds no import, so national staff get a 404 on one (tests/imports cover 200).
    "imports:import-create": Row(
        "login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400"
    ),
    "imports:import-detail": Row("login 403 403 403 403 403 403 404", kwargs=NO_SUCH_KEY),
    "imports:import-confirm": Row(
        "login 403 403 403 403 403 403 405", post="login 403 403 403 403 403 403 404", kwargs=NO_SUCH_KEY
    ),
    "mfa_index": Row("login 200 200 200 200 200 200 200"),
    "mfa_authenticate": Row("login 302 302 302 302 302 302 302", post="login 302 302 302 302 302 302 302"),
    "mfa_reauthenticate": Row("login 302 302 200 200 200 200 200", post="login 302 302 200 200 200 200 200"),
    "mfa_activate_totp": Row("login 302 302 302 302 302 302 302", post="login 302 302 302 302 302 302 302"),
    "mfa_deactivate_totp": Row("login 404 404 302 302 302 302 302", post="login 404 404 302 302 302 302 302"),
    "mfa_view_recovery_codes": Row("login 404 404 404 404 404 404 404"),
    "mfa_generate_recovery_codes": Row(
        "login 302 302 302 302 302 302 302", post="login 302 302 302 302 302 302 302"
    ),
    "mfa_download_recovery_codes": Row("login 404 404 404 404 404 404 404"),
    "mfa_list_webauthn": Row("login 200 200 200 200 200 200 200"),
    "mfa_add_webauthn": Row("login 302 302 302 302 302 302 302", post="login 302 302 302 302 302 302 302"),
    "mfa_reauthenticate_webauthn": Row(
        "login 302 302 302 302 302 302 302", post="login 302 302 302 302 302 302 302"
    ),
    "mfa_remove_webauthn": Row(
        "login 302 302 302 302 302 302 302", post="login 302 302 302 302 302 302 302", kwargs=NO_SUCH_KEY
    ),
    "mfa_edit_webauthn": Row(
        "login 302 302 302 302 302 302 302", post="login 302 302 302 302 302 302 302", kwargs=NO_SUCH_KEY
    ),
    "usersessions_list": Row("login 200 200 200 200 200 200 200", post="login 302 302 302 302 302 302 302"),
    "admin:password_change": Row("login login login login login login login login"),
    "admin:auth_user_password_change": Row(
        "login login login login login login login login", kwargs=lambda s: {"id": s.users["trainee"].pk}
    ),
}


def test_every_named_url_is_in_the_table():
    """A URL name in the URLconf but not in the table (or the reverse) fails, naming it."""
    names = set(url_patterns()) - set(EXCLUDED)
    missing = sorted(names - set(TABLE))
    stale = sorted(set(TABLE) - names)
    assert not missing, f"URL names with no row in the access table: {missing}"
    assert not stale, f"Rows for URL names no longer in the URLconf: {stale}"


def test_every_view_that_takes_post_is_asked_by_post():
    """A view with a post() method has a `post` line, so its checks on POST are tried too."""
    patterns = url_patterns()
    without = sorted(name for name, row in TABLE.items() if takes_post(patterns[name]) and row.post is None)
    assert not without, f"Views taking POST with no `post` answers: {without}"
    assert all(view_class(patterns[name]) for name, row in TABLE.items() if row.post is not None)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_stated_answer_on_get(world, role):
    found = mismatches(table=TABLE, scenario=world, role=role, method="get")
    assert not found, "\n".join(found)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_stated_answer_on_post(world, role):
    found = mismatches(table=TABLE, scenario=world, role=role, method="post")
    assert not found, "\n".join(found)


# --- No GET changes state; every POST needs the CSRF token ----------------------------------

# Tables a GET may write to, by design, with the reason.
GET_MAY_WRITE = {
    "django_session": "signing in, messages and the MFA set-up keep state in the session",
    "certification_verification": "the public check page counts each check of a certificate",
    "audit_auditentry": "viewing a list of members is itself recorded in the audit trail",
    "usersessions_usersession": "allauth records each session's last address and time",
}

# Views that take POST without the CSRF token, with the reason.
CSRF_EXEMPT = {
    "training:notice-unsubscribe": "one-click unsubscribe (RFC 8058): mail clients POST with no token",
    "certification:credential-verify": "a machine endpoint for other systems: no session or cookie used",
}


@pytest.mark.django_db
def test_no_get_changes_the_database(world):
    """For every URL, a GET by a user who may use it leaves every table as it was."""
    all_clients = clients(world)
    changed = []
    before = database_fingerprint(skip=set(GET_MAY_WRITE))
    for name, row in sorted(TABLE.items()):
        role = permitted_role(row, "get")
        if role is None:
            continue
        all_clients[role].get(row.url(name, world))
        after = database_fingerprint(skip=set(GET_MAY_WRITE))
        tables = sorted(table for table in before if before[table] != after.get(table))
        if tables:
            changed.append(f"GET {name} as {role} changed {tables}")
        before = after
    assert not changed, "\n".join(changed)


@pytest.mark.django_db
def test_every_post_without_the_csrf_token_is_refused(world):
    """A POST with no CSRF token, by a user who may use the view, is refused before the view runs."""
    strict = {}
    for role in ROLES:
        strict[role] = Client(enforce_csrf_checks=True, raise_request_exception=False)
        if role in world.users:
            strict[role].force_login(world.users[role])
    accepted = []
    for name, row in sorted(TABLE.items()):
        role = permitted_role(row, "post") if row.post else None
        if role is None or name in CSRF_EXEMPT:
            continue
        response = strict[role].post(row.url(name, world))
        if response.status_code != 403 or b"CSRF" not in response.content:
            accepted.append(f"POST {name} as {role} without a token: {response.status_code}")
    assert not accepted, "\n".join(accepted)


def test_only_the_listed_views_are_exempt_from_csrf():
    """The list above is the whole truth: no other view is marked csrf_exempt."""
    patterns = url_patterns()
    exempt = {name for name, pattern in patterns.items() if getattr(pattern.callback, "csrf_exempt", False)}
    # DRF marks every API view csrf_exempt for Django's middleware; its SessionAuthentication
    # then enforces CSRF itself on unsafe methods of session calls (the POST test above asks
    # them without a token too). Token calls carry no cookie, so need none.
    drf = {name for name in exempt if issubclass(view_class(patterns[name]) or object, APIView)}
    assert exempt - drf == set(CSRF_EXEMPT)


# --- Filters and sort orders take only allow-listed keys --------------------------------------

# Keys no list takes, aimed at private fields (asked all at once); and malformed pages.
HOSTILE_QUERY = "&".join(
    [
        "sort=password",
        "order=user__password",
        "ordering=-member__email",
        "o=-password",
        "filter=password__startswith%3Dp",
        "user__password__startswith=p",
        "member__email__contains=%40",
        "status__regex=.*",
    ]
)
# Malformed pages, and search boxes given a NUL byte (PostgreSQL refuses it in a query) or an
# endless term: a 4xx or the page, never a 500.
MALFORMED = [
    "page=999999",
    "page=abc",
    "page=%00",
    "q=%00",
    "name=a%00b",
    "q=" + "x" * 5000,
]

# What changes from one request to the next in the same page: CSRF tokens, and the query
# string echoed in links (pagination keeps the filters).
VOLATILE = re.compile(r'csrfmiddlewaretoken" value="[^"]+"|csrf[_-]?token[^>]*>|\?[^"\s<>]*')


def _html(response) -> str:
    return VOLATILE.sub("", response.content.decode(errors="replace"))


@pytest.mark.django_db
def test_unknown_filters_and_sorts_are_ignored_and_malformed_pages_never_fail(world):
    """On every list and dashboard, hostile query strings give the default page (same rows)
    or a 4xx; never a 500. (Detail pages read no query string: `request.GET` is used only by
    list views, as a grep shows.)"""
    all_clients = clients(world)
    problems = []
    for name, row in sorted(TABLE.items()):
        role = permitted_role(row, "get")
        # Lists and dashboards: the pages with no object in their address, and the tables.
        is_list = not row.kwargs(world) or name == "reporting:dashboard-table"
        if name.startswith("admin:") or not is_list or role is None or row.expected("get")[role] != "200":
            continue
        client = all_clients[role]
        base = row.url(name, world)
        joiner = "&" if "?" in base else "?"
        baseline = client.get(base)
        is_html = baseline["Content-Type"].startswith("text/html")
        for query in [HOSTILE_QUERY, *MALFORMED]:
            response = client.get(f"{base}{joiner}{query}")
            if response.status_code >= 500:
                problems.append(f"{name} ?{query[:40]}: {response.status_code}")
            elif response.status_code == 200 and is_html and query == HOSTILE_QUERY:
                if _html(response) != _html(baseline):
                    problems.append(f"{name}: unknown keys changed the page")
            elif response.status_code not in (200, 400, 404):
                problems.append(f"{name} ?{query[:40]}: {response.status_code}")
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(not os.environ.get("H4_OBSERVE"), reason="a helper for writing rows")
@pytest.mark.django_db
def test_observe(world):
    print(observed_table(table=TABLE, scenario=world))
