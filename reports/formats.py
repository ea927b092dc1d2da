"""The per-item table as CSV, JSON or an aligned text table, with Japanese or English headers;
rounds side by side as an aligned text table."""

from __future__ import annotations

import io
import json
import unicodedata

import pandas as pd

from reports.safe import csv_text

HEADERS = {
    "ja": {
        "number": "番号",
        "key": "キー",
        "category": "分類",
        "text": "項目",
        "compliant": "該当",
        "noncompliant": "非該当",
        "applicable": "対象",
        "excluded": "対象外",
        "unanswered": "未回答",
        "ratio": "該当/対象",
        "percent": "該当率(%)",
        "change": "増減",
        "contract_code": "契約番号",
        "contract": "契約",
        "unit": "所管",
    },
    "en": {},  # the column names themselves
}


def points(change: float) -> str:
    """A change in percentage points as every table writes it: +1.6, -0.4, 0.0."""
    text = f"{change:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text


def _headed(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    return frame.rename(columns=HEADERS.get(lang, {}))


def to_csv(frame: pd.DataFrame, lang: str = "ja") -> str:
    """CSV text; whoever writes it to a file adds the BOM that Excel needs to read UTF-8."""
    buffer = io.StringIO()
    fields = frame.map(lambda value: csv_text(value) if isinstance(value, str) else value)
    _headed(fields, lang).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def to_json(frame: pd.DataFrame, meta: dict) -> str:
    """JSON keeps the English column names: it is read by programs, not people."""
    rows = json.loads(frame.to_json(orient="records", force_ascii=False))
    return json.dumps({**meta, "items": rows}, ensure_ascii=False, indent=2)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _clip(text: str, limit: int) -> str:
    if _width(text) <= limit:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > limit - 1:
            return out + "…"
        out += ch
    return out


def to_text(frame: pd.DataFrame, lang: str = "ja", text_width: int = 40, text: str = "text") -> str:
    """A terminal table aligned by display width (full-width characters take two columns);
    the `text` column is clipped to `text_width`."""
    shown = _headed(frame.drop(columns=["key", "category"], errors="ignore"), lang)
    cells = [[str(c) for c in shown.columns]] + [
        ["" if pd.isna(v) else str(v) for v in row] for row in shown.itertuples(index=False)
    ]
    text_col = list(shown.columns).index(HEADERS.get(lang, {}).get(text, text))
    for row in cells[1:]:
        row[text_col] = _clip(row[text_col], text_width)
    widths = [max(_width(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = []
    for row in cells:
        padded = []
        for i, value in enumerate(row):
            pad = " " * (widths[i] - _width(value))
            padded.append(value + pad if i == text_col else pad + value)
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines) + "\n"


def with_rounds(
    rows: pd.DataFrame, ratios: pd.DataFrame, percents: pd.DataFrame, headings: list[str]
) -> pd.DataFrame:
    """`rows` (in the order of `ratios`' index) with a column per round (`headings`, oldest
    first) reading `ratio (percent%)`: blank where the round did not ask, － where nothing
    was applicable. For to_text()."""
    frame = rows.reset_index(drop=True)
    for heading, code in zip(headings, ratios.columns, strict=True):
        frame[heading] = [
            "" if pd.isna(r) else f"{r} ({'－' if pd.isna(p) else f'{p:.1f}%'})"
            for r, p in zip(ratios[code], percents[code], strict=True)
        ]
    return frame
