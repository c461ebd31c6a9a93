from django.urls import path

from reporting.views import cohorts, dashboard, people, tables, targets

app_name = "reporting"

urlpatterns = [
    # The dashboard (national and regional staff) and targets (national staff)
    path("manage/dashboard/", dashboard.DashboardView.as_view(), name="dashboard"),
    path("manage/dashboard/people/", people.DashboardPeopleView.as_view(), name="dashboard-people"),
    path("manage/dashboard/cohorts/", cohorts.DashboardCohortsView.as_view(), name="dashboard-cohorts"),
    path("manage/dashboard/tables/<slug:slug>/", tables.DashboardTableView.as_view(), name="dashboard-table"),
    path("manage/targets/", targets.TargetListView.as_view(), name="target-list"),
    path("manage/targets/new/", targets.TargetCreateView.as_view(), name="target-create"),
    path("manage/targets/<int:pk>/change/", targets.TargetChangeView.as_view(), name="target-change"),
]
