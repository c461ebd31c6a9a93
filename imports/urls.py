from django.urls import path

from imports import views

app_name = "imports"

urlpatterns = [
    path("manage/imports/", views.MemberImportCreateView.as_view(), name="import-create"),
    path("manage/imports/<int:pk>/", views.MemberImportDetailView.as_view(), name="import-detail"),
    path("manage/imports/<int:pk>/confirm/", views.MemberImportConfirmView.as_view(), name="import-confirm"),
]
