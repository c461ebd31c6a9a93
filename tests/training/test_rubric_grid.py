"""Staff edit an assignment's whole rubric as one grid: criteria as rows, levels as columns."""

import re

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.permissions import Role
from tests.factories import (
    AssignmentFactory,
    CriterionFactory,
    ModuleFactory,
    ProgrammeFactory,
    UserFactory,
    VersionFactory,
    rubric_add,
)
from training.models import Assignment, VersionStatus
from training.services.rubrics import MAX_CRITERIA, rubric_save

pytestmark = pytest.mark.django_db

LEVELS = [
    ("Not shown", "fail", "No log of the meetings."),
    ("Developing", "resubmit", "Gaps in the log."),
    ("Secure", "pass", "Ten meetings, each with its next step."),
]


@pytest.fixture
def staff_client(client, seeded):
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF))
    return client


def draft_assignment() -> Assignment:
    version = VersionFactory(programme=ProgrammeFactory(), status=VersionStatus.DRAFT, published_at=None)
    return AssignmentFactory(module=ModuleFactory(version=version))


def grid_url(assignment) -> str:
    return reverse("training:rubric-edit", args=[assignment.pk])


def grid_data(rows, *, columns=3, initial=0, **extra) -> dict:
    """What the grid posts: `rows` are (criterion id or None, title, levels) with levels as
    (title, outcome, description) tuples, blank cells for the columns not given."""
    data = {
        "criteria-TOTAL_FORMS": str(len(rows)),
        "criteria-INITIAL_FORMS": str(initial),
        "level_columns": str(columns),
        "save": "",
    }
    for index, (pk, title, levels) in enumerate(rows):
        data |= {
            f"criteria-{index}-criterion_id": str(pk or ""),
            f"criteria-{index}-title": title,
            f"criteria-{index}-description": "",
        }
        for column in range(1, columns + 1):
            level = levels[column - 1] if column <= len(levels) else ("", "", "")
            data |= {
                f"criteria-{index}-level_{column}_title": level[0],
                f"criteria-{index}-level_{column}_outcome": level[1],
                f"criteria-{index}-level_{column}_description": level[2],
            }
    return data | extra


def rubric_of(assignment) -> list:
    return [
        (criterion.title, list(criterion.levels.order_by("position").values_list("title", "outcome")))
        for criterion in assignment.criteria.order_by("position")
    ]


# --- Authoring goes straight to the rubric ---------------------------------------------


def test_adding_an_assignment_goes_straight_to_its_rubric(staff_client):
    """After "Add assignment" the author lands on the new assignment's rubric grid, told so."""
    module = ModuleFactory(version=draft_assignment().module.version)
    data = {"title": "Power map", "brief": "Map who decides.", "due_offset_days": "14", "max_attempts": "3"}
    response = staff_client.post(reverse("training:assignment-create", args=[module.pk]), data, follow=True)
    assignment = Assignment.objects.get(title="Power map")
    assert response.redirect_chain == [(grid_url(assignment), 302)]
    page = response.content.decode()
    assert "Now write its rubric" in page
    # A rubric not begun offers two blank criterion rows of three levels.
    assert 'name="criteria-TOTAL_FORMS" value="2"' in page
    assert 'name="criteria-1-level_3_title"' in page


# --- The grid ---------------------------------------------------------------------------


def test_the_grid_shows_every_criterion_with_its_levels_and_labels_every_cell(staff_client):
    assignment = draft_assignment()
    rubric_add(assignment, criteria=2)
    page = staff_client.get(grid_url(assignment)).content.decode()
    assert 'name="criteria-TOTAL_FORMS" value="2"' in page
    assert "Criterion 2, level 3 descriptor" in page
    assert "Criterion 1, level 1 outcome" in page
    assert "Remove criterion 2" in page
    # Every input has a label naming its row and column.
    for field_id in re.findall(r'<(?:input|textarea|select)[^>]*?id="([^"]+)"', page):
        if re.match(r"id_criteria-\d+-", field_id) and "criterion_id" not in field_id:
            assert f'for="{field_id}"' in page, field_id
    # Row by row, in tab order: criterion 1's cells all come before criterion 2's title.
    assert page.index("criteria-0-level_3_outcome") < page.index("criteria-1-title")


