from django.urls import path

from training.views import (
    authoring,
    finder,
    manage,
    marking,
    messages,
    moderation,
    notices,
    submissions,
    trainee,
)

app_name = "training"

urlpatterns = [
    # Anyone, signed in or not: the cohort finder and each open cohort's page
    path("cohorts/", finder.CohortFindView.as_view(), name="cohort-list"),
    path("cohorts/<int:pk>/", finder.CohortDetailView.as_view(), name="cohort-detail"),
    # Trainees (and anyone enrolled)
    path("my-training/", trainee.MyTrainingView.as_view(), name="my-training"),
    path("cohorts/<int:pk>/apply/", trainee.CohortApplyView.as_view(), name="cohort-apply"),
    path("enrolments/<int:pk>/withdraw/", trainee.EnrolmentWithdrawView.as_view(), name="enrolment-withdraw"),
    path("enrolments/<int:pk>/offer/", trainee.EnrolmentOfferRespondView.as_view(), name="enrolment-offer"),
    path("modules/<int:pk>/", trainee.ModuleDetailView.as_view(), name="module-detail"),
    path("materials/<int:pk>/download/", trainee.MaterialDownloadView.as_view(), name="material-download"),
    path("assignments/<int:pk>/", submissions.AssignmentDetailView.as_view(), name="assignment-detail"),
    path(
        "submissions/<int:pk>/withdraw/",
        submissions.SubmissionWithdrawView.as_view(),
        name="submission-withdraw",
    ),
    path(
        "submission-files/<int:pk>/",
        submissions.SubmissionFileDownloadView.as_view(),
        name="submission-file",
    ),
    path("sessions/<int:pk>/apology/", trainee.SessionApologyView.as_view(), name="session-apology"),
    path("sessions/<int:pk>/confirm/", trainee.SessionConfirmView.as_view(), name="session-confirm"),
    path("sessions/<int:pk>/calendar.ics", trainee.SessionIcsView.as_view(), name="session-ics"),
    path("check-in/", trainee.CheckinView.as_view(), name="checkin"),
    # Emails: choices, and the links inside them (signed; no sign-in needed)
    path("account/emails/", notices.NoticePreferencesView.as_view(), name="notice-preferences"),
    path("emails/stop/<str:token>/", notices.NoticeUnsubscribeView.as_view(), name="notice-unsubscribe"),
    path("emails/reply/<str:token>/", notices.SessionReplyView.as_view(), name="session-reply"),
    path("manage/notices/", notices.NoticeListView.as_view(), name="notice-list"),
    path("calendar/", trainee.CalendarFeedView.as_view(), name="calendar"),
    path("calendar/feed/<str:token>.ics", trainee.CalendarFeedIcsView.as_view(), name="calendar-feed"),
    # Trainers (their cohorts) and staff (all cohorts)
    path("manage/cohorts/", manage.CohortManageListView.as_view(), name="manage-cohort-list"),
    path("manage/cohorts/new/", manage.CohortCreateView.as_view(), name="cohort-create"),
    path("manage/cohorts/<int:pk>/", manage.CohortManageView.as_view(), name="cohort-manage"),
    path("manage/cohorts/<int:pk>/edit/", manage.CohortEditView.as_view(), name="cohort-edit"),
    path("manage/cohorts/<int:pk>/due-dates/", manage.CohortDueDatesView.as_view(), name="cohort-due-dates"),
    path("manage/cohorts/<int:pk>/sessions/new/", manage.SessionCreateView.as_view(), name="session-create"),
    path("manage/sessions/<int:pk>/edit/", manage.SessionEditView.as_view(), name="session-edit"),
    path("manage/sessions/<int:pk>/cancel/", manage.SessionCancelView.as_view(), name="session-cancel"),
    path("manage/sessions/<int:pk>/register/", manage.RegisterView.as_view(), name="session-register"),
    path(
        "manage/sessions/<int:pk>/check-in-code/",
        manage.SessionCheckinCodeView.as_view(),
        name="session-checkin-code",
    ),
    path("manage/enrolments/<int:pk>/decide/", manage.EnrolmentDecideView.as_view(), name="enrolment-decide"),
    # Messages to a cohort: written and read by those running it, read and replied to by recipients
    path(
        "manage/cohorts/<int:pk>/messages/new/",
        messages.CohortMessageCreateView.as_view(),
        name="message-create",
    ),
    path(
        "manage/messages/<int:pk>/", messages.CohortMessageDetailView.as_view(), name="message-detail-manage"
    ),
    path(
        "manage/message-threads/<int:pk>/",
        messages.MessageThreadManageView.as_view(),
        name="message-thread-manage",
    ),
    path("messages/", messages.InboxView.as_view(), name="message-inbox"),
    path("messages/<int:pk>/", messages.MessageThreadView.as_view(), name="message-thread"),
    # Marking and the gradebook (the cohort's trainers and staff)
    path("manage/marking/", marking.MarkingQueueView.as_view(), name="marking-queue"),
    path("manage/submissions/<int:pk>/mark/", marking.SubmissionMarkView.as_view(), name="submission-mark"),
    path(
        "manage/cohorts/<int:pk>/gradebook/", marking.CohortGradebookView.as_view(), name="cohort-gradebook"
    ),
    path(
        "manage/cohorts/<int:pk>/gradebook.csv",
        marking.CohortGradebookCsvView.as_view(),
        name="cohort-gradebook-csv",
    ),
    # Moderation: staff sample and settle; trainers second-mark what is sent to them
    path("manage/moderation/", moderation.ModerationListView.as_view(), name="moderation-list"),
    path("manage/moderation/sample/", moderation.ModerationSampleView.as_view(), name="moderation-sample"),
    path(
        "manage/moderation/<int:pk>/settle/",
        moderation.ModerationSettleView.as_view(),
        name="moderation-settle",
    ),
    path("manage/second-marking/", moderation.SecondMarkingListView.as_view(), name="second-marking-list"),
    path(
        "manage/second-marking/<int:pk>/", moderation.SecondMarkView.as_view(), name="moderation-second-mark"
    ),
    # Staff authoring programmes
    path("manage/programmes/", authoring.ProgrammeListView.as_view(), name="programme-list"),
    path("manage/programmes/new/", authoring.ProgrammeCreateView.as_view(), name="programme-create"),
    path("manage/programmes/<int:pk>/", authoring.ProgrammeDetailView.as_view(), name="programme-detail"),
    path("manage/programmes/<int:pk>/edit/", authoring.ProgrammeEditView.as_view(), name="programme-edit"),
    path(
        "manage/programmes/<int:pk>/draft/",
        authoring.VersionDraftCreateView.as_view(),
        name="version-draft-create",
    ),
    path("manage/versions/<int:pk>/", authoring.VersionDetailView.as_view(), name="version-detail"),
    path("manage/versions/<int:pk>/edit/", authoring.VersionEditView.as_view(), name="version-edit"),
    path("manage/versions/<int:pk>/publish/", authoring.VersionPublishView.as_view(), name="version-publish"),
    path("manage/versions/<int:pk>/modules/new/", authoring.ModuleCreateView.as_view(), name="module-create"),
    path("manage/modules/<int:pk>/edit/", authoring.ModuleEditView.as_view(), name="module-edit"),
    path("manage/modules/<int:pk>/move/", authoring.ModuleMoveView.as_view(), name="module-move"),
    path("manage/modules/<int:pk>/delete/", authoring.ModuleDeleteView.as_view(), name="module-delete"),
    path(
        "manage/modules/<int:pk>/materials/new/",
        authoring.MaterialCreateView.as_view(),
        name="material-create",
    ),
    path("manage/materials/<int:pk>/delete/", authoring.MaterialDeleteView.as_view(), name="material-delete"),
    path(
        "manage/modules/<int:pk>/assignments/new/",
        authoring.AssignmentCreateView.as_view(),
        name="assignment-create",
    ),
    path("manage/assignments/<int:pk>/edit/", authoring.AssignmentEditView.as_view(), name="assignment-edit"),
    path(
        "manage/assignments/<int:pk>/delete/",
        authoring.AssignmentDeleteView.as_view(),
        name="assignment-delete",
    ),
    path(
        "manage/assignments/<int:pk>/criteria/new/",
        authoring.CriterionCreateView.as_view(),
        name="criterion-create",
    ),
    path("manage/assignments/<int:pk>/rubric/", authoring.RubricEditView.as_view(), name="rubric-edit"),
    path("manage/criteria/<int:pk>/edit/", authoring.CriterionEditView.as_view(), name="criterion-edit"),
    path("manage/criteria/<int:pk>/move/", authoring.CriterionMoveView.as_view(), name="criterion-move"),
    path(
        "manage/criteria/<int:pk>/delete/",
        authoring.CriterionDeleteView.as_view(),
        name="criterion-delete",
    ),
]
