"""Every mail the system writes, in one place: subject and body, always in Japanese.

Mail goes to divisions and companies whatever language the person who triggered it reads the
screens in, so each function renders under `force_locale("ja")`. The msgids are the Japanese
texts themselves, as everywhere in tenken.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from survey import labels
from survey.formatting import format_date, format_datetime
from survey.models import Assignment, Invitation, User


def _signature() -> str:
    # Each body ends with this line, so a reader knows where the mail comes from.
    return "--\n" + _("tenken 情報セキュリティ自己点検システム") + "\n"


def _due(assignment: Assignment) -> date:
    return assignment.due_on or assignment.campaign.closes_on


def _reviewer(user: User) -> str:
    return f"{user.display_name}（{user.unit.name}）" if user.unit else user.display_name


def assignment_returned(assignment: Assignment, reviewer: User, reason: str, link: str):
    with force_locale("ja"):
        subject = _(
            "【情報セキュリティ自己点検】差し戻しのお知らせ（%(target)s）",
            target=assignment.target_name,
        )
        body = _(
            "次の点検の回答が差し戻されました。理由を確認し、回答を修正のうえ、"
            "もう一度提出してください。\n\n"
            "点検: %(campaign)s\n"
            "対象: %(target)s\n"
            "回答期限: %(due)s\n"
            "差し戻した人: %(reviewer)s\n\n"
            "差し戻しの理由:\n%(reason)s\n\n"
            "回答画面:\n%(link)s\n",
            campaign=assignment.campaign.title,
            target=assignment.target_name,
            due=format_date(_due(assignment)),
            reviewer=_reviewer(reviewer),
            reason=reason.strip(),
            link=link,
        )
        return subject, body + "\n" + _signature()


def assignment_approved(assignment: Assignment, reviewer: User, comment: str, link: str):
    with force_locale("ja"):
        subject = _(
            "【情報セキュリティ自己点検】承認のお知らせ（%(target)s）",
            target=assignment.target_name,
        )
        body = _(
            "次の点検の回答が承認されました。ご協力ありがとうございました。"
            "承認された回答は変更できません。\n\n"
            "点検: %(campaign)s\n"
            "対象: %(target)s\n"
            "承認した人: %(reviewer)s\n",
            campaign=assignment.campaign.title,
            target=assignment.target_name,
            reviewer=_reviewer(reviewer),
        )
        if comment.strip():
            body += "\n" + _("コメント:\n%(comment)s\n", comment=comment.strip())
        body += "\n" + _("回答画面:\n%(link)s\n", link=link)
        return subject, body + "\n" + _signature()


def _when(due: date, today: date) -> str:
    days = (due - today).days
    if days > 0:
        return _("あと%(days)d日", days=days)
    if days == 0:
        return _("本日が期限です")
    return _("期限を%(days)d日過ぎています", days=-days)


def _since(day: date, today: date) -> str:
    days = (today - day).days
    return _("本日") if days <= 0 else _("%(days)d日経過", days=days)


def _to_head(step: str | None) -> bool:
    """Whether a line goes to a head (a step past the respondents')."""
    return step not in (None, "respondent")


def _escalated(step: str | None, unit) -> list[str]:
    """The line that tells a head why they hear of it: the step reached and whose work it is
    (nothing while only the respondents are reminded)."""
    if not _to_head(step):
        return []
    return [
        _(
            "督促段階: %(step)s（担当所属: %(unit)s）",
            step=labels.label(labels.ESCALATION_STEPS, step),
            unit=unit.name if unit is not None else "-",
        )
    ]


def digest_line(
    heading: str,
    label: str,
    day: date,
    when: str,
    link: str,
    before: Sequence[str] = (),
    after: Sequence[str] = (),
) -> str:
    """One thing in a digest, in the shape every source shares: what it is, who or which part,
    its date and how far off it is, its state and the step reached, where to act. The caller
    renders the parts under force_locale("ja")."""
    dated = _("%(label)s: %(day)s（%(when)s）", label=label, day=format_date(day), when=when)
    return "\n  ".join([f"■ {heading}", *before, dated, *after, link])


def reminder_line(assignment: Assignment, today: date, link: str, step: str | None) -> str:
    """One assignment in a digest: what, until when, in which state, the escalation step
    reached, where to answer."""
    with force_locale("ja"):
        due = _due(assignment)
        status = labels.label(labels.ASSIGNMENT_STATUSES, assignment.status)
        return digest_line(
            f"{assignment.campaign.title} — {assignment.target_name}",
            _("回答期限"),
            due,
            _when(due, today),
            link,
            after=[
                _("状況: %(status)s", status=status),
                *_escalated(step, assignment.responsible_unit),
            ],
        )


def action_reminder_line(action, today: date, link: str, step: str | None) -> str:
    """One overdue corrective action in a digest."""
    with force_locale("ja"):
        status = labels.label(labels.ACTION_STATUSES, action.status)
        return digest_line(
            _("是正措置: %(title)s", title=action.title),
            _("対応期限"),
            action.due_on,
            _when(action.due_on, today),
            link,
            after=[_("状況: %(status)s", status=status), *_escalated(step, action.unit)],
        )


def delegation_reminder_line(delegation, today: date, link: str) -> str:
    """A part of a questionnaire handed over and not yet marked done, in a digest."""
    with force_locale("ja"):
        assignment = delegation.assignment
        return digest_line(
            _(
                "分担の回答: %(campaign)s — %(target)s",
                campaign=assignment.campaign.title,
                target=assignment.target_name,
            ),
            _("分担の期限"),
            delegation.due_on,
            _when(delegation.due_on, today),
            link,
            before=[
                _(
                    "分担した人: %(delegate)s（依頼: %(delegator)s）",
                    delegate=delegation.delegate.display_name,
                    delegator=delegation.delegator.display_name,
                )
            ],
        )


def training_reminder_line(enrolment, today: date, link: str, step: str | None = None) -> str:
    """One course not passed in a digest; to a head, whose it is and the step reached."""
    with force_locale("ja"):
        course = enrolment.course
        after = []
        if _to_head(step):
            after = [
                _("受講者: %(person)s（未修了）", person=enrolment.user.display_name),
                *_escalated(step, enrolment.unit),
            ]
        return digest_line(
            _("研修: %(title)s", title=course.title),
            _("受講期限"),
            course.due_on,
            _when(course.due_on, today),
            link,
            after=after,
        )


def pledge_reminder_line(
    version, person: User, since: date, today: date, link: str, step: str | None = None
) -> str:
    """A pledge version a person owes, in a digest, dated from the day it was first asked of
    them: to the person, how to give it (it is asked at sign-in); to a head, whose it is and the
    step reached."""
    with force_locale("ja"):
        if _to_head(step):
            after = [
                _("職員: %(person)s（未提出）", person=person.display_name),
                *_escalated(step, person.unit),
            ]
        else:
            after = [_("ログインすると誓約書が表示されます。内容を確認して同意してください。")]
        return digest_line(
            _(
                "誓約書: %(title)s 第%(version)s版",
                title=version.pledge.title,
                version=version.version,
            ),
            _("同意を求めた日"),
            since,
            _since(since, today),
            link,
            after=after,
        )


def approval_request(assignment: Assignment, submitter: User, link: str):
    """A questionnaire handed in: to the people who may approve it."""
    with force_locale("ja"):
        subject = _(
            "【情報セキュリティ自己点検】承認のお願い（%(target)s）", target=assignment.target_name
        )
        body = _(
            "次の点検の回答が提出されました。内容を確認し、承認または差戻しをしてください。\n\n"
            "点検: %(campaign)s\n"
            "対象: %(target)s\n"
            "提出した人: %(submitter)s\n\n"
            "回答画面（「いいえ」の項目とコメントが最初にまとめて表示されます）:\n%(link)s\n",
            campaign=assignment.campaign.title,
            target=assignment.target_name,
            submitter=_reviewer(submitter),
            link=link,
        )
        return subject, body + "\n" + _signature()


def approval_line(assignment: Assignment, link: str) -> str:
    """One questionnaire in the approvers' daily digest."""
    with force_locale("ja"):
        return _(
            "■ %(campaign)s — %(target)s\n  提出: %(submitted)s\n  %(link)s",
            campaign=assignment.campaign.title,
            target=assignment.target_name,
            submitted=format_datetime(assignment.submitted_at),
            link=link,
        )


def digest(name: str, due: list[str], approvals: list[str]):
    """A person's one mail of the day: what is late or due soon at a step that reaches them
    (questionnaires of every campaign, corrective actions, log review sheets, courses, pledges,
    parts handed to them), and, when the office chose the daily digest (APPROVAL_MAIL=daily),
    what waits for their approval."""
    with force_locale("ja"):
        parts = []
        if due:
            parts.append(_("期限のお知らせ（%(count)d件）", count=len(due)))
        if approvals:
            parts.append(_("承認待ちの回答（%(count)d件）", count=len(approvals)))
        subject = _("【情報セキュリティ自己点検】") + "・".join(parts)
        body = _("%(name)s 様", name=name) + "\n\n"
        if due:
            body += _(
                "次の事項の期限が近づいているか、過ぎています。"
                "期限までに、回答の提出、措置の報告、研修の受講、誓約書の提出など、"
                "それぞれに必要な対応をしてください"
                "（所属長・部局長の方には、担当の所属・職員への督促をお願いします）。\n\n"
                "%(lines)s\n\n",
                lines="\n\n".join(due),
            )
        if approvals:
            body += _(
                "次の点検の回答が提出され、承認を待っています。"
                "内容を確認し、承認または差戻しをしてください。\n\n"
                "%(lines)s\n\n",
                lines="\n\n".join(approvals),
            )
        body += _(
            "このお知らせは、督促の段階（本人・所属長・部局長）に達した事項と承認を待つ回答を、"
            "対応が済むまで毎日1通にまとめてお送りします。\n"
        )
        return subject, body + "\n" + _signature()


def invitation(assignment: Assignment, invitation: Invitation, link: str, invited_by: User | None):
    """A contractor's contact invited to set a password and answer a contract's checklist."""
    with force_locale("ja"):
        contract = assignment.contract
        company = contract.contractor.name
        owner = (assignment.responsible_unit or contract.unit).name
        sender = ""
        if invited_by is not None:
            unit = invited_by.unit.name if invited_by.unit else owner
            sender = _("依頼者: %(name)s（%(unit)s）", name=invited_by.display_name, unit=unit)
        subject = _(
            "【情報セキュリティ自己点検】ご回答のお願い（%(contract)s）", contract=contract.title
        )
        body = _(
            "%(company)s\nご担当者様\n\n"
            "%(owner)sから、次の委託業務について情報セキュリティ自己点検へのご回答をお願いします。"
            "\n\n"
            "点検: %(campaign)s\n"
            "委託業務: %(contract)s\n"
            "事業者: %(company)s\n"
            "回答期限: %(due)s\n\n"
            "下のリンクを開いてユーザー名とパスワードを設定すると、そのまま点検票に回答できます。"
            "\n\n%(link)s\n\n"
            "・このリンクは一度だけ使えます。有効期限は %(expires)s です。\n"
            "・期限が切れた場合は、%(owner)sに招待メールの再送を依頼してください。\n"
            "・お心当たりのない場合は、このメールを破棄してください。\n",
            company=company,
            owner=owner,
            campaign=assignment.campaign.title,
            contract=contract.title,
            due=format_date(_due(assignment)),
            link=link,
            expires=format_datetime(invitation.expires_at),
        )
        if sender:
            body += "\n" + sender + "\n"
        return subject, body + "\n" + _signature()


def password_reset(user: User, link: str, expires_at: datetime):
    """A link to set a new password, asked for on the "forgot your password" page."""
    with force_locale("ja"):
        subject = _("【情報セキュリティ自己点検】パスワード再設定のご案内")
        body = _(
            "%(name)s 様\n\n"
            "パスワードの再設定が申請されました。下のリンクを開いて、新しいパスワードを設定して"
            "ください。\n\n"
            "ユーザー名: %(username)s\n\n%(link)s\n\n"
            "・このリンクは一度だけ使えます。有効期限は %(expires)s です。\n"
            "・再設定を申請し直すと、このリンクは使えなくなります。\n"
            "・2段階認証を設定している場合は、再設定の後のログインでも確認コードが必要です。\n"
            "・お心当たりのない場合は、このメールを破棄してください。パスワードは変わりません。\n",
            name=user.display_name,
            username=user.username,
            link=link,
            expires=format_datetime(expires_at),
        )
        return subject, body + "\n" + _signature()


def password_reset_done(user: User, at: datetime):
    """Sent after a password was set through a mailed link, so that its owner notices a reset
    they did not make."""
    with force_locale("ja"):
        subject = _("【情報セキュリティ自己点検】パスワードを再設定しました")
        body = _(
            "%(name)s 様\n\n"
            "ユーザー名 %(username)s のパスワードを %(at)s に再設定しました。"
            "ログイン中だったすべての端末はログアウトしました。\n\n"
            "お心当たりのない場合は、すぐにシステムの管理者へご連絡ください。\n",
            name=user.display_name,
            username=user.username,
            at=format_datetime(at),
        )
        return subject, body + "\n" + _signature()


def audit_anchor(entry_id: int, entry_hash: str, entry_at: datetime, line: str, link: str):
    """The newest audit entry's id and hash, for the auditors to keep outside the database."""
    with force_locale("ja"):
        subject = _("【情報セキュリティ自己点検】監査ログの控え（id=%(id)s）", id=entry_id)
        body = _(
            "監査ログの最新の記録の番号とハッシュをお知らせします。"
            "この値を控えてください。このメールは削除せずに保管してください。\n\n"
            "記録の番号: id=%(id)s\n"
            "記録の日時: %(at)s\n"
            "ハッシュ: %(hash)s\n\n"
            "この記録は、後日も同じハッシュのまま残っているはずです。残っていない、または"
            "ハッシュが違う場合は、監査ログの末尾が削除されたか、作り直されています。\n\n"
            "確かめ方:\n"
            "・画面: 監査ログの詳細（下のリンク）に表示されるハッシュが、上の値と同じであること。\n"
            "%(link)s\n"
            "・コマンド: このメールを本文のままファイルに保存し、\n"
            "  flask --app wsgi audit verify --anchors 保存したファイル\n"
            "  または flask --app wsgi audit verify --anchor %(id)s:%(hash)s\n"
            "  を実行すると、控えた値と監査ログを照合します。\n\n"
            "控えの行（システムログにも同じ行が記録されています）:\n%(line)s\n",
            id=entry_id,
            at=format_datetime(entry_at),
            hash=entry_hash,
            link=link,
            line=line,
        )
        return subject, body + "\n" + _signature()


def invitation_decision(filed, link: str):
    """The security office's decision on a division's request to invite an address the
    contractor register does not hold (an InvitationRequest)."""
    with force_locale("ja"):
        assignment = filed.assignment
        approved = filed.invitation_id is not None
        subject = _(
            "【情報セキュリティ自己点検】招待の申請結果（%(contract)s）",
            contract=assignment.contract.title,
        )
        if approved:
            outcome = _("情報政策課が次の招待を承認し、招待メールを送信しました。")
        else:
            outcome = _("情報政策課は次の招待を承認しませんでした。招待メールは送られていません。")
        body = (
            outcome
            + "\n\n"
            + _(
                "点検: %(campaign)s\n"
                "委託業務: %(contract)s\n"
                "事業者: %(company)s\n"
                "メールアドレス: %(email)s\n",
                campaign=assignment.campaign.title,
                contract=assignment.contract.title,
                company=filed.contractor.name,
                email=filed.email,
            )
        )
        if not approved:
            body += "\n" + _("承認しない理由:\n%(reason)s\n", reason=filed.reason)
        body += "\n" + _("回答画面:\n%(link)s\n", link=link)
        return subject, body + "\n" + _signature()


# --- access-log review (ログ点検) ---------------------------------------------------------------


def log_review_requested(round_title: str, unit_name: str, due_on: date, link: str):
    with force_locale("ja"):
        subject = _("【ログ点検】%(title)s の確認のお願い", title=round_title)
        body = _(
            "%(unit)s の職員等によるシステムの照会のうち、抽出された記録の確認をお願いします。\n"
            "記録ごとに、業務上必要だったか（申請書番号・用務）を回答し、提出してください。\n\n"
            "回答期限: %(due)s\n%(link)s\n",
            unit=unit_name,
            due=format_date(due_on),
            link=link,
        )
        return subject, body + "\n" + _signature()


def log_explanation_asked(link: str):
    with force_locale("ja"):
        subject = _("【ログ点検】照会記録についての説明のお願い")
        body = _(
            "システムの照会記録のうち 1 件について、所属長が説明を求めています。\n"
            "業務上の必要（申請書番号・用務）を書いてください。\n\n%(link)s\n",
            link=link,
        )
        return subject, body + "\n" + _signature()


def log_explained(unit_name: str, link: str):
    with force_locale("ja"):
        subject = _("【ログ点検】%(unit)s の照会記録に説明が届きました", unit=unit_name)
        body = _("求めた説明が届きました。点検票で確認してください。\n\n%(link)s\n", link=link)
        return subject, body + "\n" + _signature()


def log_sheet_submitted(unit_name: str, link: str):
    with force_locale("ja"):
        subject = _("【ログ点検】%(unit)s の点検票が提出されました", unit=unit_name)
        body = _("点検票の内容を確認し、承認または差し戻してください。\n\n%(link)s\n", link=link)
        return subject, body + "\n" + _signature()


def log_sheet_reminder_line(sheet, open_entries: int, today: date, link: str) -> str:
    """A review sheet not handed in, in the head's reminder: which round and unit, until when,
    how many look-ups still wait for a final answer."""
    with force_locale("ja"):
        status = labels.label(labels.SHEET_STATUSES, sheet.status)
        return digest_line(
            _("ログ点検: %(title)s — %(unit)s", title=sheet.round.title, unit=sheet.unit.name),
            _("回答期限"),
            sheet.due_on,
            _when(sheet.due_on, today),
            link,
            after=[
                _(
                    "状況: %(status)s（未回答・確認中 %(open)d件）",
                    status=status,
                    open=open_entries,
                )
            ],
        )


def log_explanation_reminder_line(sheet, today: date, link: str) -> str:
    """A look-up whose explanation the head asked for and is still missing."""
    with force_locale("ja"):
        return digest_line(
            _("ログ点検: 照会記録についての説明（%(title)s）", title=sheet.round.title),
            _("所属長の回答期限"),
            sheet.due_on,
            _when(sheet.due_on, today),
            link,
        )


def log_sheet_returned(unit_name: str, reason: str, link: str):
    with force_locale("ja"):
        subject = _("【ログ点検】%(unit)s の点検票が差し戻されました", unit=unit_name)
        body = _(
            "点検票が差し戻されました。理由を確認し、回答し直してください。\n\n"
            "差戻しの理由:\n%(reason)s\n\n%(link)s\n",
            reason=reason,
            link=link,
        )
        return subject, body + "\n" + _signature()


def _part(delegation) -> str:
    return "、".join(f"{c.code} {c.title}" for c in delegation.categories)


def delegation_request(delegation, link: str):
    """To the delegate: a part of a questionnaire handed to them, with its due date."""
    assignment = delegation.assignment
    with force_locale("ja"):
        subject = _(
            "【情報セキュリティ自己点検】回答の依頼（委任）（%(target)s）",
            target=assignment.target_name,
        )
        body = _(
            "次の点検の一部の回答を依頼されました。期限までに回答し、"
            "「依頼された回答を終えたことを知らせる」を押してください。提出は依頼した人が行います。\n\n"
            "点検: %(campaign)s\n"
            "対象: %(target)s\n"
            "依頼された分類: %(part)s\n"
            "期限: %(due)s\n"
            "依頼した人: %(delegator)s\n",
            campaign=assignment.campaign.title,
            target=assignment.target_name,
            part=_part(delegation),
            due=format_date(delegation.due_on),
            delegator=_reviewer(delegation.delegator),
        )
        if delegation.note.strip():
            body += "\n" + _("依頼した人からの連絡:\n%(note)s\n", note=delegation.note.strip())
        body += "\n" + _("回答画面:\n%(link)s\n", link=link)
        return subject, body + "\n" + _signature()


def delegation_done(delegation, link: str):
    """To the delegator: the delegate marked their part done; the delegator reviews and submits."""
    assignment = delegation.assignment
    with force_locale("ja"):
        subject = _(
            "【情報セキュリティ自己点検】委任した回答の完了（%(target)s）",
            target=assignment.target_name,
        )
        body = _(
            "依頼した分類の回答が完了しました。内容を確認のうえ、提出してください。\n\n"
            "点検: %(campaign)s\n"
            "対象: %(target)s\n"
            "依頼した分類: %(part)s\n"
            "回答した人: %(delegate)s\n\n"
            "回答画面:\n%(link)s\n",
            campaign=assignment.campaign.title,
            target=assignment.target_name,
            part=_part(delegation),
            delegate=_reviewer(delegation.delegate),
            link=link,
        )
        return subject, body + "\n" + _signature()


def delegation_withdrawn(delegation, link: str):
    """To the delegate: the delegation was withdrawn, so the questionnaire is no longer theirs."""
    assignment = delegation.assignment
    with force_locale("ja"):
        subject = _(
            "【情報セキュリティ自己点検】回答の依頼の取消し（%(target)s）",
            target=assignment.target_name,
        )
        body = _(
            "次の点検の回答の依頼（委任）は取り消されました。"
            "この点検の画面は表示されなくなります。\n\n"
            "点検: %(campaign)s\n"
            "対象: %(target)s\n"
            "依頼されていた分類: %(part)s\n"
            "取り消した人: %(by)s\n\n"
            "回答・承認の一覧:\n%(link)s\n",
            campaign=assignment.campaign.title,
            target=assignment.target_name,
            part=_part(delegation),
            by=_reviewer(delegation.ended_by),
            link=link,
        )
        return subject, body + "\n" + _signature()
