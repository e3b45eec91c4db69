"""Commonly used passwords are refused (ID-4, NIST SP 800-63B 5.1.1.2), with a reason saying why.

The refused passwords come from the requirement (defect 10), not from the list under test: every one of them
passes the composition rules, so only the common-password check can refuse it.
"""

from __future__ import annotations

import pytest

from chalicelib.identity.password_policy import check_password
from tests.conftest import PASSWORD

NAMES = ("Кузнецов", "Алексей")
PHONE = "+79161234567"
WHY = ("распространённых слов", "легко подобрать")  # the list's reason, zxcvbn's reason

REFUSED = {
    "P@ssw0rd!": "password",
    "Zaq12wsx!": "zaq12wsx",
    "Summer2024!": "summer",
    "Moskva2024!": "moskva",
    "Natasha1990!": "natasha",
    "Spartak1922!": "spartak",
    "Ghbdtn2024!": "привет",  # «привет» typed on the Latin layout
    "Vfrcbv2020!": "максим",  # «максим» typed on the Latin layout
}

VARIANTS = {
    "Спартак1922!": "спартак",
    "спартак1922": "спартак",
    "$p@rt@k": "spartak",
    "$p@rt@k1922!": "spartak",
    "Cgfhnfr2020!": "спартак",  # «спартак» typed on the Latin layout
    "Zenit2008!": "zenit",
    "CSKA1911!": "cska",
    "Lokomotiv1936!": "lokomotiv",
    "Dinam0#1923": "dinamo",
    "Piter#1703": "piter",
    "Sasha2010!": "sasha",
    "Maxim1990!": "maxim",
    "Dmitriy#85": "dmitriy",
    "1q2w3e4r!Q": "1q2w3e",
    "Qwerty#2024": "qwerty",
    "Зфыыцщкв1!": "password",  # "password" typed on the Russian layout
}

# Every password the project's tests, seed data and benchmarks set and expect to be accepted.
STRONG = ["Zima#Leto57!", "Vesna#Dom48!", PASSWORD, "Sosna@Reka58!", "Osen#Lug73!", "Volna$Gora74!",
          *(f"Kedr#Luna{n}7!" for n in range(1, 6))]


def _reasons(password: str) -> list[str]:
    return check_password(password, password, names=NAMES, phone=PHONE)


@pytest.mark.parametrize(("password", "word"), [*REFUSED.items(), *VARIANTS.items()])
def test_common_password_is_refused_saying_why(password, word):
    reasons = _reasons(password)
    why = [r for r in reasons if any(w in r for w in WHY)]
    assert len(why) == 1, reasons  # one reason for the one broken rule
    assert word in why[0] and "часто используемых" in why[0], why


@pytest.mark.parametrize("password", REFUSED)
def test_required_passwords_break_no_other_rule(password):
    assert len(_reasons(password)) == 1


def test_other_layout_is_named():
    (reason,) = _reasons("Ghbdtn2024!")
    assert "«привет»" in reason and "английской раскладке" in reason
    (reason,) = _reasons("Moskva2024!")
    assert "«москва» латиницей" in reason


def test_guessable_password_outside_the_list_is_refused_by_the_estimator():
    (reason,) = _reasons("Qazxswedc1!")  # a keyboard walk, not in the list as such
    assert reason.startswith("Пароль легко подобрать: ")


@pytest.mark.parametrize("password", STRONG)
def test_strong_passwords_still_pass(password):
    assert _reasons(password) == []


def test_refusal_reaches_the_api(api):
    reg = api.post("/auth/registrations", {"last_name": "Кузнецов", "first_name": "Алексей", "phone": PHONE})
    assert reg.status_code == 201, reg.json
    rid = reg.json["registration_id"]
    assert api.post(f"/auth/registrations/{rid}/confirm", {"code": api.last_code(PHONE)}).status_code == 200
    resp = api.post(f"/auth/registrations/{rid}/complete", {"password": "Spartak1922!",
                                                             "password_repeat": "Spartak1922!"})
    assert resp.status_code == 400 and resp.json["error"]["code"] == "PASSWORD_POLICY", resp.json
    reasons = resp.json["error"]["fields"]["password"]
    assert isinstance(reasons, list) and any("spartak" in r for r in reasons), reasons
    ok = api.post(f"/auth/registrations/{rid}/complete", {"password": PASSWORD, "password_repeat": PASSWORD})
    assert ok.status_code == 201
