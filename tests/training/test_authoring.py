"""National staff author programmes in the site's pages: through HTTP, as staff use them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.permissions import Role
from tests.factories import (
    PDF,
    PNG,
    AssignmentFactory,
    CohortFactory,
    ModuleFactory,
    ProgrammeFactory,
    UserFactory,
    VersionFactory,
)
from tests.listing import listing_check
from training.models import (
    Assignment,
    Material,
    MaterialKind,
    Module,
    Programme,
    ProgrammeVersion,
    VersionStatus,
)

pytestmark = pytest.mark.django_db

PUBLISHED_REFUSAL = "is published and cannot change"


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


def html_of(response) -> str:
    return response.content.decode()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def titles_in_order(version) -> list[str]:
    return list(version.modules.order_by("position").values_list("title", flat=True))


# --- The whole journey ---------------------------------------------------------------


def test_staff_author_and_publish_a_programme(staff_client):
    """Staff create a programme, add and reorder modules, attach a link and a PDF, add an
    assignment, set the completion rule and publish: each step saved as shown."""
    response = staff_client.post(
        reverse("training:programme-create"),
        {"title": "Organising 101", "slug": "organising-101", "description": "The basics."},
    )
    programme = Programme.objects.get(slug="organising-101")
    draft = programme.versions.get()
    assert (draft.number, draft.status) == (1, VersionStatus.DRAFT)
    assert response.status_code == 302
    assert response.url == reverse("training:version-detail", args=[draft.pk])

    for title in ["Power analysis", "One-to-ones", "Campaigns"]:
        response = staff_client.post(
            reverse("training:module-create", args=[draft.pk]),
            {"title": title, "summary": "", "learning_outcomes": " Map power \n\n", "materials": ""},
        )
        assert response.status_code == 302
    assert titles_in_order(draft) == ["Power analysis", "One-to-ones", "Campaigns"]
    assert Module.objects.get(version=draft, title="Power analysis").learning_outcomes == "Map power"

    campaigns = Module.objects.get(version=draft, title="Campaigns")
    response = staff_client.post(reverse("training:module-move", args=[campaigns.pk]), {"direction": "up"})
    assert response.status_code == 302
    assert response.url == reverse("training:version-detail", args=[draft.pk]) + f"#module-{campaigns.pk}"
    power = Module.objects.get(version=draft, title="Power analysis")
    staff_client.post(reverse("training:module-move", args=[power.pk]), {"direction": "down"})
    assert titles_in_order(draft) == ["Campaigns", "Power analysis", "One-to-ones"]
    assert list(draft.modules.order_by("position").values_list("position", flat=True)) == [1, 2, 3]

    material_url = reverse("training:material-create", args=[power.pk])
    response = staff_client.post(
        material_url, {"title": "Reading list", "url": "https://example.org/reading", "upload": ""}
    )
    assert response.status_code == 302
    response = staff_client.post(
        material_url, {"title": "Handout", "url": "", "upload": upload("handout.pdf", PDF)}
    )
    assert response.status_code == 302
    link, handout = power.attachments.order_by("pk")
    assert (link.kind, link.url) == (MaterialKind.LINK, "https://example.org/reading")
    assert (handout.kind, handout.content_type, handout.size) == (
        MaterialKind.FILE,
        "application/pdf",
        len(PDF),
    )

    response = staff_client.post(
        reverse("training:assignment-create", args=[power.pk]),
        {
            "title": "Map your street",
            "brief": "Draw the **power map** of your street.",
            "due_offset_days": "21",
            "required_for_completion": "on",
            "accepted_file_types": ["pdf", "png"],
            "max_attempts": "2",
        },
    )
    assignment = power.assignments.get()
    # Straight on to its rubric.
    assert response.status_code == 302
    assert response.url == reverse("training:rubric-edit", args=[assignment.pk])
    assert (assignment.due_offset_days, assignment.required_for_completion) == (21, True)
    assert (assignment.accepted_file_types, assignment.max_attempts) == ("pdf,png", 2)

    response = staff_client.post(
        reverse("training:version-edit", args=[draft.pk]),
        {"summary": "The first run.", "min_attendance_percent": "80", "marking_turnaround_days": "10"},
    )
    assert response.status_code == 302
    page = html_of(staff_client.get(reverse("training:version-detail", args=[draft.pk])))
    assert "80%" in page
    assert "within 10 days" in page
    assert "Map your street" in page
    assert "These have no criteria yet" in page

    # The whole rubric in one grid: one criterion of two levels, the other rows left blank.
    rubric_page = html_of(staff_client.get(reverse("training:rubric-edit", args=[assignment.pk])))
    assert "Criterion 1, level 1 descriptor" in rubric_page
    response = staff_client.post(
        reverse("training:rubric-edit", args=[assignment.pk]),
        {
            "criteria-TOTAL_FORMS": "2",
            "criteria-INITIAL_FORMS": "0",
            "level_columns": "3",
            "criteria-0-title": "The map",
            "criteria-0-level_1_title": "Not yet",
            "criteria-0-level_1_outcome": "resubmit",
            "criteria-0-level_1_description": "Fewer than eight actors.",
            "criteria-0-level_2_title": "Secure",
            "criteria-0-level_2_outcome": "pass",
            "criteria-0-level_2_description": "Eight actors or more.",
        },
    )
    assert response.status_code == 302
    assert list(assignment.criteria.values_list("title", flat=True)) == ["The map"]

    response = staff_client.post(reverse("training:version-publish", args=[draft.pk]), follow=True)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert draft.published_at is not None
    assert draft.min_attendance_percent == 80
    page = html_of(response)
    assert "Version 1 is published" in page
    assert "cannot be edited" in page
    assert "Move<span" not in page


# --- Programmes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("has spaces!", "Use only letters, numbers, hyphens and underscores"),
        ("taken", "Another programme already uses the short name “taken”"),
    ],
)
def test_programme_short_name_is_checked_with_a_clear_message(staff_client, slug, message):
    """A short name with other characters, or one already used, is refused beside the field."""
    ProgrammeFactory(slug="taken")
    count = Programme.objects.count()
    response = staff_client.post(
        reverse("training:programme-create"), {"title": "New", "slug": slug, "description": ""}
    )
    assert response.status_code == 400
    assert message in html_of(response)
    assert Programme.objects.count() == count


def test_programme_details_and_short_name_can_change(staff_client):
    """Editing a programme saves its title, short name and description together."""
    programme = ProgrammeFactory(slug="old-name", title="Old title")
    ProgrammeFactory(slug="other")
    url = reverse("training:programme-edit", args=[programme.pk])
    assert staff_client.get(url).status_code == 200

    response = staff_client.post(url, {"title": "Old title", "slug": "other", "description": ""})
    assert response.status_code == 400
    assert "already uses the short name" in html_of(response)

    reminders = {"session_reminder_hours": "48,2", "assignment_reminder_days": 3, "absence_warning_after": 2}
    response = staff_client.post(
        url, {"title": "New title", "slug": "new-name", "description": "Now.", **reminders}
    )
    assert response.status_code == 302
    programme.refresh_from_db()
    assert (programme.title, programme.slug, programme.description) == ("New title", "new-name", "Now.")


def test_programme_list_shows_the_published_version_and_any_draft(staff_client):
    """Each programme shows the version cohorts follow and whether a draft is in progress."""
    both = ProgrammeFactory(title="Alpha")
    VersionFactory(programme=both, number=1, status=VersionStatus.RETIRED)
    VersionFactory(programme=both, number=2)
    draft_of(both, number=3)
    draft_of(ProgrammeFactory(title="Beta"), number=1)
    response = staff_client.get(reverse("training:programme-list"))
    assert response.status_code == 200
    page = html_of(response)
    assert "New programme" in page
    alpha_row = page[page.index("Alpha") : page.index("Beta")]
    assert "Version 2" in alpha_row
    assert "Version 3 in draft" in alpha_row
    beta_row = page[page.index("Beta") :]
    assert "Not published" in beta_row
    assert "Version 1 in draft" in beta_row


def test_programme_list_is_paginated_by_20(staff_client):
    """More than 20 programmes spread over pages of 20."""
    ProgrammeFactory.create_batch(25)
    total = Programme.objects.count()
    first = html_of(staff_client.get(reverse("training:programme-list")))
    assert first.count('scope="row"') == 20
    assert "page 1 of 2" in first
    second = html_of(staff_client.get(reverse("training:programme-list") + "?page=2"))
    assert second.count('scope="row"') == total - 20


def test_programme_detail_lists_versions_with_their_modules_and_cohorts(staff_client):
    """The programme page counts each version's modules and the cohorts that follow it."""
    version = VersionFactory(number=1)
    ModuleFactory.create_batch(3, version=version)
    CohortFactory.create_batch(2, version=version)
    response = staff_client.get(reverse("training:programme-detail", args=[version.programme.pk]))
    assert response.status_code == 200
    row = html_of(response).split(reverse("training:version-detail", args=[version.pk]))[1]
    cells = [cell.split("</td>")[0].strip() for cell in row.split('<td class="text-end">')[1:3]]
    assert cells == ["3", "2"]
    assert "Start a new draft" in html_of(response)


