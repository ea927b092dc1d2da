"""`flask --app wsgi ...` commands. Each wraps a plain function that the tests call directly."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click
import pandas as pd
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from checklists.loader import load_files
from checklists.writer import dump_yaml, write_xlsx
from reports import aggregate, formats
from reports.aggregate import UnknownScale
from reports.queries import UnknownCampaign
from survey import clock, demo
from survey.extensions import db
from survey.models import Checklist, Role
from survey.services import backup, files, trail, uploads
from survey.services import checklists as checklist_service
from survey.services.accounts import AccountError, add_user

lang_option = click.option(
    "--lang",
    type=click.Choice(["ja", "en"]),
    default=None,
    help="Language of messages (default: SURVEY_LOCALE, else ja).",
)


def _lang(value: str | None) -> str:
    return value or current_app.config["BABEL_DEFAULT_LOCALE"]


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


# --- checklist ------------------------------------------------------------------------------

checklist_cli = AppGroup("checklist", help="Validate, import, list and export checklist files.")


@checklist_cli.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@lang_option
def checklist_validate(files, lang):
    """Check files without importing; every problem is listed, exit status 1 if any."""
    _, problems = load_files(
        files,
        max_bytes=current_app.config["CHECKLIST_MAX_BYTES"],
        workbook_limits=uploads.workbook_limits("checklist"),
    )
    for problem in problems:
        click.echo(problem.render(_lang(lang)), err=True)
    if problems:
        sys.exit(1)
    click.echo(
        ("OK: {} file(s)" if _lang(lang) == "en" else "問題はありません（{} ファイル）").format(
            len(files)
        )
    )


IMPORT_ACTIONS = {
    "ja": {
        "created": "登録しました",
        "replaced": "下書きを置き換えました",
        "published": "公開しました",
        "unchanged": "変更はありません",
    },
    "en": {
        "created": "created",
        "replaced": "draft replaced",
        "published": "published",
        "unchanged": "unchanged",
    },
}


@checklist_cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--publish", is_flag=True, help="Publish the imported versions.")
@lang_option
def checklist_import(files, publish, lang):
    """Import files all together, or none of them if any has a problem."""
    outcomes, problems = checklist_service.import_files(files, publish=publish)
    for problem in problems:
        click.echo(problem.render(_lang(lang)), err=True)
    if problems:
        click.echo(
            "何も取り込んでいません。" if _lang(lang) == "ja" else "Nothing was imported.", err=True
        )
        sys.exit(1)
    for outcome in outcomes:
        click.echo(f"{outcome.checklist.label}: {IMPORT_ACTIONS[_lang(lang)][outcome.action]}")


@checklist_cli.command("list")
def checklist_list():
    """Every stored checklist version."""
    rows = db.session.scalars(sa.select(Checklist).order_by(Checklist.code, Checklist.version))
    for c in rows:
        state = "公開" if c.is_published else "下書き"
        click.echo(f"{c.label}\t{state}\t{c.target_kind}\t{len(c.items)}項目\t{c.title}")


@checklist_cli.command("export")
@click.argument("ident")
@click.option("--format", "fmt", type=click.Choice(["yaml", "xlsx"]), default="yaml")
@click.option("--out", type=click.Path(dir_okay=False), help="File to write (yaml: stdout).")
def checklist_export(ident, fmt, out):
    """Write CODE[@VERSION] as a checklist file that imports back to the same content."""
    code, _, version = ident.partition("@")
    if version and not version.isdigit():
        _fail(f"版 {version!r} は数字で指定してください (例: {code}@1)。")
    stored = checklist_service.find(code, int(version) if version else None)
    if stored is None:
        _fail(f"チェックリスト {ident} は登録されていません。")
    checklist = checklist_service.to_schema(stored)
    if fmt == "yaml":
        text = dump_yaml(checklist)
        Path(out).write_text(text, encoding="utf-8") if out else click.echo(text, nl=False)
        return
    if not out:
        _fail("xlsx 形式では --out で出力先のファイルを指定してください。")
    write_xlsx(checklist, out)


# --- demo -----------------------------------------------------------------------------------

demo_cli = AppGroup("demo", help="The demo ward and its inspections.")


@demo_cli.command("load")
@click.option("--reset", is_flag=True, help="Delete all data first.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database holds data.")
def demo_load(reset, if_empty):
    """Load the deterministic demo data (さくら区, 2017 emergency inspection)."""
    if reset:
        demo.reset()
    elif not demo.is_empty():
        if if_empty:
            click.echo("データベースにデータがあるため、デモデータは読み込みません。")
            return
        _fail("データベースは空ではありません。--reset を付けると全データを削除して読み込みます。")
    demo.load()
    trail.record("demo.load", summary="demo", after={"reset": reset}, commit=True)
    click.echo(f"デモデータを読み込みました。ログイン（パスワードはすべて {demo.DEMO_PASSWORD}）:")
    for username, role in demo.DEMO_LOGINS.items():
        click.echo(f"  {username:<12} {role}")


# --- report ---------------------------------------------------------------------------------

report_cli = AppGroup("report", help="Results of campaigns.")


@report_cli.command("ratios")
@click.argument("campaign_code")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@lang_option
def report_ratios(campaign_code, fmt, lang):
    """Per item: compliant / applicable (対象外 left out), excluded, unanswered, percentage."""
    try:
        with db.engine.connect() as conn:
            info, frame = aggregate.per_item(conn, campaign_code)
    except UnknownCampaign:
        _fail(f"点検 {campaign_code} は登録されていません。")
    if fmt == "csv":
        click.echo(formats.to_csv(frame, _lang(lang)), nl=False)
    elif fmt == "json":
        meta = {
            "campaign": info.code,
            "title": info.title,
            "checklist": f"{info.checklist_code}@{info.checklist_version}",
        }
        click.echo(formats.to_json(frame, meta))
    else:
        click.echo(
            f"{info.title} ({info.code}) — {info.checklist_title} "
            f"{info.checklist_code}@{info.checklist_version}"
        )
        click.echo(formats.to_text(frame, _lang(lang)), nl=False)


def _report_scope(unit_code: str | None):
    """(units, scope label) for --unit: that unit and every unit below it, as a manager sees."""
    if not unit_code:
        return None, "全体"
    from reports.queries import subtree
    from survey.models import OrgUnit

    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == unit_code))
    if unit is None:
        _fail(f"所属コード {unit_code} は登録されていません。")
    return subtree(unit.id), f"{unit.name}（配下の所属を含む）"


def _generated_by(value: str | None) -> str:
    if value:
        return value
    import getpass

    return f"コマンドライン（{getpass.getuser()}）"


report_unit_option = click.option(
    "--unit", "unit_code", help="Only this unit and the units below it (a manager's figures)."
)
report_by_option = click.option(
    "--by", "generated_by", help="Who made it, for the title block (default: the OS user)."
)


@report_cli.command("xlsx")
@click.argument("campaign_code")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write.")
@report_unit_option
@report_by_option
def report_xlsx(campaign_code, out, unit_code, generated_by):
    """The Excel summary: 集計 (with a chart), 部局別, 前回比較, 推移, 未提出 (the answers:
    `report answers`)."""
    from reports import excel, tables

    units, scope = _report_scope(unit_code)
    try:
        with tables.snapshot(db.engine) as conn:
            report = excel.write_summary(
                conn,
                campaign_code,
                out,
                units=units,
                scope=scope,
                generated_by=_generated_by(generated_by),
            )
    except UnknownCampaign:
        _fail(f"点検 {campaign_code} は登録されていません。")
    trail.record_export(campaign_code, f"xlsx {scope}")
    click.echo(f"{out} を作成しました（{report.info.title}、集計範囲：{scope}）。")


TABLE_CHOICES = [
    "items",
    "departments",
    "options",
    "grades",
    "compare",
    "trend",
    "respondents",
    "remarks",
    "pending",
]
format_option = click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
encoding_option = click.option(
    "--encoding",
    type=click.Choice(["utf-8", "cp932"]),
    default="utf-8",
    help="CSV: UTF-8 with BOM (default) or cp932 (Shift_JIS).",
)
out_option = click.option(
    "--out", type=click.Path(dir_okay=False), help="File to write (default: stdout)."
)


@report_cli.command("answers")
@click.argument("campaign_code")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "csv"]),
    default="xlsx",
    help="xlsx: 回答一覧 and いいえ・コメント一覧 (up to Excel's row limit); csv: 回答一覧.",
)
@encoding_option
@report_unit_option
@report_by_option
def report_answers(campaign_code, out, fmt, encoding, unit_code, generated_by):
    """The respondents' answers, apart from the summary: one row per handed-in respondent."""
    if fmt == "csv":
        _write_table(campaign_code, "respondents", "csv", encoding, out, unit_code, generated_by)
        return
    from reports import answers, tables

    units, scope = _report_scope(unit_code)
    try:
        with tables.snapshot(db.engine) as conn:
            report = answers.write_answers(
                conn,
                campaign_code,
                out,
                units=units,
                scope=scope,
                generated_by=_generated_by(generated_by),
                tz=clock.zone(),
            )
    except UnknownCampaign:
        _fail(f"点検 {campaign_code} は登録されていません。")
    except answers.TooManyRespondents as too_many:
        Path(out).unlink(missing_ok=True)
        _fail(
            f"回答者が{too_many.respondents:,}人いるため、回答一覧はExcelの1シート"
            f"（最大{too_many.max_rows:,}行）に入りません。--format csv で出力してください。"
        )
    trail.record_export(campaign_code, f"answers.xlsx {scope}")
    click.echo(f"{out} を作成しました（{report.info.title} の回答データ、集計範囲：{scope}）。")


