"""The security office keeps its registers in Excel: files in every encoding Excel writes are
read, compared with the database, checked row by row, and applied all at once or not at all."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, Assignment, AuditEntry, Contract, Contractor, OrgUnit, User
from survey.services import register_files, register_values, registers
from tests.register_helpers import UNIT_HEADER, csv_bytes, read_csv, snapshot, unit, xlsx_bytes


@pytest.fixture
def office(app):
    """An empty database, inside a request (messages are translated per request)."""
    with app.test_request_context():
        yield app


@pytest.fixture
def ward(demo_app):
    with demo_app.test_request_context():
        yield demo_app


def _apply(kind: str, data: bytes, filename: str = "register.csv") -> registers.Preview:
    result = registers.preview(kind, data, filename)
    assert result.ok, [p.render() for p in result.problems]
    registers.apply(result)
    db.session.commit()
    return result


UNITS = [
    UNIT_HEADER,
    ["D01-01", "総務課", "課", "D01", "1"],  # its department comes later in the file
    ["D01", "総務部", "部", "", "1"],
    ["D01-02", "職員課", "課", "D01", "2"],
    ["D02", "区民部", "部", "", "2"],
]


def test_units_from_a_shift_jis_csv_are_added_with_parents_given_later(office):
    data = csv_bytes(UNITS, "cp932")
    result = _apply("units", data, "組織.csv")
    assert result.encoding == "cp932"
    assert len(result.added) == 4 and not result.changed and not result.deactivated
    assert unit("D01-01").parent == unit("D01")
    assert unit("D01").kind == "department" and unit("D01-02").position == 2


def test_bom_and_plain_utf8_csv_and_excel_read_alike(office):
    _apply("units", csv_bytes(UNITS, "utf-8-sig"))
    for data, name in (
        (csv_bytes(UNITS, "utf-8"), "u.csv"),
        (xlsx_bytes(UNITS), "u.xlsx"),
        (csv_bytes(UNITS, "cp932"), "u.csv"),
    ):
        result = registers.preview("units", data, name)
        assert result.ok and not result.has_changes, name


def test_a_changed_row_shows_old_and_new_and_an_absent_one_is_deactivated(office):
    _apply("units", csv_bytes(UNITS))
    edited = [row[:] for row in UNITS if row[0] != "D01-02"]
    edited[1][1] = "総務課（庶務）"
    result = registers.preview("units", csv_bytes(edited))
    assert [(c.key, c.row, c.fields) for c in result.changed] == [
        ("D01-01", 2, [("名称", "総務課", "総務課（庶務）")])
    ]
    assert [c.key for c in result.deactivated] == ["D01-02"]
    registers.apply(result)
    db.session.commit()
    assert unit("D01-02") is not None and unit("D01-02").active is False
    assert unit("D01-01").name == "総務課（庶務）"


def test_a_record_that_comes_back_is_reactivated(office):
    _apply("units", csv_bytes(UNITS))
    _apply("units", csv_bytes(UNITS[:4]))
    assert unit("D02").active is False
    result = _apply("units", csv_bytes(UNITS))
    assert [(c.key, c.fields[0][0]) for c in result.changed] == [("D02", "状態")]
    assert unit("D02").active is True


def test_applying_the_same_file_twice_changes_nothing_the_second_time(office):
    data = csv_bytes(UNITS)
    _apply("units", data)
    entries = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    before = snapshot()
    again = registers.preview("units", data)
    assert again.ok and not again.has_changes
    assert registers.apply(again) is False
    db.session.commit()
    assert snapshot() == before
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == entries


def test_an_import_is_recorded_in_the_audit_trail_with_counts(office):
    _apply("units", csv_bytes(UNITS), "組織.csv")
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "register.import"))
    assert entry.object_type == "register" and entry.object_id == "units"
    assert "追加 4件" in entry.summary
    assert entry.after["added"] == 4 and entry.after["file"] == "組織.csv"


# --- bad rows ---------------------------------------------------------------------------------


def _problems(kind: str, rows: list[list], fmt: str = "csv") -> set[tuple]:
    data = csv_bytes(rows) if fmt == "csv" else xlsx_bytes(rows)
    before = snapshot()
    result = registers.preview(kind, data, f"bad.{fmt}")
    assert not result.ok
    with pytest.raises(registers.NotApplicable):
        registers.apply(result)
    assert snapshot() == before
    return {(p.row, p.column) for p in result.problems}


def test_bad_unit_rows_are_all_reported_by_row_and_column(office):
    rows = [
        UNIT_HEADER,
        ["D01", "総務部", "部", "", "1"],
        ["D01-01", "総務課", "課", "D09", "1"],  # no such parent in the file
        ["D01", "総務部（重複）", "部", "", "2"],  # duplicate code
        ["D03", "", "局長", "", "x"],  # no name, unknown kind, bad number
        ["D04", "企画部", "部", "D05", ""],  # D04 ↔ D05: a cycle
        ["D05", "企画課", "課", "D04", ""],
        ["D06", "自分", "課", "D06", ""],  # its own parent
    ]
    assert _problems("units", rows) == {
        (3, "上位組織コード"),
        (4, "組織コード"),
        (5, "名称"),
        (5, "種別"),
        (5, "並び順"),
        (6, "上位組織コード"),
        (7, "上位組織コード"),
        (8, "上位組織コード"),
    }


def test_bad_contract_rows_are_reported_and_nothing_is_applied(ward):
    owner = db.session.scalar(sa.select(OrgUnit.code).where(OrgUnit.name == "戸籍住民課"))
    header = [
        "契約コード",
        "件名",
        "所管組織コード",
        "事業者コード",
        "開始日",
        "終了日",
        "個人情報",
        "取扱者数",
        "再委託",
    ]
    rows = [
        header,
        ["K-1", "保守", owner, "C999", "2026-04-01", "", "あり", "3", "なし"],
        ["K-2", "保守", "X99", "C001", "2026/13/1", "", "たぶん", "-1", "ときどき"],
        ["K-3", "保守", owner, "C001", "R8.4.1", "令和8年3月31日", "", "", ""],
        ["K-4", "", owner, "C001", "", "", "", "三", ""],
    ]
    assert _problems("contracts", rows, "xlsx") == {
        (2, "事業者コード"),
        (3, "所管組織コード"),
        (3, "開始日"),
        (3, "個人情報"),
        (3, "取扱者数"),
        (3, "再委託"),
        (4, "終了日"),
        (5, "件名"),
        (5, "開始日"),
        (5, "取扱者数"),
    }


def test_users_must_match_their_role_to_a_unit_or_a_company(ward):
    header = ["ユーザー名", "氏名", "メール", "役割", "組織コード", "委託事業者コード"]
    rows = [
        header,
        ["admin", "情報 守", "", "管理者", "", ""],
        ["c-new", "委託 太郎", "", "委託事業者", "", ""],  # no company
        ["r-new", "回答 花子", "not-an-address", "回答者", "D01", "C001"],  # a company, bad mail
        ["x-new", "謎", "", "社長", "", ""],  # no such role
        ["m-new", "所属 長", "", "所属長", "", ""],  # no unit
        ["s-company", "委託 作業員", "", "職員", "", "C001"],  # a company's staff: fine
        ["s-both", "両方", "", "職員", "D01", "C001"],  # a unit's and a company's
        ["s-none", "どこにも", "", "職員", "", ""],  # neither
    ]
    assert _problems("users", rows) == {
        (3, "委託事業者コード"),
        (4, "メール"),
        (4, "委託事業者コード"),
        (5, "役割"),
        (6, "組織コード"),
        (8, "委託事業者コード"),
        (9, "組織コード"),
    }


def test_unknown_and_missing_columns_are_named_in_the_header_row(office):
    rows = [["組織コード", "名前", "種別"], ["D01", "総務部", "部"]]
    assert _problems("units", rows) == {(1, "名前"), (1, "名称")}


@pytest.mark.parametrize(
    "data, name",
    [
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "old.xls"),
        (b"PK\x03\x04 not really a zip", "broken.xlsx"),
        (b"\x00\x01\x02\xff\xfe", "random.bin"),
        (b"", "empty.csv"),
        (b"\x82\xa0" * (register_files.MAX_BYTES // 2 + 1), "huge.csv"),
    ],
)
def test_files_that_are_not_registers_are_refused_with_one_clear_message(office, data, name):
    result = registers.preview("units", data, name)
    assert len(result.problems) == 1 and result.problems[0].row is None
    assert result.problems[0].message


def test_an_import_may_not_leave_the_office_without_an_admin(ward):
    rows = read_csv(registers.export_file("users", "csv"))
    role = rows[0].index("役割")
    for row in rows[1:]:
        if row[role] == "管理者":
            row[role] = "監査者"
    result = registers.preview("users", csv_bytes(rows))
    assert not result.ok and result.problems[0].row is None


def test_an_admin_cannot_import_a_file_that_drops_their_own_account(ward):
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    rows = [r for r in read_csv(registers.export_file("users", "csv")) if r[0] != "admin"]
    rows.append(["admin2", "二人目", "", "管理者", "", ""])
    assert registers.preview("users", csv_bytes(rows)).ok
    assert not registers.preview("users", csv_bytes(rows), actor=admin).ok


CONTRACTOR_HEADER = ["事業者コード", "名称", "担当者メール", "メールドメイン"]


def test_bad_contacts_and_domains_are_reported_by_row_and_column_and_nothing_is_applied(ward):
    rows = [
        CONTRACTOR_HEADER,
        [
            "C001",
            "株式会社さくら情報サービス",
            "tanaka@sakura.example.co.jp",
            "sakura.example.co.jp",
        ],
        ["C002", "東都システム開発株式会社", "tanaka", ""],  # not an address
        ["C003", "株式会社みなと電算", "", "minato_densan.example"],  # "_" is no domain's
        ["C004", "日本行政ソリューションズ株式会社", "", "co.jp"],  # every company's
        ["C005", "株式会社あおば計算センター", "a@aoba.example.jp, b@aoba", ""],
        ["C006", "関東データ処理株式会社", "", "Sakura.Example.co.jp"],  # C001's domain
        ["C007", "株式会社ひかりコールセンター", "", "example"],  # no dot
    ]
    assert _problems("contractors", rows) == {
        (3, "担当者メール"),
        (4, "メールドメイン"),
        (5, "メールドメイン"),
        (6, "担当者メール"),
        (7, "メールドメイン"),
        (8, "メールドメイン"),
    }


def test_contacts_and_domains_are_read_as_typed_in_excel_and_exported_back(office):
    rows = [
        CONTRACTOR_HEADER,
        [
            "C001",
            "株式会社さくら情報サービス",
            "Tanaka@Sakura.Example.co.jp、ｓｕｚｕｋｉ@sakura.example.co.jp",
            "@Sakura.example.CO.JP; sakura-joho.example.jp sakura.example.co.jp",
        ],
    ]
    _apply("contractors", csv_bytes(rows, "cp932"))
    company = db.session.scalar(sa.select(Contractor))
    assert company.contacts.split() == [
        "Tanaka@sakura.example.co.jp",
        "suzuki@sakura.example.co.jp",
    ]
    assert company.domains.split() == ["sakura.example.co.jp", "sakura-joho.example.jp"]
    assert read_csv(registers.export_file("contractors", "csv"))[1] == [
        "C001",
        "株式会社さくら情報サービス",
        "Tanaka@sakura.example.co.jp, suzuki@sakura.example.co.jp",
        "sakura.example.co.jp, sakura-joho.example.jp",
    ]


def test_a_file_without_the_mail_columns_keeps_the_companies_contacts(ward):
    before = snapshot()["contractors"]
    rows = [["事業者コード", "名称"]] + [
        [code, name]
        for code, name in db.session.execute(
            sa.select(Contractor.code, Contractor.name).order_by(Contractor.code)
        )
    ]
    assert not registers.preview("contractors", csv_bytes(rows)).has_changes
    assert snapshot()["contractors"] == before


# --- the demo ward ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(registers.KINDS))
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_back_with_no_change(ward, kind, fmt):
    data = registers.export_file(kind, fmt)
    result = registers.preview(kind, data, f"export.{fmt}")
    assert result.ok, [p.render() for p in result.problems]
    assert len(result.rows) == registers.counts()[kind][0]
    assert not result.has_changes


def test_deactivating_a_unit_with_answers_keeps_it_and_its_answers(ward):
    koseki = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "戸籍住民課"))
    answers = (
        sa.select(sa.func.count(Answer.id)).join(Assignment).where(Assignment.unit_id == koseki.id)
    )
    count = db.session.scalar(answers)
    assert count > 0
    rows = [r for r in read_csv(registers.export_file("units", "csv")) if r[0] != koseki.code]
    result = _apply("units", csv_bytes(rows))
    assert [c.key for c in result.deactivated] == [koseki.code]
    db.session.expire_all()
    assert db.session.get(OrgUnit, koseki.id).active is False
    assert db.session.scalar(answers) == count


def test_systems_register_carries_the_kind_of_system(ward):
    rows = read_csv(registers.export_file("systems", "csv"))
    kind = rows[0].index("種別")
    before = rows[1][kind]
    after = "個別業務系" if before == "基幹系" else "基幹系"
    rows[1][kind] = after
    result = _apply("systems", csv_bytes(rows))
    assert [(c.key, c.fields) for c in result.changed] == [(rows[1][0], [("種別", before, after)])]
    assert read_csv(registers.export_file("systems", "csv"))[1][kind] == after


def test_contracts_from_excel_take_date_cells_and_japanese_era_dates(ward):
    owner = db.session.scalar(sa.select(OrgUnit.code).where(OrgUnit.name == "戸籍住民課"))
    company = db.session.scalar(sa.select(Contractor.code).order_by(Contractor.code))
    rows = read_csv(registers.export_file("contracts", "csv"))
    rows.append(["K08-900", "窓口業務委託", owner, company, "", "", "はい", "12", "事前承認済"])
    workbook_rows = [rows[0]] + [r[:4] + [date.fromisoformat(r[4])] + r[5:] for r in rows[1:-1]]
    workbook_rows.append(rows[-1][:4] + [date(2026, 4, 1), "令和9年3月31日"] + rows[-1][6:])
    result = _apply("contracts", xlsx_bytes(workbook_rows), "契約.xlsx")
    assert [c.key for c in result.added] == ["K08-900"] and not result.changed
    added = db.session.scalar(sa.select(Contract).where(Contract.code == "K08-900"))
    assert (added.start_date, added.end_date) == (date(2026, 4, 1), date(2027, 3, 31))
    assert added.staff_count == 12 and added.subcontracting == "approved"


def test_users_created_by_import_have_no_password_and_cannot_sign_in(ward):
    rows = read_csv(registers.export_file("users", "csv"))
    unit_code = db.session.scalar(sa.select(OrgUnit.code).where(OrgUnit.name == "戸籍住民課"))
    rows.append(["r-new", "新人 一郎", "new@example.jp", "回答者", unit_code, ""])
    _apply("users", csv_bytes(rows))
    user = db.session.scalar(sa.select(User).where(User.username == "r-new"))
    assert user.password_hash is None and user.unit.code == unit_code
    client = ward.test_client()
    response = client.post("/auth/login", data={"username": "r-new", "password": ""})
    assert response.status_code != 302


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-04-01", date(2026, 4, 1)),
        ("2026/4/1", date(2026, 4, 1)),
        ("２０２６／４／１", date(2026, 4, 1)),
        ("2026年4月1日", date(2026, 4, 1)),
        ("R8.4.1", date(2026, 4, 1)),
        ("r8.4.1", date(2026, 4, 1)),
        ("令和8年4月1日", date(2026, 4, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("平成28年4月1日", date(2016, 4, 1)),
    ],
)
def test_dates_as_users_write_them(office, text, expected):
    assert register_values.day(text) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "令和元年4月30日", "R8", "4/1", "明日"])
def test_impossible_dates_are_refused(office, text):
    with pytest.raises(register_values.Bad):
        register_values.day(text)


# --- templates and the command line -----------------------------------------------------------


@pytest.mark.parametrize("kind", list(registers.KINDS))
def test_templates_hold_the_header_and_one_example_row(office, kind):
    rows = read_csv(registers.template_file(kind, "csv"))
    assert rows[0] == registers.headers(kind) and len(rows) == 2
    assert registers.template_file(kind, "csv").startswith(b"\xef\xbb\xbf")
    table = register_files.read_table(registers.template_file(kind, "xlsx"), "t.xlsx")
    example = table.rows[0][1]
    assert table.headers == rows[0] and example + [""] * (len(rows[1]) - len(example)) == rows[1]


def test_cli_previews_applies_and_reports_errors(demo_app, tmp_path):
    runner = demo_app.test_cli_runner()
    out = tmp_path / "units.xlsx"
    assert runner.invoke(args=["register", "export", "units", str(out)]).exit_code == 0
    result = runner.invoke(args=["register", "import", "units", str(out)])
    assert result.exit_code == 0 and "追加: 0件" in result.output
    rows = [UNIT_HEADER, ["Z01", "新設部", "部", "", "99"], ["Z01-01", "新設課", "課", "Z99", ""]]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(rows, "cp932"))
    result = runner.invoke(args=["register", "import", "units", str(bad), "--apply"])
    assert result.exit_code == 1 and "3行目" in result.output and "上位組織コード" in result.output
    assert unit("Z01") is None
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(rows[:2], "cp932"))
    result = runner.invoke(args=["register", "import", "units", str(good)])
    assert result.exit_code == 0 and "--apply" in result.output and unit("Z01") is None
    assert "注意: D04-01 はまだ使われています（有効な利用者" in result.output
    result = runner.invoke(args=["register", "import", "units", str(good), "--apply"])
    assert result.exit_code == 0 and unit("Z01") is not None
    assert unit("D01").active is False  # absent from the file: deactivated
    template = tmp_path / "t.csv"
    assert runner.invoke(args=["register", "template", "users", str(template)]).exit_code == 0
    assert read_csv(template.read_bytes())[0] == registers.headers("users")


def test_an_imported_user_signs_in_once_an_admin_sets_a_password(demo_app, tmp_path):
    with demo_app.test_request_context():
        rows = read_csv(registers.export_file("users", "csv"))
        unit_code = db.session.scalar(sa.select(OrgUnit.code).where(OrgUnit.name == "戸籍住民課"))
        rows.append(["r-new", "新人 一郎", "", "回答者", unit_code, ""])
        _apply("users", csv_bytes(rows))
    runner = demo_app.test_cli_runner()
    weak = runner.invoke(args=["user", "password", "r-new", "--password-stdin"], input="short\n")
    assert weak.exit_code == 1
    password = "a-long-enough-passphrase-26"
    result = runner.invoke(
        args=["user", "password", "r-new", "--password-stdin"], input=password + "\n"
    )
    assert result.exit_code == 0, result.output
    response = demo_app.test_client().post(
        "/auth/login", data={"username": "r-new", "password": password}
    )
    assert response.status_code == 302