# --- Drafts and published versions ---------------------------------------------------


def test_a_new_draft_copies_the_latest_version_and_leaves_it_untouched(staff_client):
    """Starting a draft copies modules, materials and assignments; editing the copy leaves
    the published version as it was."""
    published = VersionFactory(number=1, min_attendance_percent=60)
    module = ModuleFactory(version=published, position=1, title="Power analysis")
    AssignmentFactory(module=module, title="Map your street")
    Material.objects.create(module=module, kind=MaterialKind.LINK, title="Guide", url="https://example.org/")

    response = staff_client.post(reverse("training:version-draft-create", args=[published.programme.pk]))
    draft = published.programme.versions.get(number=2)
    assert response.status_code == 302
    assert response.url == reverse("training:version-detail", args=[draft.pk])
    assert draft.status == VersionStatus.DRAFT
    assert draft.min_attendance_percent == 60
    copy = draft.modules.get()
    assert copy.pk != module.pk
    assert list(copy.assignments.values_list("title", flat=True)) == ["Map your street"]
    assert list(copy.attachments.values_list("title", flat=True)) == ["Guide"]

    response = staff_client.post(
        reverse("training:module-edit", args=[copy.pk]),
        {"title": "Power mapping", "summary": "", "learning_outcomes": "", "materials": ""},
    )
    assert response.status_code == 302
    module.refresh_from_db()
    assert module.title == "Power analysis"
    published.refresh_from_db()
    assert published.status == VersionStatus.PUBLISHED