@report_cli.command("table")
@click.argument("campaign_code")
@click.option(
    "--table",
    "name",
    type=click.Choice(TABLE_CHOICES),
    default="items",
    help="集計 / 部局別 / 選択肢別 / 評価段階 / 前回比較 / 推移 / 回答一覧"
    " / いいえ・コメント一覧 / 未提出一覧",
)
@click.option("--scale", help="選択肢別: only the items of this scale (its code).")
@format_option
@encoding_option
@out_option
@report_unit_option
@report_by_option
def report_table(campaign_code, name, scale, fmt, encoding, out, unit_code, generated_by):
    """One table of the summary as CSV or JSON, streamed row by row."""
    if scale is not None and name != "options":
        _fail("--scale は --table options（選択肢別）にだけ指定できます。")
    _write_table(campaign_code, name, fmt, encoding, out, unit_code, generated_by, scale)


def _write_table(
    campaign_code, name, fmt, encoding, out, unit_code, generated_by, scale=None
) -> None:
    from reports import tables

    units, scope = _report_scope(unit_code)
    stream = open(out, "wb") if out else sys.stdout.buffer  # noqa: SIM115
    try:
        with tables.snapshot(db.engine) as conn:
            report = tables.build(
                conn,
                campaign_code,
                units=units,
                scope=scope,
                generated_by=_generated_by(generated_by),
                tz=clock.zone(),
                figures=name not in tables.LISTS,
            )
            table = tables.table(report, name, scale)
            _write(table, fmt, encoding, stream, lambda: tables.json_chunks(report, table))
    except UnknownCampaign:
        _fail(f"点検 {campaign_code} は登録されていません。")
    except tables.NoGrades:
        _fail(f"点検 {campaign_code} のチェックリストには評価段階がありません。")
    except UnknownScale:
        _fail(f"点検 {campaign_code} のチェックリストは尺度 {scale} を使っていません。")
    except tables.NoPreviousRound:
        _fail(f"点検 {campaign_code} はこのチェックリストの最初の回です。前回の点検はありません。")
    finally:
        if out:
            stream.close()
        else:
            stream.flush()
    trail.record_export(campaign_code, f"{name}.{fmt} {scope}")


