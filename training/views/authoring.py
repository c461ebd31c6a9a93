"""National staff author programmes: programmes, versions, modules, materials, assignments
and their rubrics.

Every view requires the author permission (anonymous visitors sign in; other roles get a
403). Programmes, versions and modules are fetched through training.permissions, materials,
assignments and rubric criteria through training.selectors.authoring, so an unknown id is a
404. Every change goes through training.services.programmes or training.services.rubrics,
which refuse to touch a published version: the page comes back with its message, status
400, and nothing changes.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from config.tables import table_configure
from training import permissions
from training.forms.authoring import (
    PROGRAMME_REMINDER_FIELDS,
    AssignmentForm,
    CriterionForm,
    CriterionMoveForm,
    MaterialForm,
    ModuleForm,
    ModuleMoveForm,
    ProgrammeForm,
    VersionForm,
    grid_level_columns,
    level_formset,
    rubric_formset,
    rubric_formset_grown,
)
from training.models import Assignment, Module, ProgrammeVersion, VersionStatus
from training.rubric import RULE_EXPLAINED
from training.selectors.authoring import (
    assignment_criterion_list,
    assignment_get_for_author,
    criterion_get_for_author,
    material_get_for_author,
    module_assignment_list,
    module_material_list,
    programme_draft_get,
    programme_list_for_author_page,
    programme_version_list,
    version_assignment_list,
    version_module_list,
)
from training.services.programmes import (
    assignment_create,
    assignment_delete,
    assignment_update,
    material_delete,
    material_file_add,
    material_link_add,
    module_create,
    module_delete,
    module_move,
    module_update,
    programme_create,
    programme_slug_update,
    programme_update,
    version_draft_create,
    version_publish,
    version_update,
)
from training.services.rubrics import (
    MAX_CRITERIA,
    MAX_LEVELS,
    criterion_create,
    criterion_delete,
    criterion_move,
    criterion_update,
    rubric_save,
)
from training.tables import ProgrammeTable
from training.uploads import file_type_labels
from training.views.base import PAGE_SIZE, AuthorsProgrammesRequiredMixin, form_errors_add

MODULE_FIELDS = ["title", "summary", "learning_outcomes", "materials"]
VERSION_FIELDS = [
    "summary",
    "min_attendance_percent",
    "marking_turnaround_days",
    "certificate_valid_months",
]


def _render(request, template: str, context: dict, *, status: int = 200):
    return render(request, f"training/authoring/{template}", context, status=status)


def _module_context(module: Module, **context) -> dict:
    """A page about one module of a draft, or something in it: its breadcrumbs need the
    programme, the version and the module."""
    return {"programme": module.version.programme, "version": module.version, "module": module, **context}


def _version_url(version: ProgrammeVersion, *, module: Module | None = None) -> str:
    url = reverse("training:version-detail", args=[version.pk])
    return f"{url}#module-{module.pk}" if module else url


# --- Programmes ----------------------------------------------------------------------


class ProgrammeListView(AuthorsProgrammesRequiredMixin, View):
    def get(self, request):
        programmes = programme_list_for_author_page(
            programmes=permissions.programme_list_for_author(user=request.user)
        )
        table = table_configure(ProgrammeTable(programmes), request=request, per_page=PAGE_SIZE)
        count = table.paginator.count
        table.caption = ngettext("%(count)d programme", "%(count)d programmes", count) % {"count": count}
        return _render(request, "programme_list.html", {"table": table})


class ProgrammeCreateView(AuthorsProgrammesRequiredMixin, View):
    """A new programme starts with an empty draft, version 1."""

    template = "programme_form.html"

    def get(self, request):
        return _render(request, self.template, {"form": ProgrammeForm()})

    def post(self, request):
        form = ProgrammeForm(request.POST)
        if form.is_valid():
            try:
                programme = programme_create(**form.cleaned_data)
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(
                    request,
                    _("“%(title)s” is created, with a draft version 1. Add its modules.")
                    % {"title": programme.title},
                )
                return redirect("training:version-detail", pk=programme_draft_get(programme=programme).pk)
        return _render(request, self.template, {"form": form}, status=400)


class ProgrammeEditView(AuthorsProgrammesRequiredMixin, View):
    template = "programme_form.html"

    def get(self, request, pk):
        programme = permissions.programme_get_for_author(user=request.user, pk=pk)
        fields = ["title", "slug", "description", *PROGRAMME_REMINDER_FIELDS]
        form = ProgrammeForm(programme=programme, initial={name: getattr(programme, name) for name in fields})
        return _render(request, self.template, {"form": form, "programme": programme})

    def post(self, request, pk):
        programme = permissions.programme_get_for_author(user=request.user, pk=pk)
        form = ProgrammeForm(request.POST, programme=programme)
        if form.is_valid():
            data = form.cleaned_data
            try:
                # Both changes or neither.
                with transaction.atomic():
                    if data["slug"] != programme.slug:
                        programme_slug_update(programme=programme, slug=data["slug"])
                    programme_update(
                        programme=programme,
                        title=data["title"],
                        description=data["description"],
                        **{name: data[name] for name in PROGRAMME_REMINDER_FIELDS},
                    )
            except ValidationError as error:
                form_errors_add(form, error)
                # The services changed the object in memory; show what is saved.
                programme = permissions.programme_get_for_author(user=request.user, pk=pk)
            else:
                messages.success(request, _("The programme’s details are saved."))
                return redirect("training:programme-detail", pk=programme.pk)
        return _render(request, self.template, {"form": form, "programme": programme}, status=400)


def _reminder_hours(programme) -> list[int]:
    try:
        return programme.session_reminder_offsets
    except ValidationError:  # unreadable (not saved through the form): no reminders are sent
        return []


def _programme_detail(request, programme, *, errors=(), status: int = 200):
    versions = programme_version_list(programme=programme)
    draft = next((version for version in versions if version.status == VersionStatus.DRAFT), None)
    return _render(
        request,
        "programme_detail.html",
        {
            "programme": programme,
            "versions": versions,
            "draft": draft,
            "errors": errors,
            "session_reminder_hours": _reminder_hours(programme),
        },
        status=status,
    )


class ProgrammeDetailView(AuthorsProgrammesRequiredMixin, View):
    def get(self, request, pk):
        programme = permissions.programme_get_for_author(user=request.user, pk=pk)
        return _programme_detail(request, programme)


class VersionDraftCreateView(AuthorsProgrammesRequiredMixin, View):
    """Start the next draft as a copy of the latest version (refused while a draft exists)."""

    def post(self, request, pk):
        programme = permissions.programme_get_for_author(user=request.user, pk=pk)
        try:
            draft = version_draft_create(programme=programme)
        except ValidationError as error:
            return _programme_detail(request, programme, errors=error.messages, status=400)
        if draft.number == 1:
            text = _("Version 1 is a new, empty draft.")
        else:
            text = _("Version %(number)s is a new draft, copied from version %(previous)s.") % {
                "number": draft.number,
                "previous": draft.number - 1,
            }
        messages.success(request, text)
        return redirect("training:version-detail", pk=draft.pk)


# --- Versions ------------------------------------------------------------------------


def _version_detail(request, version, *, errors=(), status: int = 200):
    assignments = version_assignment_list(version=version)
    return _render(
        request,
        "version_detail.html",
        {
            "programme": version.programme,
            "version": version,
            "modules": version_module_list(version=version),
            "required_assignments": [item for item in assignments if item.required_for_completion],
            "without_rubric": [item for item in assignments if not item.criterion_count],
            "errors": errors,
        },
        status=status,
    )


class VersionDetailView(AuthorsProgrammesRequiredMixin, View):
    def get(self, request, pk):
        return _version_detail(request, permissions.version_get_for_author(user=request.user, pk=pk))


class VersionEditView(AuthorsProgrammesRequiredMixin, View):
    """The version's summary, its completion rule's attendance share and the marking turnaround."""

    template = "version_form.html"

    def _page(self, request, version, form, *, status: int = 200):
        context = {"programme": version.programme, "version": version, "form": form}
        return _render(request, self.template, context, status=status)

    def get(self, request, pk):
        version = permissions.version_get_for_author(user=request.user, pk=pk)
        form = VersionForm(initial={name: getattr(version, name) for name in VERSION_FIELDS})
        return self._page(request, version, form)

    def post(self, request, pk):
        version = permissions.version_get_for_author(user=request.user, pk=pk)
        form = VersionForm(request.POST)
        if form.is_valid():
            try:
                version_update(version=version, **form.cleaned_data)
            except ValidationError as error:
                form_errors_add(form, error)
                version = permissions.version_get_for_author(user=request.user, pk=pk)
            else:
                messages.success(request, _("The summary, completion rule and marking turnaround are saved."))
                return redirect("training:version-detail", pk=version.pk)
        return self._page(request, version, form, status=400)


class VersionPublishView(AuthorsProgrammesRequiredMixin, View):
    """Publish a draft: new cohorts follow it; running cohorts keep their version."""

    def post(self, request, pk):
        version = permissions.version_get_for_author(user=request.user, pk=pk)
        try:
            version = version_publish(version=version)
        except ValidationError as error:
            return _version_detail(request, version, errors=error.messages, status=400)
        messages.success(
            request,
            _(
                "Version %(number)s is published. New cohorts will follow it; "
                "cohorts already running keep the version they started with."
            )
            % {"number": version.number},
        )
        return redirect("training:version-detail", pk=version.pk)


# --- Modules -------------------------------------------------------------------------


def _module_page(request, module, *, form=None, preview=None, errors=(), status: int = 200):
    """The module's edit page: its form, a preview, its materials and assignments."""
    if form is None:
        form = ModuleForm(initial={name: getattr(module, name) for name in MODULE_FIELDS})
    return _render(
        request,
        "module_form.html",
        _module_context(
            module,
            form=form,
            preview=module.materials if preview is None else preview,
            attachments=module_material_list(module=module),
            assignments=module_assignment_list(module=module),
            errors=errors,
        ),
        status=status,
    )