def test_a_second_draft_is_refused_politely(staff_client):
    """While a draft exists, "Start a new draft" explains why not and creates nothing."""
    draft = draft_of(number=2)
    response = staff_client.post(reverse("training:version-draft-create", args=[draft.programme.pk]))
    assert response.status_code == 400
    assert "already has a draft" in html_of(response)
    assert draft.programme.versions.count() == 1


def test_publishing_a_published_version_again_is_refused(staff_client):
    """Publishing twice is refused with the reason; the publication date stays the same."""
    version = VersionFactory()
    ModuleFactory(version=version)
    published_at = version.published_at
    response = staff_client.post(reverse("training:version-publish", args=[version.pk]))
    assert response.status_code == 400
    assert PUBLISHED_REFUSAL in html_of(response)
    version.refresh_from_db()
    assert (version.status, version.published_at) == (VersionStatus.PUBLISHED, published_at)


def test_publishing_retires_the_previous_version(staff_client):
    """Publishing a draft retires the published version; its cohorts keep following it."""
    old = VersionFactory(number=1)
    cohort = CohortFactory(version=old)
    draft = draft_of(old.programme, number=2)
    ModuleFactory(version=draft)
    response = staff_client.post(reverse("training:version-publish", args=[draft.pk]))
    assert response.status_code == 302
    old.refresh_from_db()
    cohort.refresh_from_db()
    assert old.status == VersionStatus.RETIRED
    assert cohort.version_id == old.pk


