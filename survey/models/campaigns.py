"""Campaigns send a checklist version to targets; each target's answers hang off an assignment."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.checklists import Checklist, Item, Option
from survey.models.files import StoredFile
from survey.models.org import Contractor, OrgUnit, User
from survey.models.registers import Contract, InformationSystem
from survey.models.types import utcnow


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class AssignmentStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"


# Answers count in results once they have been handed in.
COUNTED_STATUSES = (AssignmentStatus.SUBMITTED, AssignmentStatus.APPROVED)


class Campaign(db.Model):
    __tablename__ = "campaign"
    __table_args__ = (sa.CheckConstraint("closes_on >= opens_on", name="period_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    checklist_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist.id"), index=True)
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(16), default=CampaignStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # Escalation steps (督促段階, reports.escalation): days from an assignment's due date on
    # which its respondents, its unit's head and the head of the unit above are reminded daily;
    # None leaves a step out. A new campaign takes the office's defaults (EscalationDefault,
    # escalation.apply): no column default, as the ORM would write it in place of a None.
    remind_respondent_days: Mapped[int | None]
    remind_unit_head_days: Mapped[int | None]
    remind_department_head_days: Mapped[int | None]

    checklist: Mapped[Checklist] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(back_populates="campaign")
    targets: Mapped[list[CampaignTarget]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan"
    )


class EscalationDefault(db.Model):
    """The office's escalation steps, which a new campaign starts from and overdue corrective
    actions follow (survey.services.escalation). One row at most; without it the built-in steps
    apply (respondent 3 days before the due date, unit head 3 days after, department head 7)."""

    __tablename__ = "escalation_default"

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_days: Mapped[int | None]
    unit_head_days: Mapped[int | None]
    department_head_days: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))


TARGET_COLUMNS = {
    "unit": "unit_id",
    "system": "system_id",
    "contract": "contract_id",
    "contractor": "contractor_id",
}


def _one_target() -> sa.CheckConstraint:
    return sa.CheckConstraint(
        " + ".join(
            f"CASE WHEN {column} IS NULL THEN 0 ELSE 1 END" for column in TARGET_COLUMNS.values()
        )
        + " = 1",
        name="one_target",
    )


class CampaignTarget(db.Model):
    """A target chosen for a campaign while it is being prepared; opening the campaign turns
    each into an assignment. Kept afterwards, so a copy for next year starts from the same."""

    __tablename__ = "campaign_target"
    __table_args__ = (
        _one_target(),
        *(sa.UniqueConstraint("campaign_id", column) for column in TARGET_COLUMNS.values()),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"))
    system_id: Mapped[int | None] = mapped_column(sa.ForeignKey("information_system.id"))
    contract_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contract.id"))
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contractor.id"))

    campaign: Mapped[Campaign] = relationship(back_populates="targets")


class Assignment(db.Model):
    """One target's questionnaire in a campaign: a division, a system, a contract or a company.

    Exactly one target column is set, matching the checklist's target kind. The responsible unit
    answers (or, for a contract, confirms its contractor's answers) and its manager approves.
    """

    __tablename__ = "assignment"
    __table_args__ = (
        _one_target(),
        sa.Index("ix_assignment_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"))
    target_kind: Mapped[str] = mapped_column(sa.String(16))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    system_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("information_system.id"), index=True
    )
    contract_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contract.id"), index=True)
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contractor.id"), index=True)
    responsible_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("org_unit.id"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(16), default=AssignmentStatus.NOT_STARTED)
    due_on: Mapped[date | None]
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    approved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # Grows with every save; a form posted with an older revision was loaded before someone
    # else's change, and must not overwrite it silently.
    revision: Mapped[int] = mapped_column(default=0)
    # An answering window of this assignment's own that outlasts its campaign (a reopening, an
    # individual extension past the close): it accepts answers until the end of this day.
    open_until: Mapped[date | None]

    campaign: Mapped[Campaign] = relationship(back_populates="assignments")
    unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[unit_id])
    system: Mapped[InformationSystem | None] = relationship()
    contract: Mapped[Contract | None] = relationship()
    contractor: Mapped[Contractor | None] = relationship()
    responsible_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[responsible_unit_id])
    answers: Mapped[list[Answer]] = relationship(back_populates="assignment")

    @property
    def target_name(self) -> str:
        if self.unit is not None:
            return self.unit.name
        if self.system is not None:
            return self.system.name
        if self.contract is not None:
            return self.contract.title
        return self.contractor.name if self.contractor else ""


class Answer(db.Model):
    """The current answer to one item of one assignment.

    `version` grows with every save, so a stale form (a second tab, a retry) can be detected
    instead of silently overwriting a newer answer.
    """

    __tablename__ = "answer"
    __table_args__ = (
        sa.UniqueConstraint("assignment_id", "item_id"),
        # Both cover the results queries, so counting reads only an index (docs/performance.md):
        # a whole campaign grouped by item and option, and a few assignments' answers.
        sa.Index("ix_answer_item_option", "item_id", "option_id", "assignment_id"),
        sa.Index("ix_answer_assignment_item_option", "assignment_id", "item_id", "option_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment.id"))
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"))
    option_id: Mapped[int | None] = mapped_column(sa.ForeignKey("scale_option.id"))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    answered_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    assignment: Mapped[Assignment] = relationship(back_populates="answers")
    item: Mapped[Item] = relationship()
    option: Mapped[Option | None] = relationship()
    answered_by: Mapped[User | None] = relationship()


class AnswerCount(db.Model):
    """Handed-in answers counted per (campaign, responsible unit, item, option), so that the
    results read a few thousand rows instead of every answer (docs/performance.md).

    Kept in the transaction that moves an assignment into or out of COUNTED_STATUSES
    (services/kept_counts.py, from services/transitions.py). `answers` counts every handed-in
    answer; `asked` only those whose item was asked — a conditional item whose condition did not
    hold keeps no figure, while its condition item's `answers` say how many were not asked.
    0 stands for "none" in `unit_id` (no responsible unit) and `option_id` (a comment without a
    choice), as a key column cannot be NULL: such rows never meet a unit or an option by id.
    """

    __tablename__ = "answer_count"
    __table_args__ = (
        # Item and option first: the per-item figures read the rows in key order, without a
        # sort; a manager's units are found by the second index. On SQLite the rows live in
        # the key's b-tree (WITHOUT ROWID): every figure reads one b-tree (docs/performance.md).
        sa.PrimaryKeyConstraint("campaign_id", "item_id", "option_id", "unit_id"),
        sa.Index("ix_answer_count_campaign_unit", "campaign_id", "unit_id"),
        {"sqlite_with_rowid": False},
    )

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(autoincrement=False)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(autoincrement=False)
    answers: Mapped[int]
    asked: Mapped[int]


class Attachment(db.Model):
    """Evidence uploaded for an item; its bytes are the StoredFile `file`."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment.id"), index=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_file.id"), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    file: Mapped[StoredFile] = relationship()