def test_the_whole_rubric_saves_in_one_post(staff_client):
    """Edited, added and removed criteria, and their levels, all change in one POST."""
    assignment = draft_assignment()
    first, second = rubric_add(assignment, criteria=2)
    data = grid_data(
        [
            (first.pk, "Listening", LEVELS[:2] + [("Strong", "pass", "Every meeting logged.")]),
            (second.pk, "Gone", LEVELS),
            (None, "Reflection", [("Thin", "resubmit", "Little reflection."), ("Deep", "pass", "Honest.")]),
        ],
        initial=2,
        **{"criteria-1-DELETE": "on"},
    )
    response = staff_client.post(grid_url(assignment), data)
    assert response.status_code == 302
    assert response.url == reverse("training:assignment-edit", args=[assignment.pk]) + "#rubric"
    assert rubric_of(assignment) == [
        ("Listening", [("Not shown", "fail"), ("Developing", "resubmit"), ("Strong", "pass")]),
        ("Reflection", [("Thin", "resubmit"), ("Deep", "pass")]),
    ]
    assert assignment.criteria.get(title="Listening").pk == first.pk  # updated, not replaced
    assert list(assignment.criteria.order_by("position").values_list("position", flat=True)) == [1, 2]


def test_blank_rows_and_blank_cells_are_left_out(staff_client):
    """A wholly blank row is no criterion; a blank cell is no level, and the levels close up."""
    assignment = draft_assignment()
    data = grid_data(
        [
            (None, "Listening", [LEVELS[0], ("", "", ""), LEVELS[2]]),
            (None, "", []),
        ]
    )
    assert staff_client.post(grid_url(assignment), data).status_code == 302
    assert rubric_of(assignment) == [("Listening", [("Not shown", "fail"), ("Secure", "pass")])]


