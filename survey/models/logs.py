"""Access-log review (ログ点検): the systems' log exports, the entries imported from them, the
sampling rules, and review rounds with the entries they sampled.

A **LogSource** is a system's access-log export as the office registered it once: which column
holds what (reports.accesslogs.mapping) and how its user ids resolve through the registers. Each
file imported is a **LogImport** (its SHA-256 makes the same file import once), whose rows are
**LogEntry**s: when, who (the id as the log writes it, and the user, unit or company it
resolved to), from which terminal, what was done to which record (宛名番号, 住民コード …), the
district, the reason code and the request number (申請書番号). Entries are kept for
SURVEY_LOG_RETENTION_DAYS and then deleted by import (`purged_at`), the deletion recorded.

Two small lists feed the rules: **ServedDistrict** (the districts a unit or a company serves:
a look-up elsewhere is flagged; a unit or company with none serves every district) and
**StaffHousehold** (per source, the records of each user id's own household, as the resident
system lists them).

A **SamplingRuleSet** is one version of a rule file (reports.accesslogs.rules), immutable once
stored.
A **ReviewRound** draws, for one source and period, a seeded sample under one rule-set version;
each **SampledEntry** keeps a copy of the entry (the review outlives the log's retention) and
the unit whose head reviews it, with **SampleReason** rows saying why it was drawn (a rule's
key, or "random").

Once the office routes a round (`routed_at`, `due_on`), each reviewing unit's entries form one
**ReviewSheet**: the head of the unit (the managers of the unit, or of the nearest unit above
it that has one: `head_unit`) answers each entry in an **EntryReview** (業務上必要 / 確認中 /
不適切な可能性, with the request number and a comment), may first ask the employee (or the
contractor's company) to explain it, and hands the sheet in; the next level up approves it or
sends it back. Why a sheet of its own rather than a campaign assignment: docs/access-logs.md.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.org import Contractor, OrgUnit, User
from survey.models.registers import InformationSystem
from survey.models.types import utcnow

# A month of a ward's resident system is a million rows; a year of several systems passes
# what a 32-bit id holds. SQLite's rowid is 64-bit already (and only INTEGER aliases it).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class LogSource(db.Model):
    __tablename__ = "log_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    system_id: Mapped[int] = mapped_column(sa.ForeignKey("information_system.id"), index=True)
    encoding: Mapped[str] = mapped_column(sa.String(16), default="auto")
    delimiter: Mapped[str] = mapped_column(sa.String(1), default=",")
    time_format: Mapped[str] = mapped_column(sa.String(64), default="")
    user_pattern: Mapped[str] = mapped_column(sa.String(300), default="(?P<user>.+)")
    # The heading of each field's column in the export ("" where the log has no such column).
    time_column: Mapped[str] = mapped_column(sa.String(100))
    date_column: Mapped[str] = mapped_column(sa.String(100), default="")
    user_column: Mapped[str] = mapped_column(sa.String(100))
    terminal_column: Mapped[str] = mapped_column(sa.String(100), default="")
    operation_column: Mapped[str] = mapped_column(sa.String(100), default="")
    record_column: Mapped[str] = mapped_column(sa.String(100))
    district_column: Mapped[str] = mapped_column(sa.String(100), default="")
    reason_column: Mapped[str] = mapped_column(sa.String(100), default="")
    request_column: Mapped[str] = mapped_column(sa.String(100), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    system: Mapped[InformationSystem] = relationship()


class LogImport(db.Model):
    __tablename__ = "log_import"
    __table_args__ = (sa.UniqueConstraint("source_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("log_source.id"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    filename: Mapped[str] = mapped_column(sa.String(255))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    file_format: Mapped[str] = mapped_column(sa.String(8))  # csv | xlsx
    encoding: Mapped[str] = mapped_column(sa.String(16), default="")
    row_count: Mapped[int] = mapped_column(default=0)
    unresolved_count: Mapped[int] = mapped_column(default=0)  # rows whose user id no register holds
    first_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    imported_by_name: Mapped[str] = mapped_column(sa.String(64), default="")  # also from the CLI
    imported_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    purged_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    source: Mapped[LogSource] = relationship()
    imported_by: Mapped[User | None] = relationship()


class LogEntry(db.Model):
    __tablename__ = "log_entry"
    __table_args__ = (
        # The period of a round; a unit's or a company's entries in time order (the random
        # draw, read from the index alone: the id too, as PostgreSQL's indexes do not hold it);
        # one user id's in time order (bursts); one record's (looked up by many, a household's).
        sa.Index("ix_log_entry_source_at", "source_id", "at"),
        sa.Index(
            "ix_log_entry_source_owner_at", "source_id", "unit_id", "contractor_id", "at", "id"
        ),
        sa.Index("ix_log_entry_source_user_at", "source_id", "user_code", "at"),
        sa.Index("ix_log_entry_source_record", "source_id", "record_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("log_import.id"), index=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("log_source.id"))
    row_number: Mapped[int]  # in the file, as Excel numbers it
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    user_code: Mapped[str] = mapped_column(sa.String(64))  # the user id as the log writes it
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"))
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contractor.id"))
    terminal: Mapped[str] = mapped_column(sa.String(64), default="")
    operation: Mapped[str] = mapped_column(sa.String(64), default="")
    record_id: Mapped[str] = mapped_column(sa.String(64), default="")
    district: Mapped[str] = mapped_column(sa.String(32), default="")
    reason: Mapped[str] = mapped_column(sa.String(64), default="")
    request_no: Mapped[str] = mapped_column(sa.String(64), default="")

    source: Mapped[LogSource] = relationship()


def _one_owner() -> sa.CheckConstraint:
    return sa.CheckConstraint("(unit_id IS NULL) <> (contractor_id IS NULL)", name="one_owner")


class ServedDistrict(db.Model):
    """A district (地区) a unit or a company serves."""

    __tablename__ = "served_district"
    __table_args__ = (
        _one_owner(),
        sa.Index("ix_served_district_unit", "unit_id", "district"),
        sa.Index("ix_served_district_contractor", "contractor_id", "district"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"))
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contractor.id"))
    district: Mapped[str] = mapped_column(sa.String(32))

    unit: Mapped[OrgUnit | None] = relationship()
    contractor: Mapped[Contractor | None] = relationship()


class StaffHousehold(db.Model):
    """A record of a user id's own household in one source (so a look-up of it is flagged)."""

    __tablename__ = "staff_household"
    __table_args__ = (sa.UniqueConstraint("source_id", "user_code", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("log_source.id"))
    user_code: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[str] = mapped_column(sa.String(64))


class SamplingRuleSet(db.Model):
    """One version of a sampling rule file; never changed once stored (rounds name it)."""

    __tablename__ = "sampling_rule_set"
    __table_args__ = (sa.UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    content: Mapped[dict] = mapped_column(sa.JSON)  # reports.accesslogs.rules.RuleSet.canonical()
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    source_text: Mapped[str] = mapped_column(sa.Text)  # the file as written, comments and all
    imported_by_name: Mapped[str] = mapped_column(sa.String(64), default="")
    imported_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    @property
    def label(self) -> str:
        return f"{self.code}@{self.version}"


class RoundStatus(enum.StrEnum):
    PLANNED = "planned"  # created, its sample not drawn yet (`flask logs sample`)
    SAMPLED = "sampled"  # the sample is drawn and recorded
    ROUTED = "routed"  # its entries went to the heads as review sheets


class ReviewRound(db.Model):
    __tablename__ = "review_round"
    __table_args__ = (sa.CheckConstraint("period_to >= period_from", name="period_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("log_source.id"), index=True)
    rule_set_id: Mapped[int] = mapped_column(sa.ForeignKey("sampling_rule_set.id"))
    period_from: Mapped[date]
    period_to: Mapped[date]
    seed: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default=RoundStatus.PLANNED)
    entries_in_period: Mapped[int | None]  # when the sample was drawn
    created_by_name: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    sampled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    routed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    routed_by_name: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    due_on: Mapped[date | None]  # the heads' deadline, set when routed

    source: Mapped[LogSource] = relationship()
    rule_set: Mapped[SamplingRuleSet] = relationship()
    sampled: Mapped[list[SampledEntry]] = relationship(
        back_populates="round", order_by="SampledEntry.at"
    )


class SampledEntry(db.Model):
    """A log entry drawn into a round: a copy of it, whose head reviews it, and why."""

    __tablename__ = "sampled_entry"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "entry_id"),
        sa.Index("ix_sampled_entry_round_unit", "round_id", "review_unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("review_round.id"))
    # The entry itself, until the log's retention ends (the copy below stays).
    entry_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("log_entry.id", ondelete="SET NULL"), index=True
    )
    # The head of this unit reviews it: the user's unit, or for contractor staff and user ids
    # the registers do not hold, the unit that owns the system.
    review_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_unit.id"))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    user_code: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"))
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contractor.id"))
    terminal: Mapped[str] = mapped_column(sa.String(64), default="")
    operation: Mapped[str] = mapped_column(sa.String(64), default="")
    record_id: Mapped[str] = mapped_column(sa.String(64), default="")
    district: Mapped[str] = mapped_column(sa.String(32), default="")
    reason: Mapped[str] = mapped_column(sa.String(64), default="")
    request_no: Mapped[str] = mapped_column(sa.String(64), default="")

    round: Mapped[ReviewRound] = relationship(back_populates="sampled")
    review_unit: Mapped[OrgUnit] = relationship(foreign_keys=[review_unit_id])
    unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[unit_id])
    user: Mapped[User | None] = relationship()
    contractor: Mapped[Contractor | None] = relationship()
    reasons: Mapped[list[SampleReason]] = relationship(
        back_populates="sampled", cascade="all, delete-orphan", order_by="SampleReason.rule"
    )
    review: Mapped[EntryReview | None] = relationship(back_populates="sampled")