def _write(table, fmt: str, encoding: str, stream, json_chunks) -> None:
    from reports import tables

    if fmt == "csv":
        tables.write_csv(table, stream, encoding)
        return
    for chunk in json_chunks():
        stream.write(chunk.encode("utf-8"))
    stream.write(b"\n")


def _rounds_text(lines, rows, ratios, percents, rounds, lang, *, text="text", change=None) -> str:
    """Rounds side by side in the terminal: `lines` on top, then `rows` with a column per
    round (its month, or its code in English) reading `ratio (percent%)`, then `change`."""
    from reports import tables

    english = _lang(lang) == "en"
    headings = [r.code for r in rounds] if english else tables.round_headings(rounds)
    frame = formats.with_rounds(rows, ratios, percents, headings)
    if change is not None:
        frame["change"] = [None if pd.isna(c) else formats.points(c) for c in change]
    return "\n".join([*lines, ""]) + formats.to_text(frame, _lang(lang), text=text)


def _round_lines(rounds, totals, everything: str) -> list[str]:
    """Each round named, with its figures added up (`everything`: 全項目, 全契約)."""
    from reports import tables

    return [
        f"{tables.round_line(r, heading)}　{everything} {t.ratio}"
        + ("" if pd.isna(t.percent) else f"（{t.percent:.1f}%）")
        for r, heading, t in zip(
            rounds, tables.round_headings(rounds), totals.itertuples(index=False), strict=True
        )
    ]


def _echo(text: str, out: str | None) -> None:
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@report_cli.command("trend")
@click.argument("campaign_code")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@encoding_option
@out_option
@report_unit_option
@report_by_option
@lang_option
def report_trend(campaign_code, fmt, encoding, out, unit_code, generated_by, lang):
    """Every round of the campaign's checklist up to this one, item by item (matched by key),
    oldest first: the 推移 sheet of the summary."""
    if fmt != "table":
        _write_table(campaign_code, "trend", fmt, encoding, out, unit_code, generated_by)
        return
    from reports import rounds, tables

    units, scope = _report_scope(unit_code)
    try:
        with tables.snapshot(db.engine) as conn:
            trend = rounds.trend(conn, campaign_code, units)
    except UnknownCampaign:
        _fail(f"点検 {campaign_code} は登録されていません。")
    rows = trend.items[["number", "key", "category", "text"]]
    lines = [*_round_lines(trend.rounds, trend.totals, "全項目"), f"集計範囲：{scope}"]
    change = trend.items["change"] if trend.previous is not None else None
    text = _rounds_text(
        lines, rows, trend.wide("ratio"), trend.wide(), trend.rounds, lang, change=change
    )
    _echo(text, out)
    trail.record_export(campaign_code, f"trend.table {scope}")


