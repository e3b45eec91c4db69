"""The message catalogs (NF-4) stay whole: every text the pages and the domain's refusals carry is in the English
catalog, translated, and the compiled .mo the app reads is the .po as it stands (`make messages`)."""

from __future__ import annotations

import io
import pathlib
import re
import subprocess
import sys

from babel.messages import mofile, pofile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PO = ROOT / "chalicelib/locale/en/LC_MESSAGES/kabinet.po"
MO = PO.with_suffix(".mo")
CYRILLIC = re.compile("[а-яёА-ЯЁ]")


def _catalog():
    with PO.open("rb") as f:
        return pofile.read_po(f)


def _keywords() -> list[str]:
    line = next(x for x in (ROOT / "Makefile").read_text().splitlines() if x.startswith("BABEL_KEYWORDS"))
    return line.split(":=", 1)[1].split()


def test_every_text_of_the_code_is_in_the_catalog(tmp_path):
    pot = tmp_path / "now.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", *_keywords(),
                    "--no-location", "--omit-header", "-o", str(pot), "."], cwd=ROOT, check=True,
                   capture_output=True)
    with pot.open("rb") as f:
        wanted = {m.id for m in pofile.read_po(f) if m.id}
    have = {m.id for m in _catalog() if m.id}
    assert sorted(wanted - have) == [], "run `make messages` and translate the new entries"


def test_every_entry_is_translated_into_english():
    missing = [m.id for m in _catalog() if m.id and not m.string]
    russian = [m.id for m in _catalog() if m.id and m.string and CYRILLIC.search(str(m.string))]
    assert missing == [] and russian == []


def test_the_compiled_catalog_is_the_po_as_it_stands():
    out = io.BytesIO()
    mofile.write_mo(out, _catalog())
    assert MO.read_bytes() == out.getvalue(), "run `make messages` (pybabel compile)"