@pytest.mark.parametrize(
    ("cell", "value", "field", "message"),
    [
        ("level_2_description", "", "level_2_description", "Describe what work at this level shows."),
        ("level_2_title", "", "level_2_title", "Give this level a title, or clear the whole cell."),
        ("level_3_outcome", "", "level_3_outcome", "Choose pass, resubmit or fail."),
        ("level_3_outcome", "maybe", "level_3_outcome", "Choose pass, resubmit or fail."),
        (
            "level_3_title",
            "Not shown",
            "level_3_title",
            "Another level of this criterion already has this title.",
        ),
        ("title", "", "title", "Give the criterion a title"),
        ("title", "x" * 201, "title", "at most 200 characters"),
    ],
)
def test_a_bad_cell_is_refused_at_the_cell_and_nothing_is_saved(staff_client, cell, value, field, message):
    assignment = draft_assignment()
    rubric_add(assignment, criteria=1)
    before = rubric_of(assignment)
    data = grid_data([(None, "Listening", LEVELS), (None, "Reflection", LEVELS)])
    data[f"criteria-1-{cell}"] = value
    response = staff_client.post(grid_url(assignment), data)
    assert response.status_code == 400
    page = response.content.decode()
    # The message sits under the cell it is about, and the cell points to it.
    error_id = f"id_criteria-1-{field}_error"
    assert re.search(rf'id="{error_id}"[^>]*>[^<]*{re.escape(message)}', page), page[
        page.find(error_id) - 300 :
    ]
    assert re.search(rf'id="id_criteria-1-{field}"[^>]*aria-invalid="true"', page) or re.search(
        rf'aria-invalid="true"[^>]*id="id_criteria-1-{field}"', page
    )
    assert f'aria-describedby="{error_id}"' in page
    assert "The rubric is not saved yet" in page
    assert rubric_of(assignment) == before


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ([LEVELS[2]], "at least 2 levels"),
        ([LEVELS[0], LEVELS[1]], "at least one level the outcome “Pass”"),
    ],
)
def test_rules_of_a_whole_row_are_shown_on_that_row(staff_client, levels, message):
    assignment = draft_assignment()
    response = staff_client.post(
        grid_url(assignment), grid_data([(None, "Listening", LEVELS), (None, "Thin", levels)])
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'aria-describedby="criterion-row-2-errors"' in page
    row_errors = page[page.index('id="criterion-row-2-errors"') :]
    assert message in row_errors[: row_errors.index("</div>")]
    assert not assignment.criteria.exists()


def test_add_a_criterion_shows_one_more_row_keeping_what_was_typed_and_saves_nothing(staff_client):
    assignment = draft_assignment()
    data = grid_data([(None, "Listening", LEVELS[:1])], add_criterion="")
    del data["save"]
    response = staff_client.post(grid_url(assignment), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="criteria-TOTAL_FORMS" value="2"' in page
    assert 'value="Listening"' in page
    assert "Criterion 2, level 1 title" in page
    assert "invalid-feedback" not in page  # not checked yet: only one level so far is fine
    assert not assignment.criteria.exists()


def test_add_a_level_column_up_to_six(staff_client):
    assignment = draft_assignment()
    data = grid_data([(None, "Listening", LEVELS)], add_level="")
    del data["save"]
    page = staff_client.post(grid_url(assignment), data).content.decode()
    assert 'name="level_columns" value="4"' in page
    assert "Criterion 1, level 4 title" in page
    data = grid_data([(None, "Listening", LEVELS)], columns=6, add_level="")
    page = staff_client.post(grid_url(assignment), data).content.decode()
    assert 'name="level_columns" value="6"' in page
    assert "Add a level column" not in page


@pytest.mark.parametrize("columns", ["1", "99", "many", ""])
def test_a_tampered_column_count_is_kept_between_two_and_six(staff_client, columns):
    assignment = draft_assignment()
    data = grid_data([(None, "Listening", LEVELS)], add_level="") | {"level_columns": columns}
    response = staff_client.post(grid_url(assignment), data)
    assert response.status_code == 200
    shown = int(re.search(r'name="level_columns" value="(\d+)"', response.content.decode()).group(1))
    assert 2 <= shown <= 6


def test_more_criteria_than_the_limit_are_refused_with_the_limit_said(staff_client):
    assignment = draft_assignment()
    rows = [(None, f"Criterion {n}", LEVELS) for n in range(MAX_CRITERIA + 1)]
    response = staff_client.post(grid_url(assignment), grid_data(rows))
    assert response.status_code == 400
    assert f"A rubric has at most {MAX_CRITERIA} criteria" in response.content.decode()
    assert not assignment.criteria.exists()


def test_another_assignments_criterion_id_is_refused_and_not_touched(staff_client):
    """An id changed in the page cannot reach a criterion of another assignment."""
    assignment = draft_assignment()
    theirs = CriterionFactory(assignment=draft_assignment(), position=1, title="Theirs")
    response = staff_client.post(grid_url(assignment), grid_data([(theirs.pk, "Mine now", LEVELS)]))
    assert response.status_code == 400
    assert "no longer part of the rubric" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.title == "Theirs"
    assert not assignment.criteria.exists()


def test_a_published_versions_rubric_cannot_change(staff_client):
    assignment = AssignmentFactory(module=ModuleFactory(version=VersionFactory()))
    rubric_add(assignment, criteria=1)
    before = rubric_of(assignment)
    page = staff_client.get(grid_url(assignment)).content.decode()
    assert "is published, so it cannot be edited" in page
    assert "Save rubric" not in page
    response = staff_client.post(grid_url(assignment), grid_data([(None, "Sneaked in", LEVELS)]))
    assert response.status_code == 400
    assert "is published and cannot change" in response.content.decode()
    assert rubric_of(assignment) == before


def test_the_service_refuses_every_row_at_once_and_changes_nothing():
    assignment = draft_assignment()
    kept = rubric_add(assignment, criteria=1)[0]
    levels = [{"title": t, "outcome": o, "description": d} for t, o, d in LEVELS]
    with pytest.raises(ValidationError) as caught:
        rubric_save(
            assignment=assignment,
            criteria=[
                {"id": kept.pk, "title": "", "description": "", "levels": levels},
                {"id": None, "title": "Fine", "description": "", "levels": levels},
                {"id": kept.pk, "title": "Again", "description": "", "levels": levels[:1]},
            ],
        )
    errors = caught.value.message_dict
    assert set(errors) == {"0", "2", NON_FIELD_ERRORS}
    assert assignment.criteria.count() == 1


@pytest.mark.parametrize(("role", "status"), [(Role.TRAINER, 403), (Role.TRAINEE, 403)])
def test_other_roles_are_refused(client, seeded, role, status):
    client.force_login(UserFactory(role=role))
    assignment = draft_assignment()
    assert client.get(grid_url(assignment)).status_code == status
    assert client.post(grid_url(assignment), grid_data([(None, "X", LEVELS)])).status_code == status
    assert not assignment.criteria.exists()


def test_an_unknown_assignment_is_a_404(staff_client):
    assert staff_client.get(reverse("training:rubric-edit", args=[999999])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(grid_url(draft_assignment()))
    assert response.status_code == 302
    assert "login" in response.url


def test_the_assignment_page_links_to_the_grid(staff_client):
    assignment = draft_assignment()
    page = staff_client.get(reverse("training:assignment-edit", args=[assignment.pk])).content.decode()
    assert grid_url(assignment) in page


# --- Query budget ------------------------------------------------------------------------


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_grid_runs_a_fixed_number_of_queries(staff_client):
    """The grid costs the same with 1 criterion as with 8."""
    assignment = draft_assignment()
    rubric_add(assignment, criteria=1)
    url = grid_url(assignment)
    staff_client.get(url)  # warm caches that are per-process, not per-request
    small = _count_queries(staff_client, url)
    rubric_add_more = [CriterionFactory(assignment=assignment, position=n) for n in range(2, 9)]
    assert len(rubric_add_more) == 7
    assert _count_queries(staff_client, url) == small
    assert small <= 8