class AnswerHistory(db.Model):
    """Every change to an answer, never updated or deleted: who changed what, from what, when.

    `revision` is the assignment's revision the change produced, so a stale form can be told
    exactly which answers changed after it was loaded.
    """

    __tablename__ = "answer_history"
    __table_args__ = (
        sa.Index("ix_answer_history_assignment_revision", "assignment_id", "revision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment.id"))
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item.id"))
    revision: Mapped[int]
    old_option_id: Mapped[int | None] = mapped_column(sa.ForeignKey("scale_option.id"))
    new_option_id: Mapped[int | None] = mapped_column(sa.ForeignKey("scale_option.id"))
    old_comment: Mapped[str] = mapped_column(sa.Text, default="")
    new_comment: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(16), default="form")  # form | autosave | sheet
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    item: Mapped[Item] = relationship()
    old_option: Mapped[Option | None] = relationship(foreign_keys=[old_option_id])
    new_option: Mapped[Option | None] = relationship(foreign_keys=[new_option_id])
    changed_by: Mapped[User | None] = relationship()


class AssignmentEvent(db.Model):
    """A step of the review workflow: submitted, returned (with the reason), approved …"""

    __tablename__ = "assignment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(16))
    from_status: Mapped[str] = mapped_column(sa.String(16))
    to_status: Mapped[str] = mapped_column(sa.String(16))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # A delegation's step (handed over, done, withdrawn): its delegate's history shows these
    # and no other step of the questionnaire.
    delegation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("delegation.id"))

    user: Mapped[User | None] = relationship()