class ModuleCreateView(AuthorsProgrammesRequiredMixin, View):
    template = "module_form.html"

    def _page(self, request, version, form, *, preview: str = "", status: int = 200):
        context = {"programme": version.programme, "version": version, "form": form, "preview": preview}
        return _render(request, self.template, context, status=status)

    def get(self, request, pk):
        version = permissions.version_get_for_author(user=request.user, pk=pk)
        return self._page(request, version, ModuleForm(is_new=True))

    def post(self, request, pk):
        version = permissions.version_get_for_author(user=request.user, pk=pk)
        form = ModuleForm(request.POST, is_new=True)
        if "preview" in request.POST:
            return self._page(request, version, form, preview=request.POST.get("materials", ""))
        if form.is_valid():
            try:
                module = module_create(version=version, **form.cleaned_data)
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(
                    request,
                    _("Module “%(title)s” is added. Add its files, links and assignments below.")
                    % {"title": module.title},
                )
                return redirect("training:module-edit", pk=module.pk)
        return self._page(request, version, form, preview=request.POST.get("materials", ""), status=400)


class ModuleEditView(AuthorsProgrammesRequiredMixin, View):
    """Edit a draft's module; a published version's module is shown, read-only."""

    def get(self, request, pk):
        return _module_page(request, permissions.module_get_for_author(user=request.user, pk=pk))

    def post(self, request, pk):
        module = permissions.module_get_for_author(user=request.user, pk=pk)
        form = ModuleForm(request.POST)
        preview = request.POST.get("materials", "")
        if "preview" in request.POST:
            return _module_page(request, module, form=form, preview=preview)
        if form.is_valid():
            try:
                module_update(module=module, **form.cleaned_data)
            except ValidationError as error:
                form_errors_add(form, error)
                module = permissions.module_get_for_author(user=request.user, pk=pk)
            else:
                messages.success(request, _("Module “%(title)s” is saved.") % {"title": module.title})
                return redirect(_version_url(module.version, module=module))
        return _module_page(request, module, form=form, preview=preview, status=400)


