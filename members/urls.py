from django.urls import path

from members import rights_views, role_views, views

app_name = "members"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("home/", views.OldHomeRedirectView.as_view(), name="trainee-home"),
    path("trainer/", views.OldHomeRedirectView.as_view(), name="trainer-home"),
    path("staff/", views.StaffHomeView.as_view(), name="staff-home"),
    path("welcome/consent/", views.ConsentView.as_view(), name="consent"),
    path("profile/", views.ProfileEditView.as_view(), name="profile-edit"),
    # Members' data rights (UK GDPR)
    path("account/data/", rights_views.DataRightsView.as_view(), name="data-rights"),
    path(
        "account/data/exports/<str:token>/",
        rights_views.DataExportDownloadView.as_view(),
        name="data-export-download",
    ),
    path("account/erase/", rights_views.AccountEraseView.as_view(), name="account-erase"),
    path("account/erased/", rights_views.AccountErasedView.as_view(), name="account-erased"),
    path("manage/members/erase/", rights_views.StaffMemberFindView.as_view(), name="staff-member-find"),
    path(
        "manage/members/<int:pk>/erase/",
        rights_views.StaffMemberEraseView.as_view(),
        name="staff-member-erase",
    ),
    # The region each regional staff member oversees (national staff)
    path("manage/staff/regions/", role_views.StaffRegionListView.as_view(), name="staff-region-list"),
    path(
        "manage/staff/<int:pk>/region/",
        role_views.StaffRegionEditView.as_view(),
        name="staff-region-edit",
    ),
]
