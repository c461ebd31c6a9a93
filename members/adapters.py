import logging

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from members.permissions import Role, user_home_url_name
from members.services import user_assign_role

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    """Every new sign-up is a trainee; other roles are given by staff."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            user_assign_role(user=user, role=Role.TRAINEE)
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Every account email (templates/account/email/, templates/mfa/email/) says who sent
        it and how to get help, and links back by absolute addresses, on the host the person
        used, as allauth's own links do (the site's address when there is no request)."""
        super().send_mail(template_prefix, email, {**self._email_links(), **context})

    def _email_links(self) -> dict:
        def absolute(url_name: str) -> str:
            path = reverse(url_name)
            return self.request.build_absolute_uri(path) if self.request else settings.SITE_URL + path

        return {
            "support_email": settings.SUPPORT_EMAIL,
            "home_url": absolute("members:home"),
            "login_url": absolute("account_login"),
            "password_reset_url": absolute("account_reset_password"),
            "security_url": absolute("mfa_index"),
        }

    def get_login_redirect_url(self, request):
        url_name = user_home_url_name(request.user)
        return reverse(url_name) if url_name else super().get_login_redirect_url(request)

    def get_client_ip(self, request) -> str:
        """The address rate limits count (allauth's and the certificate check's).

        allauth reads ALLAUTH_TRUSTED_PROXY_COUNT / ALLAUTH_TRUSTED_CLIENT_IP_HEADER. A
        request with fewer X-Forwarded-For entries than trusted proxies did not come through
        them all (a health check, say): allauth refuses it with ImproperlyConfigured, a 500;
        here the connecting address counts instead, which is the true peer.
        """
        try:
            return super().get_client_ip(request)
        except ImproperlyConfigured:
            logger.warning("X-Forwarded-For shorter than ALLAUTH_TRUSTED_PROXY_COUNT; using REMOTE_ADDR")
            return request.META["REMOTE_ADDR"]
