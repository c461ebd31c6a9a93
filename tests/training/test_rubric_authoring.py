"""National staff author assignments' rubrics with the programme: through HTTP, as staff use them."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
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
from training.models import (
    Assignment,
    Outcome,
    ProgrammeVersion,
    RubricCriterion,
    RubricLevel,
    VersionStatus,
)
from training.rubric import RULE_EXPLAINED, outcome_from_levels
from training.selectors.authoring import criterion_get_for_author
from training.services.programmes import version_draft_create
from training.services.rubrics import criterion_create

pytestmark = pytest.mark.django_db

PUBLISHED_REFUSAL = "is published and cannot change"
LEVELS = [
    ("Not shown", "fail", "No log of the meetings."),
    ("Developing", "resubmit", "Fewer than ten meetings, or gaps in the log."),
    ("Secure", "pass", "Ten meetings, each with its next step."),
]


# --- The rule that turns levels into an outcome ---------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        (["pass"], "pass"),
        (["pass", "pass", "pass"], "pass"),
        (["pass", "resubmit", "pass"], "resubmit"),
        (["resubmit", "resubmit"], "resubmit"),
        (["pass", "resubmit", "fail"], "fail"),
        (["fail", "pass"], "fail"),
        (["fail"], "fail"),
    ],
)
def test_the_weakest_level_chosen_decides_the_outcome(outcomes, expected):
    """Work passes only when every criterion passes; any resubmit asks again; any fail fails."""
    assert outcome_from_levels(outcomes) == expected


def test_the_outcome_rule_reads_levels_as_well_as_strings():
    """Chosen RubricLevel objects give the same outcome as their outcome strings."""
    levels = [RubricLevel(outcome=Outcome.PASS), RubricLevel(outcome=Outcome.RESUBMIT)]
    assert outcome_from_levels(levels) == Outcome.RESUBMIT
    assert outcome_from_levels(level for level in levels[:1]) == Outcome.PASS


def test_the_outcome_rule_needs_a_level():
    """No levels chosen is a programming error, not a pass."""
    with pytest.raises(ValueError, match="at least one level"):
        outcome_from_levels([])


# --- Helpers -------------------------------------------------------------------------


@pytest.fixture
def staff(seeded):
    return UserFactory(role=Role.NATIONAL_STAFF)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def draft_of(programme=None, **kwargs) -> ProgrammeVersion:
    return VersionFactory(
        programme=programme or ProgrammeFactory(), status=VersionStatus.DRAFT, published_at=None, **kwargs
    )


def draft_assignment(**kwargs) -> Assignment:
    return AssignmentFactory(module=ModuleFactory(version=draft_of()), **kwargs)


def html_of(response) -> str:
    return response.content.decode()


def criterion_data(title="Evidence of listening", description="", levels=LEVELS, rows=4) -> dict:
    """What the criterion page posts: its fields and `rows` level rows, the spare ones blank."""
    data = {
        "title": title,
        "description": description,
        "levels-TOTAL_FORMS": str(rows),
        "levels-INITIAL_FORMS": "0",
    }
    for index in range(rows):
        level_title, outcome, text = levels[index] if index < len(levels) else ("", "", "")
        data |= {
            f"levels-{index}-title": level_title,
            f"levels-{index}-outcome": outcome,
            f"levels-{index}-description": text,
        }
    return data


def rubric_of(assignment) -> list:
    """Every criterion of the assignment with its levels, in order: what must not change."""
    return [
        (
            criterion.pk,
            criterion.position,
            criterion.title,
            criterion.description,
            list(
                criterion.levels.order_by("position").values_list(
                    "position", "title", "outcome", "description"
                )
            ),
        )
        for criterion in assignment.criteria.order_by("position")
    ]


def titles_in_order(assignment) -> list[str]:
    return list(assignment.criteria.order_by("position").values_list("title", flat=True))


def section_of(page: str, marker: str, end: str = "</fieldset>") -> str:
    """The part of `page` from `marker` to the next `end`."""
    start = page.index(marker)
    return page[start : page.index(end, start)]


# --- Adding, editing, moving and deleting criteria -------------------------------------


def test_staff_add_a_criterion_with_its_levels(staff_client):
    """A criterion is added at the end of the rubric with its levels lowest first; the blank
    spare row is left out; the assignment's page then lists it with its levels."""
    assignment = draft_assignment()
    rubric_add(assignment, criteria=1)
    page = html_of(staff_client.get(reverse("training:criterion-create", args=[assignment.pk])))
    assert page.count('name="levels-') >= 4 * 3  # four rows of title, outcome, description
    assert "Level 1 (lowest)" in page

    response = staff_client.post(
        reverse("training:criterion-create", args=[assignment.pk]),
        criterion_data(description="Stories and values, not just opinions."),
    )
    criterion = assignment.criteria.get(title="Evidence of listening")
    assert response.status_code == 302
    assert (
        response.url
        == reverse("training:assignment-edit", args=[assignment.pk]) + f"#criterion-{criterion.pk}"
    )
    assert criterion.position == 2
    assert criterion.description == "Stories and values, not just opinions."
    assert list(criterion.levels.order_by("position").values_list("position", "title", "outcome")) == [
        (0, "Not shown", "fail"),
        (1, "Developing", "resubmit"),
        (2, "Secure", "pass"),
    ]

    page = html_of(staff_client.get(response.url))
    rubric = page[page.index('id="rubric"') :]
    assert "2. Evidence of listening" in rubric
    assert "Fewer than ten meetings, or gaps in the log." in rubric
    assert RULE_EXPLAINED in rubric
    assert reverse("training:criterion-edit", args=[criterion.pk]) in rubric
    assert reverse("training:criterion-delete", args=[criterion.pk]) in rubric
    assert 'Move<span class="visually-hidden"> “Evidence of listening”</span> up' in rubric
    assert "“Evidence of listening”</span> down" not in rubric


