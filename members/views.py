from allauth.usersessions.views import ListUserSessionsView
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from config.tables import table_configure
from members.forms import ConsentForm, ProfileForm, RegionChooseForm
from members.onboarding import return_to_pop
from members.permissions import user_home_url_name
from members.selectors import consent_text_current, member_onboarding_state, profile_get
from members.services import consent_give, profile_save
from members.tables import UserSessionTable

SESSIONS_PER_PAGE = 20


class HomeView(View):
    """Anyone: the public front page, or a signed-in member's own home page."""

    def get(self, request):
        if not request.user.is_authenticated:
            region_form = RegionChooseForm(request.GET if "region" in request.GET else None)
            region = region_form.region_chosen() if region_form.is_bound else None
            context = {"region_form": region_form, "region": region}
            status = 400 if region_form.errors else 200
            return render(request, "members/landing.html", context, status=status)
        url_name = user_home_url_name(request.user)
        if url_name is None:
            raise PermissionDenied(_("Your account has no role yet. Ask national staff to give you one."))
        return redirect(url_name)


class RoleHomeView(PermissionRequiredMixin, TemplateView):
    """A role's home page: signed-in users holding the role's permission."""


class OldHomeRedirectView(LoginRequiredMixin, View):
    """Signed-in users: /home/ and /trainer/, the first placeholder homes of trainees and
    trainers, now lead to the member's own home (a bookmark still works)."""

    def get(self, request):
        return redirect("members:home")


class StaffHomeView(RoleHomeView):
    permission_required = "members.access_staff_area"
    template_name = "members/home_staff.html"


class ConsentView(LoginRequiredMixin, View):
    """Signed-in users: read the current consent text and agree to it."""

    template_name = "members/consent.html"

    def get(self, request):
        return self._render(request, ConsentForm())

    def post(self, request):
        text = consent_text_current()
        form = ConsentForm(request.POST)
        if text is None or not form.is_valid():
            return self._render(request, form)
        consent_give(user=request.user, text=text)
        messages.success(request, _("Thank you. Your consent is recorded."))
        # On to the page they were going to (the gate asks for a profile first if none).
        return redirect(return_to_pop(request) or "members:home")

    def _render(self, request, form):
        text = consent_text_current()
        status = 200 if text else 503  # nothing to agree to until staff publish a text
        if request.method == "POST" and form.errors:
            status = 400
        return render(request, self.template_name, {"form": form, "consent_text": text}, status=status)


class ProfileEditView(LoginRequiredMixin, View):
    """Signed-in users who have consented: fill in or change their own profile."""

    template_name = "members/profile_edit.html"

    def dispatch(self, request, *args, **kwargs):
        # The middleware sends members without consent away too; this guards the page
        # itself, which the middleware lets through so that onboarding can reach it.
        if (
            request.user.is_authenticated
            and not member_onboarding_state(user=request.user).has_current_consent
        ):
            return redirect("members:consent")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        profile = profile_get(user=request.user)
        initial = {"first_name": request.user.first_name, "last_name": request.user.last_name}
        if profile:
            initial.update(
                region=profile.region_id,
                constituency=profile.constituency_id,
                phone=profile.phone,
            )
        return self._render(request, ProfileForm(initial=initial), is_new=profile is None)

    def post(self, request):
        form = ProfileForm(request.POST)
        is_new = profile_get(user=request.user) is None
        if not form.is_valid():
            return self._render(request, form, is_new=is_new, status=400)
        profile_save(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your profile is saved."))
        return redirect(return_to_pop(request) or "members:home")

    def _render(self, request, form, *, is_new, status=200):
        return render(request, self.template_name, {"form": form, "is_new": is_new}, status=status)


class UserSessionListView(ListUserSessionsView):
    """Any signed-in member: where they are signed in (allauth's page, which also ends the
    other sessions on POST), its list on the site's one table component."""

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["table"] = table_configure(
            UserSessionTable(context["sessions"], show_last_seen_at=context["show_last_seen_at"]),
            request=self.request,
            per_page=SESSIONS_PER_PAGE,
        )
        return context
