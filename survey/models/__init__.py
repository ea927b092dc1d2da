"""Typed SQLAlchemy models, one module per aggregate."""

from survey.models.audits import Audit, AuditFinding, FindingMeasure
from survey.models.campaigns import (
    Answer,
    AnswerCount,
    AnswerHistory,
    Assignment,
    AssignmentEvent,
    AssignmentStatus,
    Attachment,
    Campaign,
    CampaignTarget,
)
from survey.models.checklists import Category, Checklist, ChecklistGrade, Item, Option, Scale
from survey.models.evaluations import (
    ContractorEvaluation,
    InvitationRequest,
    Recommendation,
    RequestStatus,
    SubcontractRequest,
)
from survey.models.files import StoredFile, StoredFileChunk
from survey.models.followup import (
    ActionEvent,
    ActionEvidence,
    ActionStatus,
    CorrectiveAction,
)
from survey.models.jobs import DailyRun, ExportJob, JobStatus
from survey.models.logs import (
    EntryReview,
    LogEntry,
    LogImport,
    LogSource,
    ReviewRound,
    ReviewSheet,
    SampledEntry,
    SampleReason,
    SamplingRuleSet,
    ServedDistrict,
    StaffHousehold,
)
from survey.models.mail import OutgoingMail, ReminderLog
from survey.models.org import Contractor, Invitation, OrgUnit, PasswordReset, Role, User
from survey.models.registers import Contract, InformationSystem, RegisterUpload, Subcontract
from survey.models.tokens import ApiToken
from survey.models.trail import AuditAnchor, AuditEntry
from survey.models.training import (
    Attempt,
    AttemptAnswer,
    Course,
    CourseStatus,
    CourseTarget,
    Enrolment,
)

__all__ = [
    "ActionEvent",
    "ActionEvidence",
    "ActionStatus",
    "ApiToken",
    "Answer",
    "AnswerCount",
    "AnswerHistory",
    "Assignment",
    "AssignmentEvent",
    "AssignmentStatus",
    "Attachment",
    "AttemptAnswer",
    "Audit",
    "AuditAnchor",
    "AuditEntry",
    "AuditFinding",
    "Campaign",
    "CampaignTarget",
    "Category",
    "Checklist",
    "ChecklistGrade",
    "Contract",
    "Contractor",
    "ContractorEvaluation",
    "Course",
    "CourseStatus",
    "CourseTarget",
    "CorrectiveAction",
    "DailyRun",
    "ExportJob",
    "FindingMeasure",
    "InformationSystem",
    "Invitation",
    "PasswordReset",
    "InvitationRequest",
    "Item",
    "EntryReview",
    "Enrolment",
    "JobStatus",
    "LogEntry",
    "LogImport",
    "LogSource",
    "Option",
    "OrgUnit",
    "OutgoingMail",
    "Recommendation",
    "RegisterUpload",
    "RequestStatus",
    "ReminderLog",
    "RequestStatus",
    "ReviewRound",
    "ReviewSheet",
    "Role",
    "SampleReason",
    "SampledEntry",
    "SamplingRuleSet",
    "Scale",
    "StoredFile",
    "StoredFileChunk",
    "ServedDistrict",
    "StaffHousehold",
    "Subcontract",
    "SubcontractRequest",
    "Attempt",
    "User",
]