@report_cli.command("contractor")
@click.argument("contractor_code")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@encoding_option
@out_option
@lang_option
def report_contractor(contractor_code, fmt, encoding, out, lang):
    """A company's self-inspections across its contracts and rounds: each round with every
    contract added up, and each contract's ratio per round."""
    from reports import rounds, tables
    from survey.models import Contract, Contractor

    company = db.session.scalar(sa.select(Contractor).where(Contractor.code == contractor_code))
    if company is None:
        _fail(f"委託先コード {contractor_code} は登録されていません。")
    contracts = sa.select(Contract.id).where(Contract.contractor_id == company.id)
    with tables.snapshot(db.engine) as conn:
        found = rounds.company_rounds(conn, list(db.session.scalars(contracts)))
    if fmt == "table":
        lines = [
            f"{company.name}（{company.code}）",
            *_round_lines(found.rounds, found.totals, "全契約"),
        ]
        rows = found.contracts[["contract_code", "contract", "unit"]]
        ratios, percents = found.wide("ratio"), found.wide()
        _echo(_rounds_text(lines, rows, ratios, percents, found.rounds, lang, text="contract"), out)
    else:
        table = tables.company_table(found)
        head = tables.company_head(company.code, company.name, table, clock.zone())
        stream = open(out, "wb") if out else sys.stdout.buffer  # noqa: SIM115
        try:
            _write(
                table,
                fmt,
                encoding,
                stream,
                lambda: tables.json_document(head, table, clock.zone()),
            )
        finally:
            if out:
                stream.close()
            else:
                stream.flush()
    trail.record_contractor_export(company.code, f"rounds.{fmt}")


@report_cli.group("counts")
def report_counts():
    """The kept counts the results read (answer_count), against the answers."""


@report_counts.command("check")
@click.argument("campaign_code", required=False)
@click.option("--repair", is_flag=True, help="Count the differing campaigns afresh.")
def report_counts_check(campaign_code, repair):
    """Count every campaign's handed-in answers (or CAMPAIGN_CODE's) afresh and compare with
    the kept counts; exit 1 on any difference, unless --repair rewrote them."""
    from reports import queries
    from survey.models import Campaign, Item, Option, OrgUnit
    from survey.services import kept_counts

    query = sa.select(Campaign).order_by(Campaign.code)
    if campaign_code:
        query = query.where(Campaign.code == campaign_code)
    campaigns = list(db.session.scalars(query))
    if campaign_code and not campaigns:
        _fail(f"点検 {campaign_code} は登録されていません。")
    units = dict(db.session.execute(sa.select(OrgUnit.id, OrgUnit.code)).all())
    units[queries.ALL_UNITS] = "（点検全体）"
    options = dict(db.session.execute(sa.select(Option.id, Option.code)).all())
    differing = []
    for campaign in campaigns:
        found = kept_counts.differences(campaign.id)
        numbers = dict(
            db.session.execute(
                sa.select(Item.id, Item.number).where(Item.checklist_id == campaign.checklist_id)
            ).all()
        )
        for d in found:
            click.echo(
                f"{campaign.code}：所属 {units.get(d.unit_id, 'なし')}、項目 {numbers[d.item_id]}"
                f"、選択肢 {options.get(d.option_id, 'なし')}："
                f"保持 {d.kept[0]}（うち設問あり {d.kept[1]}）、"
                f"回答から {d.counted[0]}（うち設問あり {d.counted[1]}）",
                err=True,
            )
        if found:
            differing.append(campaign)
    if not differing:
        click.echo(f"{len(campaigns)} 件の点検の集計は、すべて回答と一致しています。")
        return
    if not repair:
        _fail(
            f"{len(campaigns)} 件中 {len(differing)} 件の点検で、保持している集計が回答と"
            "異なります。--repair で数え直せます。"
        )
    for campaign in differing:
        kept_counts.recount(campaign.id)
    trail.record(
        "counts.repair",
        summary=", ".join(c.code for c in differing)[:200],
        after={"campaigns": [c.code for c in differing]},
    )
    db.session.commit()
    click.echo(f"{len(differing)} 件の点検の集計を回答から数え直しました。")


# --- user -----------------------------------------------------------------------------------

user_cli = AppGroup("user", help="Accounts.")


