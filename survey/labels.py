"""Japanese (and, through the catalogue, English) names for the codes stored in the database."""

from flask_babel import lazy_gettext as _l

ROLES = {
    "admin": _l("管理者（情報政策課）"),
    "auditor": _l("監査担当"),
    "manager": _l("所属長"),
    "respondent": _l("回答者"),
    "contractor": _l("委託事業者"),
    "staff": _l("職員"),
}

# A company's staff account (Role.STAFF with a company): 職員 would read as the ward's employee.
COMPANY_STAFF = _l("委託事業者の担当者")


def account_label(user) -> str:
    """What the header calls the signed-in account's kind."""
    if user.role == "staff" and user.contractor_id is not None:
        return str(COMPANY_STAFF)
    return label(ROLES, user.role)


# The steps of a delegation (委任) in a questionnaire's history, beside the review's.
DELEGATION_STEPS = {
    "delegate": _l("回答の依頼（委任）"),
    "delegate_done": _l("依頼された回答の完了"),
    "delegate_end": _l("回答の依頼の取消し"),
}

ASSIGNMENT_STATUSES = {
    "not_started": _l("未着手"),
    "draft": _l("回答中"),
    "submitted": _l("提出済"),
    "returned": _l("差戻し"),
    "approved": _l("承認済"),
}

CAMPAIGN_STATUSES = {
    "draft": _l("準備中"),
    "open": _l("実施中"),
    "closed": _l("終了"),
}

TARGET_KINDS = {
    "unit": _l("分野・事業所"),
    "system": _l("情報システム"),
    "contract": _l("委託業務"),
    "contractor": _l("委託事業者"),
    "person": _l("受講者（理解度テスト）"),
}

ACTION_STATUSES = {
    "open": _l("未着手"),
    "in_progress": _l("対応中"),
    "reported": _l("措置報告済"),
    "verified": _l("確認済（完了）"),
}

# Escalation steps (reports.escalation): who is reminded of a late questionnaire or action.
ESCALATION_STEPS = {
    "respondent": _l("回答者"),
    "unit_head": _l("所属長"),
    "department_head": _l("部局長"),
}

ACTION_EVENTS = {
    "open": _l("登録"),
    "start": _l("対応開始"),
    "report": _l("措置報告"),
    "verify": _l("確認・完了"),
    "send_back": _l("差し戻し"),
}

ACTION_SOURCES = {
    "manual": _l("個別登録"),
    "answer": _l("点検の回答（いいえ）"),
    "finding": _l("監査の指摘事項"),
    "recommendation": _l("是正勧告"),
    "log_review": _l("ログ点検（不適切な可能性）"),
}

SHEET_STATUSES = {
    "open": _l("回答中"),
    "submitted": _l("提出済"),
    "returned": _l("差戻し"),
    "approved": _l("承認済"),
}

INCIDENT_STATUSES = {
    "investigating": _l("調査中"),
    "handled": _l("対応済"),
    "reported": _l("報告済"),
}

VERDICTS = {
    "": _l("未回答"),
    "justified": _l("業務上必要"),
    "checking": _l("確認中"),
    "suspect": _l("不適切な可能性"),
}

AUDIT_KINDS = {"onsite": _l("実地監査"), "document": _l("書面監査")}

FINDING_KINDS = {"opinion": _l("意見"), "proposal": _l("提案事項")}

MEASURE_RESULTS = {
    "": _l("未確認"),
    "done": _l("措置済"),
    "partly": _l("一部措置済"),
    "considering": _l("検討中"),
}

# When a comment or an evidence file is required (Item.comment_rule, Item.evidence_rule).
REQUIREMENT_RULES = {
    "never": _l("不要"),
    "noncompliant": _l("「いいえ」などの場合は必須"),
    "compliant": _l("「はい」などの場合は必須"),
    "always": _l("常に必須"),
}
# How an answer counts in the figures (Option.klass).
OPTION_CLASSES = {
    "compliant": _l("該当として数える"),
    "partial": _l("一部実施として数える（分母に含む）"),
    "noncompliant": _l("「いいえ」として数える"),
    "unknown": _l("わからないとして数える（分母に含む）"),
    "excluded": _l("対象外（集計から除く）"),
    "informational": _l("参考（分岐・事実の確認。集計・得点に含めない）"),
}
# The column heading of each class of answer in the results (as reports.tables.CLASS_TITLES).
ANSWER_CLASS_TITLES = {
    "compliant": _l("はい"),
    "partial": _l("一部実施"),
    "noncompliant": _l("いいえ"),
    "unknown": _l("わからない"),
    "excluded": _l("対象外"),
    "informational": _l("参考"),
}
# The mark of an item's importance (Item.importance), on the form and in the results.
IMPORTANCE = {
    "required": _l("必須事項"),
    "recommended": _l("推奨事項"),
}
# Who alone may choose an option (Option.audience), as the office's preview marks it.
AUDIENCES = {
    "staff": _l("職員のみ"),
    "contractor": _l("委託先のみ"),
}
# Whom a pledge (誓約書) concerns, and when it is asked again.
PLEDGE_AUDIENCES = {
    "staff": _l("職員"),
    "contractors": _l("委託事業者（契約で誓約書を求める事業者）"),
}
PLEDGE_RENEWALS = {
    "version": _l("新しい版の公開後"),
    "yearly": _l("新しい版の公開後と、前回の同意から1年後"),
}
# The fields of a checklist file, as the comparison of two versions names them.
CHECKLIST_FIELDS = {
    "number": _l("番号"),
    "category": _l("分類"),
    "text": _l("項目"),
    "text_en": _l("項目（英語）"),
    "help": _l("説明"),
    "scale": _l("回答の選択肢（尺度）"),
    "condition": _l("回答する条件"),
    "comment": _l("コメント"),
    "evidence": _l("証跡ファイル"),
    "title": _l("名称"),
    "title_en": _l("名称（英語）"),
    "target": _l("点検対象"),
    "description": _l("説明文"),
    "description_en": _l("説明文（英語）"),
    "description_contractor": _l("委託先向けの説明文"),
    "description_contractor_en": _l("委託先向けの説明文（英語）"),
    "heading": _l("小見出し"),
    "heading_en": _l("小見出し（英語）"),
    "text_contractor": _l("委託先向けの項目"),
    "text_contractor_en": _l("委託先向けの項目（英語）"),
    "help_en": _l("説明（英語）"),
    "help_contractor": _l("委託先向けの説明"),
    "help_contractor_en": _l("委託先向けの説明（英語）"),
    "examples": _l("確認方法の例"),
    "examples_en": _l("確認方法の例（英語）"),
    "importance": _l("重要度"),
}


def label(table: dict, code: str) -> str:
    return str(table.get(code, code))
