from django.apps import AppConfig


class TrainingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        from config.metrics import CountsByStatus, counts_by_status_register
        from training.selectors.notices import notice_counts_waiting_and_failed

        counts_by_status_register(
            CountsByStatus(
                name="fl_notices",
                documentation="Notices (emails) waiting to be sent (pending, sending) and failed "
                "after every try.",
                counts=notice_counts_waiting_and_failed,
            )
        )
        from members.permissions import Role, role_home_set, role_permissions_extend
        from training import (
            data_rights,
            notice_letters,
            notices_applications,
            notices_marking,
            notices_messages,
            tasks,  # noqa: F401 - registers the tasks the services enqueue by name
        )

        notice_letters.register()
        notices_applications.register()
        notices_marking.register()
        notices_messages.register()  # cohort messages and replies
        data_rights.register()

        role_permissions_extend(Role.TRAINER, ["training.run_cohorts"])
        role_permissions_extend(
            Role.NATIONAL_STAFF,
            [
                "training.author_programmes",
                "training.manage_cohorts",
                "training.run_cohorts",
                "training.view_programme",
                "training.view_cohort",
                "training.view_enrolment",
                "training.moderate_marks",
                "training.view_notices",
            ],
        )
        role_home_set(Role.TRAINEE, "training:my-training")
        role_home_set(Role.TRAINER, "training:manage-cohort-list")