@user_cli.command("add")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice([role.value for role in Role]),
)
@click.option("--unit", "unit_code", help="Code of the user's unit.")
@click.option(
    "--contractor",
    "contractor_code",
    help="Code of the user's company (a contractor; or, with --role staff, a company's staff).",
)
@click.option("--name", "display_name", help="Name shown on screen.")
@click.option("--email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_add(username, role, unit_code, contractor_code, display_name, email, password_stdin):
    """Create an account; without --password-stdin the password is asked for twice."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("パスワード", hide_input=True, confirmation_prompt=True)
    if not password:
        _fail("パスワードが空です。")
    try:
        user = add_user(
            username,
            role,
            password=password,
            display_name=display_name,
            email=email,
            unit_code=unit_code,
            contractor_code=contractor_code,
        )
    except AccountError as error:
        db.session.rollback()
        _fail(str(error))
    trail.record("user.create", user, summary=f"{user.username} ({user.role})")
    db.session.commit()
    click.echo(f"ユーザー {user.username}（{user.role}）を作成しました。")


@user_cli.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_password(username, password_stdin):
    """Set the password of an existing account, e.g. one created by a register import."""
    from flask_babel import force_locale

    from survey.models import User
    from survey.services.accounts import set_password

    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        _fail(f"ユーザー {username} は登録されていません。")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("パスワード", hide_input=True, confirmation_prompt=True)
    try:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            set_password(user, password)
    except AccountError as error:
        db.session.rollback()
        _fail(str(error))
    trail.record("user.password_set", user, summary=user.username)
    db.session.commit()
    click.echo(f"ユーザー {user.username} のパスワードを設定しました。")


# --- register -------------------------------------------------------------------------------

register_cli = AppGroup(
    "register", help="Registers: units, users, systems, contractors, contracts."
)
register_kind = click.argument(
    "kind", type=click.Choice(["units", "users", "systems", "contractors", "contracts"])
)


def _register_format(out: str) -> str:
    suffix = Path(out).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        _fail("出力先のファイル名は .xlsx か .csv で終わるようにしてください。")
    return suffix[1:]


def _echo_changes(title: str, changes) -> None:
    click.echo(f"{title}: {len(changes)}件")
    for change in changes:
        where = f"{change.row}行目 " if change.row else ""
        fields = "、".join(
            f"{label}: {old or '（空）'} → {new or '（空）'}" for label, old, new in change.fields
        )
        click.echo(f"  {where}{change.key} {change.name}  {fields}")


@register_cli.command("import")
@register_kind
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--apply", "do_apply", is_flag=True, help="Apply the changes (default: preview).")
def register_import(kind, file, do_apply):
    """Compare FILE (the whole register, .xlsx or CSV) with the database; --apply writes it."""
    from flask_babel import force_locale

    from survey.services import registers

    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        result = registers.preview(kind, Path(file).read_bytes(), Path(file).name)
        for problem in result.problems:
            click.echo(problem.render(), err=True)
        if not result.ok:
            _fail(f"{len(result.problems)}件の問題があります。何も取り込んでいません。")
        _echo_changes("追加", result.added)
        _echo_changes("変更", result.changed)
        _echo_changes("無効化", result.deactivated)
        for key, uses in result.still_used.items():
            click.echo(f"  注意: {key} はまだ使われています（{'、'.join(uses)}）。", err=True)
        if kind == "users" and result.added:
            click.echo(
                "追加した利用者にはパスワードがありません（ログインできません）。"
                "委託事業者には招待を送り、それ以外は flask user password USERNAME で"
                "パスワードを設定してください。"
            )
        if not do_apply:
            click.echo("確認のみです。取り込むには --apply を付けて実行してください。")
            return
        changed = registers.apply(result)
        db.session.commit()
    click.echo("取り込みました。" if changed else "変更はありません。")


@register_cli.command("template")
@register_kind
@click.argument("out", type=click.Path(dir_okay=False))
def register_template(kind, out):
    """Write an empty register (header and one example row) as .xlsx or CSV (UTF-8 with BOM)."""
    from survey.services import registers

    Path(out).write_bytes(registers.template_file(kind, _register_format(out)))
    click.echo(f"{out} を作成しました。")


@register_cli.command("export")
@register_kind
@click.argument("out", type=click.Path(dir_okay=False))
def register_export(kind, out):
    """Write the register's active records in the import format (.xlsx or CSV)."""
    from survey.services import registers

    Path(out).write_bytes(registers.export_file(kind, _register_format(out)))
    trail.record(
        "export.register", object_type="register", object_id=kind, summary=out, commit=True
    )
    click.echo(f"{out} を作成しました。")


_DIRECTORY_FIELDS = {
    "role": "役割",
    "unit": "所属",
    "display_name": "氏名",
    "email": "メール",
    "directory_dn": "DN",
}
_DIRECTORY_REASONS = {
    "left": "ディレクトリにありません",
    "no_role": "tenken の役割を与えるグループにありません",
    "no_unit": "所属が対応していません（所属は変更していません）",
}


@register_cli.command("sync-ldap")
def register_sync_ldap():
    """Bring directory accounts in line with the directory (a nightly timer): role, unit, name
    and mail updated; people who left (or lost every tenken group) deactivated, their sessions
    ended. Exit status 1 when the directory could not be read (nothing is changed then)."""
    from survey.services import directory

    if not directory.configured():
        _fail("SURVEY_LDAP_URL が設定されていません。ディレクトリとの照合はできません。")
    try:
        report = directory.sync()
    except directory.Unavailable as error:
        db.session.rollback()
        trail.record(
            "directory.sync",
            object_type="directory",
            summary="sync-ldap",
            after={"error": str(error)[:500]},
            commit=True,
        )
        _fail(f"ディレクトリサーバーに接続できないため、照合を中止しました（{error}）。")
    db.session.commit()
    click.echo(
        f"ディレクトリと照合しました: 対象 {report.checked}人、更新 {len(report.updated)}人、"
        f"無効化 {len(report.deactivated)}人、変更なし {report.unchanged}人"
        f"（終了したセッション {report.sessions_ended}件）"
    )
    for username, changes in report.updated:
        fields = "、".join(
            f"{_DIRECTORY_FIELDS.get(key, key)}: {old or '（空）'} → {new or '（空）'}"
            for key, (old, new) in changes.items()
        )
        click.echo(f"  更新: {username}  {fields}")
    for username, reason in report.deactivated:
        click.echo(f"  無効化: {username}（{_DIRECTORY_REASONS.get(reason, reason)}）")
    for username, reason in report.unresolved:
        click.echo(f"  注意: {username}（{_DIRECTORY_REASONS.get(reason, reason)}）", err=True)


# --- backup ---------------------------------------------------------------------------------

backup_cli = AppGroup("backup", help="Back up and restore the database (SQLite or PostgreSQL).")


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False))
def backup_create(directory):
    """Copy the database, consistent while the app runs, into a new folder under DIRECTORY,
    with a manifest (versions, the audit trail's head, rows of every table, checksums)."""
    try:
        folder, manifest = backup.create(Path(directory))
    except backup.BackupError as error:
        _fail(str(error))
    head = manifest["audit_head"]
    rows = sum(manifest["row_counts"].values())
    click.echo(f"バックアップを作成しました: {folder}")
    click.echo(
        f"  {len(manifest['row_counts'])} 表、{rows} 行。監査ログの最新の記録: id={head['id']}"
        f" ハッシュ {head['hash']}"
    )


