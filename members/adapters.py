from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from members.permissions import Role, user_home_url_name
from members.services import user_assign_role


class AccountAdapter(DefaultAccountAdapter):
    """Every new sign-up is a trainee; other roles are given by staff."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            user_assign_role(user=user, role=Role.TRAINEE)
        return user

    def get_login_redirect_url(self, request):
        url_name = user_home_url_name(request.user)
        return reverse(url_name) if url_name else super().get_login_redirect_url(request)