class SampleReason(db.Model):
    __tablename__ = "sample_reason"

    sampled_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sampled_entry.id", ondelete="CASCADE"), primary_key=True
    )
    rule: Mapped[str] = mapped_column(sa.String(40), primary_key=True)  # a rule's key, "random"

    sampled: Mapped[SampledEntry] = relationship(back_populates="reasons")


class SheetStatus(enum.StrEnum):
    OPEN = "open"  # the head answers
    SUBMITTED = "submitted"  # handed in, waiting for the next level up
    RETURNED = "returned"  # sent back: the head answers again
    APPROVED = "approved"


class ReviewSheet(db.Model):
    """One reviewing unit's sampled entries of a round, answered by the unit's head and
    approved by the next level up."""

    __tablename__ = "review_sheet"
    __table_args__ = (sa.UniqueConstraint("round_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("review_round.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_unit.id"))  # the reviewing unit
    # Whose managers answer: the unit, or the nearest one above it with a manager (None: no
    # manager anywhere above, so the office must name a head before the sheet can be answered).
    head_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=SheetStatus.OPEN)
    due_on: Mapped[date]
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decision_comment: Mapped[str] = mapped_column(sa.Text, default="")  # why it was sent back

    round: Mapped[ReviewRound] = relationship()
    unit: Mapped[OrgUnit] = relationship(foreign_keys=[unit_id])
    head_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[head_unit_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    reviews: Mapped[list[EntryReview]] = relationship(
        back_populates="sheet", order_by="EntryReview.sampled_id"
    )


class Verdict(enum.StrEnum):
    JUSTIFIED = "justified"  # 業務上必要（申請書番号・用務）
    CHECKING = "checking"  # 確認中
    SUSPECT = "suspect"  # 不適切な可能性


class EntryReview(db.Model):
    """The head's answer on one sampled entry, and the employee's explanation if asked."""

    __tablename__ = "entry_review"

    sampled_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sampled_entry.id", ondelete="CASCADE"), primary_key=True
    )
    sheet_id: Mapped[int] = mapped_column(sa.ForeignKey("review_sheet.id"), index=True)
    verdict: Mapped[str] = mapped_column(sa.String(16), default="")  # "" unanswered
    request_no: Mapped[str] = mapped_column(sa.String(64), default="")  # 申請書番号 the head gives
    comment: Mapped[str] = mapped_column(sa.Text, default="")  # 用務, what was found
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    explain_asked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    explanation: Mapped[str] = mapped_column(sa.Text, default="")
    explained_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    explained_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The corrective action a confirmed 不適切な可能性 opened.
    action_id: Mapped[int | None] = mapped_column(sa.ForeignKey("corrective_action.id"), index=True)

    sampled: Mapped[SampledEntry] = relationship(back_populates="review")
    sheet: Mapped[ReviewSheet] = relationship(back_populates="reviews")
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    explained_by: Mapped[User | None] = relationship(foreign_keys=[explained_by_id])


class IncidentStatus(enum.StrEnum):
    INVESTIGATING = "investigating"  # 調査中
    HANDLED = "handled"  # 対応済: the measures for the case are taken
    REPORTED = "reported"  # 報告済: reported up (the CISO, the committee), closed


# The one way an incident moves on: each status to the next, never back (services.log_reviews).
INCIDENT_STEPS = {
    IncidentStatus.INVESTIGATING: IncidentStatus.HANDLED,
    IncidentStatus.HANDLED: IncidentStatus.REPORTED,
}


class Incident(db.Model):
    """A security incident the office records from a confirmed flag (不適切な可能性 on an
    approved sheet): what happened, when it was found, the unit concerned, how far it is
    handled, and the look-up and sheet it came from. One per look-up."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)  # what happened, as far as known
    found_on: Mapped[date]  # the day the flag was confirmed (the sheet's approval)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=IncidentStatus.INVESTIGATING)
    sampled_id: Mapped[int] = mapped_column(sa.ForeignKey("sampled_entry.id"), unique=True)
    sheet_id: Mapped[int] = mapped_column(sa.ForeignKey("review_sheet.id"), index=True)
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    opened_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    unit: Mapped[OrgUnit] = relationship()
    sampled: Mapped[SampledEntry] = relationship()
    sheet: Mapped[ReviewSheet] = relationship()
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    changed_by: Mapped[User | None] = relationship(foreign_keys=[changed_by_id])
