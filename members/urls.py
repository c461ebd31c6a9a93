from django.urls import path

from members import views

app_name = "members"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("home/", views.TraineeHomeView.as_view(), name="trainee-home"),
    path("trainer/", views.TrainerHomeView.as_view(), name="trainer-home"),
    path("staff/", views.StaffHomeView.as_view(), name="staff-home"),
    path("welcome/consent/", views.ConsentView.as_view(), name="consent"),
    path("profile/", views.ProfileEditView.as_view(), name="profile-edit"),
]
