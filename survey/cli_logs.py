"""`flask logs ...`: access-log review (ログ点検) from the command line, for the files too large to
upload and for the jobs run on a schedule (`logs purge`). Each command wraps survey.services.logs.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from reports.accesslogs.messages import ProblemsFound
from reports.accesslogs.messages import text as message
from survey import clock
from survey.cli import _fail, _lang, lang_option
from survey.extensions import db
from survey.services import logs

logs_cli = AppGroup("logs", help="Access-log review: import logs, rules, rounds, retention.")


def _when(moment) -> str:
    return clock.local(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


def _problems(problems, more: int, lang: str) -> None:
    for problem in problems:
        click.echo(problem.render(lang), err=True)
    if more:
        click.echo(message("more_problems", lang, count=more, shown=len(problems)), err=True)


def _source(code: str):
    source = logs.source_by_code(code)
    if source is None:
        known = ", ".join(s.code for s in logs.sources()) or "（なし）"
        _fail(f"ログの種類 {code} は登録されていません（登録済み: {known}）。")
    return source


@logs_cli.command("import")
@click.argument("source_code", metavar="SOURCE")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--check", is_flag=True, help="Read and check the file; import nothing.")
@lang_option
def logs_import(source_code, file, check, lang):
    """Import FILE (CSV or .xlsx) as SOURCE's log, all or nothing; the same file once."""
    lang = _lang(lang)
    source = _source(source_code)
    with open(file, "rb") as stream:
        if check:
            checked = logs.check_file(source, stream)
        else:
            checked = logs.import_file(source, stream, Path(file).name)
    if checked.already is not None:
        db.session.rollback()
        done = checked.already
        click.echo(
            f"このファイルは取り込み済みです（{_when(done.imported_at)}、{done.row_count:,} 行、"
            f"{done.imported_by_name}）。もう一度は取り込みません。"
        )
        return
    if not checked.ok:
        db.session.rollback()
        _problems(checked.problems, checked.more, lang)
        _fail("何も取り込んでいません。")
    result = checked.result
    unresolved = sum(result.unresolved.values())
    summary = (
        f"{result.rows:,} 行（{_when(result.first_at)} 〜 {_when(result.last_at)}、"
        f"利用者ID {result.users:,} 件、台帳にない利用者IDの行 {unresolved:,}）"
    )
    if check:
        db.session.rollback()
        click.echo(
            f"問題はありません: {summary}。取り込むには --check を付けずに実行してください。"
        )
        return
    db.session.commit()
    click.echo(f"取り込みました: {summary}")
    for code, count in checked.unresolved:
        click.echo(f"  台帳にない利用者ID: {code}（{count:,} 行）")


@logs_cli.command("rules")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@lang_option
def logs_rules(files, lang):
    """Import sampling rule files (YAML); without FILES, the shipped default rules."""
    lang = _lang(lang)
    paths = [Path(f) for f in files] or logs.shipped_rule_files()
    for path in paths:
        try:
            stored, new = logs.import_rules(path.read_bytes())
        except ProblemsFound as found:
            db.session.rollback()
            for problem in found.problems:
                click.echo(f"{path}: {problem.render(lang)}", err=True)
            _fail("何も取り込んでいません。")
        click.echo(f"{stored.label} {stored.title}: {'登録しました' if new else '登録済みです'}")
    db.session.commit()


