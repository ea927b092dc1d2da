"""Japanese is the source language; every message on screen has an English translation."""

import html
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def test_english_catalogue_covers_every_message_in_the_source(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            Path(sys.executable).with_name("pybabel"),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as handle:
        source_ids = {m.id for m in read_po(handle) if m.id}
    with (ROOT / "survey/translations/en/LC_MESSAGES/messages.po").open("rb") as handle:
        english = {m.id: m.string for m in read_po(handle) if m.id}
    assert source_ids - english.keys() == set(), "run `make messages` and translate"
    assert [msgid for msgid in source_ids if not english[msgid]] == []


def _visible_text(page: str) -> str:
    main = page.split("<main", 1)[-1]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


def test_values_put_side_by_side_are_punctuated_for_the_readers_language(demo_app):
    from tests.helpers import ANNUAL, login

    manager = login(demo_app, "manager")
    japanese = manager.get(f"/campaigns/{ANNUAL}/progress").get_data(as_text=True)
    assert "（所属長・区民部）" in html.unescape(re.sub(r"\s+", "", japanese))
    assert "区民部（配下の所属を含む）" in _visible_text(japanese)
    english = manager.get(f"/campaigns/{ANNUAL}/progress?lang=en").get_data(as_text=True)
    assert "(Manager · 区民部)" in html.unescape(re.sub(r"\s+", " ", english))
    assert "区民部 (including the units below it)" in _visible_text(english)
    home = _visible_text(manager.get("/?lang=en").get_data(as_text=True))
    assert "(version 1)" in home and "（version" not in home
    results = _visible_text(manager.get(f"/results/{ANNUAL}?lang=en").get_data(as_text=True))
    assert "Scope: 区民部 (including the units below it)" in results
