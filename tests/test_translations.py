"""Japanese is the source language; every message on screen has an English translation."""

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
