"""Russian Post: registered letters (ID-7, the letter with a confirmation code).

A letter is rendered as an A4 PDF (the documents' PDF layer, Cyrillic fonts). In stage `local` the "post office"
is the local outbox: the PDF is kept for `GET /dev/letters` and its address printed on the console, so a person
trying the system can open the letter and read the code. No other stage has a postal contract configured, so
`available()` is false there and the letter channel is not offered (docs/confirmation.md).
"""

from __future__ import annotations

import base64
import sys

from chalicelib.core import clock
from chalicelib.core.config import settings
from chalicelib.core.ids import new_id
from chalicelib.store import keys, table

DEV_LETTER_TTL = 30 * 24 * 3600 + 24 * 3600  # as long as the code in it


def available() -> bool:
    return settings().is_local


def letter_url(letter_id: str) -> str:
    return f"{settings().public_url}/dev/letters/{letter_id}/pdf"


def send_letter(address: str, recipient: str, subject: str, text: str) -> str:
    """Post a registered letter; returns its id (the tracking number's stand-in)."""
    if not available():
        raise RuntimeError("no postal service is configured for this stage")
    from chalicelib.documents import pdf

    letter_id = new_id()
    now = clock.now()
    layout = pdf.Layout(title=subject, subtitle="Заказное письмо", sections=[
        pdf.Section(heading="Кому", rows=[("Получатель", recipient), ("Адрес", address)]),
        pdf.Section(paragraphs=[p for p in text.split("\n\n") if p.strip()]),
    ])
    data = pdf.render(layout, document_id=letter_id, verify_url=f"{settings().public_url}/me/identity",
                      issued_at=now)
    pk, sk = keys.dev_letter(letter_id)
    table.put({"pk": pk, "sk": sk, "id": letter_id, "to": address, "recipient": recipient, "subject": subject,
               "text": text, "at": clock.iso(now), "pdf": base64.b64encode(data).decode(),
               "ttl": clock.epoch() + DEV_LETTER_TTL})
    print(f"\n[POST → {address}] {subject}\n{letter_url(letter_id)}\n{text}\n", file=sys.stderr, flush=True)
    return letter_id
