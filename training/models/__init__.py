"""The training app's models, one module per concern; import them from here."""

from training.models.cohorts import Cohort, CohortStatus, Session, SessionMode, SessionStatus
from training.models.curriculum import (
    Assignment,
    Material,
    MaterialKind,
    Module,
    Programme,
    ProgrammeVersion,
    VersionStatus,
)
from training.models.enrolment import (
    ACTIVE_ENROLMENT_STATUSES,
    PLACE_HOLDING_STATUSES,
    Apology,
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    CalendarFeed,
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
)

__all__ = [
    "ACTIVE_ENROLMENT_STATUSES",
    "PLACE_HOLDING_STATUSES",
    "Apology",
    "Assignment",
    "Attendance",
    "AttendanceSource",
    "AttendanceStatus",
    "CalendarFeed",
    "Cohort",
    "CohortStatus",
    "Enrolment",
    "EnrolmentEvent",
    "EnrolmentStatus",
    "Material",
    "MaterialKind",
    "Module",
    "Programme",
    "ProgrammeVersion",
    "Session",
    "SessionMode",
    "SessionStatus",
    "VersionStatus",
]
