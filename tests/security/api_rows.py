"""The access matrix's rows for the REST API (api/) and its token page.

Calls here are made with the browser session of each role (tokens are tried in tests/api/).
DRF answers an anonymous call with 401 (the API names its token scheme in WWW-Authenticate),
not a redirect to the sign-in page; an empty POST to a list that takes JSON is a 415.
"""

from tests.security.matrix import Row, pk

NO_SUCH_TOKEN = lambda s: {"pk": 999999}  # noqa: E731 - the world holds no API token

API_ROWS: dict[str, Row] = {
    "api:schema": Row("200 200 200 200 200 200 200 200"),
    "api:docs": Row("200 200 200 200 200 200 200 200"),
    # Authors of programmes only, as the programme pages.
    "api:programme-list": Row("401 403 403 403 403 403 403 200"),
    "api:programme-detail": Row("401 403 403 403 403 403 403 200", kwargs=pk("programme")),
    # The trainee's cohorts (training:cohort-detail) and the runners' and readers'
    # (training:cohort-manage); opening one is national staff's (training:cohort-create).
    "api:cohort-list": Row("401 200 200 200 200 200 200 200", post="401 403 403 403 403 403 403 415"),
    "api:cohort-detail": Row("401 200 404 200 404 200 404 200", kwargs=pk("cohort")),
    # Scheduling is national staff's (the body is parsed last: an empty form body is a 415).
    "api:session-list": Row("401 200 200 200 200 200 200 200", post="401 403 403 403 403 403 403 415"),
    "api:session-detail": Row("401 200 404 200 404 200 404 200", kwargs=pk("session")),
    # POST only: GET is a 405 for whoever passes the read check.
    "api:session-cancel": Row(
        "401 405 405 405 405 405 405 405", post="401 403 403 403 403 403 403 415", kwargs=pk("session")
    ),
    # As training:session-register: the cohort's trainers and national staff.
    "api:session-attendance": Row(
        "401 403 403 200 404 403 403 200", post="401 403 403 415 404 403 403 415", kwargs=pk("session")
    ),
    # Staff's: national staff read and write, regional staff read their region's cohorts'
    # (as training:cohort-manage lists them); trainers decide on the pages only.
    "api:enrolment-list": Row("401 403 403 403 403 200 200 200", post="401 403 403 403 403 403 403 415"),
    "api:enrolment-detail": Row("401 403 403 403 403 200 404 200", kwargs=pk("applicant")),
    "api:enrolment-decide": Row(
        "401 403 403 403 403 405 405 405", post="401 403 403 403 403 403 403 415", kwargs=pk("applicant")
    ),
    "api:enrolment-withdraw": Row(
        "401 403 403 403 403 405 405 405", post="401 403 403 403 403 403 403 415", kwargs=pk("enrolment")
    ),
    # As certification:certificate-pdf: the holder and national staff.
    "api:certificate-list": Row("401 200 200 200 200 200 200 200"),
    "api:certificate-detail": Row("401 200 404 404 404 404 404 200", kwargs=pk("certificate")),
    "api:certificate-verify": Row(
        "200 200 200 200 200 200 200 200", kwargs=lambda s: {"code": s.certificate.code}
    ),
    # As certification:registry and registry-entry (the entry is visible to staff only).
    "api:registry-list": Row("200 200 200 200 200 200 200 200"),
    "api:registry-detail": Row("404 404 404 404 404 404 404 200", kwargs=pk("entry")),
    # As reporting:dashboard: national staff, and regional staff for their region.
    "api:target-list": Row("401 403 403 403 403 200 200 200"),
    "api:dashboard": Row("401 403 403 403 403 200 200 200"),
    "api:token-list": Row("login 403 403 403 403 403 403 200", post="login 403 403 403 403 403 403 400"),
    "api:token-revoke": Row(
        "login 403 403 403 403 403 403 405",
        post="login 403 403 403 403 403 403 404",
        kwargs=NO_SUCH_TOKEN,
    ),
}
