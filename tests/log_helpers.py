"""A small ward for the access-log tests: units, a resident system, a company, a few accounts,
a log source for the system, and log files as the systems write them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from survey.extensions import db
from survey.models import (
    Contractor,
    InformationSystem,
    LogEntry,
    LogImport,
    LogSource,
    OrgUnit,
    Role,
    User,
)
from tests.register_helpers import csv_bytes, xlsx_bytes

HEADER = ["操作日時", "職員ID", "端末", "処理", "宛名番号", "地区", "事由", "申請書番号"]
PATTERN = r"(?P<unit>D\d{2}-\d{2})-\d{4}|(?P<contractor>C\d{3})-\d{3}|(?P<user>[a-z][a-z0-9-]*)"

__all__ = ["HEADER", "PATTERN", "Ward", "csv_bytes", "xlsx_bytes", "build_ward", "row", "entries"]


@dataclass
class Ward:
    resident: OrgUnit  # 戸籍住民課, owns the system
    north: OrgUnit  # 北部地域事務所
    welfare: OrgUnit  # 福祉推進課
    company: Contractor
    source: LogSource
    staff: User  # a respondent of 戸籍住民課 who is also in the log


def build_ward(code: str = "JUKI") -> Ward:
    dept = OrgUnit(code="D04", name="区民部", kind="department")
    resident = OrgUnit(code="D04-01", name="戸籍住民課", parent=dept)
    north = OrgUnit(code="D04-06", name="北部地域事務所", kind="office", parent=dept)
    welfare = OrgUnit(code="D07-01", name="福祉推進課")
    company = Contractor(code="C003", name="株式会社みなと電算")
    system = InformationSystem(code="SYS-027", name="住民記録システム", unit=resident)
    staff = User(
        username="respondent", display_name="住民 記録", role=Role.RESPONDENT, unit=resident
    )
    source = LogSource(
        code=code,
        name="住民記録システム 照会ログ",
        system=system,
        user_pattern=PATTERN,
        time_column="操作日時",
        user_column="職員ID",
        terminal_column="端末",
        operation_column="処理",
        record_column="宛名番号",
        district_column="地区",
        reason_column="事由",
        request_column="申請書番号",
    )
    db.session.add_all([dept, resident, north, welfare, company, system, staff, source])
    db.session.commit()
    return Ward(resident, north, welfare, company, source, staff)


def row(
    when: str,
    user: str,
    record: str = "0000012345",
    *,
    operation: str = "住民票照会",
    district: str = "中央",
    request: str = "R-1",
    terminal: str = "T001",
    reason: str = "01",
) -> list[str]:
    return [when, user, terminal, operation, record, district, reason, request]


def entries() -> list[LogEntry]:
    return list(db.session.scalars(sa.select(LogEntry).order_by(LogEntry.row_number)))


def counts() -> tuple[int, int]:
    """(imports, entries) stored."""
    return (
        db.session.scalar(sa.select(sa.func.count(LogImport.id))),
        db.session.scalar(sa.select(sa.func.count(LogEntry.id))),
    )


def local(text: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Tokyo"))