class ModuleMoveView(AuthorsProgrammesRequiredMixin, View):
    """Move a module one place up or down (POST only)."""

    def post(self, request, pk):
        module = permissions.module_get_for_author(user=request.user, pk=pk)
        form = ModuleMoveForm(request.POST)
        if not form.is_valid():
            errors = [_("Choose whether to move the module up or down.")]
            return _version_detail(request, module.version, errors=errors, status=400)
        direction = form.cleaned_data["direction"]
        try:
            module_move(module=module, direction=direction)
        except ValidationError as error:
            return _version_detail(request, module.version, errors=error.messages, status=400)
        moved = _("“%(title)s” is moved up.") if direction == "up" else _("“%(title)s” is moved down.")
        messages.success(request, moved % {"title": module.title})
        return redirect(_version_url(module.version, module=module))


class ModuleDeleteView(AuthorsProgrammesRequiredMixin, View):
    """Confirm (GET), then delete (POST) a draft's module with its materials and assignments."""

    def _page(self, request, module, *, errors=(), status: int = 200):
        context = _module_context(
            module,
            attachments=module_material_list(module=module),
            assignments=module_assignment_list(module=module),
            errors=errors,
        )
        return _render(request, "module_delete.html", context, status=status)

    def get(self, request, pk):
        return self._page(request, permissions.module_get_for_author(user=request.user, pk=pk))

    def post(self, request, pk):
        module = permissions.module_get_for_author(user=request.user, pk=pk)
        try:
            module_delete(module=module)
        except ValidationError as error:
            return self._page(request, module, errors=error.messages, status=400)
        messages.success(request, _("Module “%(title)s” is deleted.") % {"title": module.title})
        return redirect("training:version-detail", pk=module.version.pk)


