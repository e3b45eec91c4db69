"""ID-5/ID-6: after SFR refused the SNILS, the person corrects it and submits again.

Found end to end (tests/test_e2e_identity.py, the mismatch test): the corrected submission is refused with 409
CONFLICT «Данные только что изменились в другом окне…» whenever the SFR answer (which lets go of the refused SNILS
and leaves `claimed` empty) is recorded before another registry's answer. The later answer rebuilds `claimed` from
the submission (`check.get("claimed") or _claimed(...)` in chalicelib/identity/checks.py `_record`: an empty dict
is falsy), so the SNILS already let go is "claimed" again; the next PUT /me/personal-data then deletes its alias
with `user_id = :me`, the alias is gone, the condition fails, and every corrected submission is refused.

Here the answers are handled in a fixed order (SFR before FNS, as the pump delivers them) so the outcome does not
depend on delivery order.
"""

from __future__ import annotations

from chalicelib.events import catalog
from chalicelib.identity import checks
from chalicelib.store import keys, table
from tests.test_identity import PASSPORT, person_data, snils_with


def _answer_in_order(user_id: str, *registries: str) -> list[str]:
    check = table.get(keys.identity_check(user_id))
    return [checks.handle({"id": f"e-{r}", "type": catalog.CHECK_REQUESTED.name,
                           "data": {"user_id": user_id, "submission_id": check["submission_id"], "registry": r}})
            for r in registries]


def test_a_snils_sfr_refused_stays_let_go_when_a_later_answer_arrives(api):
    person = api.register()
    token = person["access_token"]
    refused = snils_with("123456001")  # SFR 001: last name differs
    assert api.call("PUT", "/me/personal-data", person_data(snils=refused), token=token).status_code == 202
    assert _answer_in_order(person["user_id"], "mvd", "sfr", "fns") == ["passed", "failed", "passed"]
    assert table.get(keys.login_alias("snils", refused)) is None  # SFR's refusal let the SNILS go
    check = table.get(keys.identity_check(person["user_id"]))
    assert "snils" not in check["claimed"], check["claimed"]  # got {"snils": refused, "inn": ...}


def test_the_corrected_snils_can_be_submitted_after_sfr_refused_the_first(api):
    person = api.register()
    token = person["access_token"]
    wrong = person_data(snils=snils_with("123456001"), passport={**PASSPORT, "number": "120002"})
    assert api.call("PUT", "/me/personal-data", wrong, token=token).status_code == 202
    _answer_in_order(person["user_id"], "mvd", "sfr", "fns")
    fixed = api.call("PUT", "/me/personal-data", person_data(), token=token)
    assert fixed.status_code == 202, fixed.json  # got 409 CONFLICT «Данные только что изменились в другом окне»
    api.pump.drain()
    assert api.get("/me/identity", token=token).json["tier"] == "standard"


def test_control_with_fns_answering_before_sfr_the_correction_goes_through(api):
    """The same data with the answers in the other order: passes today, which is what points at `_record`."""
    person = api.register()
    token = person["access_token"]
    wrong = person_data(snils=snils_with("123456001"), passport={**PASSPORT, "number": "120002"})
    assert api.call("PUT", "/me/personal-data", wrong, token=token).status_code == 202
    assert _answer_in_order(person["user_id"], "mvd", "fns", "sfr") == ["failed", "passed", "failed"]
    assert api.call("PUT", "/me/personal-data", person_data(), token=token).status_code == 202
    api.pump.drain()
    assert api.get("/me/identity", token=token).json["tier"] == "standard"
