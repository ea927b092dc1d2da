"""Register files as users make them: CSV saved by Japanese Excel (cp932), CSV with a BOM,
plain UTF-8, and .xlsx workbooks with date cells."""

from __future__ import annotations

import csv
import io

import openpyxl
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Contract, Contractor, InformationSystem, OrgUnit, User

UNIT_HEADER = ["組織コード", "名称", "種別", "上位組織コード", "並び順"]


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def unit(code: str) -> OrgUnit | None:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))


def snapshot() -> dict:
    """Everything an import may change, to show that a refused one changed nothing."""
    tables = {
        "units": (
            OrgUnit.code,
            OrgUnit.name,
            OrgUnit.kind,
            OrgUnit.parent_id,
            OrgUnit.position,
            OrgUnit.active,
        ),
        "users": (
            User.username,
            User.display_name,
            User.email,
            User.role,
            User.unit_id,
            User.contractor_id,
            User.active,
        ),
        "systems": (
            InformationSystem.code,
            InformationSystem.name,
            InformationSystem.kind,
            InformationSystem.unit_id,
            InformationSystem.active,
        ),
        "contractors": (
            Contractor.code,
            Contractor.name,
            Contractor.contacts,
            Contractor.domains,
            Contractor.active,
        ),
        "contracts": (
            Contract.code,
            Contract.title,
            Contract.start_date,
            Contract.end_date,
            Contract.staff_count,
            Contract.active,
        ),
    }
    return {
        k: sorted(map(tuple, db.session.execute(sa.select(*cols)).all()), key=str)
        for k, cols in tables.items()
    }
