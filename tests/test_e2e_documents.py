"""End to end on the local cloud (`python -m infra.local`), over HTTP: "Мои документы" and signed PDFs.

A demo person signs in, uploads a PDF with the presigned POST straight to the local S3 (moto) as a browser
would, and waits while the S3 event reaches the checker through the pump; downloads it back; sees a disguised
.exe rejected with an SMS; gets a signed "Выписка из профиля"; anyone verifies it by its id and by sending the
file, and a file changed by one byte is refused. Then a clean stop.
"""

from __future__ import annotations

import io
import signal
import time
from typing import Any

import requests

from tests import files
from tests.e2e_people import quiet_hours_off
from tests.test_e2e_local import (
    HTTP_TIMEOUT,
    STOP_SECONDS,
    _Cloud,
    _get,
    _http,
    _local_cloud,
    _outbox,
    _post,
    _two_ports,
    _wait_ready,
)

DEMO_PHONE = "+79990000001"
DEMO_PASSWORD = "Zima#Leto57!"
CHECK_SECONDS = 15


def _upload(http: requests.Session, cloud: _Cloud, token: str, data: bytes, filename: str, category: str) -> str:
    start = _post(http, cloud, "/documents/uploads", {"category": category, "filename": filename,
                                                      "content_type": "application/pdf", "size": len(data)}, token)
    assert start.status_code == 201, start.text
    form = start.json()["upload"]
    assert form["url"].startswith(f"http://127.0.0.1:{cloud.moto_port}/"), form  # straight to S3, not via the API
    posted = http.post(form["url"], data=form["fields"], files={"file": (filename, data, "application/pdf")},
                       timeout=HTTP_TIMEOUT)
    assert posted.status_code in (200, 201, 204), posted.text
    return start.json()["document_id"]


def _checked(http: requests.Session, cloud: _Cloud, token: str, doc_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + CHECK_SECONDS
    while time.monotonic() < deadline:
        doc = _get(http, cloud, f"/documents/{doc_id}", token).json()
        if doc["status"] != "checking":
            return doc
        time.sleep(0.2)
    raise AssertionError(f"document {doc_id} still checking after {CHECK_SECONDS} s\n{cloud.console()}")


def _fetch(http: requests.Session, cloud: _Cloud, token: str, doc_id: str) -> bytes:
    link = _get(http, cloud, f"/documents/{doc_id}/download", token)
    assert link.status_code == 200, link.text
    got = http.get(link.json()["url"], timeout=HTTP_TIMEOUT)
    assert got.status_code == 200, got.text
    return got.content


def test_documents_and_signed_pdfs_end_to_end() -> None:
    from pypdf import PdfReader

    with _local_cloud(*_two_ports()) as cloud:
        _wait_ready(cloud)
        http = _http()
        login = _post(http, cloud, "/auth/login", {"login": DEMO_PHONE, "password": DEMO_PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        quiet_hours_off(http, cloud, token)

        # An upload goes to S3 directly; the S3 event reaches the checker; the same bytes come back.
        scan = files.pdf("Passport scan")
        doc_id = _upload(http, cloud, token, scan, "Паспорт.pdf", "passport")
        assert _checked(http, cloud, token, doc_id)["status"] == "available"
        assert _fetch(http, cloud, token, doc_id) == scan

        # A program renamed to .pdf is rejected, deleted, and its owner told by SMS.
        bad_id = _upload(http, cloud, token, files.EXE, "Справка.pdf", "other")
        bad = _checked(http, cloud, token, bad_id)
        assert bad["status"] == "rejected" and "исполняемая программа" in bad["reason"], bad
        _outbox(http, cloud, DEMO_PHONE, lambda ms: any("Справка.pdf" in m["text"] for m in ms))

        # A signed extract of the profile, in "Мои документы", with Russian text and a working signature.
        issued = _post(http, cloud, "/documents/generate/profile-extract", {}, token)
        assert issued.status_code == 201, issued.text
        extract_id = issued.json()["id"]
        assert issued.json()["category"] == "certificate" and issued.json()["status"] == "available"
        pdf = _fetch(http, cloud, token, extract_id)
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        assert "Выписка из профиля" in text and "Иванов Иван Петрович" in text and extract_id in text, text

        # Anyone can check it: by the id in its QR code, and by sending the file itself.
        public = http.get(f"{cloud.base}/verify/{extract_id}", timeout=HTTP_TIMEOUT)
        assert public.status_code == 200 and public.json()["valid"] is True, public.text
        sent = http.post(f"{cloud.base}/verify", data=pdf, headers={"Content-Type": "application/pdf"},
                         timeout=HTTP_TIMEOUT)
        assert sent.status_code == 200, sent.text
        assert sent.json()["valid"] is True and sent.json()["sha256"] == public.json()["sha256"], sent.json()
        middle = len(pdf) // 3
        forged = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1:]
        refused = http.post(f"{cloud.base}/verify", data=forged, headers={"Content-Type": "application/pdf"},
                            timeout=HTTP_TIMEOUT)
        assert refused.status_code == 200 and refused.json()["valid"] is False, refused.text

        # The access journal saw the downloads.
        actions = [e["action"] for e in _get(http, cloud, f"/documents/{doc_id}/journal", token).json()["items"]]
        assert actions[0] == "downloaded" and actions[-1] == "created", actions
        assert {"viewed", "accepted"} <= set(actions), actions

        cloud.proc.send_signal(signal.SIGINT)
        assert cloud.proc.wait(STOP_SECONDS) == 0, cloud.console()