def test_editing_a_criterion_replaces_its_levels(staff_client):
    """Saving a criterion keeps what is sent: a cleared row removes its level, a new row adds one."""
    assignment = draft_assignment()
    criterion = CriterionFactory(assignment=assignment, position=1, title="Old title")
    url = reverse("training:criterion-edit", args=[criterion.pk])
    page = html_of(staff_client.get(url))
    assert 'value="Old title"' in page
    assert 'value="Meets the standard"' in page  # the factory's levels, filled in

    levels = [
        ("Not yet", "resubmit", "Some evidence."),
        ("Secure", "pass", "Clear evidence."),
        ("Exemplary", "pass", "Evidence others could learn from."),
    ]
    response = staff_client.post(url, criterion_data(title="New title", levels=levels))
    assert response.status_code == 302
    criterion.refresh_from_db()
    assert criterion.title == "New title"
    assert list(criterion.levels.order_by("position").values_list("title", "outcome")) == [
        ("Not yet", "resubmit"),
        ("Secure", "pass"),
        ("Exemplary", "pass"),
    ]
    assert RubricLevel.objects.filter(criterion__assignment=assignment).count() == 3


def test_criteria_move_up_and_down(staff_client):
    """Move up / Move down swap neighbours and keep the positions 1, 2, 3."""
    assignment = draft_assignment()
    one, two, three = (
        CriterionFactory(assignment=assignment, position=i, title=title)
        for i, title in enumerate(["One", "Two", "Three"], start=1)
    )
    response = staff_client.post(reverse("training:criterion-move", args=[three.pk]), {"direction": "up"})
    assert response.status_code == 302
    assert response.url.endswith(f"#criterion-{three.pk}")
    staff_client.post(reverse("training:criterion-move", args=[one.pk]), {"direction": "down"})
    assert titles_in_order(assignment) == ["Three", "One", "Two"]
    assert list(assignment.criteria.order_by("position").values_list("position", flat=True)) == [1, 2, 3]

    # The last moving down changes nothing.
    staff_client.post(reverse("training:criterion-move", args=[two.pk]), {"direction": "down"})
    assert titles_in_order(assignment) == ["Three", "One", "Two"]


