"""Every one-time code purpose (issue 16, "fill the gaps"): a code works to the last second of its life and is
refused from then on; after the last allowed wrong try even the right code is refused; parallel wrong tries never
get more comparisons than the limit.

The numbers are the ones the person is promised, written out here: every code's SMS and e-mail says "Код действует
5 минут" and docs/architecture.md decides "5 minutes, 5 tries" (REQUIREMENTS.md names no number); the registered
letter says "Код действует 30 дней с даты запроса; можно сделать не более 5 попыток ввода" (docs/confirmation.md);
a payment is cancelled by "the third wrong code" (docs/payments.md; PY-3 "limited wrong-code attempts").
`test_every_code_purpose_in_the_code_is_tested_here` finds the purposes in chalicelib, so a new one fails until it
is added to PURPOSES.
"""

from __future__ import annotations

import ast
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.adapters import esign_trust
from chalicelib.api.errors import status_of
from chalicelib.core.errors import DomainError
from chalicelib.core.origin import Origin
from chalicelib.identity import security, stepup
from chalicelib.identity.accounts import add_account
from chalicelib.payments import payments
from chalicelib.store import keys, table
from chalicelib.store.table import Tx
from infra import esign_ca
from tests.conftest import PASSWORD

PHONE, EMAIL = "+79161234567", "a.kuznetsov@mail.ru"
NEW_PHONE, NEW_EMAIL = "+79035550011", "alexey.k@yandex.ru"
NEW_PASSWORD = "Sosna@Reka58!"
LICENCE = "99 12 345678"  # a driving licence with two traffic fines (docs/gisgmp.md)
SNILS, INN = "11223344595", "500100732259"
PASSPORT = {"series": "4510", "number": "123456", "issued_at": "2015-05-20", "issued_by": "ОУФМС",
            "division_code": "770-001"}
ADDRESS = "г. Тверь, ул. Советская, д. 5, кв. 7"

FIVE_MINUTES = 5 * 60
THIRTY_DAYS = 30 * 24 * 3600
FIVE_TRIES = 5
PAYMENT_TRIES = 3
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Answer:
    status: int
    code: str | None = None  # the error code; None for a success
    attempts_left: int | None = None


def _http(resp: Any) -> Answer:
    if resp.status_code < 300:
        return Answer(200)
    error = resp.json["error"]
    return Answer(resp.status_code, error["code"], error.get("attempts_left"))


def _domain(fn: Callable[[], Any]) -> Answer:
    """A flow without a JSON route of its own (the step-up is a web page): the refusal as HTTP would carry it."""
    try:
        fn()
    except DomainError as exc:
        return Answer(status_of(exc), exc.code, exc.extra.get("attempts_left"))
    return Answer(200)


Use = Callable[[str], Answer]


def _token(api: Any) -> str:
    return api.register(phone=PHONE)["access_token"]


def _standard(api: Any) -> str:
    """An account whose personal data the registries checked (the letter and e-signature need it); its user id."""
    tx = Tx()
    user = add_account(tx, last_name="Семёнов", first_name="Пётр", middle_name="Ильич", password=PASSWORD,
                       tier="standard", logins={"phone": PHONE, "snils": SNILS, "inn": INN}, birth_date="1980-02-03",
                       passport=PASSPORT, address=ADDRESS)
    tx.commit()
    return user["user_id"]


def _sms_factor(api: Any, token: str) -> None:
    assert api.post("/me/mfa/sms/code", token=token).status_code == 202
    done = api.post("/me/mfa/sms", {"code": api.code_about(PHONE, "подключения входа по SMS")}, token=token)
    assert done.status_code == 200, done.json


# -- each purpose, as its person meets it: the code just sent (now, on the fake clock), and how it is typed ---------

def registration(api: Any) -> tuple[str, Use]:
    reg = api.post("/auth/registrations", {"last_name": "Кузнецов", "first_name": "Алексей", "phone": PHONE})
    assert reg.status_code == 201, reg.json
    rid = reg.json["registration_id"]
    return (api.code_about(PHONE, "подтверждения регистрации"),
            lambda code: _http(api.post(f"/auth/registrations/{rid}/confirm", {"code": code})))


