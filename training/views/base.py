"""Small pieces every training view uses."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.text import slugify
from django.utils.translation import gettext as _

from training import permissions

PAGE_SIZE = 20


class TraineeRequiredMixin(PermissionRequiredMixin):
    """Signed-in members with the trainee role (anonymous: sign in; others: 403)."""

    permission_required = "members.access_trainee_area"


class RunsCohortsRequiredMixin(PermissionRequiredMixin):
    """Trainers and staff; which cohorts each may touch is decided in training.permissions."""

    permission_required = "training.run_cohorts"


class ReadsCohortsRequiredMixin(PermissionRequiredMixin):
    """Trainers and staff, and regional staff, who read the pages of their region's cohorts;
    which cohorts each may read is decided in training.permissions. Only those who run
    cohorts may send more than a read (regional staff get a 403)."""

    def has_permission(self):
        user = self.request.user
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return permissions.user_reads_cohort_pages(user)
        return user.has_perm("training.run_cohorts")


class ManagesCohortsRequiredMixin(PermissionRequiredMixin):
    """National staff who open and edit any cohort."""

    permission_required = "training.manage_cohorts"


class AuthorsProgrammesRequiredMixin(PermissionRequiredMixin):
    """National staff who author programmes."""

    permission_required = "training.author_programmes"


def form_errors_add(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: beside its field, or at the top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def paginate(request, queryset, *, per_page: int = PAGE_SIZE):
    """The page of `queryset` asked for by ?page=, clamped to the real pages."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def safe_filename(title: str, *, extension: str, fallback: str) -> str:
    """A download name from our own title: ASCII letters, digits and hyphens only."""
    stem = slugify(title)[:80].strip("-") or fallback
    return f"{stem}.{extension}" if extension else stem


def cohorts_title(user) -> str | None:
    """The name of the cohort list the breadcrumbs of a cohort's pages start from; None for
    regional staff, who reach cohorts from their dashboard, not a list."""
    if permissions.user_manages_all_cohorts(user):
        return _("Cohorts")
    return _("Your cohorts") if user.has_perm("training.run_cohorts") else None


def cohort_page_render(request, template: str, context: dict, *, status: int = 200):
    """Render one of a cohort's pages for those who run or read it, with the name of the list
    its breadcrumbs start from."""
    context.setdefault("cohorts_title", cohorts_title(request.user))
    return render(request, template, context, status=status)