def test_an_empty_draft_cannot_be_published(staff_client):
    """A draft without modules is not published, and the page says why."""
    draft = draft_of()
    response = staff_client.post(reverse("training:version-publish", args=[draft.pk]))
    assert response.status_code == 400
    assert "Add at least one module before publishing" in html_of(response)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


@pytest.fixture
def published_content():
    """A published version with one module, a link and an assignment."""
    version = VersionFactory(number=1)
    first = ModuleFactory(version=version, position=1, title="First")
    ModuleFactory(version=version, position=2, title="Second")
    material = Material.objects.create(
        module=first, kind=MaterialKind.LINK, title="Guide", url="https://example.org/"
    )
    assignment = AssignmentFactory(module=first, title="Essay")
    return {"version": version, "module": first, "material": material, "assignment": assignment}


def _snapshot(version) -> list:
    modules = list(version.modules.order_by("pk").values_list("pk", "position", "title", "summary"))
    materials = list(Material.objects.filter(module__version=version).values_list("pk", "title", "url"))
    assignments = list(
        Assignment.objects.filter(module__version=version).values_list("pk", "title", "due_offset_days")
    )
    version.refresh_from_db()
    return [modules, materials, assignments, version.summary, version.min_attendance_percent]


MODULE_DATA = {"title": "Changed", "summary": "Changed", "learning_outcomes": "", "materials": ""}
ASSIGNMENT_DATA = {"title": "Changed", "brief": "Changed", "due_offset_days": "3", "max_attempts": "3"}
VERSION_DATA = {"summary": "Changed", "min_attendance_percent": "10", "marking_turnaround_days": "5"}


@pytest.mark.parametrize(
    ("name", "target", "data"),
    [
        ("version-edit", "version", VERSION_DATA),
        ("module-create", "version", MODULE_DATA),
        ("module-edit", "module", MODULE_DATA),
        ("module-move", "module", {"direction": "down"}),
        ("module-delete", "module", {}),
        ("material-create", "module", {"title": "New", "url": "https://example.org/new"}),
        ("material-delete", "material", {}),
        ("assignment-create", "module", ASSIGNMENT_DATA),
        ("assignment-edit", "assignment", ASSIGNMENT_DATA),
        ("assignment-delete", "assignment", {}),
    ],
)
def test_changing_a_published_version_is_refused_and_changes_nothing(
    staff_client, published_content, name, target, data
):
    """Every change to a published version, posted to its address, comes back with the
    reason (400) and leaves the version exactly as it was."""
    version = published_content["version"]
    before = _snapshot(version)
    response = staff_client.post(reverse(f"training:{name}", args=[published_content[target].pk]), data)
    assert response.status_code == 400
    assert PUBLISHED_REFUSAL in html_of(response)
    assert _snapshot(version) == before


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("version-edit", "version"),
        ("module-create", "version"),
        ("module-edit", "module"),
        ("module-delete", "module"),
        ("material-create", "module"),
        ("assignment-create", "module"),
        ("assignment-edit", "assignment"),
        ("assignment-delete", "assignment"),
    ],
)
def test_forms_of_a_published_version_show_a_notice_instead(staff_client, published_content, name, target):
    """Opening an edit page of a published version shows why it cannot change, with no form."""
    response = staff_client.get(reverse(f"training:{name}", args=[published_content[target].pk]))
    assert response.status_code == 200
    page = html_of(response)
    assert "is published, so it cannot be edited" in page
    assert 'type="submit"' not in page.split('id="main"')[1]