def mfa_login(api: Any) -> tuple[str, Use]:
    _sms_factor(api, _token(api))
    step = api.post("/auth/login", {"login": PHONE, "password": PASSWORD}).json
    assert step["mfa_required"] is True, step
    assert api.post("/auth/login/mfa/sms", {"challenge_id": step["challenge_id"]}).status_code == 202
    return (api.code_about(PHONE, "Код входа"), lambda code: _http(api.post(
        "/auth/login/mfa", {"challenge_id": step["challenge_id"], "method": "sms", "code": code})))


def mfa_sms(api: Any) -> tuple[str, Use]:
    token = _token(api)
    assert api.post("/me/mfa/sms/code", token=token).status_code == 202
    return (api.code_about(PHONE, "подключения входа по SMS"),
            lambda code: _http(api.post("/me/mfa/sms", {"code": code}, token=token)))


def password_change(api: Any) -> tuple[str, Use]:
    token = _token(api)
    assert api.post("/me/password/code", token=token).status_code == 202
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
    return (api.code_about(PHONE, "смены пароля"),
            lambda code: _http(api.post("/me/password", {**body, "code": code}, token=token)))


def ip_allowlist(api: Any) -> tuple[str, Use]:
    token = _token(api)
    assert api.post("/me/security/ip-allowlist/code", token=token).status_code == 202
    return (api.code_about(PHONE, "изменения разрешённых IP-адресов"), lambda code: _http(api.call(
        "PUT", "/me/security/ip-allowlist", {"cidrs": ["203.0.113.0/24"], "code": code}, token=token)))


def contact_phone(api: Any) -> tuple[str, Use]:
    token = _token(api)
    assert api.post("/me/contacts/phone", {"phone": NEW_PHONE}, token=token).status_code == 202
    return (api.code_about(NEW_PHONE, "привязки номера телефона"),
            lambda code: _http(api.post("/me/contacts/phone/confirm", {"code": code}, token=token)))


def contact_email(api: Any) -> tuple[str, Use]:
    token = _token(api)
    assert api.post("/me/contacts/email", {"email": NEW_EMAIL}, token=token).status_code == 202
    return (api.code_about(NEW_EMAIL, "привязки электронной почты"),
            lambda code: _http(api.post("/me/contacts/email/confirm", {"code": code}, token=token)))


def recovery(api: Any) -> tuple[str, Use]:
    api.register(phone=PHONE)
    started = api.post("/auth/recovery", {"login": PHONE})
    assert started.status_code == 202, started.json
    rid = started.json["recovery_id"]
    return (api.code_about(PHONE, "восстановления доступа"),
            lambda code: _http(api.post(f"/auth/recovery/{rid}/confirm", {"code": code})))


def recovery_sms(api: Any) -> tuple[str, Use]:
    """Recovery by e-mail of an account with the SMS factor: the reset also takes an SMS code."""
    token = _token(api)
    assert api.post("/me/contacts/email", {"email": EMAIL}, token=token).status_code == 202
    assert api.post("/me/contacts/email/confirm", {"code": api.code_about(EMAIL, "привязки электронной почты")},
                    token=token).status_code == 200
    _sms_factor(api, token)
    rid = api.post("/auth/recovery", {"login": EMAIL}).json["recovery_id"]
    confirmed = api.post(f"/auth/recovery/{rid}/confirm", {"code": api.code_about(EMAIL, "восстановления доступа")})
    assert confirmed.status_code == 200 and "sms" in confirmed.json["second_factor"], confirmed.json
    reset = confirmed.json["reset_token"]
    assert api.post(f"/auth/recovery/{rid}/sms", {"reset_token": reset}).status_code == 202
    body = {"reset_token": reset, "new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD,
            "mfa_method": "sms"}
    return (api.code_about(PHONE, "подтверждения смены пароля"),
            lambda code: _http(api.post(f"/auth/recovery/{rid}/password", {**body, "mfa_code": code})))


def esign_bind(api: Any) -> tuple[str, Use]:
    _standard(api)
    token = api.login(PHONE)["access_token"]
    issued = esign_ca.issue(esign_ca.load_ca(), last_name="Семёнов", first_name="Пётр", middle_name="Ильич",
                            snils=SNILS, inn=INN)
    assert api.post("/me/esign/certificates", {"certificate": issued.cert_pem}, token=token).status_code == 202
    return (api.code_about(PHONE, "привязки сертификата электронной подписи"),
            lambda code: _http(api.post("/me/esign/certificates/confirm", {"code": code}, token=token)))


