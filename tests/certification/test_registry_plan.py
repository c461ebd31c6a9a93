"""The registry list looks up each shown leader's in-date certificate by index, one row at a
time, and never hashes every in-date certificate: at a million members the planner chose the
hash (147,000 certificates, 63 ms a page) for a page that shows 50 (issue 23)."""

import pytest
from django.db import connection

from certification.selectors.registry import registry_list
from members.permissions import Role
from tests.certification.test_registry import leader
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_registry_list_reads_each_rows_certificate_by_itself():
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's query plan (make test uses it under CI=true)")
    staff = UserFactory(role=Role.NATIONAL_STAFF)
    leader(staff)
    page = registry_list(user=staff)[:50]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
    # The active column's subplan: the one that reads certificates by their expiry.
    subplans = "\n".join(plan).split("SubPlan")[1:]
    (active,) = [subplan for subplan in subplans if "expires_on" in subplan]
    # Planned per row under a LIMIT, which PostgreSQL cannot turn into a hash of every
    # certificate whatever the data size; a bare EXISTS can, and at scale did.
    first_node = active.splitlines()[1].strip()
    assert first_node.startswith("->  Limit"), "\n".join(plan)