# --- Materials -----------------------------------------------------------------------


class MaterialCreateView(AuthorsProgrammesRequiredMixin, View):
    """Attach a link or an uploaded file to a module."""

    template = "material_form.html"

    def _page(self, request, module, form, *, status: int = 200):
        context = _module_context(module, form=form)
        return _render(request, self.template, context, status=status)

    def get(self, request, pk):
        module = permissions.module_get_for_author(user=request.user, pk=pk)
        return self._page(request, module, MaterialForm())

    def post(self, request, pk):
        module = permissions.module_get_for_author(user=request.user, pk=pk)
        form = MaterialForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["upload"]:
                    material = material_file_add(module=module, title=data["title"], upload=data["upload"])
                else:
                    material = material_link_add(module=module, title=data["title"], url=data["url"])
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(
                    request, _("“%(title)s” is added to the module.") % {"title": material.title}
                )
                return redirect("training:module-edit", pk=module.pk)
        return self._page(request, module, form, status=400)


class MaterialDeleteView(AuthorsProgrammesRequiredMixin, View):
    """Remove a file or link from a draft's module (POST only)."""

    def post(self, request, pk):
        material = material_get_for_author(user=request.user, pk=pk)
        try:
            material_delete(material=material)
        except ValidationError as error:
            return _module_page(request, material.module, errors=error.messages, status=400)
        messages.success(request, _("“%(title)s” is removed from the module.") % {"title": material.title})
        return redirect("training:module-edit", pk=material.module.pk)


# --- Assignments ---------------------------------------------------------------------


def _assignment_page(
    request, module, form, *, assignment=None, preview: str = "", errors=(), status: int = 200
):
    """The assignment's form; once it exists, its rubric below, with the actions on each criterion."""
    context = _module_context(
        module,
        assignment=assignment,
        form=form,
        preview=preview,
        criteria=assignment_criterion_list(assignment=assignment) if assignment else [],
        file_types=file_type_labels(assignment.accepted_file_types.split(",")) if assignment else "",
        rule_explained=RULE_EXPLAINED,
        errors=errors,
    )
    return _render(request, "assignment_form.html", context, status=status)


def _assignment_url(assignment: Assignment, *, criterion=None) -> str:
    url = reverse("training:assignment-edit", args=[assignment.pk])
    return f"{url}#criterion-{criterion.pk}" if criterion else f"{url}#rubric"


def _assignment_edit_page(request, assignment, *, errors=(), status: int = 200):
    form = AssignmentForm(initial=AssignmentForm.initial_for(assignment))
    return _assignment_page(
        request,
        assignment.module,
        form,
        assignment=assignment,
        preview=assignment.brief,
        errors=errors,
        status=status,
    )


class AssignmentCreateView(AuthorsProgrammesRequiredMixin, View):
    def get(self, request, pk):
        module = permissions.module_get_for_author(user=request.user, pk=pk)
        return _assignment_page(request, module, AssignmentForm(is_new=True))

    def post(self, request, pk):
        module = permissions.module_get_for_author(user=request.user, pk=pk)
        form = AssignmentForm(request.POST, is_new=True)
        preview = request.POST.get("brief", "")
        if "preview" in request.POST:
            return _assignment_page(request, module, form, preview=preview)
        if form.is_valid():
            try:
                assignment = assignment_create(module=module, **form.cleaned_data)
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(
                    request,
                    _("Assignment “%(title)s” is added. Now write its rubric: how the work will be judged.")
                    % {"title": assignment.title},
                )
                return redirect("training:rubric-edit", pk=assignment.pk)
        return _assignment_page(request, module, form, preview=preview, status=400)