# --- Modules -------------------------------------------------------------------------


def test_version_page_offers_move_buttons_only_where_they_move(staff_client):
    """A draft's modules have Move up / Move down buttons named after the module, except
    up for the first and down for the last; a published version has none."""
    draft = draft_of()
    ModuleFactory(version=draft, position=1, title="Power analysis")
    ModuleFactory(version=draft, position=2, title="Campaigns")
    page = html_of(staff_client.get(reverse("training:version-detail", args=[draft.pk])))
    assert 'Move<span class="visually-hidden"> “Power analysis”</span> down' in page
    assert 'Move<span class="visually-hidden"> “Campaigns”</span> up' in page
    assert "“Power analysis”</span> up" not in page
    assert "“Campaigns”</span> down" not in page
    assert "Add module" in page
    assert "Edit completion rule" in page
    assert "Cohorts already running keep the version they started with" in page

    published = VersionFactory()
    ModuleFactory(version=published, title="Fixed")
    page = html_of(staff_client.get(reverse("training:version-detail", args=[published.pk])))
    assert "Move<span" not in page
    assert "Add module" not in page
    assert "cannot be edited" in page


def test_version_page_states_the_completion_rule(staff_client):
    """The completion rule lists the attendance share and only the must-pass assignments."""
    draft = draft_of(min_attendance_percent=70)
    module = ModuleFactory(version=draft)
    AssignmentFactory(module=module, title="Required essay", required_for_completion=True)
    AssignmentFactory(module=module, title="Optional reading", required_for_completion=False)
    page = html_of(staff_client.get(reverse("training:version-detail", args=[draft.pk])))
    rule = page[page.index("Completion rule") : page.index('id="modules-heading"')]
    assert "70%" in rule
    assert "Required essay" in rule
    assert "Optional reading" not in rule


def test_module_move_refuses_get(staff_client):
    """Moving changes data, so a GET is not allowed (405) and nothing moves."""
    draft = draft_of()
    first = ModuleFactory(version=draft, position=1)
    ModuleFactory(version=draft, position=2)
    assert (
        staff_client.get(reverse("training:module-move", args=[first.pk]) + "?direction=down").status_code
        == 405
    )
    first.refresh_from_db()
    assert first.position == 1


def test_module_move_with_an_unknown_direction_is_refused(staff_client):
    """A direction other than up or down is refused with a message."""
    module = ModuleFactory(version=draft_of(), position=1)
    response = staff_client.post(reverse("training:module-move", args=[module.pk]), {"direction": "sideways"})
    assert response.status_code == 400
    assert "up or down" in html_of(response)


