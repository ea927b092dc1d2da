"""The organisation: units in a tree, the people who sign in, and contractor companies."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.types import utcnow


class UnitKind(enum.StrEnum):
    DEPARTMENT = "department"  # 部
    DIVISION = "division"  # 課・分野
    SECTION = "section"  # 係
    OFFICE = "office"  # 事業所・学校


class Role(enum.StrEnum):
    ADMIN = "admin"  # 情報政策課 (security office)
    AUDITOR = "auditor"  # reads everything, changes nothing
    MANAGER = "manager"  # their unit's subtree
    RESPONDENT = "respondent"  # their unit's assignments
    CONTRACTOR = "contractor"  # their company's contracts only
    # An employee who answers nothing of their own: only the parts of a questionnaire handed to
    # them (survey.services.delegations), and sees nothing else. A unit's staff (unit_id) gets
    # them from the unit's respondent; a company's staff (contractor_id) from the company's
    # contractor account, on the company's contracts.
    STAFF = "staff"


class OrgUnit(db.Model):
    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16), default=UnitKind.DIVISION)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(
        back_populates="parent", order_by="OrgUnit.position"
    )

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code} {self.name}>"


class Contractor(db.Model):
    """A company that handles the municipality's data under contract (委託事業者)."""

    __tablename__ = "contractor"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # Whom the divisions may invite for the company without asking the security office: its
    # contacts' addresses and its mail domains, one a line (register columns, see docs).
    contacts: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    domains: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    def __repr__(self) -> str:
        return f"<Contractor {self.code} {self.name}>"


# A contractor's account belongs to a company; a staff account to a unit or to a company (never
# both: its delegations come from one side); no other account to a company. A staff account of
# neither (a directory account whose unit the mapping did not tell) sees nothing.
COMPANY_ACCOUNTS = (
    "(role = 'contractor' AND contractor_id IS NOT NULL)"
    " OR (role = 'staff' AND (unit_id IS NULL OR contractor_id IS NULL))"
    " OR (role NOT IN ('contractor', 'staff') AND contractor_id IS NULL)"
)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (sa.CheckConstraint(COMPANY_ACCOUNTS, name="company_accounts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    contractor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contractor.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Temporary staff (会計年度任用職員・臨時職員): a unit's account like any other, marked so
    # that training shows they were included (seed 003: every employee, temporary staff too).
    temporary: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Lockout (survey.services.signin): failures counted since the first one of the window;
    # reaching the limit locks sign-in until `locked_until`.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    first_failed_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Two-factor sign-in (TOTP, RFC 6238): on once `totp_enabled_at` is set. The last time step
    # used keeps a code from being used twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # A directory account (survey.services.directory): the DN of its entry. Such an account signs
    # in through the directory only, never with a password kept here.
    directory_dn: Mapped[str | None] = mapped_column(sa.String(500))

    unit: Mapped[OrgUnit | None] = relationship()
    contractor: Mapped[Contractor | None] = relationship()
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RecoveryCode.id"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def from_directory(self) -> bool:
        return self.directory_dn is not None

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app; only its SHA-256 is stored
    (the codes are 80 random bits, so the hash cannot be searched back)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class UserSession(db.Model):
    """One browser's sign-in, from the password to sign-out (survey.auth.sessions).

    The cookie holds a random token and nothing else about the sign-in; only the token's SHA-256
    is stored, so a copy of the database holds no usable session. Until the second step is done
    `stage` names it ("totp", "enroll") and the session is not signed in; a TOTP secret being
    enrolled waits in `totp_setup` until a code confirms it. An ended session keeps its row, so
    that a copy of its cookie is refused with the reason, until `signin.purge_sessions`.
    """

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # SHA-256 of the token
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str | None] = mapped_column(sa.String(16))
    next_url: Mapped[str | None] = mapped_column(sa.String(2000))
    totp_setup: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    # Written at most once a minute (the idle limit is counted in minutes): not on every request.
    seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(sa.String(16))
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))

    user: Mapped[User] = relationship()


class PasswordReset(db.Model):
    """A mailed single-use link that lets a local account's owner set a new password
    (survey.services.password_resets).

    Not an Invitation: those belong to a contractor company and create accounts; a reset belongs
    to one existing account of any role. Only the token's SHA-256 is stored. A link is usable
    while unused, not superseded by a newer one (`revoked_at`) and before `expires_at`.
    """

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship()


class Invitation(db.Model):
    """A single-use link that lets a contractor's contact set a password.

    Only a hash of the token is stored: a copy of the database does not hold usable links.
    """

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    contractor_id: Mapped[int] = mapped_column(sa.ForeignKey("contractor.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assignment.id"))
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    contractor: Mapped[Contractor] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
