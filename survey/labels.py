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


def label(table: dict, code: str) -> str:
    return str(table.get(code, code))