def test_module_delete_asks_first_then_deletes_and_closes_the_gap(staff_client):
    """Deleting a module asks for confirmation; then the modules after it move up."""
    draft = draft_of()
    ModuleFactory(version=draft, position=1, title="One")
    two = ModuleFactory(version=draft, position=2, title="Two")
    ModuleFactory(version=draft, position=3, title="Three")
    url = reverse("training:module-delete", args=[two.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "Delete the module" in html_of(response)
    assert Module.objects.filter(pk=two.pk).exists()

    assert staff_client.post(url).status_code == 302
    assert list(draft.modules.order_by("position").values_list("title", "position")) == [
        ("One", 1),
        ("Three", 2),
    ]


def test_module_page_previews_the_teaching_notes_without_saving(staff_client):
    """ "Preview" shows the Markdown as trainees will see it, sanitised, and saves nothing."""
    module = ModuleFactory(version=draft_of(), materials="Old notes")
    response = staff_client.post(
        reverse("training:module-edit", args=[module.pk]),
        {
            **MODULE_DATA,
            "materials": "### Before you come\n\n**Read** this.<script>alert(1)</script>",
            "preview": "1",
        },
    )
    assert response.status_code == 200
    page = html_of(response)
    assert "<h3>Before you come</h3>" in page
    assert "<strong>Read</strong>" in page
    assert "<script>alert(1)" not in page
    module.refresh_from_db()
    assert module.materials == "Old notes"
    assert module.summary != "Changed"


def test_module_page_lists_its_materials_and_assignments(staff_client):
    """The module's edit page lists its files, links and assignments with their actions."""
    module = ModuleFactory(version=draft_of())
    link = Material.objects.create(
        module=module, kind=MaterialKind.LINK, title="Guide", url="https://example.org/"
    )
    Material.objects.create(
        module=module,
        kind=MaterialKind.FILE,
        title="Handout",
        file="materials/handout.pdf",
        content_type="application/pdf",
        size=2048,
    )
    assignment = AssignmentFactory(module=module, title="Essay")
    page = html_of(staff_client.get(reverse("training:module-edit", args=[module.pk])))
    assert "PDF file, 2.0\xa0KB" in page
    assert reverse("training:material-delete", args=[link.pk]) in page
    assert reverse("training:assignment-edit", args=[assignment.pk]) in page
    assert reverse("training:assignment-delete", args=[assignment.pk]) in page
    assert reverse("training:material-create", args=[module.pk]) in page
    assert reverse("training:assignment-create", args=[module.pk]) in page
    assert "<h3>Notes</h3>" in page  # the factory's Markdown, rendered


# --- Materials -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("handout.pdf", PNG, "is a PNG file, so its name should end in .png"),
        ("handout.pdf", b"Just some text, not a PDF at all.", "is not a kind of file accepted here"),
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_refused(staff_client, name, content, message):
    """A ".pdf" holding a PNG or plain text is refused, the reason shown beside the upload."""
    module = ModuleFactory(version=draft_of())
    response = staff_client.post(
        reverse("training:material-create", args=[module.pk]),
        {"title": "Handout", "url": "", "upload": upload(name, content)},
    )
    assert response.status_code == 400
    page = html_of(response)
    assert message in page
    upload_field = page[page.index('id="div_id_upload"') :]
    assert message in upload_field[: upload_field.index("</div>\n", upload_field.index(message))]
    assert not Material.objects.filter(module=module).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "", "upload": ""}, "Give a link, or choose a file to upload."),
        ({"url": "https://example.org/", "with_file": True}, "Give a link or a file, not both"),
        ({"url": "not a link", "upload": ""}, "Enter a full web address"),
    ],
)
def test_a_material_needs_exactly_one_link_or_file(staff_client, data, message):
    """A material is a link or a file: neither, both or a broken link is refused clearly."""
    module = ModuleFactory(version=draft_of())
    post = {
        "title": "Guide",
        "url": data["url"],
        "upload": upload("a.pdf", PDF) if data.get("with_file") else "",
    }
    response = staff_client.post(reverse("training:material-create", args=[module.pk]), post)
    assert response.status_code == 400
    assert message in html_of(response)
    assert not Material.objects.filter(module=module).exists()


def test_material_delete_removes_it_and_refuses_get(staff_client):
    """Removing a material is a POST; a GET changes nothing (405)."""
    module = ModuleFactory(version=draft_of())
    link = Material.objects.create(
        module=module, kind=MaterialKind.LINK, title="Guide", url="https://example.org/"
    )
    url = reverse("training:material-delete", args=[link.pk])
    assert staff_client.get(url).status_code == 405
    response = staff_client.post(url)
    assert response.status_code == 302
    assert response.url == reverse("training:module-edit", args=[module.pk])
    assert not Material.objects.filter(module=module).exists()


# --- Assignments and the completion rule ---------------------------------------------


