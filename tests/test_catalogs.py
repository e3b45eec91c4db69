"""The message catalogs (NF-4) stay whole: every text the pages and the domain's refusals carry is in the English
catalog, translated, and the compiled .mo the app reads is the .po as it stands (`make messages`)."""

from __future__ import annotations

import io
import os
import pathlib
import re
import subprocess
import sys

from babel.messages import mofile, pofile

from chalicelib.core import i18n
from infra.babel_extract import messages

ROOT = pathlib.Path(__file__).resolve().parent.parent
PO = ROOT / "chalicelib/locale/en/LC_MESSAGES/kabinet.po"
MO = PO.with_suffix(".mo")
CYRILLIC = re.compile("[а-яёА-ЯЁ]")


def _catalog():
    with PO.open("rb") as f:
        return pofile.read_po(f)


def test_every_text_of_the_code_is_in_the_catalog(tmp_path):
    pot = tmp_path / "now.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "--no-location", "--omit-header", "-o", str(pot), "."], cwd=ROOT, check=True,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    with pot.open("rb") as f:
        wanted = {m.id for m in pofile.read_po(f) if m.id}
    have = {m.id for m in _catalog() if m.id}
    assert sorted(wanted - have) == [], "run `make messages` and translate the new entries"


def test_every_entry_is_translated_into_english():
    missing = [m.id for m in _catalog() if m.id and not m.string]
    russian = [m.id for m in _catalog() if m.id and m.string and CYRILLIC.search(str(m.string))
               and m.id != "Русский"]  # the language switcher names each language in itself
    assert missing == [] and russian == []


def test_the_compiled_catalog_is_the_po_as_it_stands():
    out = io.BytesIO()
    mofile.write_mo(out, _catalog())
    assert MO.read_bytes() == out.getvalue(), "run `make messages` (pybabel compile)"


SOURCE = '''
"""Модуль: не для перевода."""
import re
WORDS = {"и", "в", "во", "на", "по", "за", "из", "от", "до", "для"}
PATTERN = re.compile("^[а-я]+$")
HINTS = {"status": "Допустимо: черновик", "fio": "не короче 2 символов"}


def refuse(n: int, kind: str):
    """Отказ."""
    x = Field(description="Описание для OpenAPI")
    y = "ий", "абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "пароль"
    z = "запас"  # i18n: data
    return f"Не менее {n} символов", f"Тип {kind!r}: {{литерал}}", "Допустимо: {}".format(kind)
'''


def test_the_extractor_takes_sentences_and_leaves_data():
    assert sorted(m for _, m in messages(SOURCE)) == sorted([
        "Допустимо: черновик", "не короче 2 символов", "Не менее {0} символов", "Тип {0}: {{литерал}}",
        "Допустимо: {}", "пароль"])


def test_a_formatted_refusal_is_translated_by_its_template_and_its_values_too():
    assert i18n.text("en", "Не менее 12 символов") in ("At least 12 characters", "At least 12 characters long")
    moved = i18n.text("en", "Нельзя перевести заявление из статуса «Черновик» в «Одобрено»")
    assert not CYRILLIC.search(moved) and "Draft" in moved and "Approved" in moved, moved
    listed = i18n.text("en", "Приложите: Паспорт, СНИЛС")
    assert not CYRILLIC.search(listed), listed
    assert i18n.text("en", "Не менее 12 символов, а то и больше") == "Не менее 12 символов, а то и больше"
    assert i18n.text("ru", "Не менее 12 символов") == "Не менее 12 символов"


def test_every_template_in_the_catalog_matches_its_own_formatted_message():
    """A msgid with fields, formatted with plain values, comes back in English with those values."""
    for message in _catalog():
        if not message.id or "{" not in message.id or not message.string:
            continue
        fields = [f for _, f, _, _ in __import__("string").Formatter().parse(message.id) if f is not None]
        if not fields:
            continue
        values = {f: f"v{i}X" for i, f in enumerate(fields)}
        positional = [values[f] for f in fields if f == "" or f.isdigit()]
        sample = message.id.format(*positional, **{f: v for f, v in values.items() if f and not f.isdigit()})
        english = i18n.text("en", sample)
        assert not CYRILLIC.search(english), (message.id, english)