def test_criterion_move_refuses_get_and_unknown_directions(staff_client):
    """Moving changes data, so GET is a 405; a direction other than up or down is a 400."""
    assignment = draft_assignment()
    first = CriterionFactory(assignment=assignment, position=1)
    CriterionFactory(assignment=assignment, position=2)
    url = reverse("training:criterion-move", args=[first.pk])
    assert staff_client.get(url + "?direction=down").status_code == 405
    response = staff_client.post(url, {"direction": "sideways"})
    assert response.status_code == 400
    assert "up or down" in html_of(response)
    first.refresh_from_db()
    assert first.position == 1


def test_criterion_delete_asks_first_then_deletes_and_closes_the_gap(staff_client):
    """Deleting a criterion asks for confirmation; then it goes with its levels and the
    criteria after it move up."""
    assignment = draft_assignment()
    one, two, three = (
        CriterionFactory(assignment=assignment, position=i, title=title)
        for i, title in enumerate(["One", "Two", "Three"], start=1)
    )
    url = reverse("training:criterion-delete", args=[two.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    page = html_of(response)
    assert "Delete the criterion “Two”?" in page
    assert "Its 3 levels go with it." in page
    assert RubricCriterion.objects.filter(pk=two.pk).exists()

    response = staff_client.post(url)
    assert response.status_code == 302
    assert response.url == reverse("training:assignment-edit", args=[assignment.pk]) + "#rubric"
    assert list(assignment.criteria.order_by("position").values_list("title", "position")) == [
        ("One", 1),
        ("Three", 2),
    ]
    assert not RubricLevel.objects.filter(criterion_id=two.pk).exists()


# --- Refused on a published version ---------------------------------------------------


@pytest.fixture
def published_rubric():
    """A published version's assignment with a rubric of two criteria."""
    assignment = AssignmentFactory(module=ModuleFactory(version=VersionFactory()))
    first, _second = rubric_add(assignment, criteria=2)
    return {"assignment": assignment, "criterion": first}


@pytest.mark.parametrize(
    ("name", "target", "data"),
    [
        ("criterion-create", "assignment", criterion_data()),
        ("criterion-edit", "criterion", criterion_data(title="Changed")),
        ("criterion-move", "criterion", {"direction": "down"}),
        ("criterion-delete", "criterion", {}),
    ],
)
def test_changing_a_published_rubric_is_refused_and_changes_nothing(
    staff_client, published_rubric, name, target, data
):
    """Every change to a published version's rubric comes back with the reason (400) and
    leaves the rubric exactly as it was."""
    assignment = published_rubric["assignment"]
    before = rubric_of(assignment)
    response = staff_client.post(reverse(f"training:{name}", args=[published_rubric[target].pk]), data)
    assert response.status_code == 400
    assert PUBLISHED_REFUSAL in html_of(response)
    assert rubric_of(assignment) == before


@pytest.mark.parametrize(
    ("name", "target"),
    [("criterion-create", "assignment"), ("criterion-edit", "criterion"), ("criterion-delete", "criterion")],
)
def test_rubric_pages_of_a_published_version_show_a_notice_instead(
    staff_client, published_rubric, name, target
):
    """Opening a rubric page of a published version shows why it cannot change, with no form."""
    response = staff_client.get(reverse(f"training:{name}", args=[published_rubric[target].pk]))
    assert response.status_code == 200
    page = html_of(response)
    assert "is published, so it cannot be edited" in page
    assert 'type="submit"' not in page.split('id="main"')[1]


def test_a_published_assignment_shows_its_rubric_read_only(staff_client, published_rubric):
    """A published assignment's page lists its criteria and levels without any action."""
    assignment = published_rubric["assignment"]
    page = html_of(staff_client.get(reverse("training:assignment-edit", args=[assignment.pk])))
    rubric = page[page.index('id="rubric"') :]
    assert published_rubric["criterion"].title in rubric
    assert "Meets the standard" in rubric
    assert "Add criterion" not in rubric
    assert "Move<span" not in rubric
    assert reverse("training:criterion-edit", args=[published_rubric["criterion"].pk]) not in rubric


def test_the_service_refuses_a_published_version_by_its_locked_row():
    """criterion_create reads the version's status from the database, not the caller's copy."""
    assignment = AssignmentFactory(module=ModuleFactory(version=VersionFactory()))
    assignment.module.version.status = VersionStatus.DRAFT  # stale in memory
    with pytest.raises(ValidationError) as caught:
        criterion_create(
            assignment=assignment,
            title="Anything",
            levels=[{"title": t, "outcome": o, "description": d} for t, o, d in LEVELS],
        )
    assert caught.value.code == "published"
    assert not assignment.criteria.exists()


# --- Bad input ------------------------------------------------------------------------


BAD_CRITERIA = [
    pytest.param(
        criterion_data(levels=LEVELS[2:]),
        "levels",
        "A criterion needs at least 2 levels",
        id="one-level",
    ),
    pytest.param(
        criterion_data(levels=LEVELS[:2]),
        "levels",
        "Give at least one level the outcome “Pass”",
        id="no-pass-level",
    ),
    pytest.param(
        criterion_data(levels=[*LEVELS[:2], ("not shown", "pass", "Ten meetings.")]),
        "levels",
        "Two levels are called “not shown”. Give each level its own title.",
        id="duplicate-level-titles",
    ),
    pytest.param(
        criterion_data(title=""),
        "title",
        "Give the criterion a title",
        id="missing-title",
    ),
    pytest.param(
        criterion_data(levels=[*LEVELS[:2], ("Secure", "", "Ten meetings.")]),
        "levels-2-outcome",
        "Choose what this level means for the work",
        id="level-without-outcome",
    ),
    pytest.param(
        criterion_data(levels=[*LEVELS[:2], ("", "pass", "Ten meetings.")]),
        "levels-2-title",
        "Give this level a title, or clear the whole row",
        id="level-without-title",
    ),
]

# Where each kind of message is shown: beside its field, or above the level rows.
ERROR_PLACES = {
    "title": ('id="div_id_title"', "</div>\n"),
    "levels": ('id="levels-errors"', "</div>"),
    "levels-2-outcome": ('id="div_id_levels-2-outcome"', "</div>\n"),
    "levels-2-title": ('id="div_id_levels-2-title"', "</div>\n"),
}


@pytest.mark.parametrize(("data", "place", "message"), BAD_CRITERIA)
def test_a_bad_new_criterion_is_refused_beside_the_field(staff_client, data, place, message):
    """A criterion without a title, with fewer than two levels, no passing level, repeated
    level titles or a half-filled level is refused (400) with the reason where it applies;
    nothing is saved."""
    assignment = draft_assignment()
    response = staff_client.post(reverse("training:criterion-create", args=[assignment.pk]), data)
    assert response.status_code == 400
    page = html_of(response)
    marker, end = ERROR_PLACES[place]
    start = page.index(marker)
    assert message in page[start : page.index(end, page.index(message, start))]
    assert not RubricCriterion.objects.filter(assignment=assignment).exists()
    assert 'value="Evidence of listening"' in page or not data["title"]  # what was typed is kept


@pytest.mark.parametrize(("data", "place", "message"), BAD_CRITERIA)
def test_a_bad_edit_leaves_the_criterion_and_its_levels_as_they_were(staff_client, data, place, message):
    """A refused edit changes neither the criterion nor any of its levels."""
    assignment = draft_assignment()
    criterion = CriterionFactory(assignment=assignment, position=1)
    before = rubric_of(assignment)
    response = staff_client.post(reverse("training:criterion-edit", args=[criterion.pk]), data)
    assert response.status_code == 400
    assert message in html_of(response)
    assert rubric_of(assignment) == before


def test_a_repeated_level_title_is_also_marked_on_its_row(staff_client):
    """The second level with a title already used says so beside its own title."""
    assignment = draft_assignment()
    data = criterion_data(levels=[*LEVELS[:2], ("Developing", "pass", "Ten meetings.")])
    page = html_of(staff_client.post(reverse("training:criterion-create", args=[assignment.pk]), data))
    row = section_of(page, 'id="div_id_levels-2-title"', "</div>\n")
    assert "Another level already has this title." in row


# --- Who may use these pages ----------------------------------------------------------


@pytest.fixture
def rubric_objects():
    assignment = draft_assignment()
    return {"assignment": assignment, "criterion": CriterionFactory(assignment=assignment, position=1)}


RUBRIC_URLS = [
    ("criterion-create", "assignment"),
    ("criterion-edit", "criterion"),
    ("criterion-move", "criterion"),
    ("criterion-delete", "criterion"),
]


@pytest.mark.parametrize("role", [Role.TRAINER, Role.TRAINEE])
def test_other_roles_are_refused_every_rubric_page(client, seeded, rubric_objects, role):
    """Trainers and trainees get a 403 on every rubric address, GET or POST; nothing changes."""
    client.force_login(UserFactory(role=role))
    before = rubric_of(rubric_objects["assignment"])
    for name, target in RUBRIC_URLS:
        url = reverse(f"training:{name}", args=[rubric_objects[target].pk])
        assert client.get(url).status_code == 403, name
        assert client.post(url, {**criterion_data(), "direction": "down"}).status_code == 403, name
    assert rubric_of(rubric_objects["assignment"]) == before


def test_anonymous_visitors_are_sent_to_sign_in(client, rubric_objects):
    """Anonymous visitors to any rubric address are sent to sign in, and nothing changes."""
    before = rubric_of(rubric_objects["assignment"])
    for name, target in RUBRIC_URLS:
        url = reverse(f"training:{name}", args=[rubric_objects[target].pk])
        for response in (client.get(url), client.post(url, {"direction": "down"})):
            assert response.status_code == 302, name
            assert response.url.startswith(reverse("account_login") + "?next="), name
    assert rubric_of(rubric_objects["assignment"]) == before


@pytest.mark.parametrize(("name", "target"), RUBRIC_URLS)
def test_an_unknown_id_is_a_404(staff_client, name, target):
    """An id that names nothing gets a 404 (a GET of the move address: 405)."""
    url = reverse(f"training:{name}", args=[999999])
    assert staff_client.get(url).status_code == (405 if name == "criterion-move" else 404)
    assert staff_client.post(url).status_code == 404


def test_a_criterion_of_another_programme_is_for_authors_only(staff_client, staff, seeded):
    """Authors see every programme's criteria; for anyone else the id names nothing (404)."""
    ours = draft_assignment()
    theirs = CriterionFactory(
        assignment=AssignmentFactory(module=ModuleFactory(version=draft_of())), position=1
    )
    assert theirs.assignment.module.version.programme != ours.module.version.programme
    response = staff_client.get(reverse("training:criterion-edit", args=[theirs.pk]))
    assert response.status_code == 200
    assert criterion_get_for_author(user=staff, pk=theirs.pk) == theirs
    for role in (Role.TRAINER, Role.TRAINEE):
        with pytest.raises(Http404):
            criterion_get_for_author(user=UserFactory(role=role), pk=theirs.pk)


# --- Publishing and new drafts ----------------------------------------------------------


def test_publishing_is_refused_while_an_assignment_has_no_rubric(staff_client):
    """Publishing names every assignment without criteria and changes nothing; once each has
    a rubric, the version publishes."""
    draft = draft_of()
    first = ModuleFactory(version=draft, position=1)
    second = ModuleFactory(version=draft, position=2)
    ready = AssignmentFactory(module=first, title="Power map")
    rubric_add(ready, criteria=1)
    missing = [
        AssignmentFactory(module=first, title="Action plan"),
        AssignmentFactory(module=second, title="Evaluation"),
    ]

    page = html_of(staff_client.get(reverse("training:version-detail", args=[draft.pk])))
    warning = page[page.index('id="publish-heading"') :]
    assert "These have no criteria yet" in warning
    assert "Action plan" in warning
    assert "Power map" not in warning
    assert "Publish version" not in warning

    response = staff_client.post(reverse("training:version-publish", args=[draft.pk]))
    assert response.status_code == 400
    assert "Every assignment needs a rubric before the version is published" in html_of(response)
    assert "Add criteria to: “Action plan”, “Evaluation”." in html_of(response)
    draft.refresh_from_db()
    assert (draft.status, draft.published_at) == (VersionStatus.DRAFT, None)

    for assignment in missing:
        rubric_add(assignment, criteria=1)
    response = staff_client.post(reverse("training:version-publish", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED


def test_a_new_draft_copies_rubrics_and_leaves_the_published_ones_untouched(staff_client):
    """A new draft copies each assignment's rubric, file types, attempts and the marking
    turnaround; changing the draft's rubric leaves the published rubric as it was."""
    published = VersionFactory(number=1, marking_turnaround_days=12)
    module = ModuleFactory(version=published, position=1)
    assignment = AssignmentFactory(module=module, accepted_file_types="pdf,png", max_attempts=2)
    rubric_add(assignment, criteria=2)
    AssignmentFactory(module=ModuleFactory(version=published, position=2), accepted_file_types="")
    before = rubric_of(assignment)

    response = staff_client.post(reverse("training:version-draft-create", args=[published.programme.pk]))
    assert response.status_code == 302
    draft = published.programme.versions.get(number=2)
    assert draft.marking_turnaround_days == 12
    copies = list(Assignment.objects.filter(module__version=draft).order_by("module__position", "pk"))
    assert [(a.accepted_file_types, a.max_attempts) for a in copies] == [("pdf,png", 2), ("", 3)]
    copy = copies[0]
    # The same rubric, in new rows.
    assert [row[1:] for row in rubric_of(copy)] == [row[1:] for row in before]
    assert not {row[0] for row in rubric_of(copy)} & {row[0] for row in before}
    assert not copies[1].criteria.exists()

    first_copy = copy.criteria.get(position=1)
    levels = [("Not yet", "resubmit", "Changed."), ("Secure", "pass", "Changed.")]
    response = staff_client.post(
        reverse("training:criterion-edit", args=[first_copy.pk]),
        criterion_data(title="Changed", levels=levels),
    )
    assert response.status_code == 302
    staff_client.post(reverse("training:criterion-move", args=[first_copy.pk]), {"direction": "down"})
    staff_client.post(reverse("training:criterion-delete", args=[copy.criteria.get(position=1).pk]))
    assert titles_in_order(copy) == ["Changed"]
    assert rubric_of(assignment) == before


def test_a_new_draft_is_copied_in_a_fixed_number_of_queries():
    """Copying a version costs the same whatever its number of modules and rubrics."""

    def version_with(modules: int) -> ProgrammeVersion:
        version = VersionFactory(number=1)
        for position in range(1, modules + 1):
            assignment = AssignmentFactory(module=ModuleFactory(version=version, position=position))
            rubric_add(assignment, criteria=3)
        return version

    def queries_to_copy(version) -> int:
        with CaptureQueriesContext(connection) as queries:
            version_draft_create(programme=version.programme)
        return len(queries)

    small, large = queries_to_copy(version_with(1)), queries_to_copy(version_with(5))
    assert small == large
    assert small <= 15


# --- The assignment's settings and the version's marking turnaround -------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"max_attempts": "0"}, "from 1 to 10"),
        ({"max_attempts": "11"}, "from 1 to 10"),
        ({"max_attempts": ""}, "how many attempts"),
        ({"max_attempts": "3", "accepted_file_types": ["exe"]}, "Choose from the file types listed"),
    ],
)
def test_assignment_attempts_and_file_types_are_checked(staff_client, data, message):
    """Attempts outside 1-10, or a file type not offered, are refused with a message."""
    assignment = draft_assignment(max_attempts=3, accepted_file_types="pdf")
    response = staff_client.post(
        reverse("training:assignment-edit", args=[assignment.pk]),
        {"title": "Essay", "brief": "Write.", "due_offset_days": "14", **data},
    )
    assert response.status_code == 400
    assert message in html_of(response)
    assignment.refresh_from_db()
    assert (assignment.max_attempts, assignment.accepted_file_types) == (3, "pdf")


def test_assignment_form_shows_the_saved_file_types_ticked(staff_client):
    """The edit form ticks the file types the assignment accepts, and offers all of them."""
    assignment = draft_assignment(accepted_file_types="pdf,odt", max_attempts=4)
    page = html_of(staff_client.get(reverse("training:assignment-edit", args=[assignment.pk])))
    boxes = section_of(page, 'id="div_id_accepted_file_types"', "</fieldset>")
    assert boxes.count('type="checkbox"') == 7
    assert boxes.count("checked") == 2
    assert 'value="pdf"' in boxes
    assert 'name="max_attempts" value="4"' in page


@pytest.mark.parametrize(
    ("days", "message"), [("0", "from 1 to 60"), ("61", "from 1 to 60"), ("", "from 1 to 60")]
)
def test_marking_turnaround_must_be_1_to_60_days(staff_client, days, message):
    """A marking turnaround outside 1-60 days, or missing, is refused and not saved."""
    draft = draft_of(marking_turnaround_days=7)
    response = staff_client.post(
        reverse("training:version-edit", args=[draft.pk]),
        {"summary": "", "min_attendance_percent": "75", "marking_turnaround_days": days},
    )
    assert response.status_code == 400
    assert message in html_of(response)
    draft.refresh_from_db()
    assert draft.marking_turnaround_days == 7


# --- Query budgets and the admin ---------------------------------------------------------


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("status", [VersionStatus.DRAFT, VersionStatus.PUBLISHED])
def test_assignment_page_runs_a_fixed_number_of_queries(staff_client, status):
    """An assignment's page costs the same with 1 criterion as with 5."""
    version = (
        VersionFactory(status=status, published_at=None)
        if status == VersionStatus.DRAFT
        else VersionFactory()
    )
    assignment = AssignmentFactory(module=ModuleFactory(version=version))
    rubric_add(assignment, criteria=1)
    url = reverse("training:assignment-edit", args=[assignment.pk])
    staff_client.get(url)  # warm caches that are per-process, not per-request
    small = _count_queries(staff_client, url)
    for position in range(2, 6):
        CriterionFactory(assignment=assignment, position=position)
    assert _count_queries(staff_client, url) == small
    assert small <= 8


def test_criterion_page_runs_a_fixed_number_of_queries(staff_client):
    """A criterion's edit page costs the same with 2 levels as with 6."""
    criterion = CriterionFactory(assignment=draft_assignment(), position=1)
    url = reverse("training:criterion-edit", args=[criterion.pk])
    staff_client.get(url)
    small = _count_queries(staff_client, url)
    RubricLevel.objects.bulk_create(
        RubricLevel(criterion=criterion, position=i, title=f"Level {i}", description=".", outcome="pass")
        for i in range(3, 6)
    )
    assert _count_queries(staff_client, url) == small


def test_admin_shows_criteria_with_their_levels(client, seeded):
    """Support staff see an assignment's criteria, and each criterion's levels, in the admin."""
    client.force_login(UserFactory(role=Role.NATIONAL_STAFF, is_staff=True, is_superuser=True))
    assignment = draft_assignment()
    criterion = CriterionFactory(assignment=assignment, position=1, title="Evidence")
    page = html_of(client.get(reverse("admin:training_assignment_change", args=[assignment.pk])))
    assert "Evidence" in page
    page = html_of(client.get(reverse("admin:training_rubriccriterion_change", args=[criterion.pk])))
    assert "Meets the standard" in page
    assert client.get(reverse("admin:training_rubriccriterion_changelist")).status_code == 200
