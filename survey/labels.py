"""Japanese (and, through the catalogue, English) names for the codes stored in the database."""

from flask_babel import lazy_gettext as _l

ROLES = {
    "admin": _l("管理者（情報政策課）"),
    "auditor": _l("監査担当"),
    "manager": _l("所属長"),
    "respondent": _l("回答者"),
    "contractor": _l("委託事業者"),
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
}

ACTION_STATUSES = {
    "open": _l("未着手"),
    "in_progress": _l("対応中"),
    "reported": _l("措置報告済"),
    "verified": _l("確認済（完了）"),
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
}

AUDIT_KINDS = {"onsite": _l("実地監査"), "document": _l("書面監査")}

FINDING_KINDS = {"opinion": _l("意見"), "proposal": _l("提案事項")}

MEASURE_RESULTS = {
    "": _l("未確認"),
    "done": _l("措置済"),
    "partly": _l("一部措置済"),
    "considering": _l("検討中"),
}


def label(table: dict, code: str) -> str:
    return str(table.get(code, code))
