"""ID-7 confirmed tier: partner bank, registered letter, МФЦ operator; isolation and exactly-once (ID-9 consents)."""

from __future__ import annotations

import re
import threading
from urllib.parse import parse_qs, urlencode, urlparse

from chalicelib.identity import letter, mfc
from chalicelib.identity.accounts import add_account
from chalicelib.store import keys, table
from chalicelib.store.table import Tx
from infra.bank_simulator import DEMO_BANK_PASSWORD
from infra.seed import add_operator
from tests.conftest import PASSWORD

SNILS, INN = "11223344595", "500100732259"
PASSPORT = {"series": "4510", "number": "123456", "issued_at": "2015-05-20", "issued_by": "ОУФМС",
            "division_code": "770-001"}


def standard(api, phone="+79163330001", snils=SNILS, inn=INN, last_name="Семёнов"):
    tx = Tx()
    user = add_account(tx, last_name=last_name, first_name="Пётр", middle_name="Ильич", password=PASSWORD,
                       tier="standard", logins={"phone": phone, "snils": snils, "inn": inn}, birth_date="1980-02-03",
                       passport=PASSPORT, address="г. Тверь, ул. Советская, д. 5, кв. 7")
    tx.commit()
    return user["user_id"], api.login(phone)["access_token"]


def operator(api):
    assert add_operator(last_name="Кузнецова", first_name="Татьяна", office="МФЦ Хамовники", phone="+79992000000",
                        password=PASSWORD)
    return api.login("+79992000000")["access_token"]


def tier(user_id):
    return table.get(keys.user(user_id))["tier"]


