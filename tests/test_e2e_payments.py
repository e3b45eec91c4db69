"""Paying a fine end to end on the local cloud (`python -m infra.local`), over HTTP: debts from the ГИС ГМП
simulator, the payment confirmed with the SMS code, the acquirer simulator's own pages, its signed webhook posted
back over HTTP by the local pump, the receipt in "Мои документы"; and parallel payments of one УИН by HTTP clients.
"""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e_people import ok, post, register, shared_cloud, until
from tests.test_e2e_local import CODE, HTTP_TIMEOUT, _get, _outbox

pytestmark = pytest.mark.xdist_group("e2e_payments")  # one worker starts the module's cloud
LICENCE = "9912345678"


@pytest.fixture(scope="module")
def cloud():
    with shared_cloud() as c:
        yield c


def _pay(http, cloud, token, uins, key=None):
    return http.post(f"{cloud.base}/payments", json={"uins": uins, "method": "card"}, timeout=HTTP_TIMEOUT,
                     headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key or str(uuid.uuid4())})


def test_a_fine_paid_by_card_over_http_ends_with_a_receipt(cloud):
    http = requests.Session()
    phone = "+79165550001"
    token = register(http, cloud, phone)["access_token"]
    debts = ok(_get(http, cloud, f"/payments/debts?driving_licence={LICENCE}", token))["items"]
    debt = debts[0]
    created = _pay(http, cloud, token, [debt["uin"]])
    assert created.status_code == 201, created.text
    payment = created.json()
    sms = _outbox(http, cloud, phone, lambda ms: any("Код для оплаты" in m["text"] for m in ms))
    code = CODE.search(next(m["text"] for m in sms if "Код для оплаты" in m["text"])).group()
    started = ok(post(http, cloud, f"/payments/{payment['id']}/confirm", {"code": code}, token))
    assert started["status"] == "started" and started["redirect_url"].startswith(cloud.base), started
    ref = urlsplit(started["redirect_url"]).path.rsplit("/", 1)[-1]
    page = http.get(started["redirect_url"], timeout=HTTP_TIMEOUT)
    assert page.status_code == 200 and 'name="number"' in page.text
    expiry = (date.today() + timedelta(days=800)).strftime("%m/%y")
    card = http.post(f"{cloud.base}/dev/acquirer/pay/{ref}/card", allow_redirects=False, timeout=HTTP_TIMEOUT,
                     data={"number": "2200 0000 0000 0004", "expiry": expiry, "cvc": "123", "holder": "IVAN PETROV"})
    assert card.status_code == 303, card.text[:300]
    back = http.post(f"{cloud.base}/dev/acquirer/pay/{ref}/3ds", data={"code": "123456"}, allow_redirects=False,
                     timeout=HTTP_TIMEOUT)
    assert back.status_code == 303 and f"/pay/{payment['id']}" in back.headers["Location"], back.headers

    def receipt():
        seen = ok(_get(http, cloud, f"/payments/{payment['id']}", token))
        return seen if seen.get("receipt_document_id") else None

    done = until("the webhook and the receipt", cloud, receipt)
    assert done["status"] == "success" and done["amount"] == debt["to_pay"]
    document = ok(_get(http, cloud, f"/documents/{done['receipt_document_id']}", token))
    assert document["category"] == "receipt" and document["status"] == "available", document
    after = {d["uin"]: d for d in ok(_get(http, cloud, f"/payments/debts?driving_licence={LICENCE}", token))["items"]}
    assert after[debt["uin"]]["status"] == "closed"


def test_parallel_http_payments_of_one_uin_create_one_payment(cloud):
    http = requests.Session()
    token = register(http, cloud, "+79165550002")["access_token"]
    debt = ok(_get(http, cloud, f"/payments/debts?driving_licence={LICENCE[:-1]}9", token))["items"][0]
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        barrier.wait()
        statuses.append(_pay(requests.Session(), cloud, token, [debt["uin"]]).status_code)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 7, statuses
    history = ok(_get(http, cloud, "/payments", token))["items"]
    assert len(history) == 1
