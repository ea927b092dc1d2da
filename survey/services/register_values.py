"""The values of register cells: each parser turns what a user typed in Excel into the stored
value or raises Bad with a Japanese message; each formatter writes the stored value back so that
it parses to the same value (export → import changes nothing)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date

from flask_babel import gettext as _

from reports.dates import ERAS
from survey.services.register_files import Cell


class Bad(ValueError):
    """A cell's value is not acceptable; the message is for the user."""


def _text(cell: Cell) -> str:
    return cell.isoformat() if isinstance(cell, date) else cell.strip()


def _normal(cell: Cell) -> str:
    # Full-width digits and letters (Ｄ０１) as typed with a Japanese IME count as their ASCII.
    return unicodedata.normalize("NFKC", _text(cell)).strip()


def _check_chars(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise Bad(_("改行や制御文字は使えません。"))
    return value


def text(max_length: int) -> Callable[[Cell], str]:
    def parse(cell: Cell) -> str:
        value = _check_chars(_text(cell))
        if len(value) > max_length:
            raise Bad(_("%(max)d 文字以内で入力してください。", max=max_length))
        return value

    return parse


CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")


def code(max_length: int = 32) -> Callable[[Cell], str]:
    def parse(cell: Cell) -> str:
        value = _normal(cell)
        if len(value) > max_length:
            raise Bad(_("%(max)d 文字以内で入力してください。", max=max_length))
        if not CODE_RE.match(value):
            raise Bad(
                _(
                    "コード「%(value)s」には英数字とハイフン・ピリオド・下線だけが使えます。",
                    value=_check_chars(value)[:40],
                )
            )
        return value

    return parse


def email(cell: Cell) -> str | None:
    value = _normal(cell)
    if not value:
        return None
    if len(value) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise Bad(_("メールアドレスの形式ではありません。"))
    return value


# --- lists in one cell: a company's contact addresses and mail domains ------------------------

LIST_SEPARATORS = re.compile(r"[,;、\s]+")  # after NFKC: full-width ，；and spaces are these
LIST_JOIN = ", "
# Shared by every company of its kind: registering one would let any address in Japan through.
SHARED_DOMAINS = {f"{label}.jp" for label in ("ac", "ad", "co", "ed", "go", "gr", "lg", "ne", "or")}
DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _entries(cell: Cell) -> list[str]:
    return [e for e in LIST_SEPARATORS.split(_normal(cell)) if e]


def mail_domain(value: str) -> str:
    """The domain lowercased (mail servers ignore its case), or Bad."""
    domain = value.removeprefix("@").lower()
    labels = domain.split(".")
    if (
        len(domain) > 253
        or len(labels) < 2
        or not all(DOMAIN_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise Bad(
            _(
                "「%(value)s」はドメイン名の形式ではありません（例: example.co.jp）。",
                value=_check_chars(value)[:60],
            )
        )
    if domain in SHARED_DOMAINS:
        raise Bad(
            _(
                "「%(value)s」は多くの会社が共有するドメインのため登録できません。"
                "会社のドメイン（例: example.co.jp）を入力してください。",
                value=domain,
            )
        )
    return domain


def _not_an_address(value: str) -> Bad:
    return Bad(
        _(
            "「%(value)s」はメールアドレスの形式ではありません（例: tanaka@example.co.jp）。",
            value=_check_chars(value)[:60],
        )
    )


def contact_address(value: str) -> str:
    """The address with its domain lowercased; the part before @ is kept as typed."""
    local, at, domain = value.rpartition("@")
    if not at or not local or len(value) > 254 or "@" in local:
        raise _not_an_address(value)
    try:
        domain = mail_domain(domain)
    except Bad:
        raise _not_an_address(value) from None
    return f"{local}@{domain}"


def listed(parse_one: Callable[[str], str]) -> Callable[[Cell], str | None]:
    """A parser for several values in one cell, separated by commas, 、, semicolons or spaces;
    the stored value has one a line."""

    def parse(cell: Cell) -> str | None:
        # A repeated entry counts once, in its first place.
        return "\n".join(dict.fromkeys(parse_one(entry) for entry in _entries(cell))) or None

    return parse


def show_list(value: str | None) -> str:
    return LIST_JOIN.join((value or "").split())


def integer(minimum: int, maximum: int) -> Callable[[Cell], int | None]:
    def parse(cell: Cell) -> int | None:
        value = _normal(cell).replace(",", "")
        if not value:
            return None
        if not re.fullmatch(r"-?\d+", value) or not minimum <= int(value) <= maximum:
            raise Bad(
                _("%(min)d 以上 %(max)d 以下の整数で入力してください。", min=minimum, max=maximum)
            )
        return int(value)

    return parse


TRUE_WORDS = {"あり", "有", "はい", "1", "true", "yes", "○", "〇"}
FALSE_WORDS = {"なし", "無", "いいえ", "0", "false", "no", "×", "-"}


def boolean(cell: Cell) -> bool | None:
    value = _normal(cell).lower()
    if not value:
        return None
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise Bad(_("「あり」か「なし」（または はい/いいえ、1/0）で入力してください。"))


def show_boolean(value: bool | None) -> str:
    return "" if value is None else "あり" if value else "なし"


def choice(labels: dict[str, str], aliases: dict[str, str] | None = None):
    """A parser for stored codes written as their Japanese label (the stored code, in any case,
    is accepted too); `labels` maps code -> the label written on export."""
    accepted = {label: code for code, label in labels.items()}
    accepted.update(aliases or {})
    accepted.update({code: code for code in labels})

    def parse(cell: Cell) -> str | None:
        value = _normal(cell)
        if not value:
            return None
        found = accepted.get(value) or accepted.get(value.lower())
        if found is None:
            raise Bad(
                _(
                    "「%(value)s」は使えません。%(choices)s のいずれかを入力してください。",
                    value=_check_chars(value)[:40],
                    choices="、".join(labels.values()),
                )
            )
        return found

    return parse


# --- dates ------------------------------------------------------------------------------------

ERA_LETTERS = {"R": "令和", "H": "平成", "S": "昭和"}
ERA_START = {name: start for start, name in ERAS}
WESTERN = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
JAPANESE = re.compile(
    r"^(令和|平成|昭和|[RHS])\.?\s*(元|\d{1,2})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"
)


def day(cell: Cell) -> date | None:
    """2026-04-01, 2026/4/1, 2026年4月1日, R8.4.1, 令和8年4月1日 (令和元年 too), an Excel date."""
    if isinstance(cell, date):
        return cell
    value = _normal(cell).replace(" ", "")
    if not value:
        return None
    bad = Bad(
        _(
            "日付として読めません（「%(value)s」）。2026-04-01、2026/4/1、R8.4.1、"
            "令和8年4月1日 のように入力してください。",
            value=_check_chars(value)[:40],
        )
    )
    western, japanese = WESTERN.match(value), JAPANESE.match(value.upper())
    if western:
        year, month, dd = (int(g) for g in western.groups())
        era_start = None
    elif japanese:
        era = ERA_LETTERS.get(japanese.group(1), japanese.group(1))
        era_start = ERA_START[era]
        era_year = 1 if japanese.group(2) == "元" else int(japanese.group(2))
        year = era_start.year + era_year - 1
        month, dd = int(japanese.group(3)), int(japanese.group(4))
    else:
        raise bad
    try:
        result = date(year, month, dd)
    except ValueError:
        raise bad from None
    if era_start is not None and result < era_start:
        raise bad
    return result


def show_date(value: date | None) -> str:
    return "" if value is None else value.isoformat()