def _taken(manifest) -> str:
    """When a backup was taken, as the office reads it (the manifest keeps its UTC offset)."""
    return datetime.fromisoformat(manifest["created_at"]).strftime("%Y-%m-%d %H:%M:%S")


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that holds data (asks first).")
@click.option("--yes", is_flag=True, help="With --force: do not ask.")
def backup_restore(directory, force, yes):
    """Restore a backup folder onto a missing or empty database (stop the app first), then
    verify the audit trail; checksums and versions are checked before anything changes."""
    try:
        plan = backup.check(Path(directory))
        taken = _taken(plan.manifest)
        if plan.holds_data and force and not yes:
            if not click.confirm(
                f"{plan.store.describe()} のデータをすべて削除して、{taken} のバックアップで"
                "置き換えます。よろしいですか？"
            ):
                _fail("復元を取りやめました。何も変更していません。")
        restored = backup.restore(plan, force=force)
    except backup.BackupError as error:
        _fail(str(error))
    click.echo(
        f"{plan.store.describe()} に {taken} のバックアップを復元しました"
        f"（{sum(plan.manifest['row_counts'].values())} 行、行数はバックアップの記録と一致）。"
    )
    if not restored.current_schema:
        click.echo(
            "スキーマがこの版の tenken より古いため、監査ログの検証はしていません。"
            "flask --app wsgi db upgrade の後に flask --app wsgi audit verify を実行してください。"
        )
        return
    # The anchors the restored database kept, and the backup's own head: the entry the trail
    # ended on when the backup was taken must be there, with its hash.
    _verify_trail(_stored_anchors() + ([plan.head] if plan.head else []))


# --- audit ----------------------------------------------------------------------------------

audit_cli = AppGroup("audit", help="The audit trail.")


def _when(moment) -> str:
    return clock.local(moment).strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "?"


def _intact(count: int) -> str:
    return f"{count} 件目までは正常です。" if count else ""


def _chain_problem(report) -> str:
    problem = report.problem
    if problem.kind == "removed":
        missing = f"id={problem.entry_id}"
        if problem.last_missing != problem.entry_id:
            missing += f"〜{problem.last_missing}"
        around = []
        if problem.previous:
            around.append(f"直前: id={problem.previous[0]}（{_when(problem.previous[1])}）")
        if problem.following:
            around.append(f"直後: id={problem.following[0]}（{_when(problem.following[1])}）")
        return (
            f"監査ログの削除を検出しました: {missing} の記録がありません"
            f"（{'、'.join(around)}）。{_intact(report.count)}"
        )
    if problem.kind == "relinked":
        return (
            f"監査ログの改ざんを検出しました: id={problem.entry_id}（{_when(problem.at)}）"
            f"の記録が書き換えられています（id={problem.following[0]} に記録された直前の"
            f"ハッシュと一致しません）。{_intact(report.count - 1)}"
        )
    return (
        f"監査ログの改ざんを検出しました: id={problem.entry_id}（{_when(problem.at)}）"
        f"の記録の内容がハッシュと一致しません。{_intact(report.count)}"
    )


def _anchor_problem(found, report) -> str:
    anchor = found.anchor
    head = f"控え（{anchor.source}）の id={anchor.entry_id} ハッシュ {anchor.hash} と一致しません: "
    if found.found is not None:
        return (
            f"{head}その記録のハッシュは {found.found} です。id={anchor.entry_id} までの"
            "監査ログが作り直されています。"
        )
    end = f"id={report.last_id} で終わっています" if report.last_id else "空です"
    return f"{head}その記録がありません（監査ログは{end}）。末尾の記録が削除されています。"


