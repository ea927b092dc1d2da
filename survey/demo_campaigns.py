"""Demo rows for running campaigns: a kind (種別) for every demo system, so that the filter
"all systems of a kind" has something to pick. Decided by the system's name, deterministically."""

from __future__ import annotations

from survey.demo_data import OFFICE_SYSTEM_SUFFIX

# First match wins. The usual split of a Japanese municipality's systems.
KINDS = (
    (
        "基幹系",
        (
            "住民",
            "戸籍",
            "税",
            "収納",
            "滞納",
            "国民健康保険",
            "後期高齢者",
            "国民年金",
            "介護",
            "福祉",
            "生活保護",
            "児童手当",
            "保育料",
            "選挙",
            "学齢簿",
            "就学援助",
        ),
    ),
    (
        "内部情報系",
        (
            "文書",
            "決裁",
            "人事",
            "給与",
            "庶務",
            "グループウェア",
            "財務会計",
            "予算",
            "ファイルサーバ",
            "統合認証",
            "ネットワーク",
            "操作ログ",
            "契約管理",
            "公有財産",
        ),
    ),
    (
        "インターネット系",
        ("ウェブサイト", "インターネット", "予約", "電子入札", "映像配信", "コンビニ"),
    ),
)
OTHER = "個別業務系"
TERMINALS = "事業所端末"


def kind_of(name: str) -> str:
    if name.endswith(OFFICE_SYSTEM_SUFFIX):
        return TERMINALS
    for kind, words in KINDS:
        if any(word in name for word in words):
            return kind
    return OTHER


def load(ward) -> None:
    for system in ward.systems:
        system.kind = kind_of(system.name)
