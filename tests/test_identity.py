"""ID-3, ID-5, ID-6, ID-8: personal data, one account per person, the registry checks and the standard tier.

The registries are the local simulator (adapters/registries.py); the outcome patterns used here are the ones
docs/identity.md documents, written out again below as the test's own expectations.
"""

from __future__ import annotations

import threading

from chalicelib.events import catalog
from chalicelib.identity import checks
from chalicelib.store import keys, table
from tests.conftest import PASSWORD
from tests.files import pdf


def snils_with(first_nine: str) -> str:
    """A SNILS whose check number holds (ПФР rule: weights 9..1, sum mod 101, 100 and 101 → 00)."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1), strict=True))
    check = total if total < 100 else 0 if total in (100, 101) else total % 101
    return first_nine + f"{check % 100:02d}"


SNILS = snils_with("123456777")  # digits 7-9 "777": no SFR pattern
PASSPORT = {"series": "4510", "number": "123456", "issued_at": "2005-06-01", "issued_by": "ОВД района Арбат г. Москвы",
            "division_code": "770-001"}
FOUND_INN = "774510123410"  # docs/identity.md: "77" + series + first 4 digits of the number + check digits


def person_data(**over):
    data = {"last_name": "Кузнецов", "first_name": "Алексей", "middle_name": "Петрович", "birth_date": "1985-04-12",
            "sex": "male", "birth_place": "г. Москва", "passport": dict(PASSPORT), "snils": SNILS,
            "address": "г. Москва, ул. Тверская, д. 1, кв. 1"}
    data.update(over)
    return data


def submit(api, token, **over):
    return api.call("PUT", "/me/personal-data", person_data(**over), token=token)


def identity(api, token):
    resp = api.get("/me/identity", token=token)
    assert resp.status_code == 200, resp.json
    return resp.json


def statuses(view):
    return {c["registry"]: c["status"] for c in view["checks"]}


def audit_actions(user_id):
    return [a["action"] for a in table.query(keys.user_pk(user_id), "AUDIT#", limit=200).items]


def test_checked_data_makes_the_account_standard(api):
    person = api.register()
    token = person["access_token"]
    api.no_quiet_hours(token)
    before = api.post("/requests", {"type": "certificate", "params": {
        "kind": "tax_debt", "last_name": "Кузнецов", "first_name": "Алексей", "as_of": "2026-11-01",
        "variant": "balance"}}, token=token)
    assert before.status_code == 403 and before.json["error"]["code"] == "TIER_REQUIRED"
    assert before.json["error"]["current"] == "simplified"
    resp = submit(api, token)
    assert resp.status_code == 202, resp.json
    assert resp.json["status"] == "checking"
    assert statuses(resp.json) == {"mvd": "pending", "sfr": "pending", "fns": "pending"}
    pending = identity(api, token)
    assert pending["tier"] == "simplified" and pending["data"] is None
    assert pending["pending"]["data"]["snils"] == SNILS
    assert pending["next_tier"]["tier"] == "standard"
    api.pump.drain()
    view = identity(api, token)
    assert view["tier"] == "standard" and view["pending"] is None
    assert statuses(view) == {"mvd": "passed", "sfr": "passed", "fns": "passed"}
    assert view["data"]["last_name"] == "Кузнецов" and view["data"]["inn"] == FOUND_INN
    assert view["next_tier"]["tier"] == "confirmed"
    assert any(c["channel"] == "bank" and c["available"] for c in view["channels"])
    user = table.get(keys.user(person["user_id"]))
    assert user["tier_channel"] == "registries" and user["passport"]["number"] == "123456"
    assert audit_actions(person["user_id"]).count("identity.tier_raised") == 1
    assert any("стандартная" in m["text"] for m in api.outbox("+79161234567"))
    consents = table.query(keys.user_pk(person["user_id"]), keys.CONSENT_PREFIX).items
    assert "registry_check" in {c["kind"] for c in consents}
    # The old access token still says "simplified"; the refusal names the account's tier (it is read). Certificates
    # need the confirmed tier (docs/catalog.md, "Tiers per service"), so checked data alone does not open them.
    after = api.post("/requests", {"type": "certificate", "params": {
        "kind": "tax_debt", "last_name": "Кузнецов", "first_name": "Алексей", "inn": FOUND_INN, "as_of": "2026-11-01",
        "variant": "balance"}}, token=token)
    assert after.status_code == 403, after.json
    assert (after.json["error"]["required"], after.json["error"]["current"]) == ("confirmed", "standard")
    refreshed = api.post("/auth/token/refresh", {"refresh_token": person["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.json["tier"] == "standard"
    # ID-3: the checked SNILS is a login now.
    by_snils = api.post("/auth/login", {"login": f"{SNILS[:3]}-{SNILS[3:6]}-{SNILS[6:9]} {SNILS[9:]}",
                                        "password": PASSWORD})
    assert by_snils.status_code == 200 and by_snils.json["user_id"] == person["user_id"]


def test_every_field_gets_its_own_russian_message(api):
    token = api.register()["access_token"]
    bad = person_data(snils="12345678900", inn="500100732250", birth_date="2090-01-01",
                      passport={**PASSPORT, "series": "45 10", "number": "12345", "division_code": "770001",
                                "issued_at": "2091-01-01"})
    resp = api.call("PUT", "/me/personal-data", bad, token=token)
    assert resp.status_code == 400
    fields = resp.json["error"]["fields"]
    assert "контрольное число" in fields["snils"]
    assert "контрольные цифры" in fields["inn"]
    assert "4 цифры" in fields["passport.series"] and "6 цифр" in fields["passport.number"]
    assert "000-000" in fields["passport.division_code"]
    dates = submit(api, token, birth_date="2090-01-01", passport={**PASSPORT, "issued_at": "2091-01-01"})
    assert dates.status_code == 400
    assert dates.json["error"]["fields"]["birth_date"] == "Дата рождения не может быть в будущем"
    assert dates.json["error"]["fields"]["passport.issued_at"] == "Дата выдачи паспорта не может быть в будущем"
    young = submit(api, token, birth_date="1995-03-10", passport={**PASSPORT, "issued_at": "2009-03-09"})
    assert young.status_code == 400
    assert young.json["error"]["fields"]["passport.issued_at"].endswith("раньше 10.03.2009")
    assert submit(api, token, birth_date="1995-03-10",
                  passport={**PASSPORT, "issued_at": "2009-03-10"}).status_code == 202  # the 14th birthday itself
    names = submit(api, token, last_name="К.", first_name="4лексей")
    assert names.status_code == 400 and {"last_name", "first_name"} <= set(names.json["error"]["fields"])


def test_a_snils_bound_to_another_account_is_refused_and_its_owner_told(api):
    first = api.register(phone="+79161110001")
    assert submit(api, first["access_token"]).status_code == 202
    api.pump.drain()
    second = api.register(phone="+79161110002")
    resp = submit(api, second["access_token"], last_name="Петров")
    assert resp.status_code == 409 and resp.json["error"]["code"] == "SNILS_TAKEN"
    assert resp.json["error"]["recovery"] == "/auth/recovery" and "восстановите доступ" in resp.json["error"]["message"]
    assert table.query(keys.user_pk(second["user_id"]), "PROFILE#").items == []  # nothing kept for the second
    told = [m["text"] for m in api.outbox("+79161110001") if "СНИЛС" in m["text"]]
    assert told and "другой учётной записи" in told[0]
    inn = api.register(phone="+79161110003")
    taken = submit(api, inn["access_token"], snils=snils_with("223456777"), inn=FOUND_INN)
    assert taken.status_code == 409 and taken.json["error"]["code"] == "INN_TAKEN"


def test_mismatches_are_reported_per_field_and_the_tier_stays(api):
    person = api.register()
    token = person["access_token"]
    api.no_quiet_hours(token)
    snils = snils_with("123456001")  # SFR pattern 001: last name differs
    assert submit(api, token, snils=snils, passport={**PASSPORT, "number": "120002"}).status_code == 202  # MVD 0002
    api.pump.drain()
    view = identity(api, token)
    assert view["tier"] == "simplified" and view["data"] is None
    by = {c["registry"]: c for c in view["checks"]}
    assert by["sfr"]["status"] == "failed"
    assert by["sfr"]["fields"] == {"last_name": "фамилия не совпадает с данными СФР"}
    assert by["mvd"]["status"] == "failed"
    assert by["mvd"]["fields"] == {"birth_date": "дата рождения не совпадает с данными МВД"}
    assert view["pending"]["data"]["snils"] == snils  # kept for correcting, not lost
    assert "identity.tier_raised" not in audit_actions(person["user_id"])
    assert any("не прошли проверку" in m["text"] for m in api.outbox("+79161234567"))
    # SFR refused the SNILS: it is free again for whoever really owns it.
    other = api.register(phone="+79161110009")
    assert submit(api, other["access_token"], snils=snils, passport={**PASSPORT, "number": "654321"}).status_code == 202


def test_an_unavailable_registry_is_retried_with_backoff_and_the_check_resumes(api, fake_clock):
    person = api.register()
    token = person["access_token"]
    api.no_quiet_hours(token)
    assert submit(api, token, passport={**PASSPORT, "number": "120003"}).status_code == 202  # MVD 0003
    api.pump.drain()
    view = identity(api, token)
    mvd = next(c for c in view["checks"] if c["registry"] == "mvd")
    assert mvd["status"] == "unavailable" and mvd["retry_at"] and "автоматически" in mvd["reason"]
    assert view["tier"] == "simplified"
    delayed = [m["text"] for m in api.outbox("+79161234567") if "задерживается" in m["text"]]
    assert len(delayed) == 1
    api.pump.run_schedule("outbox_sweeper")
    api.pump.drain()
    assert statuses(identity(api, token))["mvd"] == "unavailable"  # not due yet: nothing asked
    fake_clock.advance(301)
    api.pump.run_schedule("outbox_sweeper")
    api.pump.drain()
    second = next(c for c in identity(api, api.login("+79161234567")["access_token"])["checks"]
                  if c["registry"] == "mvd")
    assert second["status"] == "unavailable"  # the simulator is down twice for this pattern
    fake_clock.advance(901)
    api.pump.run_schedule("outbox_sweeper")
    api.pump.drain()
    token = api.login("+79161234567")["access_token"]
    assert identity(api, token)["tier"] == "standard"
    assert len([m for m in api.outbox("+79161234567") if "задерживается" in m["text"]]) == 1  # told once
    assert table.query(keys.IDENTITY_RETRY, index="GSI1").items == []


def test_answers_arriving_at_once_promote_exactly_once(api):
    person = api.register()
    assert submit(api, person["access_token"]).status_code == 202
    check = table.get(keys.identity_check(person["user_id"]))
    events = [{"id": f"e{r}", "type": catalog.CHECK_REQUESTED.name,
               "data": {"user_id": person["user_id"], "submission_id": check["submission_id"], "registry": r}}
              for r in ("mvd", "sfr", "fns")]
    outcomes: list[str] = []
    barrier = threading.Barrier(3)

    def answer(event):
        barrier.wait()
        outcomes.append(checks.handle(event))

    threads = [threading.Thread(target=answer, args=(e,)) for e in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes).count("promoted") == 1 and outcomes.count("passed") == 2
    assert table.get(keys.user(person["user_id"]))["tier"] == "standard"
    assert audit_actions(person["user_id"]).count("identity.tier_raised") == 1
    assert checks.handle(events[0]) == "stale"  # a redelivered answer changes nothing


def test_a_name_change_after_the_checks_needs_the_new_passport_and_keeps_the_old_data_meanwhile(api):
    person = api.register()
    token = person["access_token"]
    assert submit(api, token).status_code == 202
    api.pump.drain()
    renamed = submit(api, token, last_name="Смирнов", passport={**PASSPORT, "number": "777777"})
    assert renamed.status_code == 400
    assert "скан нового паспорта" in renamed.json["error"]["fields"]["passport_document_id"]
    other = api.upload(token, pdf("Skan dogovora"), category="other")
    wrong = api.call("PUT", "/me/personal-data", {**person_data(last_name="Смирнов"), "passport_document_id": other},
                     token=token)
    assert wrong.status_code == 400 and "passport_document_id" in wrong.json["error"]["fields"]
    scan = api.upload(token, pdf(), category="passport", filename="passport.pdf")
    assert table.get(keys.document(person["user_id"], scan))["status"] == "available"
    body = {**person_data(last_name="Смирнов", passport={**PASSPORT, "number": "777777"}),
            "passport_document_id": scan}
    assert api.call("PUT", "/me/personal-data", body, token=token).status_code == 202
    meanwhile = identity(api, token)
    assert meanwhile["tier"] == "standard" and meanwhile["data"]["last_name"] == "Кузнецов"
    assert meanwhile["pending"]["data"]["last_name"] == "Смирнов"
    api.pump.drain()
    done = identity(api, token)
    assert done["data"]["last_name"] == "Смирнов" and done["data"]["passport"]["number"] == "777777"
    assert done["tier"] == "standard" and done["pending"] is None
    assert "identity.data_updated" in audit_actions(person["user_id"])
    # A new address alone needs no passport upload; data already checked is not sent to the registries again.
    moved = {"last_name": "Смирнов", "passport": {**PASSPORT, "number": "777777"},
             "address": "г. Москва, ул. Арбат, д. 2"}
    assert submit(api, token, **moved).status_code == 202
    api.pump.drain()
    same = submit(api, token, **moved)
    assert same.status_code == 409 and same.json["error"]["code"] == "NOTHING_TO_CHECK"


def test_a_resubmission_lets_go_of_the_snils_it_replaced(api):
    first = api.register(phone="+79161110001")
    typo = snils_with("923456777")
    assert submit(api, first["access_token"], snils=typo).status_code == 202  # not drained: still pending
    assert submit(api, first["access_token"]).status_code == 202
    second = api.register(phone="+79161110002")
    assert submit(api, second["access_token"], snils=typo, passport={**PASSPORT, "number": "654321"}
                  ).status_code == 202
    api.pump.drain()
    assert identity(api, first["access_token"])["data"]["snils"] == SNILS


def test_a_second_person_sees_nothing_of_the_first_ones_identity(api):
    first = api.register(phone="+79161110001")
    assert submit(api, first["access_token"]).status_code == 202
    api.pump.drain()
    second = api.register(phone="+79161110002")
    view = identity(api, second["access_token"])
    assert view["data"] is None and view["pending"] is None and view["checks"] == []
    assert view["tier"] == "simplified"
    assert api.get("/me/identity").status_code == 401


def test_the_password_policy_refuses_snils_and_passport_digits_once_they_are_entered(api):
    person = api.register()
    token = person["access_token"]
    assert submit(api, token).status_code == 202
    api.pump.drain()
    assert api.post("/me/password/code", token=token).status_code == 202
    code = api.code_about("+79161234567", "пароля")
    for weak in (f"Ok#{PASSPORT['number']}x!", f"Ok#{SNILS[2:7]}z!"):
        resp = api.post("/me/password", {"current_password": PASSWORD, "new_password": weak,
                                         "new_password_repeat": weak, "code": code}, token=token)
        assert resp.status_code == 400, resp.json
        assert any("СНИЛС" in r for r in resp.json["error"]["fields"]["password"])
