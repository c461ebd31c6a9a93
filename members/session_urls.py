"""allauth's "where you are signed in" page, served by our view (its list on the one table
component) at allauth's own path and name; included by config.urls before allauth's URLs."""

from django.urls import path

from members.views import UserSessionListView

urlpatterns = [
    path("", UserSessionListView.as_view(), name="usersessions_list"),
]