def test_assignment_can_be_edited_and_deleted(staff_client):
    """An assignment's fields are saved; deleting asks first, then removes it."""
    assignment = AssignmentFactory(module=ModuleFactory(version=draft_of()), required_for_completion=True)
    response = staff_client.post(
        reverse("training:assignment-edit", args=[assignment.pk]),
        {"title": "Reflection", "brief": "Write.", "due_offset_days": "0", "max_attempts": "1"},
    )
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.title, assignment.due_offset_days, assignment.required_for_completion) == (
        "Reflection",
        0,
        False,
    )
    # No file type ticked: a written answer only.
    assert (assignment.accepted_file_types, assignment.max_attempts) == ("", 1)
    url = reverse("training:assignment-delete", args=[assignment.pk])
    assert staff_client.get(url).status_code == 200
    assert staff_client.post(url).status_code == 302
    assert not Assignment.objects.filter(pk=assignment.pk).exists()


@pytest.mark.parametrize(
    ("days", "message"), [("366", "from 0 to 365"), ("-1", "from 0 to 365"), ("", "when it is due")]
)
def test_assignment_due_days_must_be_0_to_365(staff_client, days, message):
    """Due days outside 0-365, or missing, are refused with a message."""
    module = ModuleFactory(version=draft_of())
    response = staff_client.post(
        reverse("training:assignment-create", args=[module.pk]),
        {"title": "Essay", "brief": "Write.", "due_offset_days": days},
    )
    assert response.status_code == 400
    assert message in html_of(response)
    assert not module.assignments.exists()


@pytest.mark.parametrize(
    ("percent", "message"),
    [("101", "cannot be above 100."), ("-5", "cannot be below 0."), ("75%", "whole number")],
)
def test_minimum_attendance_must_be_0_to_100(staff_client, percent, message):
    """A minimum attendance outside 0-100 is refused with a message and not saved."""
    draft = draft_of(min_attendance_percent=75)
    response = staff_client.post(
        reverse("training:version-edit", args=[draft.pk]), {"summary": "", "min_attendance_percent": percent}
    )
    assert response.status_code == 400
    assert message in html_of(response)
    draft.refresh_from_db()
    assert draft.min_attendance_percent == 75


# --- Who may use these pages ---------------------------------------------------------


@pytest.fixture
def objects():
    """One of each object the authoring pages take, in a draft."""
    draft = draft_of()
    module = ModuleFactory(version=draft)
    material = Material.objects.create(
        module=module, kind=MaterialKind.LINK, title="Guide", url="https://example.org/"
    )
    return {
        "programme": draft.programme,
        "version": draft,
        "module": module,
        "material": material,
        "assignment": AssignmentFactory(module=module),
    }


# Every authoring page, with the kind of object its id names (None: no id).
AUTHORING_URLS = [
    ("programme-list", None),
    ("programme-create", None),
    ("programme-detail", "programme"),
    ("programme-edit", "programme"),
    ("version-draft-create", "programme"),
    ("version-detail", "version"),
    ("version-edit", "version"),
    ("version-publish", "version"),
    ("module-create", "version"),
    ("module-edit", "module"),
    ("module-move", "module"),
    ("module-delete", "module"),
    ("material-create", "module"),
    ("material-delete", "material"),
    ("assignment-create", "module"),
    ("assignment-edit", "assignment"),
    ("assignment-delete", "assignment"),
]


def _url(objects, name, target):
    return reverse(f"training:{name}", args=[objects[target].pk] if target else [])


@pytest.mark.parametrize("role", [Role.TRAINER, Role.TRAINEE])
def test_other_roles_are_refused_every_authoring_page(client, seeded, objects, role):
    """Trainers and trainees get a 403 on every authoring address, GET or POST; nothing changes."""
    client.force_login(UserFactory(role=role))
    before = _snapshot(objects["version"])
    for name, target in AUTHORING_URLS:
        url = _url(objects, name, target)
        assert client.get(url).status_code == 403, name
        assert client.post(url, {"direction": "down", "title": "x"}).status_code == 403, name
    assert _snapshot(objects["version"]) == before


