"""Members' data rights (UK GDPR): a copy of their data, and erasing their account; national
staff erase an account at a member's request. Who may use each view is in its docstring."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from audit.models import AuditAction
from audit.services import audit_record
from members.erasure import account_erase
from members.export import (
    ExportLinkExpired,
    data_export_from_token,
    data_export_request,
    data_export_token,
    export_link_days,
)
from members.models import ConsentRecord, DataExportStatus
from members.rights_forms import AccountEraseForm, MemberFindForm, StaffEraseForm
from members.selectors import (
    consent_text_current,
    data_export_latest,
    member_find_for_erasure,
    member_get_for_erasure,
)

# Wrong passwords on the erasure page: at most this many per member in the window.
ERASE_ATTEMPTS = 5
ERASE_WINDOW_SECONDS = 15 * 60


class DataRightsView(LoginRequiredMixin, View):
    """Signed-in users, their own data only: what is held, a copy to download (POST asks for
    one), the consent they gave, and the way to erase the account."""

    template_name = "members/data_rights.html"

    def get(self, request):
        export = data_export_latest(user=request.user)
        download_url = None
        if export is not None and export.status == DataExportStatus.READY:
            download_url = reverse("members:data-export-download", args=[data_export_token(export=export)])
        consents = (
            ConsentRecord.objects.filter(user=request.user).select_related("text").order_by("-given_at")
        )
        return render(
            request,
            self.template_name,
            {
                "export": export,
                "download_url": download_url,
                "link_days": export_link_days(),
                "consents": list(consents),
                "current_text": consent_text_current(),
            },
        )

    def post(self, request):
        asked = data_export_request(user=request.user)
        if asked.created:
            messages.success(
                request,
                _("We are preparing a copy of your data. This page shows when it is ready to download."),
            )
        else:
            messages.info(request, _("Your copy is already being prepared: there is no need to ask again."))
        return redirect("members:data-rights")


class DataExportDownloadView(LoginRequiredMixin, View):
    """The member who asked for it, while its link is in date: the ZIP. Anyone else gets 404;
    an expired link gets 410 and a way to ask again."""

    def get(self, request, token):
        try:
            export = data_export_from_token(token=token, user=request.user)
        except ExportLinkExpired:
            return render(request, "members/data_export_expired.html", status=410)
        if export is None:
            raise Http404("Not found.")
        try:
            handle = export.file.open("rb")
        except FileNotFoundError:
            return render(request, "members/data_export_expired.html", status=410)
        _audit_download(request=request, export=export)
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=f"future-leaders-data-{export.requested_at:%Y-%m-%d}.zip",
            content_type="application/zip",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


def _audit_download(*, request, export) -> None:
    audit_record(
        actor=request.user,
        action=AuditAction.DATA_EXPORTED,
        obj=export,
        subject=request.user,
        label=f"Data export {export.pk}",
        request=request,
    )


class AccountEraseView(LoginRequiredMixin, View):
    """Signed-in users, their own account only: a page that says what erasure does, and a
    form that erases it after the password is entered again."""

    template_name = "members/account_erase.html"

    def get(self, request):
        return self._render(request, AccountEraseForm(user=request.user))

    def post(self, request):
        key = f"erase-attempts:{request.user.pk}"
        if (cache.get(key) or 0) >= ERASE_ATTEMPTS:
            return self._render(
                request,
                AccountEraseForm(user=request.user),
                status=429,
                refusal=_("Too many wrong passwords. Wait 15 minutes and try again."),
            )
        form = AccountEraseForm(request.POST, user=request.user)
        if not form.is_valid():
            if "password" in form.errors:
                cache.add(key, 0, timeout=ERASE_WINDOW_SECONDS)
                cache.incr(key)
            return self._render(request, form, status=400)
        user = request.user
        try:
            account_erase(user=user, actor=user, request=request)
        except (PermissionDenied, ValidationError) as error:
            refusal = " ".join(getattr(error, "messages", [str(error)]))
            return self._render(request, form, status=400, refusal=refusal)
        logout(request)
        return redirect("members:account-erased")

    def _render(self, request, form, *, status=200, refusal=""):
        return render(request, self.template_name, {"form": form, "refusal": refusal}, status=status)


class AccountErasedView(View):
    """Anyone: the page a member lands on after erasing their account."""

    def get(self, request):
        return render(request, "members/account_erased.html")


class StaffMemberFindView(PermissionRequiredMixin, View):
    """National staff with members.erase_member: find the account of a member who asked to be
    erased, by their exact email address (no list of members is shown)."""

    permission_required = "members.erase_member"
    template_name = "members/staff_member_find.html"

    def get(self, request):
        form = MemberFindForm(request.GET or None)
        member = None
        searched = form.is_bound and form.is_valid()
        if searched:
            member = member_find_for_erasure(email=form.cleaned_data["email"])
        status = 400 if form.is_bound and not form.is_valid() else 200
        return render(
            request,
            self.template_name,
            {"form": form, "member": member, "searched": searched},
            status=status,
        )


class StaffMemberEraseView(PermissionRequiredMixin, View):
    """National staff with members.erase_member: erase a member's account at their request,
    with the reason recorded. Unknown, erased and operator accounts are a 404."""

    permission_required = "members.erase_member"
    template_name = "members/staff_member_erase.html"

    def get(self, request, pk):
        member = member_get_for_erasure(pk=pk)
        return self._render(request, member, StaffEraseForm())

    def post(self, request, pk):
        member = member_get_for_erasure(pk=pk)
        form = StaffEraseForm(request.POST)
        if member.pk == request.user.pk:
            form.add_error(None, _("Erase your own account from your own data page, with your password."))
        if not form.is_valid():
            return self._render(request, member, form, status=400)
        try:
            account_erase(
                user=member, actor=request.user, reason=form.cleaned_data["reason"], request=request
            )
        except (PermissionDenied, ValidationError) as error:
            form.add_error(None, " ".join(getattr(error, "messages", [str(error)])))
            return self._render(request, member, form, status=400)
        messages.success(request, _("The account is erased. The erasure is recorded in the audit trail."))
        return redirect("members:staff-member-find")

    def _render(self, request, member, form, *, status=200):
        return render(request, self.template_name, {"member": member, "form": form}, status=status)
