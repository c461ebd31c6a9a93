"""The public cohort finder and cohort page: anyone, signed in or not, finds an open cohort
and is asked to sign up (or sign in) to apply. Applying itself is trainee.CohortApplyView.

What these pages show about a cohort is decided in training.selectors.finder (no member's
data); which other cohorts a signed-in trainee may open is training.permissions'.
"""

from django.shortcuts import render
from django.utils import timezone
from django.views import View

from members.selectors import profile_get
from training.forms.finder import CohortFindForm
from training.selectors.finder import cohort_get_open, cohort_list_for_finder, cohort_public_page_get
from training.views import trainee
from training.views.base import paginate

TEMPLATES = "training/finder/"


def _is_trainee(user) -> bool:
    return user.has_perm("members.access_trainee_area")


class CohortFindView(View):
    """Anyone: cohorts open for applications, filtered. A signed-in member's own region is
    chosen at first; a visitor's never is (no guessing from their address)."""

    def get(self, request):
        data = {key: request.GET[key] for key in CohortFindForm.FILTER_KEYS if key in request.GET}
        region_preselected = None
        if not data and request.user.is_authenticated:
            profile = profile_get(user=request.user)
            if profile is not None:
                data = {"region": str(profile.region_id)}
                region_preselected = profile.region
        filter_form = CohortFindForm(data)
        filters = filter_form.filters()
        member = request.user if _is_trainee(request.user) else None
        page = paginate(request, cohort_list_for_finder(member=member, **filters))
        context = {
            "page_obj": page,
            "filter_form": filter_form,
            "is_filtered": any(filters.values()),
            "region_preselected": region_preselected,
            "today": timezone.localdate(),
        }
        # A filter the finder cannot read is the asker's mistake: say so at the field, and
        # show what the other filters find.
        status = 400 if filter_form.errors else 200
        return render(request, TEMPLATES + "cohort_list.html", context, status=status)


class CohortDetailView(View):
    """Anyone: the public page of a cohort open for applications (404 for any other).
    Signed-in trainees get their own page of it instead (trainee.CohortDetailView: open
    cohorts and their own, with their place in it)."""

    def get(self, request, pk):
        if _is_trainee(request.user):
            return trainee.CohortDetailView.as_view()(request, pk=pk)
        cohort = cohort_get_open(pk=pk)
        context = {"page": cohort_public_page_get(cohort=cohort), "today": timezone.localdate()}
        return render(request, TEMPLATES + "cohort_detail.html", context)