def identity_letter(api: Any) -> tuple[str, Use]:
    _standard(api)
    assert api.post("/me/identity/letter", token=api.login(PHONE)["access_token"]).status_code == 202
    api.pump.drain()
    letter = api.get("/dev/letters").json[0]
    assert letter["to"] == ADDRESS

    def use(code: str) -> Answer:  # weeks later: a new sign-in
        return _http(api.post("/me/identity/letter/confirm", {"code": code},
                              token=api.login(PHONE)["access_token"]))

    return re.search(r"\b\d{6}\b", letter["text"]).group(), use


def step_up(api: Any) -> tuple[str, Use]:
    """A system asks for a second factor on a session opened with a password (issue 15; the page /login/step-up)."""
    tokens = api.register(phone=PHONE)
    user_id, session_id, _ = tokens["refresh_token"].split(".")
    origin = Origin("203.0.113.5", "Mozilla/5.0")
    assert stepup.send(user_id, session_id, origin)["channel"] == "sms"
    return (api.code_about(PHONE, "подтверждения входа в другую систему"),
            lambda code: _domain(lambda: stepup.confirm(user_id, session_id, "sms", code, origin)))


def payment(api: Any) -> tuple[str, Use]:
    token = _token(api)
    debts = api.get(f"/payments/debts?{urlencode({'driving_licence': LICENCE})}", token=token).json["items"]
    created = api.post("/payments", {"uins": [debts[0]["uin"]], "method": "card"}, token=token,
                       headers={"Idempotency-Key": str(uuid.uuid4())})
    assert created.status_code == 201, created.json
    pid = created.json["id"]
    return (api.code_about(PHONE, "Код для оплаты"),
            lambda code: _http(api.post(f"/payments/{pid}/confirm", {"code": code}, token=token)))


@dataclass(frozen=True)
class Purpose:
    start: Callable[[Any], tuple[str, Use]]
    life: int  # seconds
    tries: int  # wrong codes allowed
    expired: Answer  # the answer to the right code once its life is over
    exhausted: Answer  # the answer to the right code after `tries` wrong ones
    last_wrong: Answer = Answer(400, "CODE_INVALID", 0)  # the answer to the last allowed wrong code


CODE_EXPIRED = Answer(410, "CODE_EXPIRED")
ATTEMPTS_EXCEEDED = Answer(429, "CODE_ATTEMPTS_EXCEEDED")
PURPOSES: dict[str, Purpose] = {
    "registration": Purpose(registration, FIVE_MINUTES, FIVE_TRIES, CODE_EXPIRED, ATTEMPTS_EXCEEDED),
    # The sign-in code lives inside its challenge (5 minutes, 5 tries): both end together, the challenge answers.
    "mfa_login": Purpose(mfa_login, FIVE_MINUTES, FIVE_TRIES, Answer(401, "CHALLENGE_INVALID"), ATTEMPTS_EXCEEDED),
    "mfa_sms": Purpose(mfa_sms, FIVE_MINUTES, FIVE_TRIES, CODE_EXPIRED, ATTEMPTS_EXCEEDED),
    "password_change": Purpose(password_change, FIVE_MINUTES, FIVE_TRIES, CODE_EXPIRED, ATTEMPTS_EXCEEDED),
    "ip_allowlist": Purpose(ip_allowlist, FIVE_MINUTES, FIVE_TRIES, CODE_EXPIRED, ATTEMPTS_EXCEEDED),
    "contact_phone": Purpose(contact_phone, FIVE_MINUTES, FIVE_TRIES, CODE_EXPIRED, ATTEMPTS_EXCEEDED),
    "contact_email": Purpose(contact_email, FIVE_MINUTES, FIVE_TRIES, CODE_EXPIRED, ATTEMPTS_EXCEEDED),
    "recovery": Purpose(recovery, FIVE_MINUTES, FIVE_TRIES, CODE_EXPIRED, ATTEMPTS_EXCEEDED),
    "recovery_sms": Purpose(recovery_sms, FIVE_MINUTES, FIVE_TRIES, CODE_EXPIRED, ATTEMPTS_EXCEEDED),
    "esign_bind": Purpose(esign_bind, FIVE_MINUTES, FIVE_TRIES, CODE_EXPIRED, ATTEMPTS_EXCEEDED),
    "identity_letter": Purpose(identity_letter, THIRTY_DAYS, FIVE_TRIES, CODE_EXPIRED, ATTEMPTS_EXCEEDED),
    "step_up": Purpose(step_up, FIVE_MINUTES, FIVE_TRIES, CODE_EXPIRED, ATTEMPTS_EXCEEDED),
    # The payment keeps its code on itself: a code past its 5 minutes is a wrong code (one of the three), the third
    # wrong one cancels the payment, and a cancelled payment takes no code at all.
    "payment": Purpose(payment, FIVE_MINUTES, PAYMENT_TRIES, Answer(400, "CODE_INVALID", 2),
                       Answer(409, "PAYMENT_NOT_PENDING"), last_wrong=Answer(409, "PAYMENT_CANCELLED")),
}