def test_anonymous_visitors_are_sent_to_sign_in(client, objects):
    """Anonymous visitors to any authoring address are sent to sign in."""
    for name, target in AUTHORING_URLS:
        response = client.get(_url(objects, name, target))
        assert response.status_code == 302, name
        assert response.url.startswith(reverse("account_login") + "?next="), name


POST_ONLY = {"version-draft-create", "version-publish", "module-move", "material-delete"}
GET_ONLY = {"programme-list", "programme-detail", "version-detail"}


@pytest.mark.parametrize(("name", "target"), [item for item in AUTHORING_URLS if item[1]])
def test_an_unknown_id_is_a_404(staff_client, name, target):
    """An id that names nothing gets a 404 (a method the address does not take: 405)."""
    url = reverse(f"training:{name}", args=[999999])
    assert staff_client.get(url).status_code == (405 if name in POST_ONLY else 404)
    assert staff_client.post(url).status_code == (405 if name in GET_ONLY else 404)


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_changes_are_never_made_by_get(staff_client, objects, name):
    """Addresses that change data refuse GET with a 405."""
    target = dict(AUTHORING_URLS)[name]
    before = _snapshot(objects["version"])
    assert staff_client.get(_url(objects, name, target)).status_code == 405
    assert _snapshot(objects["version"]) == before


# --- Query budgets -------------------------------------------------------------------


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_programme_list_runs_a_fixed_number_of_queries(staff_client):
    """The programme list costs the same with 2 programmes as with 12."""
    url = reverse("training:programme-list")

    def add_programmes(count):
        for _ in range(count):
            version = VersionFactory()
            draft_of(version.programme)

    add_programmes(2)
    staff_client.get(url)  # warm caches that are per-process, not per-request
    small = _count_queries(staff_client, url)
    add_programmes(10)
    assert _count_queries(staff_client, url) == small
    assert small <= 8


def test_version_page_runs_a_fixed_number_of_queries(staff_client):
    """A version's page costs the same with 2 modules as with 12."""
    draft = draft_of()
    url = reverse("training:version-detail", args=[draft.pk])

    def add_modules(count):
        for _ in range(count):
            module = ModuleFactory(version=draft)
            AssignmentFactory.create_batch(2, module=module)
            Material.objects.create(
                module=module, kind=MaterialKind.LINK, title="Guide", url="https://example.org/"
            )

    add_modules(2)
    staff_client.get(url)
    small = _count_queries(staff_client, url)
    add_modules(10)
    assert _count_queries(staff_client, url) == small
    assert small <= 8


def test_programme_and_module_pages_run_a_fixed_number_of_queries(staff_client):
    """A programme's page (by versions) and a module's page (by materials) do not grow."""
    published = VersionFactory(number=1)
    module = ModuleFactory(version=draft_of(published.programme, number=2))
    programme_url = reverse("training:programme-detail", args=[published.programme.pk])
    module_url = reverse("training:module-edit", args=[module.pk])
    staff_client.get(programme_url)
    small = (_count_queries(staff_client, programme_url), _count_queries(staff_client, module_url))
    for number in range(3, 13):
        CohortFactory(
            version=VersionFactory(programme=published.programme, number=number, status=VersionStatus.RETIRED)
        )
    for _ in range(10):
        Material.objects.create(
            module=module, kind=MaterialKind.LINK, title="Guide", url="https://example.org/"
        )
        AssignmentFactory(module=module)
    assert (_count_queries(staff_client, programme_url), _count_queries(staff_client, module_url)) == small


def test_programme_list_sorts_and_pages_on_the_one_table_component(staff_client):
    """By title, 20 a page; sortable by title either way; unknown keys and bad pages change nothing."""
    ProgrammeFactory.create_batch(25)
    total = Programme.objects.count()
    listing_check(
        staff_client,
        reverse("training:programme-list"),
        table="table-programmetable",
        caption=f"{total} programmes",
        sort="-title",
        per_page=20,
        total=total,
    )