class AssignmentEditView(AuthorsProgrammesRequiredMixin, View):
    def get(self, request, pk):
        return _assignment_edit_page(request, assignment_get_for_author(user=request.user, pk=pk))

    def post(self, request, pk):
        assignment = assignment_get_for_author(user=request.user, pk=pk)
        form = AssignmentForm(request.POST)
        preview = request.POST.get("brief", "")
        if "preview" in request.POST:
            return _assignment_page(request, assignment.module, form, assignment=assignment, preview=preview)
        if form.is_valid():
            try:
                assignment_update(assignment=assignment, **form.cleaned_data)
            except ValidationError as error:
                form_errors_add(form, error)
                assignment = assignment_get_for_author(user=request.user, pk=pk)
            else:
                messages.success(request, _("Assignment “%(title)s” is saved.") % {"title": assignment.title})
                return redirect("training:module-edit", pk=assignment.module.pk)
        return _assignment_page(
            request, assignment.module, form, assignment=assignment, preview=preview, status=400
        )


class AssignmentDeleteView(AuthorsProgrammesRequiredMixin, View):
    """Confirm (GET), then delete (POST) an assignment of a draft."""

    def _page(self, request, assignment, *, errors=(), status: int = 200):
        module = assignment.module
        context = _module_context(module, assignment=assignment, errors=errors)
        return _render(request, "assignment_delete.html", context, status=status)

    def get(self, request, pk):
        return self._page(request, assignment_get_for_author(user=request.user, pk=pk))

    def post(self, request, pk):
        assignment = assignment_get_for_author(user=request.user, pk=pk)
        try:
            assignment_delete(assignment=assignment)
        except ValidationError as error:
            return self._page(request, assignment, errors=error.messages, status=400)
        messages.success(request, _("Assignment “%(title)s” is deleted.") % {"title": assignment.title})
        return redirect("training:module-edit", pk=assignment.module.pk)


# --- Rubrics -------------------------------------------------------------------------


def _criterion_page(request, assignment, form, formset, *, criterion=None, status: int = 200):
    module = assignment.module
    context = _module_context(
        module,
        assignment=assignment,
        criterion=criterion,
        form=form,
        formset=formset,
    )
    return _render(request, "criterion_form.html", context, status=status)


def _criterion_forms_valid(form, formset) -> bool:
    # Both are validated, so that every error shows at once.
    form_ok, formset_ok = form.is_valid(), formset.is_valid()
    return form_ok and formset_ok


