"""Every problem a log file, a column mapping or a rule file can have, in Japanese and English.

Problems carry a message id and parameters rather than text, so the command line and the pages
show them in the reader's language. Each message says what is wrong and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The fields of a log entry, as the mapping and the problems name them.
FIELD_LABELS = {
    "time": {"ja": "日時", "en": "time"},
    "date": {"ja": "日付（時刻と別の列のとき）", "en": "date (when apart from the time)"},
    "user": {"ja": "利用者ID", "en": "user id"},
    "terminal": {"ja": "端末", "en": "terminal"},
    "operation": {"ja": "操作", "en": "operation"},
    "record": {"ja": "照会した記録（宛名番号など）", "en": "record looked up"},
    "district": {"ja": "地区", "en": "district"},
    "reason": {"ja": "事由コード", "en": "reason code"},
    "request": {"ja": "申請書番号", "en": "request number"},
    "encoding": {"ja": "文字コード", "en": "encoding"},
    "delimiter": {"ja": "区切り文字", "en": "delimiter"},
    "time_format": {"ja": "日時の書式", "en": "time format"},
    "user_pattern": {"ja": "利用者IDの読み方", "en": "user id pattern"},
}

MESSAGES: dict[str, dict[str, str]] = {
    # --- the column mapping of a log source
    "mapping_required": {
        "ja": "この列の見出しを指定してください（必須です）。",
        "en": "Give this column's heading (it is required).",
    },
    "mapping_same_heading": {
        "ja": "見出し「{heading}」は「{other}」にも指定されています。"
        "列ごとに別の見出しを指定してください。",
        "en": "The heading '{heading}' is also given for '{other}'. "
        "Give each field its own column.",
    },
    "mapping_encoding": {
        "ja": "文字コードは {allowed} のいずれかを指定してください。",
        "en": "The encoding must be one of {allowed}.",
    },
    "mapping_delimiter": {
        "ja": "区切り文字はコンマかタブを指定してください。",
        "en": "The delimiter must be a comma or a tab.",
    },
    "mapping_time_format": {
        "ja": "日時の書式は %Y/%m/%d %H:%M:%S のように % を使って書いてください"
        "（空欄なら一般的な書き方を読み取ります）。",
        "en": "Write the time format with % codes, such as %Y/%m/%d %H:%M:%S (left empty, the "
        "usual forms are recognised).",
    },
    "pattern_too_long": {
        "ja": "利用者IDの読み方（正規表現）が長すぎます（{max} 文字まで）。",
        "en": "The user id pattern is too long (at most {max} characters).",
    },
    "pattern_invalid": {
        "ja": "利用者IDの読み方が正規表現として正しくありません（{detail}）。",
        "en": "The user id pattern is not a valid regular expression ({detail}).",
    },
    "pattern_no_group": {
        "ja": "利用者IDの読み方には (?P<user>…)、(?P<unit>…)、(?P<contractor>…) の"
        "いずれかを含めてください（ユーザー名・組織コード・事業者コードとして台帳と照合します）。",
        "en": "The user id pattern needs (?P<user>…), (?P<unit>…) or (?P<contractor>…): the part "
        "matched is looked up in the registers as a username, unit code or company code.",
    },
    "pattern_unknown_group": {
        "ja": "利用者IDの読み方に使えない名前付きグループがあります（{groups}）。"
        "user・unit・contractor だけが使えます。",
        "en": "The user id pattern has named groups that are not known ({groups}); only user, "
        "unit and contractor are.",
    },
    "source_code_taken": {
        "ja": "ログの種類のコード「{code}」は登録済みです。別のコードにしてください。",
        "en": "The log source code '{code}' is taken. Choose another.",
    },
    "source_inactive": {
        "ja": "ログの種類「{code}」は無効です。取り込むには、設定で有効にしてください。",
        "en": "The log source '{code}' is inactive. Make it active in its settings to import.",
    },
    # --- the lists the rules use (served districts, staff households)
    "list_unreadable": {
        "ja": "一覧のファイルを読み込めません（{detail}）",
        "en": "The list file cannot be read ({detail})",
    },
    "list_heading": {
        "ja": "1 行目に「{heading}」の列がありません。",
        "en": "Row 1 has no column headed '{heading}'.",
    },
    "list_value": {
        "ja": "値が空か長すぎます（地区は 32 文字、利用者IDと宛名番号は 64 文字まで）。",
        "en": "A value is empty or too long (a district at most 32 characters, a user id or "
        "record at most 64).",
    },
    "list_owner": {
        "ja": "「{code}」は組織の台帳にも委託事業者の台帳にもありません。",
        "en": "'{code}' is in neither the organisation nor the contractor register.",
    },
    # --- the file as a whole
    "file_empty": {
        "ja": "ファイルが空です。",
        "en": "The file is empty.",
    },
    "file_xls": {
        "ja": "古い Excel 形式（.xls）は読み込めません。.xlsx 形式か CSV で保存し直してください。",
        "en": "Old Excel files (.xls) cannot be read. Save the file as .xlsx or CSV.",
    },
    "file_damaged": {
        "ja": "ファイルが壊れているため読み込めません。Excel で開けるか確かめてください。",
        "en": "The file is damaged and cannot be read. Check that Excel opens it.",
    },
    "file_workbook": {
        "ja": "この Excel ファイルは読み込めません（{reason}）。CSV で書き出してください。",
        "en": "This workbook cannot be read ({reason}). Export the log as CSV.",
    },
    "file_binary": {
        "ja": "CSV ファイルではありません（バイナリデータが含まれています）。",
        "en": "This is not a CSV file (it holds binary data).",
    },
    "file_encoding": {
        "ja": "{row} 行目付近が {encoding} として読めません。ログの文字コードを確かめてください"
        "（UTF-8 か Shift_JIS/cp932）。",
        "en": "Around row {row} the file cannot be read as {encoding}. Check the log's encoding "
        "(UTF-8 or Shift_JIS/cp932).",
    },
    "file_csv": {
        "ja": "CSV として読み込めません（{detail}）。",
        "en": "The file cannot be read as CSV ({detail}).",
    },
    "no_header": {
        "ja": "1 行目に見出し（列名）がありません。",
        "en": "Row 1 holds no headings (column names).",
    },
    "missing_column": {
        "ja": "見出しに「{heading}」の列がありません（{field}として登録されています）。"
        "ファイルの 1 行目にある見出し: {found}",
        "en": "No column is headed '{heading}' (registered as the {field}). The headings in row "
        "1: {found}",
    },
    "no_rows": {
        "ja": "見出しの下にログの行がありません。",
        "en": "There are no log rows under the headings.",
    },
    "more_problems": {
        "ja": "ほかに {count} 件の問題があります（最初の {shown} 件を表示しています）。",
        "en": "There are {count} more problems (the first {shown} are shown).",
    },
    # --- one row
    "value_required": {
        "ja": "値が空です。",
        "en": "The value is empty.",
    },
    "value_too_long": {
        "ja": "値が長すぎます（{max} 文字まで。{length} 文字あります）。",
        "en": "The value is too long (at most {max} characters; it has {length}).",
    },
    "time_unreadable": {
        "ja": "日時「{value}」を読めません。2026/10/01 9:30:00 や 2026-10-01T09:30 の形か、"
        "登録した書式（{format}）で書いてください。",
        "en": "The time '{value}' cannot be read. Write it as 2026/10/01 9:30:00 or "
        "2026-10-01T09:30, or in the registered format ({format}).",
    },
    "time_future": {
        "ja": "日時「{value}」が未来です。列の指定かシステムの時計を確かめてください。",
        "en": "The time '{value}' is in the future. "
        "Check the column mapping or the system's clock.",
    },
    "time_too_old": {
        "ja": "日時「{value}」が {year} 年より前です。列の指定を確かめてください。",
        "en": "The time '{value}' is before {year}. Check the column mapping.",
    },
    # --- the rule file
    "rules_yaml": {
        "ja": "YAML の書き方に誤りがあります（{detail}）。"
        "字下げと「:」の後の空白を確かめてください。",
        "en": "The YAML is malformed ({detail}). Check the indentation and the space after ':'.",
    },
    "rules_not_utf8": {
        "ja": "ルールファイルは UTF-8 で保存してください。",
        "en": "Save the rule file in UTF-8.",
    },
    "rules_too_large": {
        "ja": "ルールファイルが大きすぎます（{max_kb} KB まで）。",
        "en": "The rule file is too large (at most {max_kb} KB).",
    },
    "rules_not_mapping": {
        "ja": "「キー: 値」の形で書いてください。",
        "en": "Write 'key: value' lines here.",
    },
    "rules_not_list": {
        "ja": "「- 」で始まる項目の並びで書いてください。",
        "en": "Write a list of entries, each starting with '- '.",
    },
    "rules_unknown_key": {
        "ja": "「{key}」は使えないキーです（使えるキー: {allowed}）。",
        "en": "'{key}' is not a known key (known keys: {allowed}).",
    },
    "rules_missing_key": {
        "ja": "必須のキー「{key}」がありません。",
        "en": "The required key '{key}' is missing.",
    },
    "rules_duplicate_key": {
        "ja": "「{key}」が 2 回指定されています。1 つにまとめてください。",
        "en": "'{key}' is given twice. Keep only one.",
    },
    "rules_text": {
        "ja": "文字列を書いてください（{max} 文字まで）。",
        "en": "Write a text (at most {max} characters).",
    },
    "rules_code": {
        "ja": "英小文字・数字・「-」「_」で書いてください（{max} 文字まで）。",
        "en": "Use lower-case letters, digits, '-' and '_' (at most {max} characters).",
    },
    "rules_integer": {
        "ja": "{min} 以上 {max} 以下の整数を書いてください。",
        "en": "Write a whole number from {min} to {max}.",
    },
    "rules_kind": {
        "ja": "ルールの種類「{kind}」はありません（使える種類: {allowed}）。",
        "en": "There is no rule kind '{kind}' (the kinds: {allowed}).",
    },
    "rules_same_key": {
        "ja": "ルールのキー「{key}」が 2 つあります。ルールごとに別のキーにしてください。",
        "en": "Two rules have the key '{key}'. Give each rule its own key.",
    },
    "rules_reserved_key": {
        "ja": "「{key}」は無作為抽出を表すため、ルールのキーには使えません。",
        "en": "'{key}' stands for the random sample and cannot be a rule's key.",
    },
    "rules_hours": {
        "ja": "夜間の始まり（{starts} 時）は終わり（{ends} 時）より後にしてください。",
        "en": "The night must start ({starts}:00) after it ends ({ends}:00).",
    },
    "rules_day": {
        "ja": '「{value}」は月日として読めません。"12-29" のように月-日で書いてください。',
        "en": "'{value}' is not a day of the year. Write it as month-day, such as \"12-29\".",
    },
    "rules_nothing": {
        "ja": "無作為抽出（random）もルール（rules）もありません。どちらかを書いてください。",
        "en": "There is neither a random sample (random) nor a rule (rules). Write one of them.",
    },
    "rules_version_exists": {
        "ja": "抽出ルール {code} の版 {version} は登録済みで、内容が異なります。"
        "登録済みの版は変えられないため、新しい版番号（{next}）を付けてください。",
        "en": "Rule set {code} version {version} is stored with other content. A stored version "
        "never changes: give the file a new version number ({next}).",
    },
    "rules_version_not_newer": {
        "ja": "抽出ルール {code} は版 {newest} まで登録されています。"
        "版 {next} 以降を付けてください。",
        "en": "Rule set {code} has versions up to {newest}. Number the new one {next} or higher.",
    },
}


def text(message_id: str, lang: str = "ja", **params: object) -> str:
    """The message in `lang` ("ja" or "en"; anything else falls back to Japanese)."""
    texts = MESSAGES[message_id]
    return texts.get(lang[:2], texts["ja"]).format(**params)


def field_label(name: str, lang: str = "ja") -> str:
    labels = FIELD_LABELS.get(name)
    return labels.get(lang[:2], labels["ja"]) if labels else name


@dataclass(frozen=True)
class Problem:
    """One thing wrong: where (a column's heading, a mapping's field or a rule file's key), the
    row of the file (as Excel numbers it: the headings are row 1) or the line of a rule file,
    and which message explains it."""

    where: str
    message_id: str
    params: dict = field(default_factory=dict)
    row: int | None = None
    line: int | None = None

    def place(self, lang: str = "ja") -> str:
        where = field_label(self.where, lang) if self.where in FIELD_LABELS else self.where
        parts = []
        if self.row is not None:
            parts.append(f"{self.row} 行目" if lang[:2] != "en" else f"row {self.row}")
        if self.line is not None:
            parts.append(f"{self.line} 行目" if lang[:2] != "en" else f"line {self.line}")
        if where:
            parts.append(f"「{where}」" if lang[:2] != "en" else f"'{where}'")
        return ("" if lang[:2] != "en" else ", ").join(parts)

    def message(self, lang: str = "ja") -> str:
        return text(self.message_id, lang, **self.params)

    def render(self, lang: str = "ja") -> str:
        message = self.message(lang)
        place = self.place(lang)
        return f"{place}: {message}" if place else message


class ProblemsFound(ValueError):
    """A file, mapping or rule set that cannot be used; `problems` lists everything wrong,
    `more` how many were left off the list."""

    def __init__(self, problems: list[Problem], more: int = 0):
        self.problems = list(problems)
        self.more = more
        super().__init__("\n".join(p.render() for p in self.problems))