def _stop_on_problems(report, *closing: str) -> None:
    """Every problem the check found on stderr, then exit 1; nothing if there was none."""
    if report.ok:
        return
    found = [_chain_problem(report)] if report.problem else []
    found += [_anchor_problem(p, report) for p in report.anchor_problems]
    for message in [*found, *closing]:
        click.echo(message, err=True)
    sys.exit(1)


def _stored_anchors() -> list[trail.Anchor]:
    from survey.services import anchors

    return [
        trail.Anchor(a.entry_id, a.entry_hash, f"{_when(a.at)} に送付、データベースに記録")
        for a in anchors.stored()
    ]


def _given_anchor(_ctx, _param, values) -> list[trail.Anchor]:
    from survey.services import anchors

    given = []
    for value in values:
        found = anchors.pair(value)
        if found is None:
            raise click.BadParameter(
                f"{value!r} は読めません。「番号:ハッシュ」（例: 12840:548d…、ハッシュは "
                "16 進数 64 桁）の形で指定してください。"
            )
        given.append(trail.Anchor(*found, "--anchor"))
    return given


def _file_anchors(paths) -> list[trail.Anchor]:
    from survey.services import anchors

    found = []
    for path in paths:
        try:
            parsed = anchors.parse(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            _fail(f"{path} を読めません: {error}")
        for number, text in parsed.unreadable:
            click.echo(f"{path} の {number} 行目は控えとして読めません: {text}", err=True)
        if parsed.unreadable:
            _fail("控えのファイルを直してから、もう一度実行してください。何も照合していません。")
        if not parsed.anchors:
            _fail(
                f"{path} に控え（id=番号 hash=ハッシュ の行、または 番号:ハッシュ の行）が"
                "ありません。"
            )
        found += [trail.Anchor(i, h, f"{path} の {n} 行目") for n, i, h in parsed.anchors]
    return found


@audit_cli.command("verify")
@click.option(
    "--anchor",
    "given",
    multiple=True,
    callback=_given_anchor,
    metavar="ID:HASH",
    help="An anchor kept elsewhere (as mailed by `audit anchor`); may be repeated.",
)
@click.option(
    "--anchors",
    "files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A file of anchors: a saved anchor mail, lines of the system log, or ID:HASH lines.",
)
def audit_verify(given, files):
    """Check the hash chain of the whole trail and every anchor (those sent from here, kept in
    the database, and those given); exit 1 naming what was altered or removed."""
    _verify_trail(_stored_anchors() + given + _file_anchors(files))


def _verify_trail(checked: list[trail.Anchor]) -> None:
    """`audit verify`: the chain and every anchor; exit 1 naming what was altered or removed."""
    report = trail.verify(anchors=checked)
    _stop_on_problems(report)
    if report.count == 0:
        click.echo("監査ログは空です（0 件）。")
    else:
        click.echo(
            f"監査ログを検証しました: {report.count} 件、改ざんや削除は見つかりませんでした。"
        )
        click.echo(
            f"最新の記録: id={report.last_id}（{_when(report.last_at)}）"
            f" ハッシュ {report.last_hash}"
        )
    if checked:
        click.echo(f"控え {len(checked)} 件と照合しました。すべて一致しています。")


@audit_cli.command("anchor")
def audit_anchor():
    """Verify the trail, then send the newest entry's id and hash to the system log, the
    auditors' mail and standard output (run daily from cron); exit 1 if a place failed."""
    from survey.services import anchors

    report = trail.verify(anchors=_stored_anchors())
    _stop_on_problems(report, "監査ログに問題があるため、控えは送っていません。")
    if report.count == 0:
        click.echo("監査ログは空です（0 件）。控えは送っていません。")
        return
    sent = anchors.send(report)
    click.echo(sent.line)
    click.echo(f"監査ログの控えを送りました: id={report.last_id}（{_when(report.last_at)}）")
    if sent.syslog:
        click.echo(f"  システムログ: {sent.syslog}")
    elif sent.syslog_error is None:
        click.echo(
            "  システムログ: SURVEY_AUDIT_SYSLOG_ADDRESS のソケットがないため、送っていません。",
            err=True,
        )
    click.echo(f"  メール: {'、'.join(m.recipient for m in sent.mails) or 'なし'}")
    if not sent.mails:
        click.echo(
            "  メールの宛先がありません。監査担当のユーザーにメールアドレスを登録するか、"
            "SURVEY_AUDIT_ANCHOR_MAIL_TO を設定してください。",
            err=True,
        )
    delivered = _deliver([m.id for m in sent.mails]) if sent.mails else True
    if sent.syslog_error:
        _fail(f"システムログに書き込めませんでした: {sent.syslog_error}")
    if not delivered:
        sys.exit(1)


# --- files ----------------------------------------------------------------------------------

files_cli = AppGroup("files", help="Files kept in the database: evidence, register uploads.")

DAMAGE = {
    "missing": "内容がそろっていません（移行のときに見つからなかったか、復元で欠けたファイル）",
    "sha256": "内容が記録された SHA-256 と一致しません",
}


def _stored(file_id: int, origin: str | None) -> str:
    return f"ファイル {file_id}" + (f"（移行前の名前 uploads/{origin}）" if origin else "")


@files_cli.command("check")
def files_check():
    """Read every stored file back and compare it with its size and SHA-256; exit status 1 if
    any is missing or damaged."""
    checked, damaged = files.check()
    for damage in damaged:
        click.echo(f"{_stored(damage.file_id, damage.origin)}: {DAMAGE[damage.reason]}", err=True)
    if damaged:
        _fail(f"{checked} 件中 {len(damaged)} 件のファイルに問題があります。")
    click.echo(f"{checked} 件のファイルはすべてそろっています。")


@files_cli.command("load")
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
def files_load(directory):
    """Bring in the evidence files the upgrade did not find, from another app server's
    instance/uploads folder (matched by name, taken only with the recorded SHA-256)."""
    loaded, differing = files.load_folder(Path(directory))
    trail.record(
        "files.load",
        summary=str(directory)[:200],
        after={"loaded": [f.id for f in loaded], "differing": [f.id for f in differing]},
    )
    db.session.commit()
    click.echo(f"{len(loaded)} 件のファイルを取り込みました。")
    for file in differing:
        click.echo(
            f"{_stored(file.id, file.origin)}: フォルダーのファイルは記録と内容が異なるため、"
            "取り込みませんでした。",
            err=True,
        )
    if differing:
        sys.exit(1)


# --- mail -----------------------------------------------------------------------------------

mail_cli = AppGroup("mail", help="Deliver queued mail.")


def _deliver(ids: list[int] | None = None) -> bool:
    """Send the queue, or only `ids` (the code the sending commands share); False if some
    failed."""
    from survey.services import mailer

    report = mailer.deliver_queued(ids=ids)
    if report.backend != "smtp":
        click.echo(
            f"MAIL_BACKEND={report.backend}: メールは送信せず、送信メール画面（/admin/outbox/）に"
            f"保管しています（未送信 {mailer.pending_count()} 件）。"
        )
        return True
    click.echo(f"送信しました: {len(report.sent)} 件、失敗: {len(report.failed)} 件。")
    by_error: dict[str, list[str]] = {}
    for mail in report.failed:
        by_error.setdefault(mail.last_error or "", []).append(mail.recipient)
    for error, recipients in by_error.items():
        shown = "、".join(recipients[:5]) + (" …" if len(recipients) > 5 else "")
        click.echo(f"  {error}（{len(recipients)} 件: {shown}）", err=True)
    if report.failed:
        click.echo("送信できなかったメールは、次の実行で再送します。", err=True)
    return report.ok


@mail_cli.command("send")
def mail_send():
    """Send every due queued mail over SMTP; exit status 1 if some could not be sent (cron)."""
    if not _deliver():
        sys.exit(1)


# --- reminders ------------------------------------------------------------------------------

reminders_cli = AppGroup("reminders", help="Deadline reminders.")


def _today(value) -> date:
    if value is not None:
        return value.date()
    return clock.today()


@reminders_cli.command("send")
@click.option("--dry-run", is_flag=True, help="List who would get what; change nothing.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="The day to remind for.")
@click.option(
    "--again",
    is_flag=True,
    help="Make the day's mails even though a run made them (after one that died).",
)
def reminders_send(dry_run, today, again):
    """Mail everyone with work due soon or overdue (once a day, however many nodes run this),
    then deliver the queue."""
    from survey.services import reminders

    day = _today(today)
    if dry_run:
        letters = reminders.plan(day, reminders.sources())
        for letter in letters:
            click.echo(f"{letter.email}（{letter.name}）: {len(letter.reminders)} 件")
            for reminder in letter.reminders:
                click.echo(f"    {reminder.key} 期限 {reminder.due_on.isoformat()}")
        click.echo(f"送信予定: {len(letters)} 通（--dry-run のため何も送信していません）。")
        return
    made = reminders.send_daily(day, again=again)
    taken = made.taken_by
    if taken is not None:
        click.echo(
            f"{day.isoformat()} のお知らせは {taken.node} が {_when(taken.claimed_at)} に"
            "作成済みです。ここでは作成しません（もう一度作成するには --again）。"
        )
    else:
        click.echo(f"{day.isoformat()} のお知らせを {len(made.letters)} 通作成しました。")
    if not _deliver():
        sys.exit(1)


api_cli = AppGroup("api", help="The REST API (/api/v1).")


@api_cli.command("spec")
@click.option("--out", type=click.Path(dir_okay=False), default="docs/openapi.json")
def api_spec(out):
    """Write the OpenAPI document the app serves at /api/v1/openapi.json (docs/openapi.json
    is checked against it by tests/api/test_openapi.py)."""
    from survey.api import document

    with open(out, "w", encoding="utf-8") as handle:
        handle.write(document())
    click.echo(out)


commands = [
    api_cli,
    checklist_cli,
    demo_cli,
    report_cli,
    user_cli,
    backup_cli,
    audit_cli,
    register_cli,
    mail_cli,
    reminders_cli,
    files_cli,
]