@pytest.fixture(autouse=True)
def _fresh_trust_list(cloud: Any) -> Iterator[None]:
    """Each test's cloud has a new test CA (e-signature): the container's cached trusted list must not outlive it."""
    esign_trust.trust_list.cache_clear()
    yield
    esign_trust.trust_list.cache_clear()


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.mark.parametrize("name", PURPOSES)
def test_a_code_still_works_one_second_before_its_life_ends(api, fake_clock, name):
    purpose = PURPOSES[name]
    code, use = purpose.start(api)
    fake_clock.advance(purpose.life - 1)
    assert use(code) == Answer(200)


@pytest.mark.parametrize("name", PURPOSES)
def test_a_code_is_refused_once_its_life_is_over(api, fake_clock, name):
    purpose = PURPOSES[name]
    code, use = purpose.start(api)
    fake_clock.advance(purpose.life)
    assert use(code) == purpose.expired


@pytest.mark.parametrize("name", PURPOSES)
def test_after_the_last_wrong_try_even_the_right_code_is_refused(api, fake_clock, name):
    purpose = PURPOSES[name]
    code, use = purpose.start(api)
    answers = [use(_wrong(code)) for _ in range(purpose.tries)]
    expected = [Answer(400, "CODE_INVALID", left) for left in range(purpose.tries - 1, 0, -1)]
    assert answers == [*expected, purpose.last_wrong]
    assert use(code) == purpose.exhausted


@pytest.mark.parametrize("name", PURPOSES)
def test_one_wrong_try_short_of_the_limit_the_right_code_still_works(api, fake_clock, name):
    purpose = PURPOSES[name]
    code, use = purpose.start(api)
    for left in range(purpose.tries - 1, 0, -1):
        assert use(_wrong(code)) == Answer(400, "CODE_INVALID", left)
    assert use(code) == Answer(200)


# -- parallel wrong tries ------------------------------------------------------------------------------------------

def _parallel(fn: Callable[[int], Any], n: int) -> list[str]:
    """`n` calls at once (a barrier lines them up); each one's refusal code, or "ok"."""
    barrier = threading.Barrier(n)
    answers: list[str] = [""] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            fn(i)
            answers[i] = "ok"
        except DomainError as exc:
            answers[i] = exc.code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_parallel_wrong_codes_get_exactly_five_comparisons(api, fake_clock):
    """12 wrong IP-allowlist codes at once, each from its own address: five are compared (400), seven are refused
    uncompared, and the right code is dead afterwards."""
    code, use = ip_allowlist(api)
    user_id = api.get("/me", token=api.login(PHONE)["access_token"]).json["user_id"]
    wrong = _wrong(code)
    answers = _parallel(lambda i: security.set_allowlist(user_id, ["203.0.113.0/24"], wrong,
                                                         Origin(f"198.51.100.{i + 1}", "burst")), 12)
    assert sorted(answers) == ["CODE_ATTEMPTS_EXCEEDED"] * 7 + ["CODE_INVALID"] * 5
    assert table.get(keys.code(keys.user_pk(user_id), "ip_allowlist"))["attempts"] == FIVE_TRIES
    assert use(code) == ATTEMPTS_EXCEEDED
    assert table.get(keys.user(user_id)).get("ip_allowlist") is None