@logs_cli.command("round")
@click.argument("code")
@click.option("--source", "source_code", required=True, help="The log source's code.")
@click.option("--from", "period_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "period_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--rules", "label", default="standard", help="CODE[@VERSION] (default: standard).")
@click.option("--title", default="", help="Default: the source and period.")
@click.option("--seed", default=None, help="Default: a random one, recorded with the round.")
def logs_round(code, source_code, period_from, period_to, label, title, seed):
    """Plan a review round CODE (`logs sample CODE` draws its sample)."""
    source = _source(source_code)
    stored = logs.rule_set(label)
    if stored is None:
        _fail(f"抽出ルール {label} は登録されていません（flask logs rules で登録します）。")
    first, last = period_from.date(), period_to.date()
    if last < first:
        _fail("--to は --from 以降の日にしてください。")
    if logs.round_by_code(code) is not None:
        _fail(f"ログ点検 {code} は作成済みです。")
    title = title or f"{source.name} {first:%Y-%m-%d}〜{last:%Y-%m-%d}"
    made = logs.create_round(source, stored, first, last, code, title, seed)
    db.session.commit()
    click.echo(
        f"ログ点検 {made.code} を作成しました（抽出ルール {stored.label}、seed {made.seed}）。"
    )


@logs_cli.command("sample")
@click.argument("round_code", metavar="ROUND")
def logs_sample(round_code):
    """Draw ROUND's sample and record it; for a round already drawn, draw it again and check
    that the same entries come out."""
    round_ = logs.round_by_code(round_code)
    if round_ is None:
        _fail(f"ログ点検 {round_code} はありません。")
    if round_.sampled_at is None:
        drawn = logs.record_sample(round_)
        db.session.commit()
        if drawn is None:
            _fail(
                f"{round_.code}: ほかの操作がこの抽出を済ませたところです。"
                "もう一度実行すると、抽出し直して確かめます。"
            )
        click.echo(
            f"{round_.code}: 期間中の {round_.entries_in_period:,} 件から {drawn:,} 件を"
            f"抽出しました（seed {round_.seed}）。"
        )
        return
    again = {entry_id: reasons for entry_id, reasons in logs.draw(round_).reasons.items()}
    stored = logs.stored_sample(round_)
    purged = stored.pop(None, None)
    if purged:
        click.echo("保存期間を過ぎて削除されたログを含むため、抽出し直して確かめられません。")
        return
    if again == stored:
        click.echo(
            f"{round_.code}: 記録と同じ {len(stored):,} 件が抽出されました（再現できます）。"
        )
        return
    missing, extra = set(stored) - set(again), set(again) - set(stored)
    changed = sum(1 for k in set(stored) & set(again) if stored[k] != again[k])
    _fail(
        f"{round_.code}: 抽出結果が記録と異なります（記録のみ {len(missing)} 件、"
        f"抽出し直しのみ {len(extra)} 件、理由が異なる {changed} 件）。"
        "取り込まれたログか台帳が変わった可能性があります。"
    )


@logs_cli.command("purge")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Count the retention from.")
def logs_purge(today):
    """Delete imported logs past the retention period (SURVEY_LOG_RETENTION_DAYS)."""
    day = today.date() if today else clock.today()
    purged = logs.purge(day)
    db.session.commit()
    for record in purged:
        click.echo(
            f"削除しました: {record.source.code} {record.filename}（{record.row_count:,} 行）"
        )
    click.echo(
        f"保存期間 {logs.retention_days()} 日を過ぎた取り込み {len(purged)} 件を削除しました"
        f"（{day.isoformat()} 時点）。"
    )


@logs_cli.command("districts")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@lang_option
def logs_districts(file, lang):
    """Replace the served districts with FILE (組織コード・事業者コード, 地区)."""
    try:
        with force_locale(_lang(lang)):  # the register reader's messages are translated
            count = logs.replace_districts(Path(file).read_bytes(), Path(file).name)
    except ProblemsFound as found:
        db.session.rollback()
        _problems(found.problems, found.more, _lang(lang))
        _fail("何も取り込んでいません。")
    db.session.commit()
    click.echo(f"担当地区を {count} 件に置き換えました。")


@logs_cli.command("households")
@click.argument("source_code", metavar="SOURCE")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@lang_option
def logs_households(source_code, file, lang):
    """Replace SOURCE's staff households with FILE (利用者ID, 宛名番号)."""
    source = _source(source_code)
    try:
        with force_locale(_lang(lang)):
            count = logs.replace_households(source, Path(file).read_bytes(), Path(file).name)
    except ProblemsFound as found:
        db.session.rollback()
        _problems(found.problems, found.more, _lang(lang))
        _fail("何も取り込んでいません。")
    db.session.commit()
    click.echo(f"{source.code} の職員世帯を {count} 件に置き換えました。")
