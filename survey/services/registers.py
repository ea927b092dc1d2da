"""The registers the security office keeps in Excel: org units, users, information systems,
contractors and contracts, imported from a file that is the whole register.

`preview(kind, data, filename)` reads a file (survey.services.register_files), checks every row
and compares it with the database: records to add, to change (field: old → new) and to
deactivate (in the database, absent from the file). Every problem is reported at once, by row
(as Excel numbers them: the header is row 1) and column. `apply(preview)` writes such a preview
in the caller's transaction, only when it has no problems, and records it in the audit trail;
records are never deleted (answers refer to them), only set inactive, and reactivated when they
come back. Applying the same file again finds nothing to change.

`export_rows(kind)` and `template_rows(kind)` give the same columns, so that an export imports
back with no change.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from openpyxl.utils import get_column_letter

from survey.extensions import db
from survey.models import (
    Assignment,
    Campaign,
    Contract,
    Contractor,
    InformationSystem,
    OrgUnit,
    Role,
    User,
)
from survey.models.campaigns import CampaignStatus
from survey.models.org import UnitKind
from survey.models.registers import Subcontracting
from survey.services import register_values as values
from survey.services import trail
from survey.services.register_files import (
    Cell,
    RegisterFileError,
    Table,
    read_table,
    write_csv,
    write_xlsx,
)

__all__ = ["RegisterFileError", "KINDS", "preview", "apply", "export_file", "template_file"]

# --- the columns of each register ------------------------------------------------------------

UNIT_KINDS = {
    UnitKind.DEPARTMENT: "部",
    UnitKind.DIVISION: "課",
    UnitKind.SECTION: "係",
    UnitKind.OFFICE: "事業所",
}
UNIT_KIND_ALIASES = {
    "局": UnitKind.DEPARTMENT,
    "課・分野": UnitKind.DIVISION,
    "分野": UnitKind.DIVISION,
    "室": UnitKind.DIVISION,
    "事業所・学校": UnitKind.OFFICE,
    "学校": UnitKind.OFFICE,
}
ROLES = {
    Role.ADMIN: "管理者",
    Role.AUDITOR: "監査者",
    Role.MANAGER: "所属長",
    Role.RESPONDENT: "回答者",
    Role.CONTRACTOR: "委託事業者",
    Role.STAFF: "職員",
}
ROLE_ALIASES = {"管理者（情報政策課）": Role.ADMIN, "監査担当": Role.AUDITOR}
SUBCONTRACTING = {
    Subcontracting.NONE: "なし",
    Subcontracting.REQUESTED: "承認申請中",
    Subcontracting.APPROVED: "事前承認済",
    Subcontracting.ALLOWED: "契約で認めている",
}
SUBCONTRACTING_ALIASES = {"再委託なし": Subcontracting.NONE}


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # the header in the file: Japanese whatever the UI language, it is the format
    parse: Callable[[Cell], Any]
    show: Callable[[Any], str] = _plain
    required: bool = False  # a value in every row (and so the column)
    default: Any = None  # a blank cell, and a new record when the column is left out
    example: str = ""


def _labelled(labels: dict[str, str]) -> Callable[[Any], str]:
    return lambda code: "" if code is None else labels.get(code, str(code))


CODE = values.code()
UNIT_COLUMNS = (
    Column("code", "組織コード", CODE, required=True, example="D01"),
    Column("name", "名称", values.text(200), required=True, example="総務部"),
    Column(
        "kind",
        "種別",
        values.choice(UNIT_KINDS, UNIT_KIND_ALIASES),
        _labelled(UNIT_KINDS),
        default=UnitKind.DIVISION,
        example="部",
    ),
    Column("parent", "上位組織コード", CODE),
    Column("position", "並び順", values.integer(0, 1_000_000), default=0, example="1"),
)
USER_COLUMNS = (
    Column("username", "ユーザー名", values.code(64), required=True, example="admin"),
    Column("display_name", "氏名", values.text(100), required=True, example="情報 守"),
    Column("email", "メール", values.email, example="admin@example.jp"),
    Column(
        "role",
        "役割",
        values.choice(ROLES, ROLE_ALIASES),
        _labelled(ROLES),
        required=True,
        example="管理者",
    ),
    Column("unit", "組織コード", CODE, example="D01"),
    Column("contractor", "委託事業者コード", CODE),
    # Temporary staff (臨時・会計年度任用職員): counted apart on training (services/training.py).
    Column("temporary", "臨時・会計年度任用", values.boolean, values.show_boolean, default=False),
)
SYSTEM_COLUMNS = (
    Column("code", "システムコード", CODE, required=True, example="SYS-001"),
    Column("name", "名称", values.text(200), required=True, example="住民基本台帳システム"),
    Column("kind", "種別", values.text(32), default="", example="基幹系"),
    Column("unit", "所管組織コード", CODE, required=True, example="D04-01"),
    Column(
        "personal", "個人情報", values.boolean, values.show_boolean, default=True, example="あり"
    ),
)
CONTRACTOR_COLUMNS = (
    Column("code", "事業者コード", CODE, required=True, example="C001"),
    Column("name", "名称", values.text(200), required=True, example="株式会社さくら情報"),
    Column(
        "contacts",
        "担当者メール",
        values.listed(values.contact_address),
        values.show_list,
        default="",
        example="tanaka@sakura-joho.example.co.jp",
    ),
    Column(
        "domains",
        "メールドメイン",
        values.listed(values.mail_domain),
        values.show_list,
        default="",
        example="sakura-joho.example.co.jp",
    ),
)
CONTRACT_COLUMNS = (
    Column("code", "契約コード", CODE, required=True, example="K08-001"),
    Column(
        "title",
        "件名",
        values.text(300),
        required=True,
        example="住民基本台帳システム運用保守業務委託",
    ),
    Column("unit", "所管組織コード", CODE, required=True, example="D04-01"),
    Column("contractor", "事業者コード", CODE, required=True, example="C001"),
    Column("start", "開始日", values.day, values.show_date, required=True, example="2026-04-01"),
    Column("end", "終了日", values.day, values.show_date, example="2027-03-31"),
    Column(
        "personal", "個人情報", values.boolean, values.show_boolean, default=True, example="あり"
    ),
    Column("staff", "取扱者数", values.integer(0, 1_000_000), example="5"),
    Column(
        "subcontracting",
        "再委託",
        values.choice(SUBCONTRACTING, SUBCONTRACTING_ALIASES),
        _labelled(SUBCONTRACTING),
        default=Subcontracting.NONE,
        example="なし",
    ),
    # The contract binds the company's staff to sign the contractors' pledge (誓約書).
    Column("pledge", "誓約書", values.boolean, values.show_boolean, default=False, example="なし"),
)

ACTIVE_LABEL = "状態"


# --- what the database holds, as register values ---------------------------------------------


@dataclass
class Record:
    obj: Any
    values: dict[str, Any]


def _codes(model) -> dict[int, str]:
    return dict(db.session.execute(sa.select(model.id, model.code)).all())


def _load_units() -> dict[str, Record]:
    units = db.session.scalars(sa.select(OrgUnit)).all()
    codes = {u.id: u.code for u in units}
    return {
        u.code: Record(
            u,
            {
                "code": u.code,
                "name": u.name,
                "kind": u.kind,
                "parent": codes.get(u.parent_id),
                "position": u.position,
            },
        )
        for u in units
    }


def _load_users() -> dict[str, Record]:
    units, companies = _codes(OrgUnit), _codes(Contractor)
    return {
        u.username: Record(
            u,
            {
                "username": u.username,
                "display_name": u.display_name,
                "email": u.email or None,
                "role": u.role,
                "unit": units.get(u.unit_id),
                "contractor": companies.get(u.contractor_id),
                "temporary": u.temporary,
            },
        )
        for u in db.session.scalars(sa.select(User))
    }


def _load_systems() -> dict[str, Record]:
    units = _codes(OrgUnit)
    return {
        s.code: Record(
            s,
            {
                "code": s.code,
                "name": s.name,
                "kind": s.kind or "",
                "unit": units.get(s.unit_id),
                "personal": s.handles_personal_data,
            },
        )
        for s in db.session.scalars(sa.select(InformationSystem))
    }


def _load_contractors() -> dict[str, Record]:
    return {
        c.code: Record(
            c, {"code": c.code, "name": c.name, "contacts": c.contacts, "domains": c.domains}
        )
        for c in db.session.scalars(sa.select(Contractor))
    }


def _load_contracts() -> dict[str, Record]:
    units, companies = _codes(OrgUnit), _codes(Contractor)
    return {
        c.code: Record(
            c,
            {
                "code": c.code,
                "title": c.title,
                "unit": units.get(c.unit_id),
                "contractor": companies.get(c.contractor_id),
                "start": c.start_date,
                "end": c.end_date,
                "personal": c.handles_personal_data,
                "staff": c.staff_count,
                "subcontracting": c.subcontracting,
                "pledge": c.pledge_required,
            },
        )
        for c in db.session.scalars(sa.select(Contract))
    }


# --- writing register values into records -----------------------------------------------------


class Refs:
    """Codes of the records a row refers to, resolved to ids (active records only)."""

    def __init__(self) -> None:
        self.units = self._active(OrgUnit)
        self.contractors = self._active(Contractor)

    @staticmethod
    def _active(model) -> dict[str, int]:
        return dict(db.session.execute(sa.select(model.code, model.id).where(model.active)).all())


ATTRIBUTES = {
    "units": {"code": "code", "name": "name", "kind": "kind", "position": "position"},
    "users": {
        "username": "username",
        "display_name": "display_name",
        "email": "email",
        "role": "role",
        "temporary": "temporary",
    },
    "systems": {
        "code": "code",
        "name": "name",
        "kind": "kind",
        "personal": "handles_personal_data",
    },
    "contractors": {"code": "code", "name": "name", "contacts": "contacts", "domains": "domains"},
    "contracts": {
        "code": "code",
        "title": "title",
        "start": "start_date",
        "end": "end_date",
        "personal": "handles_personal_data",
        "staff": "staff_count",
        "subcontracting": "subcontracting",
        "pledge": "pledge_required",
    },
}
REFERENCES = {  # value key -> (attribute, which Refs map)
    "units": {"parent": ("parent_id", "units")},
    "users": {"unit": ("unit_id", "units"), "contractor": ("contractor_id", "contractors")},
    "systems": {"unit": ("unit_id", "units")},
    "contracts": {"unit": ("unit_id", "units"), "contractor": ("contractor_id", "contractors")},
}


def _write(kind: str, obj: Any, row: dict[str, Any], refs: Refs) -> None:
    for key, attribute in ATTRIBUTES[kind].items():
        if key in row:
            setattr(obj, attribute, row[key])
    for key, (attribute, table) in REFERENCES.get(kind, {}).items():
        if key in row:
            setattr(
                obj, attribute, None if row[key] is None else getattr(refs, table).get(row[key])
            )


# --- the registers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    code: str  # units, users, …
    label: str  # 組織
    model: Any
    key: str  # the value that identifies a record: code or username
    name_key: str  # the value shown next to it
    columns: tuple[Column, ...]
    load: Callable[[], dict[str, Record]]

    @property
    def register_name(self) -> str:
        return f"{self.label}台帳"

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


KINDS = {
    k.code: k
    for k in (
        Kind("units", "組織", OrgUnit, "code", "name", UNIT_COLUMNS, _load_units),
        Kind("users", "利用者", User, "username", "display_name", USER_COLUMNS, _load_users),
        Kind(
            "systems",
            "情報システム",
            InformationSystem,
            "code",
            "name",
            SYSTEM_COLUMNS,
            _load_systems,
        ),
        Kind(
            "contractors",
            "委託事業者",
            Contractor,
            "code",
            "name",
            CONTRACTOR_COLUMNS,
            _load_contractors,
        ),
        Kind("contracts", "委託契約", Contract, "code", "title", CONTRACT_COLUMNS, _load_contracts),
    )
}


def kind_or_none(code: str) -> Kind | None:
    return KINDS.get(code)


# --- the list pages ---------------------------------------------------------------------------

STATUSES = ("active", "inactive", "all")


def _matches(record: Record, spec: Kind, query: str, status: str) -> bool:
    if status == "active" and not record.obj.active:
        return False
    if status == "inactive" and record.obj.active:
        return False
    if not query:
        return True
    return any(query in c.show(record.values[c.key]).lower() for c in spec.columns)


def listing(
    spec: Kind, query: str = "", status: str = "active", sort: str | None = None, descending=False
) -> list[Record]:
    """The records the register pages and the API list: `query` found in any column as shown,
    `status` one of STATUSES, sorted by a column as shown (then by the key)."""
    sort = sort or spec.key
    column = spec.column(sort)
    found = [r for r in spec.load().values() if _matches(r, spec, query.lower(), status)]
    found.sort(key=lambda r: (column.show(r.values[sort]), r.values[spec.key]), reverse=descending)
    return found


# --- the preview ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row: int | None  # as Excel numbers rows (the header is 1); None: the whole file
    column: str | None  # the column's header
    message: str

    def render(self) -> str:
        where = []
        if self.row is not None:
            where.append(_("%(row)d行目", row=self.row))
        if self.column:
            where.append(f"「{self.column}」")
        return f"{' '.join(where)}: {self.message}" if where else self.message


@dataclass
class Change:
    key: str
    name: str
    row: int | None
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (column, old, new)


@dataclass
class Preview:
    kind: Kind
    filename: str = ""
    sha256: str = ""
    table_format: str = ""
    encoding: str | None = None
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    added: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    deactivated: list[Change] = field(default_factory=list)
    # What still refers to a record this file deactivates: key -> ["有効な利用者 3人", ...]
    still_used: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.changed or self.deactivated)

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "deactivated": len(self.deactivated),
        }

    def digest(self) -> str:
        """A fingerprint of what applying would do: apply refuses if it no longer matches."""
        plan = [
            self.kind.code,
            *[
                [(c.key, c.fields) for c in changes]
                for changes in (self.added, self.changed, self.deactivated)
            ],
        ]
        return hashlib.sha256(
            json.dumps(plan, ensure_ascii=False, sort_keys=True).encode("utf-8")
        ).hexdigest()


def preview(kind: str, data: bytes, filename: str = "", *, actor: User | None = None) -> Preview:
    """Read `data` as the whole `kind` register and compare it with the database. A file that
    cannot be read gives one problem; otherwise every bad cell is listed."""
    spec = KINDS[kind]
    result = Preview(spec, filename=filename, sha256=hashlib.sha256(data).hexdigest())
    try:
        table = read_table(data, filename)
    except RegisterFileError as error:
        result.problems.append(Problem(None, None, str(error)))
        return result
    result.table_format, result.encoding = table.format, table.encoding
    positions = _header_positions(spec, table, result.problems)
    if positions is None:
        return result
    result.rows = _parse_rows(spec, table, positions, result.problems)
    _check_unique(spec, result.rows, result.problems)
    current = spec.load()
    CHECKS[kind](spec, result.rows, result.problems, current, actor)
    if result.ok:
        _compare(spec, result, current)
        ids = {change.key: current[change.key].obj.id for change in result.deactivated}
        result.still_used = _still_used(kind, ids)
    result.problems.sort(key=lambda p: p.row or 0)
    return result


def _in_open_campaigns(column) -> tuple:
    running = sa.select(Campaign.id).where(Campaign.status == CampaignStatus.OPEN)
    return (
        column,
        Assignment.campaign_id.in_(running),
        lambda n: _("実施中の点検の回答 %(n)d件", n=n),
    )


def _active(model, column, label) -> tuple:
    return column, model.active.is_(True), label


# Per register, what refers to its records: (the referring column, which rows count, label).
DEPENDENTS = {
    "units": [
        _active(User, User.unit_id, lambda n: _("有効な利用者 %(n)d人", n=n)),
        _active(
            InformationSystem,
            InformationSystem.unit_id,
            lambda n: _("有効な情報システム %(n)d件", n=n),
        ),
        _active(Contract, Contract.unit_id, lambda n: _("有効な委託契約 %(n)d件", n=n)),
        _in_open_campaigns(Assignment.responsible_unit_id),
    ],
    "users": [],
    "systems": [_in_open_campaigns(Assignment.system_id)],
    "contractors": [
        _active(User, User.contractor_id, lambda n: _("有効な利用者 %(n)d人", n=n)),
        _active(Contract, Contract.contractor_id, lambda n: _("有効な委託契約 %(n)d件", n=n)),
        _in_open_campaigns(Assignment.contractor_id),
    ],
    "contracts": [_in_open_campaigns(Assignment.contract_id)],
}


def _still_used(kind: str, ids: dict[str, int]) -> dict[str, list[str]]:
    """For each record about to be deactivated, what still refers to it: deactivating does not
    retire those, and the office should know before confirming."""
    if not ids:
        return {}
    found: dict[int, list[str]] = {}
    for column, counted, label in DEPENDENTS[kind]:
        counts = db.session.execute(
            sa.select(column, sa.func.count())
            .where(column.in_(list(ids.values())), counted)
            .group_by(column)
        )
        for record_id, n in counts:
            found.setdefault(record_id, []).append(label(n))
    return {key: found[record_id] for key, record_id in ids.items() if record_id in found}


def _header_key(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip()


def _header_positions(spec: Kind, table: Table, problems: list[Problem]) -> dict[str, int] | None:
    by_label = {c.label: c for c in spec.columns}
    positions: dict[str, int] = {}
    before = len(problems)
    for index, header in enumerate(table.headers):
        label = _header_key(header)
        letter = get_column_letter(index + 1)
        if not label:
            if any(index < len(cells) and cells[index] != "" for _, cells in table.rows):
                problems.append(
                    Problem(1, letter, _("見出しのない列に値があります。列名を入力してください。"))
                )
            continue
        column = by_label.get(label)
        if column is None:
            problems.append(
                Problem(
                    1,
                    label[:40],
                    _(
                        "不明な列です。使える列は %(columns)s です。",
                        columns="、".join(c.label for c in spec.columns),
                    ),
                )
            )
        elif column.key in positions:
            problems.append(Problem(1, label, _("同じ列が2回あります。")))
        else:
            positions[column.key] = index
    for column in spec.columns:
        if column.required and column.key not in positions:
            problems.append(Problem(1, column.label, _("必須の列がありません。")))
    return positions if len(problems) == before else None


def _parse_rows(
    spec: Kind, table: Table, positions: dict[str, int], problems: list[Problem]
) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, cells in table.rows:
        if all(c == "" for c in cells):
            continue
        row: dict[str, Any] = {}
        for column in spec.columns:
            if column.key not in positions:
                continue
            index = positions[column.key]
            cell = cells[index] if index < len(cells) else ""
            if cell == "":
                if column.required:
                    problems.append(Problem(number, column.label, _("値を入力してください。")))
                row[column.key] = column.default
                continue
            try:
                parsed = column.parse(cell)
            except values.Bad as bad:
                problems.append(Problem(number, column.label, str(bad)))
                parsed = None
            row[column.key] = column.default if parsed is None else parsed
        rows.append((number, row))
    return rows


def _check_unique(spec: Kind, rows, problems: list[Problem]) -> None:
    seen: dict[str, int] = {}
    label = spec.column(spec.key).label
    for number, row in rows:
        key = row.get(spec.key)
        if not key:
            continue
        if key in seen:
            problems.append(
                Problem(
                    number,
                    label,
                    _("「%(code)s」は %(row)d行目と重複しています。", code=key, row=seen[key]),
                )
            )
        else:
            seen[key] = number


def _reference(
    rows, problems, spec: Kind, key: str, known: Iterable[str], message: Callable[[str], str]
) -> None:
    known = set(known)
    label = spec.column(key).label
    for number, row in rows:
        code = row.get(key)
        if code and code not in known:
            problems.append(Problem(number, label, message(code)))


def _active_codes(model) -> set[str]:
    return set(db.session.scalars(sa.select(model.code).where(model.active)))


def _unknown_unit(code: str) -> str:
    return _("組織コード「%(code)s」は登録されていないか、無効になっています。", code=code)


def _unknown_contractor(code: str) -> str:
    return _("事業者コード「%(code)s」は登録されていないか、無効になっています。", code=code)


def _check_units(spec, rows, problems, current, actor) -> None:
    parents = {row["code"]: row.get("parent") for _, row in rows if row.get("code")}
    _reference(
        rows,
        problems,
        spec,
        "parent",
        parents,
        lambda code: _(
            "上位組織「%(code)s」がこのファイルにありません（台帳にない組織は無効になります）。",
            code=code,
        ),
    )
    label = spec.column("parent").label
    for number, row in rows:
        seen, code = set(), row.get("code")
        while code in parents and code not in seen:
            seen.add(code)
            code = parents[code]
        if code is not None and code == row.get("code"):
            problems.append(
                Problem(
                    number, label, _("上位組織をたどると自分自身に戻ります（循環しています）。")
                )
            )


def _check_users(spec, rows, problems, current, actor) -> None:
    _reference(rows, problems, spec, "unit", _active_codes(OrgUnit), _unknown_unit)
    _reference(rows, problems, spec, "contractor", _active_codes(Contractor), _unknown_contractor)
    unit_label, company_label = spec.column("unit").label, spec.column("contractor").label
    for number, row in rows:
        role = row.get("role")
        if role == Role.CONTRACTOR:
            if not row.get("contractor"):
                problems.append(
                    Problem(
                        number, company_label, _("委託事業者の利用者には事業者コードが必要です。")
                    )
                )
            if row.get("unit"):
                problems.append(
                    Problem(number, unit_label, _("委託事業者の利用者は組織に所属できません。"))
                )
        elif role == Role.STAFF:
            # A unit's staff or a company's (handed parts by the company's contact): one of both.
            if row.get("unit") and row.get("contractor"):
                problems.append(
                    Problem(
                        number,
                        company_label,
                        _(
                            "職員には組織コードか委託事業者コード（委託事業者の担当者のとき）の"
                            "どちらか一方を指定します。"
                        ),
                    )
                )
            elif not (row.get("unit") or row.get("contractor")):
                problems.append(
                    Problem(
                        number,
                        unit_label,
                        _(
                            "職員には組織コードが必要です"
                            "（委託事業者の担当者なら委託事業者コード）。"
                        ),
                    )
                )
        elif role and row.get("contractor"):
            problems.append(
                Problem(
                    number,
                    company_label,
                    _("委託事業者コードは役割が委託事業者か職員のときだけ指定します。"),
                )
            )
        if role in (Role.MANAGER, Role.RESPONDENT) and not row.get("unit"):
            problems.append(
                Problem(number, unit_label, _("所属長・回答者には組織コードが必要です。"))
            )
    admins = {row.get("username") for _, row in rows if row.get("role") == Role.ADMIN}
    if not admins:
        problems.append(
            Problem(
                None,
                None,
                _("役割が管理者の利用者がいません。取り込むと誰も管理できなくなります。"),
            )
        )
    elif actor is not None and actor.username not in admins:
        problems.append(
            Problem(
                None,
                None,
                _(
                    "あなた自身（%(name)s）が管理者としてファイルにありません。"
                    "取り込むとあなたのアカウントが無効になるか、権限を失います。",
                    name=actor.username,
                ),
            )
        )


def _check_systems(spec, rows, problems, current, actor) -> None:
    _reference(rows, problems, spec, "unit", _active_codes(OrgUnit), _unknown_unit)


def _check_contractors(spec, rows, problems, current, actor) -> None:
    """A domain belongs to one company: in two, an address of either could be invited for the
    other without the office being asked."""
    label = spec.column("domains").label
    first: dict[str, int] = {}
    for number, row in rows:
        for domain in (row.get("domains") or "").split():
            if first.setdefault(domain, number) != number:
                problems.append(
                    Problem(
                        number,
                        label,
                        _(
                            "ドメイン「%(domain)s」は %(row)d行目の事業者にも登録されています。"
                            "1つのドメインは1つの事業者にだけ登録できます。",
                            domain=domain,
                            row=first[domain],
                        ),
                    )
                )


def _check_contracts(spec, rows, problems, current, actor) -> None:
    _reference(rows, problems, spec, "unit", _active_codes(OrgUnit), _unknown_unit)
    _reference(rows, problems, spec, "contractor", _active_codes(Contractor), _unknown_contractor)
    label = spec.column("end").label
    for number, row in rows:
        if row.get("start") and row.get("end") and row["end"] < row["start"]:
            problems.append(Problem(number, label, _("終了日が開始日より前です。")))


CHECKS = {
    "units": _check_units,
    "users": _check_users,
    "systems": _check_systems,
    "contractors": _check_contractors,
    "contracts": _check_contracts,
}


def _compare(spec: Kind, result: Preview, current: dict[str, Record]) -> None:
    in_file = set()
    for number, row in result.rows:
        key = row[spec.key]
        in_file.add(key)
        name = str(row.get(spec.name_key, ""))
        stored = current.get(key)
        if stored is None:
            fields = [(c.label, "", c.show(row[c.key])) for c in spec.columns if c.key in row]
            result.added.append(Change(key, name, number, fields))
            continue
        fields = [
            (c.label, c.show(stored.values[c.key]), c.show(row[c.key]))
            for c in spec.columns
            if c.key in row and row[c.key] != stored.values[c.key]
        ]
        if not stored.obj.active:
            fields.insert(0, (ACTIVE_LABEL, _("無効"), _("有効")))
        if fields:
            result.changed.append(Change(key, name, number, fields))
    for key, stored in sorted(current.items()):
        if stored.obj.active and key not in in_file:
            result.deactivated.append(
                Change(
                    key,
                    str(stored.values[spec.name_key]),
                    None,
                    [(ACTIVE_LABEL, _("有効"), _("無効"))],
                )
            )


# --- applying ---------------------------------------------------------------------------------


class NotApplicable(Exception):
    """A preview with problems cannot be applied."""


def apply(result: Preview) -> bool:
    """Write the preview in the caller's transaction (the caller commits). False: nothing to
    change, and nothing is recorded."""
    if not result.ok:
        raise NotApplicable
    if not result.has_changes:
        return False
    spec = result.kind
    current = spec.load()
    refs = Refs()
    rows = {row[spec.key]: row for _, row in result.rows}
    touched = []
    for change in result.added:
        obj = spec.model(active=True)
        _write(spec.code, obj, rows[change.key], refs)
        db.session.add(obj)
        touched.append(change.key)
    for change in result.changed:
        obj = current[change.key].obj
        obj.active = True
        _write(spec.code, obj, rows[change.key], refs)
        touched.append(change.key)
    for change in result.deactivated:
        current[change.key].obj.active = False
    db.session.flush()
    if spec.code == "units":  # parents may be units created just now
        refs, current = Refs(), spec.load()
        for key in touched:
            _write(spec.code, current[key].obj, {"parent": rows[key].get("parent")}, refs)
        db.session.flush()
    _record(result)
    return True


def _record(result: Preview) -> None:
    counts = result.counts()
    trail.record(
        "register.import",
        object_type="register",
        object_id=result.kind.code,
        summary=_(
            "%(register)s: 追加 %(added)d件、変更 %(changed)d件、無効化 %(deactivated)d件",
            register=result.kind.register_name,
            **counts,
        ),
        after={
            "file": result.filename,
            "sha256": result.sha256,
            **counts,
            "codes": {
                "added": [c.key for c in result.added],
                "changed": [c.key for c in result.changed],
                "deactivated": [c.key for c in result.deactivated],
            },
        },
    )


# --- templates and exports --------------------------------------------------------------------


def _cells(spec: Kind, row: dict[str, Any]) -> list:
    out = []
    for column in spec.columns:
        value = row.get(column.key)
        if column.key in ("position", "staff") or hasattr(value, "isoformat"):
            out.append(value)  # numbers and dates stay numbers and dates in Excel
        else:
            out.append(column.show(value))
    return out


def _tree_order(records: list[Record]) -> list[Record]:
    by_parent: dict[str | None, list[Record]] = {}
    codes = {r.values["code"] for r in records}
    for r in records:
        parent = r.values["parent"] if r.values["parent"] in codes else None
        by_parent.setdefault(parent, []).append(r)
    ordered: list[Record] = []

    def walk(parent: str | None) -> None:
        for r in sorted(
            by_parent.get(parent, []), key=lambda r: (r.values["position"], r.values["code"])
        ):
            ordered.append(r)
            walk(r.values["code"])

    walk(None)
    return ordered


def export_rows(kind: str) -> list[list]:
    """The active records of the register, in the import format."""
    spec = KINDS[kind]
    records = [r for _, r in sorted(spec.load().items()) if r.obj.active]
    if kind == "units":
        records = _tree_order(records)
    return [_cells(spec, r.values) for r in records]


def headers(kind: str) -> list[str]:
    return [c.label for c in KINDS[kind].columns]


def template_rows(kind: str) -> list[list]:
    spec = KINDS[kind]
    return [[c.example for c in spec.columns]]


def _file(kind: str, rows: list[list], fmt: str) -> bytes:
    if fmt == "csv":
        return write_csv(headers(kind), rows)
    if fmt == "xlsx":
        return write_xlsx(headers(kind), rows, KINDS[kind].register_name)
    raise ValueError(fmt)


def export_file(kind: str, fmt: str) -> bytes:
    return _file(kind, export_rows(kind), fmt)


def template_file(kind: str, fmt: str) -> bytes:
    return _file(kind, template_rows(kind), fmt)


def counts() -> dict[str, tuple[int, int]]:
    """(active, inactive) records per register."""
    result = {}
    for code, spec in KINDS.items():
        model = spec.model
        rows = dict(
            db.session.execute(
                sa.select(model.active, sa.func.count()).group_by(model.active)
            ).all()
        )
        result[code] = (rows.get(True, 0), rows.get(False, 0))
    return result
