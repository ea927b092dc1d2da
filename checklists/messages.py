"""Every message a user can get about a checklist file, in Japanese and English.

Problems carry a message id and parameters rather than text, so the command line and the web
pages can show them in the reader's language. Each message says what is wrong and what to do.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # A location mentioned inside a message (parameter `at`): a YAML line, or an Excel cell as is.
    "line": {"ja": "{line} 行目", "en": "line {line}"},
    # --- the file as a whole
    "file_not_found": {
        "ja": "ファイルが見つかりません。ファイル名と保存場所を確認してください。",
        "en": "The file does not exist. Check the file name and folder.",
    },
    "file_unreadable": {
        "ja": "ファイルを読み込めません（{reason}）。ファイルのアクセス権を確認してください。",
        "en": "The file cannot be read ({reason}). Check the file's permissions.",
    },
    "file_too_large": {
        "ja": "ファイルが大きすぎます（{size_kb} KB。上限は {max_kb} KB です）。"
        "チェックリスト以外の内容が含まれていないか確認し、必要ならチェックリストを分けてください。"
        "",
        "en": "The file is too large ({size_kb} KB; the limit is {max_kb} KB). Check that it holds "
        "nothing but the checklist, and split the checklist if needed.",
    },
    "file_empty": {
        "ja": "ファイルに内容がありません（空か、コメントだけです）。"
        "チェックリストの内容を記入してください。",
        "en": "The file has no content (it is empty or holds only comments). "
        "Fill in the checklist.",
    },
    "unsupported_file_type": {
        "ja": "この種類のファイルは読み込めません。チェックリストは YAML（.yaml または .yml）か "
        "Excel ブック（.xlsx）で保存してください。",
        "en": "This type of file cannot be read. Save the checklist as YAML (.yaml or .yml) "
        "or as an Excel workbook (.xlsx).",
    },
    # --- YAML
    "not_utf8": {
        "ja": "文字コードが UTF-8 ではありません（Shift_JIS で保存されている可能性があります）。"
        "エディタで文字コードに UTF-8 を選んで保存し直してください。",
        "en": "The file is not encoded in UTF-8 (it may have been saved as Shift_JIS). "
        "Save it again choosing the UTF-8 encoding in your editor.",
    },
    "yaml_syntax": {
        "ja": "YAML の書き方に誤りがあります（{detail}）。この行とその前の行の字下げ"
        "（半角スペースで揃え、タブは使わない）、「:」の後の空白、引用符の対応を確認してください。",
        "en": "The YAML is malformed ({detail}). Check the indentation of this line and the lines "
        "before it (spaces, not tabs), the space after ':', and that quotes are closed.",
    },
    "yaml_too_deep": {
        "ja": "括弧や字下げの入れ子が深すぎて読み込めません。"
        "チェックリストの形式どおりに書き直してください。",
        "en": "Brackets or indentation are nested too deeply to read. "
        "Rewrite the file in the checklist format.",
    },
    "top_not_mapping": {
        "ja": "ファイルの内容が「キー: 値」の形になっていません。"
        "1 行目から「code: …」「version: …」のように書いてください。",
        "en": "The file is not made of 'key: value' lines. "
        "Start it with lines such as 'code: …' and 'version: …'.",
    },
    "unknown_key": {
        "ja": "「{key}」は使えないキーです。綴りを確認してください（使えるキー: {allowed}）。",
        "en": "'{key}' is not a known key. Check the spelling (known keys: {allowed}).",
    },
    "duplicate_key": {
        "ja": "「{key}」が 2 回指定されています（{at}にもあります）。1 つにまとめてください。",
        "en": "'{key}' is given twice (also at {at}). Keep only one.",
    },
    "missing_key": {
        "ja": "必須のキー「{key}」がありません。追加してください。",
        "en": "The required key '{key}' is missing. Add it.",
    },
    "missing_value": {
        "ja": "「{key}」が空です。内容を記入してください。",
        "en": "'{key}' is empty. Fill it in.",
    },
    "not_text": {
        "ja": "「{key}」には文字列を指定してください（{value} は文字列として読み込まれませんでした"
        "）。"
        '文字列として書くには "{value}" のように引用符で囲んでください。',
        "en": "'{key}' must be text ({value} was not read as text). "
        'To write it as text, put it in quotes: "{value}".',
    },
    "not_integer": {
        "ja": "「{key}」には整数を指定してください（{value} と書かれています）。",
        "en": "'{key}' must be a whole number ({value} was given).",
    },
    "decimal_number": {
        "ja": "「{key}」が小数 {value} として読み込まれました。整数で指定してください"
        "（1.10 のような枝番は小数の 1.1 と同じになるため使えません。通し番号にしてください）。",
        "en": "'{key}' was read as the decimal number {value}. Use a whole number (a sub-number "
        "such as 1.10 reads as the decimal 1.1, so number the items consecutively instead).",
    },
    "not_positive": {
        "ja": "「{key}」には 1 以上の整数を指定してください（{value} が指定されています）。",
        "en": "'{key}' must be a whole number of 1 or more ({value} was given).",
    },
    "not_list": {
        "ja": "「{key}」には一覧を指定してください（要素ごとに「- 」で始まる行を書きます）。",
        "en": "'{key}' must be a list (one entry per line, each starting with '- ').",
    },
    "not_mapping": {
        "ja": "「{key}」の内容を「キー: 値」の形で書いてください。",
        "en": "Write the content of '{key}' as 'key: value' lines.",
    },
    # --- Excel
    "not_a_workbook": {
        "ja": "Excel ブックとして読み込めません。ファイルが壊れているか、"
        "別の形式のファイルの名前を .xlsx に変えただけの可能性があります。"
        "Excel で開き、「Excel ブック (*.xlsx)」形式で保存し直してください。",
        "en": "The file cannot be read as an Excel workbook: it may be damaged, or another kind of "
        "file renamed to .xlsx. Open it in Excel and save it as 'Excel Workbook (*.xlsx)'.",
    },
    # --- any uploaded workbook, checked before it is read (checklists.workbook_limits)
    "workbook_parts": {
        "ja": "ブックを構成するファイルが多すぎます（上限 {limit} 個）。Excel で開き、"
        "不要なシートや図を削除して保存し直してください。",
        "en": "The workbook is made of too many parts (the limit is {limit}). Open it in Excel, "
        "delete the sheets and pictures that are not needed, and save it again.",
    },
    "workbook_unpacked": {
        "ja": "ブックの内容が大きすぎます（展開後の上限は {limit} です）。"
        "不要なシート・行・書式を削除して保存し直してください。",
        "en": "The workbook's content is too large (the limit is {limit} unpacked). Delete the "
        "sheets, rows and formatting that are not needed, and save it again.",
    },
    "workbook_ratio": {
        "ja": "ブックの圧縮率が Excel のファイルとしては極端に高いため、読み込みません"
        "（上限 {limit} 倍）。Excel で開き、保存し直してください。",
        "en": "The workbook is compressed far more than an Excel file ever is (more than {limit} "
        "times), so it is not read. Open it in Excel and save it again.",
    },
    "workbook_cells": {
        "ja": "セルが多すぎます（上限 {limit} 個）。入力した範囲の外に、値や書式の入ったセルが"
        "大量にないか確認し、不要な行・列を削除して保存し直してください。",
        "en": "The workbook has too many cells (the limit is {limit}). Look for large ranges of "
        "filled or formatted cells outside what you entered, delete the rows and columns that "
        "are not needed, and save it again.",
    },
    "workbook_rows": {
        "ja": "行が多すぎます（上限 {limit} 行）。不要な行を削除して保存し直してください。",
        "en": "The workbook has too many rows (the limit is {limit}). Delete the rows that are not "
        "needed and save it again.",
    },
    "sheet_missing": {
        "ja": "シート「{sheet}」がありません。シート名を「{sheet}」（または「{sheet_en}」）"
        "にしてください。",
        "en": "The sheet '{sheet_en}' is missing. Name the sheet '{sheet_en}' (or '{sheet}').",
    },
    "header_missing": {
        "ja": "1 行目に見出しがありません。1 行目に見出し（{required} など）を入れてください。",
        "en": "Row 1 has no column headings. Put the headings ({required} and others) in row 1.",
    },
    "header_required": {
        "ja": "見出し「{name}」の列がありません。1 行目に追加してください。",
        "en": "There is no column headed '{name}'. Add it to row 1.",
    },
    "header_unknown": {
        "ja": "見出し「{name}」は使えません。綴りを確認してください（使える見出し: {allowed}）。",
        "en": "The heading '{name}' is not known. Check the spelling (known headings: {allowed}).",
    },
    "header_duplicate": {
        "ja": "見出し「{name}」が 2 回あります（{at}にもあります）。"
        "どちらかの列を削除してください。",
        "en": "The heading '{name}' appears twice (also at {at}). Delete one of the columns.",
    },
    "formula_cell": {
        "ja": "セルに数式（{value}）が入っています。数式は読み込まないため、"
        "値を直接入力してください"
        "（コピーして「値の貼り付け」をすると置き換えられます）。",
        "en": "The cell holds a formula ({value}). Formulas are not read: enter the value itself "
        "(copy the cell and use Paste Values).",
    },
    "cell_not_text": {
        "ja": "「{key}」には文字列を入力してください（{value} は文字列として読み込まれませんでした"
        "）。"
        "セルの書式を「文字列」にして入力し直してください。",
        "en": "'{key}' must be text ({value} was not read as text). "
        "Set the cell format to Text and enter it again.",
    },
    # --- rules on the whole checklist
    "bad_code": {
        "ja": "「{value}」はコードとして使えません。半角英数字と「-」「_」だけを使い、"
        "英数字で始めてください。",
        "en": "'{value}' cannot be used as a code. Use only letters, digits, '-' and '_', "
        "starting with a letter or digit.",
    },
    "bad_target": {
        "ja": "対象「{value}」は使えません。{allowed} のいずれかを指定してください。",
        "en": "The target '{value}' is not known. Use one of {allowed}.",
    },
    # --- comprehension tests (target person)
    "pass_mark_not_test": {
        "ja": "pass_mark（合格点）は理解度テスト（target: person）にだけ指定できます"
        "（このチェックリストの対象は {target} です）。テストなら target を person にし、"
        "そうでなければ pass_mark を削除してください。",
        "en": "pass_mark is for comprehension tests (target: person) only (this checklist's "
        "target is {target}). Set target to person for a test, or remove pass_mark.",
    },
    "pass_mark_range": {
        "ja": "合格点 {value} は 1 から 100 まで（正答率の %）で指定してください。",
        "en": "The pass mark {value} must be from 1 to 100 (the percentage of correct answers).",
    },
    "test_without_pass_mark": {
        "ja": "理解度テスト（target: person）には pass_mark（合格点：正答率の %、例 80）が"
        "必要です。追加してください。",
        "en": "A comprehension test (target: person) needs pass_mark (the percentage of correct "
        "answers to pass, e.g. 80). Add it.",
    },
    "correct_missing": {
        "ja": "項目 {item} に正解（correct）がありません。理解度テストでは各項目に正解の"
        "選択肢コードを指定してください。",
        "en": "Item {item} has no correct answer. In a comprehension test give each item the code "
        "of its correct option (correct).",
    },
    "correct_unknown": {
        "ja": "項目 {item} の正解「{value}」はこの項目の尺度の選択肢にありません"
        "（使える選択肢: {allowed}）。",
        "en": "Item {item}'s correct answer '{value}' is not an option of its scale "
        "(options: {allowed}).",
    },
    "correct_not_test": {
        "ja": "項目 {item} の正解（correct）は理解度テスト（target: person）にだけ指定できます。"
        "削除するか、target を person にしてください。",
        "en": "Item {item}'s correct answer is for comprehension tests (target: person) only. "
        "Remove it, or set target to person.",
    },
    "test_condition": {
        "ja": "項目 {item} に条件があります。理解度テストでは全員が同じ問題に答えるため、"
        "条件（condition）は使えません。",
        "en": "Item {item} has a condition. In a comprehension test everyone answers the same "
        "questions, so conditions cannot be used.",
    },
    "bad_option_class": {
        "ja": "区分「{value}」は使えません。{allowed} のいずれかを指定してください。",
        "en": "The class '{value}' is not known. Use one of {allowed}.",
    },
    "score_on_unscored_option": {
        "ja": "尺度「{scale}」の選択肢「{option}」は区分が {klass} なので点数を付けられません"
        "（{score} と書かれています）。対象外と参考の回答は得点にも満点にも数えません。"
        "点数を消すか、区分を変えてください。",
        "en": "The option '{option}' of the scale '{scale}' is of class {klass} and cannot "
        "have a score ({score} was given): excluded and informational answers count neither "
        "in the score nor in the best possible. Remove the score or change the class.",
    },
    "bad_comment_rule": {
        "ja": "コメントの指定「{value}」は使えません。{allowed} のいずれかを指定してください。",
        "en": "The comment setting '{value}' is not known. Use one of {allowed}.",
    },
    "bad_evidence_rule": {
        "ja": "証跡の指定「{value}」は使えません。{allowed} のいずれかを指定してください。",
        "en": "The evidence setting '{value}' is not known. Use one of {allowed}.",
    },
    "duplicate_number": {
        "ja": "項目番号 {value} が重複しています（{at}にもあります）。番号を振り直してください。",
        "en": "Item number {value} is used twice (also at {at}). Renumber the items.",
    },
    "number_not_increasing": {
        "ja": "項目番号 {value} が前の項目の番号 {previous} より小さくなっています。"
        "項目は上から番号の小さい順に並べてください。",
        "en": "Item number {value} is smaller than the number {previous} of the item before it. "
        "List the items in increasing order of number.",
    },
    "duplicate_item_key": {
        "ja": "キー「{value}」が重複しています（{at}にもあります）。"
        "項目ごとに別のキーにしてください。",
        "en": "The key '{value}' is used twice (also at {at}). Give each item its own key.",
    },
    "duplicate_category_code": {
        "ja": "分類コード「{value}」が重複しています（{at}にもあります）。"
        "同じ分類の項目は続けて並べ、分類ごとに別のコードにしてください。",
        "en": "The category code '{value}' is used twice (also at {at}). Keep the items of a "
        "category together and give each category its own code.",
    },
    "empty_category": {
        "ja": "分類「{value}」に項目がありません。項目を追加するか、分類を削除してください。",
        "en": "The category '{value}' has no items. Add items or delete the category.",
    },
    "no_items": {
        "ja": "項目が 1 つもありません。分類と項目を追加してください。",
        "en": "The checklist has no items. Add a category with items.",
    },
    "bad_grade_basis": {
        "ja": "評価の基準「{value}」は使えません。{allowed} のいずれかを指定してください。",
        "en": "The grade basis '{value}' is not known. Use one of {allowed}.",
    },
    "grade_bands_order": {
        "ja": "評価段階の下限 {value} が前の段階（{at}）の下限 {previous} 以上です。"
        "評価段階は下限の高い順に、同じ下限を繰り返さずに並べてください。",
        "en": "The grade's minimum {value} is not below the previous grade's ({previous}, {at}). "
        "List the grades from the highest minimum down, each minimum once.",
    },
    "not_yes_no": {
        "ja": "「{key}」の値「{value}」は使えません。"
        "true か false（はい・いいえ）を指定してください。",
        "en": "'{key}' cannot be '{value}'. Use true or false.",
    },
    "unknown_scale": {
        "ja": "尺度「{value}」はありません。組み込みの尺度か、"
        "このファイルで定義した尺度を指定してください"
        "（使える尺度: {allowed}）。",
        "en": "There is no scale '{value}'. Use a built-in scale or one defined in this file "
        "(available: {allowed}).",
    },
    "duplicate_scale_code": {
        "ja": "尺度コード「{value}」が重複しています（{at}にもあります）。"
        "尺度ごとに別のコードにしてください。",
        "en": "The scale code '{value}' is used twice (also at {at}). "
        "Give each scale its own code.",
    },
    "builtin_scale_changed": {
        "ja": "尺度コード「{value}」は組み込みの尺度と同じですが、選択肢が異なります。"
        "別の尺度コードにしてください。",
        "en": "The scale code '{value}' is that of a built-in scale, but its options differ. "
        "Use another scale code.",
    },
    "duplicate_option_code": {
        "ja": "尺度「{scale}」の選択肢コード「{value}」が重複しています（{at}にもあります）。"
        "選択肢ごとに別のコードにしてください。",
        "en": "The option code '{value}' is used twice in the scale '{scale}' (also at {at}). "
        "Give each option its own code.",
    },
    "condition_missing_item": {
        "ja": "条件に指定された項目 {value} がありません。"
        "この項目より前にある項目の番号を指定してください。",
        "en": "The condition refers to item {value}, which does not exist. "
        "Use the number of an item before this one.",
    },
    "condition_self": {
        "ja": "条件にこの項目自身（{value}）が指定されています。"
        "この項目より前にある項目の番号を指定してください。",
        "en": "The condition refers to this item itself ({value}). "
        "Use the number of an item before this one.",
    },
    "condition_later_item": {
        "ja": "条件に指定された項目 {value} はこの項目より後にあります。"
        "条件には、この項目より前にある項目だけを指定できます。",
        "en": "The condition refers to item {value}, which comes after this one. "
        "A condition can only refer to an earlier item.",
    },
    "condition_unknown_answer": {
        "ja": "条件の回答「{value}」は項目 {item} の選択肢にありません（使える回答: {allowed}）。",
        "en": "The answer '{value}' in the condition is not an option of item {item} "
        "(options: {allowed}).",
    },
    # --- headings, wordings and marks added to the format later
    "bad_importance": {
        "ja": "重要度「{value}」は使えません。{allowed} のいずれかを指定するか、"
        "何も書かないでください（何も書かなければ印を付けません）。",
        "en": "The importance '{value}' is not known. Use one of {allowed}, or leave it out "
        "(then the item is not marked).",
    },
    "bad_audience": {
        "ja": "回答者「{value}」は使えません。{allowed} のいずれかを指定するか、"
        "何も書かないでください（何も書かなければ誰でも選べます）。",
        "en": "The audience '{value}' is not known. Use one of {allowed}, or leave it out "
        "(then everyone may choose the option).",
    },
    "scale_without_option_for": {
        "ja": "尺度「{scale}」には、回答者 {audience} が選べる選択肢がありません。"
        "回答者を指定しない選択肢か、{audience} 向けの選択肢を追加してください。",
        "en": "The scale '{scale}' has no option the audience {audience} may choose. Add an "
        "option for everyone or one for {audience}.",
    },
    "contractor_text_unused": {
        "ja": "「{key}」は委託先のアカウントが読む文言ですが、点検対象が {target} の"
        "チェックリストには委託先は回答しません。削除するか、点検対象を contract または "
        "contractor にしてください。",
        "en": "'{key}' is the wording a contractor's account reads, but contractors do not answer "
        "a checklist whose target is {target}. Delete it, or make the target contract or "
        "contractor.",
    },
    "category_condition_not_before": {
        "ja": "分類の条件に指定された項目 {value} は、この分類の中か後にあります。"
        "分類の条件には、この分類より前にある項目だけを指定できます。",
        "en": "The category's condition refers to item {value}, which is in this category or "
        "after it. A category's condition can only refer to an item before the category.",
    },
    "category_item_condition_outside": {
        "ja": "この項目の条件は分類「{category}」の外の項目 {value} を指していますが、"
        "分類「{category}」には分類の条件があります。分類の条件と項目の条件を組み合わせる"
        "ことはできないため、条件付きの分類の項目には、同じ分類の項目だけを条件に指定して"
        "ください。",
        "en": "This item's condition refers to item {value}, outside the category '{category}', "
        "which has a condition of its own. The two cannot be combined: in a category with a "
        "condition, an item's condition can only refer to an item of the same category.",
    },
    "category_cell_differs": {
        "ja": "分類「{category}」の「{key}」が、分類の最初の行（{at}）と違います。"
        "分類の設定は最初の行にだけ書き、ほかの行は空欄にしてください。",
        "en": "'{key}' of the category '{category}' differs from the category's first row "
        "({at}). Write the category's settings in its first row only and leave the other rows "
        "blank.",
    },
    # --- rules that need the database (survey.services.checklists)
    "duplicate_version_in_batch": {
        "ja": "チェックリスト {code} の版 {version} が、同時に取り込む {other} にもあります。"
        "どちらか一方だけを取り込むか、版の番号を変えてください。",
        "en": "Checklist {code} version {version} is also in {other}, imported at the same time. "
        "Import only one of them, or change the version number.",
    },
    "published_version_changed": {
        "ja": "チェックリスト {code} の版 {version} は公開済みで、内容を変えることはできません。"
        "version を新しい番号にして取り込んでください。",
        "en": "Checklist {code} version {version} is published and cannot change. "
        "Give the file a new version number and import it again.",
    },
    "version_not_newer": {
        "ja": "チェックリスト {code} は版 {newest} まで登録されています。"
        "新しい版には {newest} より大きい番号を付けてください（次は版 {next}）。",
        "en": "Checklist {code} already has versions up to {newest}. "
        "A new version needs a higher number (the next is {next}).",
    },
    "draft_exists": {
        "ja": "チェックリスト {code} には下書きの版 {draft} があり、下書きは一つまでです。"
        "版 {draft} としてアップロードしてその下書きを置き換えるか、"
        "その下書きを公開または削除してから版 {version} を取り込んでください。",
        "en": "Checklist {code} already has a draft, version {draft}, and a checklist has one "
        "draft at a time. Upload the file as version {draft} to replace that draft, or publish "
        "or delete the draft before importing version {version}.",
    },
}


def text(message_id: str, lang: str = "ja", **params: object) -> str:
    """The message in `lang` ("ja" or "en"; anything else falls back to Japanese)."""
    texts = MESSAGES[message_id]
    return texts.get(lang[:2], texts["ja"]).format(**params)