class CriterionCreateView(AuthorsProgrammesRequiredMixin, View):
    """Add a criterion, with its levels, to the end of an assignment's rubric."""

    def get(self, request, pk):
        assignment = assignment_get_for_author(user=request.user, pk=pk)
        return _criterion_page(request, assignment, CriterionForm(), level_formset())

    def post(self, request, pk):
        assignment = assignment_get_for_author(user=request.user, pk=pk)
        form, formset = CriterionForm(request.POST), level_formset(data=request.POST)
        if _criterion_forms_valid(form, formset):
            try:
                criterion = criterion_create(
                    assignment=assignment, **form.cleaned_data, levels=formset.levels()
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(request, _("Criterion “%(title)s” is added.") % {"title": criterion.title})
                return redirect(_assignment_url(assignment, criterion=criterion))
        return _criterion_page(request, assignment, form, formset, status=400)


class CriterionEditView(AuthorsProgrammesRequiredMixin, View):
    """Edit a criterion; its levels are replaced by the rows sent."""

    def get(self, request, pk):
        criterion = criterion_get_for_author(user=request.user, pk=pk)
        form = CriterionForm(initial={"title": criterion.title, "description": criterion.description})
        formset = level_formset(levels=criterion.levels.order_by("position"))
        return _criterion_page(request, criterion.assignment, form, formset, criterion=criterion)

    def post(self, request, pk):
        criterion = criterion_get_for_author(user=request.user, pk=pk)
        form, formset = CriterionForm(request.POST), level_formset(data=request.POST)
        if _criterion_forms_valid(form, formset):
            try:
                criterion_update(criterion=criterion, **form.cleaned_data, levels=formset.levels())
            except ValidationError as error:
                form_errors_add(form, error)
                criterion = criterion_get_for_author(user=request.user, pk=pk)
            else:
                messages.success(request, _("Criterion “%(title)s” is saved.") % {"title": criterion.title})
                return redirect(_assignment_url(criterion.assignment, criterion=criterion))
        return _criterion_page(request, criterion.assignment, form, formset, criterion=criterion, status=400)


class CriterionMoveView(AuthorsProgrammesRequiredMixin, View):
    """Move a criterion one place up or down (POST only)."""

    def post(self, request, pk):
        criterion = criterion_get_for_author(user=request.user, pk=pk)
        assignment = criterion.assignment
        form = CriterionMoveForm(request.POST)
        if not form.is_valid():
            errors = [_("Choose whether to move the criterion up or down.")]
            return _assignment_edit_page(request, assignment, errors=errors, status=400)
        direction = form.cleaned_data["direction"]
        try:
            criterion_move(criterion=criterion, direction=direction)
        except ValidationError as error:
            return _assignment_edit_page(request, assignment, errors=error.messages, status=400)
        moved = _("“%(title)s” is moved up.") if direction == "up" else _("“%(title)s” is moved down.")
        messages.success(request, moved % {"title": criterion.title})
        return redirect(_assignment_url(assignment, criterion=criterion))


class CriterionDeleteView(AuthorsProgrammesRequiredMixin, View):
    """Confirm (GET), then delete (POST) a criterion of a draft, with its levels."""

    def _page(self, request, criterion, *, errors=(), status: int = 200):
        module = criterion.assignment.module
        context = _module_context(
            module,
            assignment=criterion.assignment,
            criterion=criterion,
            level_count=criterion.levels.count(),
            errors=errors,
        )
        return _render(request, "criterion_delete.html", context, status=status)

    def get(self, request, pk):
        return self._page(request, criterion_get_for_author(user=request.user, pk=pk))

    def post(self, request, pk):
        criterion = criterion_get_for_author(user=request.user, pk=pk)
        try:
            criterion_delete(criterion=criterion)
        except ValidationError as error:
            return self._page(request, criterion, errors=error.messages, status=400)
        messages.success(request, _("Criterion “%(title)s” is deleted.") % {"title": criterion.title})
        return redirect(_assignment_url(criterion.assignment))


def _rubric_grid_page(request, assignment, formset, *, level_columns: int, errors=(), status: int = 200):
    module = assignment.module
    context = _module_context(
        module,
        assignment=assignment,
        formset=formset,
        level_columns=level_columns,
        column_numbers=range(1, level_columns + 1),
        can_add_column=level_columns < MAX_LEVELS,
        can_add_row=formset.total_form_count() < MAX_CRITERIA,
        rule_explained=RULE_EXPLAINED,
        errors=errors,
    )
    return _render(request, "rubric_grid.html", context, status=status)


class RubricEditView(AuthorsProgrammesRequiredMixin, View):
    """An assignment's whole rubric as one grid, criteria as rows and levels as columns,
    saved in one POST. "Add a criterion" and "Add a level column" show the grid again with
    what was typed and one more row or column, saving nothing."""

    def get(self, request, pk):
        assignment = assignment_get_for_author(user=request.user, pk=pk)
        criteria = assignment_criterion_list(assignment=assignment)
        most_levels = max((len(criterion.levels.all()) for criterion in criteria), default=0)
        columns = grid_level_columns(None, levels_saved=most_levels)
        formset = rubric_formset(level_columns=columns, criteria=criteria)
        return _rubric_grid_page(request, assignment, formset, level_columns=columns)

    def post(self, request, pk):
        assignment = assignment_get_for_author(user=request.user, pk=pk)
        columns = grid_level_columns(request.POST.get("level_columns"))
        formset = rubric_formset(level_columns=columns, data=request.POST)
        if "add_criterion" in request.POST or "add_level" in request.POST:
            if "add_level" in request.POST:
                columns = grid_level_columns(columns + 1)
            grown = rubric_formset_grown(
                formset, level_columns=columns, rows=1 if "add_criterion" in request.POST else 0
            )
            return _rubric_grid_page(request, assignment, grown, level_columns=columns)
        errors = []
        if formset.is_valid():
            try:
                rubric_save(assignment=assignment, criteria=formset.criteria())
            except ValidationError as error:
                errors = self._errors_place(formset, error)
            else:
                messages.success(
                    request, _("The rubric of “%(title)s” is saved.") % {"title": assignment.title}
                )
                return redirect(_assignment_url(assignment))
        return _rubric_grid_page(
            request, assignment, formset, level_columns=columns, errors=errors, status=400
        )

    @staticmethod
    def _errors_place(formset, error: ValidationError) -> list[str]:
        """The service's messages on the rows they are about; the rest for the top of the page."""
        if not hasattr(error, "error_dict"):
            return error.messages
        kept, rest = formset.kept_forms(), []
        for key, row_messages in error.message_dict.items():
            if key.isdigit() and int(key) < len(kept):
                kept[int(key)].add_error(None, row_messages)
            else:
                rest.extend(row_messages)
        return rest
