"""Consents to personal-data processing (ID-9): recorded with the processing, listed, revoked where allowed."""

from __future__ import annotations

from chalicelib.identity import consents
from chalicelib.store.table import Tx
from tests.test_applications import citizen, submit_ncr

PHONE = "+79161234567"
OTHER = "+79167654321"


def _list(api, token: str) -> dict:
    resp = api.get("/me/consents", token=token)
    assert resp.status_code == 200, resp.json
    return resp.json


def test_registration_records_its_consent_and_it_cannot_be_revoked(api):
    person = api.register(phone=PHONE)
    listed = _list(api, person["access_token"])
    [consent] = listed["items"]
    assert consent["kind"] == "registration" and consent["purpose"] and consent["recipient"]
    assert "152-ФЗ" in consent["legal_basis"] and consent["given_at"] and consent["revocable"] is False
    assert "до отзыва" in listed["note"]  # revoking stops future use, not processing already done
    resp = api.post(f"/me/consents/{consent['id']}/revoke", token=person["access_token"])
    assert resp.status_code == 409 and resp.json["error"]["code"] == "NOT_REVOCABLE"
    assert "нельзя отозвать" in resp.json["error"]["message"]


def test_revoking_the_bank_consent_stops_its_future_use(api):
    person = api.register(phone=PHONE)
    tx = Tx()
    consent_id = consents.record(tx, person["user_id"], "bank_confirmation", ip="127.0.0.1", recipient="Банк-партнёр")
    tx.commit()
    assert consents.active(person["user_id"], "bank_confirmation")
    resp = api.post(f"/me/consents/{consent_id}/revoke", token=person["access_token"])
    assert resp.status_code == 200, resp.json
    assert resp.json["revoked_at"] and resp.json["revocable"] is False and "до отзыва" in resp.json["note"]
    assert not consents.active(person["user_id"], "bank_confirmation")
    assert consents.active(person["user_id"], "registration")
    again = api.post(f"/me/consents/{consent_id}/revoke", token=person["access_token"])
    assert again.status_code == 409 and again.json["error"]["code"] == "ALREADY_REVOKED"


def test_a_second_person_neither_sees_nor_revokes_the_first_ones_consents(api):
    first = api.register(phone=PHONE)
    tx = Tx()
    consent_id = consents.record(tx, first["user_id"], "bank_confirmation", ip=None)
    tx.commit()
    second = api.register(phone=OTHER)
    ids = [c["id"] for c in _list(api, second["access_token"])["items"]]
    assert consent_id not in ids and len(ids) == 1
    resp = api.post(f"/me/consents/{consent_id}/revoke", token=second["access_token"])
    assert resp.status_code == 404 and resp.json["error"]["message"] == "Согласие не найдено"
    assert consents.active(first["user_id"], "bank_confirmation")
    cursor = api.get("/me/consents?cursor=bm90LWEtY3Vyc29y", token=second["access_token"])
    assert cursor.status_code == 400 and cursor.json["error"]["code"] == "INVALID_CURSOR"
    assert api.post("/me/consents/not-an-id/revoke", token=second["access_token"]).status_code == 404
    assert api.get("/me/consents").status_code == 401


def test_each_submission_records_a_consent_for_its_agency(api):
    person = citizen(api)
    submitted = submit_ncr(api, person)
    agency = api.get("/services/no-criminal-record").json["agency"]["title"]
    items = _list(api, person["access_token"])["items"]
    application = [c for c in items if c["kind"] == "application"]
    assert [(c["recipient"], c["subject"]) for c in application] == [(agency, submitted["number"])]
    assert application[0]["revocable"] is False