def bank_code(api, token, login):
    start = api.post("/me/identity/bank", {"bank": "severny"}, token=token)
    assert start.status_code == 201, start.json
    query = {k: v[0] for k, v in parse_qs(urlparse(start.json["authorize_url"]).query).items()}
    assert api.get(f"/dev/bank/severny/authorize?{urlencode(query)}").status_code == 200
    form = urlencode({**query, "login": login, "password": DEMO_BANK_PASSWORD, "action": "allow"}).encode()
    resp = api.post("/dev/bank/severny/authorize", raw=form,
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 303
    assert urlparse(resp.headers["Location"]).path == "/identity/bank/callback"  # the web client's page
    back = parse_qs(urlparse(resp.headers["Location"]).query)
    assert back["state"][0] == start.json["state"]
    return back["code"][0], back["state"][0]


def test_bank_confirms_when_the_data_match_and_records_the_consent(api):
    user_id, token = standard(api)
    channels = api.get("/me/identity/channels", token=token).json["channels"]
    video = next(c for c in channels if c["channel"] == "video")
    assert not video["available"] and "не предлагается" in video["note"]
    code, state = bank_code(api, token, SNILS + "+yo")  # capitals and ё: still the same name
    done = api.post("/me/identity/bank/finish", {"code": code, "state": state}, token=token)
    assert done.status_code == 200, done.json
    assert tier(user_id) == "confirmed" and table.get(keys.user(user_id))["tier_channel"] == "bank"
    consents = table.query(keys.user_pk(user_id), keys.CONSENT_PREFIX).items
    assert [c["recipient"] for c in consents if c["kind"] == "bank_confirmation"] == ["Банк «Северный» (демо)"]
    again = api.post("/me/identity/bank/finish", {"code": code, "state": state}, token=token)
    assert again.status_code in (404, 409)


def test_bank_reports_each_mismatching_field(api):
    user_id, token = standard(api)
    code, state = bank_code(api, token, SNILS + "+all")
    resp = api.post("/me/identity/bank/finish", {"code": code, "state": state}, token=token)
    assert resp.status_code == 422 and resp.json["error"]["code"] == "BANK_DATA_MISMATCH"
    fields = {k: v.lower() for k, v in resp.json["error"]["fields"].items()}
    assert fields["last_name"] == "фамилия не совпадает с данными банка"
    assert set(fields) == {"last_name", "first_name", "middle_name", "inn", "birth_date"}
    code, state = bank_code(api, token, SNILS + "+inn")
    resp = api.post("/me/identity/bank/finish", {"code": code, "state": state}, token=token)
    assert set(resp.json["error"]["fields"]) == {"inn"} and tier(user_id) == "standard"


def test_a_forged_signature_or_a_bank_outage_does_not_confirm(api):
    user_id, token = standard(api)
    code, state = bank_code(api, token, SNILS + "+badsig")
    resp = api.post("/me/identity/bank/finish", {"code": code, "state": state}, token=token)
    assert resp.status_code == 422 and resp.json["error"]["code"] == "BANK_ASSERTION_INVALID"
    code, state = bank_code(api, token, SNILS + "+down")
    assert api.post("/me/identity/bank/finish", {"code": code, "state": state}, token=token).status_code == 503
    assert tier(user_id) == "standard"


def test_another_citizen_cannot_finish_someone_elses_bank_flow(api):
    first, token = standard(api)
    _, other = standard(api, phone="+79163330002", snils="11223344696", inn="500100732260", last_name="Орлов")
    code, state = bank_code(api, token, SNILS)
    resp = api.post("/me/identity/bank/finish", {"code": code, "state": state}, token=other)
    assert resp.status_code == 404 and tier(first) == "standard"
    assert api.post("/me/identity/bank/finish", {"code": code, "state": state}, token=token).status_code == 200


def _letter_code(api):
    api.pump.drain()
    text = api.get("/dev/letters").json[0]["text"]
    return re.search(r"\b\d{6}\b", text).group()


def test_letter_code_confirms_and_is_limited_to_five_tries(api):
    user_id, token = standard(api)
    sent = api.post("/me/identity/letter", token=token)
    assert sent.status_code == 202 and sent.json["expires_in"] == 30 * 24 * 3600
    api.pump.drain()
    newest = api.get("/dev/letters").json[0]
    assert newest["to"] == "г. Тверь, ул. Советская, д. 5, кв. 7" and newest["recipient"] == "Семёнов Пётр Ильич"
    pdf = api.get(urlparse(newest["pdf_url"]).path, headers={"accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.body[:4] == b"%PDF"
    code = _letter_code(api)
    _, other = standard(api, phone="+79163330002", snils="11223344696", inn="500100732260", last_name="Орлов")
    assert api.post("/me/identity/letter/confirm", {"code": code}, token=other).status_code == 400  # not theirs
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        assert api.post("/me/identity/letter/confirm", {"code": wrong}, token=token).status_code == 400
    assert api.post("/me/identity/letter/confirm", {"code": code}, token=token).status_code == 200
    assert tier(user_id) == "confirmed"


def test_letter_code_is_dead_after_five_wrong_tries(api):
    user_id, token = standard(api)
    api.post("/me/identity/letter", token=token)
    code = _letter_code(api)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        api.post("/me/identity/letter/confirm", {"code": wrong}, token=token)
    assert api.post("/me/identity/letter/confirm", {"code": code}, token=token).status_code == 429
    assert tier(user_id) == "standard"


def test_operator_finds_by_snils_and_confirms_after_the_passport_journaled(api):
    user_id, token = standard(api)
    op = operator(api)
    assert api.get(f"/operator/people?snils={SNILS}", token=token).status_code == 403  # a citizen
    assert api.post(f"/operator/people/{user_id}/confirm", {"passport_checked": True, "passport_series": "4510",
                                                           "passport_number": "123456"}, token=token).status_code == 403
    assert api.get("/operator/people?snils=99988877766", token=op).status_code == 404
    found = api.get("/operator/people?snils=112-233-445 95", token=op)
    assert found.status_code == 200 and found.json["user_id"] == user_id and found.json["tier"] == "standard"
    bad = api.post(f"/operator/people/{user_id}/confirm", {"passport_checked": True, "passport_series": "4510",
                                                          "passport_number": "654321"}, token=op)
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"passport_number"}
    ok = api.post(f"/operator/people/{user_id}/confirm", {"passport_checked": True, "passport_series": "4510",
                                                         "passport_number": "123456"}, token=op)
    assert ok.status_code == 200 and tier(user_id) == "confirmed"
    actions = [a["action"] for a in table.query(keys.user_pk(user_id), "AUDIT#", limit=50).items]
    assert "operator.person_viewed" in actions and "identity.tier_raised" in actions
    assert api.post(f"/operator/people/{user_id}/confirm", {"passport_checked": True, "passport_series": "4510",
                                                           "passport_number": "123456"}, token=op).status_code == 409


def test_bad_input_gets_the_error_shape(api):
    _, token = standard(api)
    op = operator(api)
    for path, body, who in (("/me/identity/bank", {"bank": "NO!"}, token), ("/me/identity/bank", {}, token),
                            ("/me/identity/bank/finish", {"code": "x", "state": 5}, token),
                            ("/me/identity/letter/confirm", {"code": "12ab56"}, token),
                            ("/operator/people/01ARZ3NDEKTSV4RRFFQ69G5FAV/confirm", {"passport_checked": False}, op)):
        resp = api.post(path, body, token=who)
        assert resp.status_code == 400 and resp.json["error"]["fields"], (path, resp.json)
    assert api.get("/operator/people?snils=abc", token=op).status_code == 400
    assert api.post("/me/identity/bank", {"bank": "nobank"}, token=token).status_code == 404
    assert api.post("/operator/people/01ARZ3NDEKTSV4RRFFQ69G5FAV/confirm", {
        "passport_checked": True, "passport_series": "4510", "passport_number": "123456"}, token=op).status_code == 404


def test_racing_channels_confirm_exactly_once(api):
    user_id, token = standard(api)
    op = operator(api)
    operator_id = table.get(keys.login_alias("phone", "+79992000000"))["user_id"]
    api.post("/me/identity/letter", token=token)
    code = _letter_code(api)
    results: list[str] = []
    barrier = threading.Barrier(4)

    def run(fn):
        barrier.wait()
        try:
            fn()
            results.append("ok")
        except Exception as exc:
            results.append(getattr(exc, "code", type(exc).__name__))

    jobs = [lambda: letter.confirm(user_id, code, "203.0.113.1"),
            lambda: mfc.confirm(operator_id, user_id, "4510", "123456", "203.0.113.2"),
            lambda: mfc.confirm(operator_id, user_id, "4510", "123456", "203.0.113.3"),
            lambda: letter.confirm(user_id, code, "203.0.113.4")]
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    raised = [a for a in table.query(keys.user_pk(user_id), "AUDIT#", limit=100).items
              if a["action"] == "identity.tier_raised"]
    assert len(raised) == 1 and tier(user_id) == "confirmed"
    assert op