def test_parallel_wrong_payment_codes_are_counted_one_by_one_up_to_three(api, fake_clock):
    """Bursts of wrong codes on one payment: each counted try is one answer, a lost race is told to retry (409
    PAYMENT_BUSY) and counts nothing, so however they interleave exactly three are counted before it is cancelled."""
    code, use = payment(api)
    user_id = api.get("/me", token=api.login(PHONE)["access_token"]).json["user_id"]
    pid = table.query(keys.user_pk(user_id), keys.PAYMENTS_PREFIX, limit=10).items[0]["id"]
    wrong = _wrong(code)
    counted: list[str] = []
    for _ in range(PAYMENT_TRIES):  # each burst counts at least one try: three bursts are enough to cancel it
        answers = _parallel(lambda i: payments.confirm(user_id, pid, wrong, Origin(f"198.51.100.{i + 1}", "b")), 6)
        counted += [a for a in answers if a in ("CODE_INVALID", "PAYMENT_CANCELLED")]
        assert set(answers) <= {"CODE_INVALID", "PAYMENT_CANCELLED", "PAYMENT_BUSY", "PAYMENT_NOT_PENDING"}, answers
    assert sorted(counted) == ["CODE_INVALID"] * (PAYMENT_TRIES - 1) + ["PAYMENT_CANCELLED"], counted
    stored = table.get(keys.payment(user_id, pid))
    assert stored["attempts"] == PAYMENT_TRIES and stored["status"] == "cancelled"
    assert use(code) == Answer(409, "PAYMENT_NOT_PENDING")


# -- every purpose in the code is one of the above ----------------------------------------------------------------

def _module_constants(tree: ast.Module) -> dict[str, str]:
    return {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for t in node.targets if isinstance(t, ast.Name)}


def _is_call(node: ast.AST, owner: str, name: str) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
            and isinstance(node.func.value, ast.Name) and node.func.value.id == owner)


def _purposes_in_code() -> tuple[set[str], list[str]]:
    """Purposes passed to `otp.issue`, and those of `code.requested` events built by hand (the payment's), as
    literals or module constants; an f-string purpose comes back as a pattern."""
    found: set[str] = set()
    patterns: list[str] = []
    for path in (ROOT / "chalicelib").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _module_constants(tree)
        for node in ast.walk(tree):
            if _is_call(node, "otp", "issue"):
                value = node.args[2]
            elif (_is_call(node, "journal", "emit") and isinstance(node.args[1], ast.Attribute)
                  and node.args[1].attr == "CODE_REQUESTED" and isinstance(node.args[3], ast.Dict)):
                value = next(v for k, v in zip(node.args[3].keys, node.args[3].values, strict=True)
                             if isinstance(k, ast.Constant) and k.value == "purpose")
                if isinstance(value, ast.Name) and value.id not in constants:
                    continue  # otp.issue passing its own argument on: its callers are read above
            else:
                continue
            if isinstance(value, ast.Constant):
                found.add(value.value)
            elif isinstance(value, ast.Name) and value.id in constants:
                found.add(constants[value.id])
            elif isinstance(value, ast.JoinedStr):
                patterns.append("".join(re.escape(p.value) if isinstance(p, ast.Constant) else ".+"
                                        for p in value.values))
            else:
                raise AssertionError(f"{path}:{node.lineno}: a purpose this test cannot read: {ast.unparse(value)}")
    return found, patterns


def _purposes_in_the_code_template() -> set[str]:
    """Every purpose the code SMS and e-mail can name (templates/notify/code.j2): the f-string ones spelt out."""
    text = (ROOT / "chalicelib/templates/notify/code.j2").read_text(encoding="utf-8")
    block = re.search(r"\{% set what = \{(.*?)\}\[purpose\] %\}", text, re.S)
    assert block, "code.j2 no longer names its purposes in `what`"
    return set(re.findall(r'"(\w+)":', block.group(1)))


def test_every_code_purpose_in_the_code_is_tested_here():
    found, patterns = _purposes_in_code()
    named = _purposes_in_the_code_template()
    assert patterns == ["contact_.+"]  # contact_change: f"contact_{kind}", spelt out in code.j2
    assert {p for p in named if re.fullmatch(patterns[0], p)} == {"contact_phone", "contact_email"}
    assert "identity_letter" in found and "payment" in found  # their own notices, not code.j2
    assert found | named == set(PURPOSES)
