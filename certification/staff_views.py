"""National staff: certificates that need a decision, manual issue, revocation and review.

Every view needs certification.issue_certificates; objects are fetched through
certification.permissions.
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from audit.services import audit_member_list_record
from certification import permissions
from certification.forms import CertificateSearchForm, ManualIssueForm, ReviewCloseForm, RevokeForm
from certification.models import Certificate
from certification.selectors.staff import (
    certificate_detail_for_staff,
    certificate_list_flagged,
    certificate_list_for_staff,
    enrolment_list_one_step_away,
)
from certification.services.certificates import (
    certificate_issue_manually,
    certificate_review_close,
    certificate_revoke,
)
from certification.tables import CertificateTable, FlaggedCertificateTable, OneStepAwayTable
from config.tables import table_configure
from training.selectors.standing import enrolment_standing_list
from training.views.base import form_errors_add

TEMPLATES = "certification/staff/"
PAGE_SIZE = 25


class ManagesCertificatesMixin(PermissionRequiredMixin):
    permission_required = "certification.issue_certificates"


class CertificateOverviewView(ManagesCertificatesMixin, View):
    """Staff: flagged certificates, trainees one step away, and every certificate (searchable)."""

    def get(self, request):
        search = CertificateSearchForm(request.GET)
        audit_member_list_record(request=request, label=_("Certificates (staff overview)"))
        certificates = table_configure(
            CertificateTable(certificate_list_for_staff(query=search.query())),
            request=request,
            per_page=PAGE_SIZE,
        )
        count = certificates.paginator.count
        certificates.caption = ngettext("%(count)d certificate", "%(count)d certificates", count) % {
            "count": count
        }
        return render(
            request,
            TEMPLATES + "overview.html",
            {
                # Each pages on its own keys (its prefix), as the certificates below do.
                "flagged": table_configure(
                    FlaggedCertificateTable(certificate_list_flagged(), prefix="flagged-"),
                    request=request,
                    per_page=PAGE_SIZE,
                ),
                "one_step_away": table_configure(
                    OneStepAwayTable(enrolment_list_one_step_away(), prefix="near-"),
                    request=request,
                    per_page=PAGE_SIZE,
                ),
                "search": search,
                "certificates": certificates,
            },
        )


class CertificateStaffDetailView(ManagesCertificatesMixin, View):
    """Staff: one certificate's audit trail and checks; revoke it or close its review."""

    def get(self, request, pk):
        certificate = permissions.certificate_get_for_staff(user=request.user, pk=pk)
        return self._render(request, certificate, RevokeForm(), ReviewCloseForm())

    def post(self, request, pk):
        certificate = permissions.certificate_get_for_staff(user=request.user, pk=pk)
        revoke_form, review_form = RevokeForm(), ReviewCloseForm()
        if request.POST.get("action") == "revoke":
            revoke_form = RevokeForm(request.POST)
            form, act = revoke_form, self._revoke
        elif request.POST.get("action") == "review":
            review_form = ReviewCloseForm(request.POST)
            form, act = review_form, self._review
        else:
            messages.error(request, _("Choose to revoke the certificate or to keep it."))
            return self._render(request, certificate, revoke_form, review_form, status=400)
        if form.is_valid():
            try:
                act(request, certificate, form.cleaned_data)
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                return redirect("certification:staff-certificate", pk=certificate.pk)
        return self._render(request, certificate, revoke_form, review_form, status=400)

    @staticmethod
    def _revoke(request, certificate, data):
        certificate_revoke(
            certificate=certificate,
            actor=request.user,
            public_reason=data["public_reason"],
            note=data["note"],
        )
        messages.success(request, _("Certificate revoked. Its check page says so from now on."))

    @staticmethod
    def _review(request, certificate, data):
        certificate_review_close(certificate=certificate, actor=request.user, note=data["note"])
        messages.success(request, _("Review closed: the certificate stands."))

    def _render(self, request, certificate, revoke_form, review_form, *, status=200):
        detail = certificate_detail_for_staff(certificate=certificate)
        standing = enrolment_standing_list([detail.enrolment_id]).get(detail.enrolment_id)
        return render(
            request,
            TEMPLATES + "certificate_detail.html",
            {
                "certificate": detail,
                "standing": standing,
                "revoke_form": revoke_form,
                "review_form": review_form,
            },
            status=status,
        )


class ManualIssueView(ManagesCertificatesMixin, View):
    """Staff: issue where the rule is met by evidence outside the platform."""

    def get(self, request, pk):
        enrolment = permissions.enrolment_get_for_certificate_staff(user=request.user, pk=pk)
        return self._render(request, enrolment, ManualIssueForm())

    def post(self, request, pk):
        enrolment = permissions.enrolment_get_for_certificate_staff(user=request.user, pk=pk)
        form = ManualIssueForm(request.POST)
        if form.is_valid():
            try:
                certificate = certificate_issue_manually(
                    enrolment=enrolment, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                form_errors_add(form, error)
            else:
                messages.success(
                    request, _("Certificate issued to %(name)s.") % {"name": certificate.holder_name}
                )
                return redirect("certification:staff-certificate", pk=certificate.pk)
        return self._render(request, enrolment, form, status=400)

    def _render(self, request, enrolment, form, *, status=200):
        standing = enrolment_standing_list([enrolment.pk])[enrolment.pk]
        existing = Certificate.objects.filter(enrolment=enrolment).first()
        return render(
            request,
            TEMPLATES + "manual_issue.html",
            {"enrolment": enrolment, "standing": standing, "form": form, "existing": existing},
            status=status,
        )
