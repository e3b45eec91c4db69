"""«Платежи» pages in-process (chalice's test gateway on moto, the ГИС ГМП and acquirer simulators): the pay
form's field errors, its own Idempotency-Key (a double submit makes one payment), another person's payment is
not found, CSRF. The journeys in a real browser are tests/test_browser_payments.py."""

from __future__ import annotations

import re
import secrets
import urllib.parse
from typing import Any

from chalicelib.store import keys, table

LICENCE = "99 12 345678"  # two traffic fines (docs/gisgmp.md)
FORM = "application/x-www-form-urlencoded"
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # Chromium's, for a navigation


class Browser:
    """A signed-in visitor: the session cookie as the sign-in page sets it, and a CSRF cookie."""

    def __init__(self, api: Any, who: dict[str, Any]) -> None:
        self.api, self.who = api, who
        self.csrf = secrets.token_urlsafe(32)
        self.cookies = {"kabinet-session": who["access_token"], "kabinet-csrf": self.csrf}

    def _cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def get(self, path: str) -> Any:
        return self.api.client.http.request("GET", path, headers={"cookie": self._cookie(), "accept": ACCEPT})

    def post(self, path: str, form: list[tuple[str, str]] | dict[str, str], csrf: bool = True) -> Any:
        pairs = list(form.items()) if isinstance(form, dict) else list(form)
        if csrf:
            pairs.append(("csrf", self.csrf))
        return self.api.client.http.request("POST", path, headers={"content-type": FORM, "cookie": self._cookie()},
                                            body=urllib.parse.urlencode(pairs).encode())


def _text(resp: Any) -> str:
    return resp.body.decode()


def _pay_form(browser: Browser) -> tuple[str, list[str]]:
    """The debts page for the typed licence: the form's key and the payable УИНs."""
    page = browser.get("/pay?" + urllib.parse.urlencode({"driving_licence": LICENCE}))
    assert page.status_code == 200, _text(page)[:2000]
    html = _text(page)
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    uins = re.findall(r'name="uins" value="(\d+)"', html)
    assert len(uins) == 2 and "скидка до" in html, html[:3000]
    return key, uins


def _payments(who: dict[str, Any]) -> list[dict[str, Any]]:
    return table.query(keys.user_pk(who["user_id"]), keys.PAYMENTS_PREFIX, limit=100).items


def test_the_pay_form_without_a_selection_shows_a_field_error(api):
    browser = Browser(api, api.register())
    key, _ = _pay_form(browser)
    resp = browser.post("/pay?" + urllib.parse.urlencode({"driving_licence": LICENCE}), {"key": key, "method": "card"})
    html = _text(resp)
    assert resp.status_code == 400, html[:2000]
    assert 'href="#f-uins"' in html and 'id="f-uins"' in html and "Выберите хотя бы одно начисление" in html
    assert 'aria-describedby="f-uins-error"' in html
    none_chosen = browser.post("/pay", {"key": key})
    assert none_chosen.status_code == 400 and 'href="#f-method"' in _text(none_chosen)
    assert _payments(browser.who) == []


def test_a_bad_identifier_and_bad_dates_show_field_errors_not_a_500(api):
    browser = Browser(api, api.register())
    bad = browser.get("/pay?driving_licence=12&from=2026-13-40")
    html = _text(bad)
    assert bad.status_code == 400 and "error-summary" in html, html[:2000]
    assert 'href="#f-driving_licence"' in html or 'href="#f-from"' in html
    history = browser.get("/pay/history?from=2026-12-31&to=2026-01-01")
    assert history.status_code == 400 and 'href="#f-from"' in _text(history), _text(history)[:2000]


def test_a_double_post_of_the_same_form_makes_one_payment(api):
    browser = Browser(api, api.register())
    key, uins = _pay_form(browser)
    form = [("key", key), ("uins", uins[0]), ("method", "card")]
    first, second = browser.post("/pay", form), browser.post("/pay", form)
    assert first.status_code == second.status_code == 303, (_text(first)[:1000], _text(second)[:1000])
    assert first.headers["Location"] == second.headers["Location"]
    assert re.fullmatch(r"/pay/[0-9A-Z]{26}", first.headers["Location"])
    assert len(_payments(browser.who)) == 1
    page = browser.get(first.headers["Location"])
    html = _text(page)
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in html and "Осталось попыток: 3" in html
    wrong = browser.post(first.headers["Location"] + "/confirm", {"code": "12"})
    assert wrong.status_code == 400 and 'href="#f-code"' in _text(wrong)


def test_another_person_gets_404_on_the_first_ones_payment(api):
    first = Browser(api, api.register())
    key, uins = _pay_form(first)
    created = first.post("/pay", [("key", key), ("uins", uins[0]), ("method", "card")])
    assert created.status_code == 303
    path = created.headers["Location"]
    other = Browser(api, api.register(phone="+79161234568"))
    assert other.get(path).status_code == 404
    assert other.post(path + "/cancel", {}).status_code == 404
    assert other.post(path + "/confirm", {"code": "123456"}).status_code == 404
    assert other.get("/pay/not-an-id").status_code == 404
    assert first.get(path).status_code == 200


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(api):
    browser = Browser(api, api.register())
    key, uins = _pay_form(browser)
    refused = browser.post("/pay", [("key", key), ("uins", uins[0]), ("method", "card")], csrf=False)
    assert refused.status_code == 403, _text(refused)[:1000]
    wrong = browser.post("/pay", [("key", key), ("uins", uins[0]), ("method", "card"), ("csrf", "x" * 43)],
                         csrf=False)
    assert wrong.status_code == 403
    assert _payments(browser.who) == []


def test_history_and_cards_pages_render(api):
    browser = Browser(api, api.register())
    key, uins = _pay_form(browser)
    created = browser.post("/pay", [("key", key), ("uins", uins[0]), ("method", "sbp")])
    history = browser.get("/pay/history")
    assert history.status_code == 200 and created.headers["Location"] in _text(history)
    cancelled = browser.post(created.headers["Location"] + "/cancel", {})
    assert cancelled.status_code == 303
    assert "Отменён вами" in _text(browser.get(created.headers["Location"]))
    rejected = browser.get("/pay/history?status=rejected")
    assert created.headers["Location"] in _text(rejected)
    cards_page = browser.get("/pay/cards")
    assert cards_page.status_code == 200 and "Добавить карту" in _text(cards_page)


def _created(browser: Browser, method: str = "card") -> str:
    key, uins = _pay_form(browser)
    created = browser.post("/pay", [("key", key), ("uins", uins[0]), ("method", method)])
    assert created.status_code == 303, _text(created)[:1000]
    return created.headers["Location"]


def test_wrong_codes_show_the_field_error_and_the_third_cancels(api):
    browser = Browser(api, api.register())
    path = _created(browser)
    right = api.code_about("+79161234567", "Код для оплаты")
    wrong = "000000" if right != "000000" else "111111"
    for left in (2, 1):
        resp = browser.post(path + "/confirm", {"code": wrong})
        html = _text(resp)
        assert resp.status_code == 400 and 'href="#f-code"' in html and 'aria-invalid="true"' in html, html[:2000]
        assert f"Осталось попыток: {left}" in html
    third = browser.post(path + "/confirm", {"code": wrong})
    assert third.status_code == 303 and third.headers["Location"] == path
    cancelled = _text(browser.get(path))
    assert "Платёж отменён" in cancelled and "Три неверных кода подтверждения" in cancelled
    assert 'name="code"' not in cancelled


def test_an_acquirer_that_did_not_answer_leaves_the_payment_confirmed_with_a_way_to_start(api, monkeypatch):
    from chalicelib.adapters import acquirer
    from chalicelib.payments import payments

    browser = Browser(api, api.register())
    path = _created(browser)
    code = api.code_about("+79161234567", "Код для оплаты")

    def down(*args: Any, **kwargs: Any) -> Any:
        raise acquirer.AcquirerUnavailable("down")

    with monkeypatch.context() as patch:
        patch.setattr(payments.acquirer, "start", down)
        assert browser.post(path + "/confirm", {"code": code}).status_code == 303
        html = _text(browser.get(path))
        assert f'action="{path}/start"' in html and "Перейти к оплате" in html, html[:3000]
        refused = browser.post(path + "/start", {})
        assert refused.status_code == 503 and "error-summary" in _text(refused)
    started = browser.post(path + "/start", {})
    assert started.status_code == 303 and "/dev/acquirer/pay/" in started.headers["Location"], started.headers
    assert 'href="' + started.headers["Location"] in _text(browser.get(path))


def test_the_pages_render_in_english_too(api):
    browser = Browser(api, api.register())
    path = _created(browser)
    browser.cookies["kabinet-lang"] = "en"
    for target in ("/pay?driving_licence=" + urllib.parse.quote(LICENCE), path, "/pay/history", "/pay/cards"):
        resp = browser.get(target)
        assert resp.status_code == 200 and '<html lang="en">' in _text(resp), (target, _text(resp)[:500])


def test_exports_download_with_the_pages_filters(api):
    browser = Browser(api, api.register())
    path = _created(browser)
    history_csv = browser.get("/pay/history.csv?kind=fine")
    assert history_csv.status_code == 200, _text(history_csv)[:1000]
    assert history_csv.headers["Content-Type"].startswith("text/csv")
    assert history_csv.headers["Content-Disposition"] == 'attachment; filename="payments.csv"'
    assert path and "Штраф" in history_csv.body.decode("utf-8-sig")
    xlsx = browser.get("/pay/history.xlsx")
    assert xlsx.status_code == 200 and xlsx.body[:2] == b"PK", xlsx.body[:100]
    pdf = browser.get("/pay/history.pdf")
    assert pdf.status_code == 200 and pdf.body[:4] == b"%PDF"
    debts_csv = browser.get("/pay/debts.csv?driving_licence=" + urllib.parse.quote(LICENCE))
    assert debts_csv.status_code == 200 and "Штраф" in debts_csv.body.decode("utf-8-sig")
    assert browser.get("/pay/debts.pdf?driving_licence=" + urllib.parse.quote(LICENCE)).body[:4] == b"%PDF"
    bad = browser.get("/pay/history.csv?from=2026-12-31&to=2026-01-01")
    assert bad.status_code == 400 and 'href="#f-from"' in _text(bad)
    links = _text(browser.get("/pay/history?kind=fine"))
    assert 'href="/pay/history.xlsx?kind=fine"' in links


def _acquirer(api: Any, redirect_url: str, number: str = "2200000000000004", save: bool = False) -> str:
    """The person on the simulator's card and 3-D Secure pages; answers where the acquirer sends them back."""
    from datetime import date, timedelta

    ref = urllib.parse.urlsplit(redirect_url).path.rsplit("/", 1)[-1]
    form = {"number": number, "expiry": (date.today() + timedelta(days=800)).strftime("%m/%y"), "cvc": "123",
            "holder": "IVAN PETROV", **({"save": "on"} if save else {})}
    h = {"content-type": FORM}
    card = api.client.http.post(f"/dev/acquirer/pay/{ref}/card", headers=h, body=urllib.parse.urlencode(form).encode())
    assert card.status_code == 303, card.body[:300]
    done = api.client.http.post(f"/dev/acquirer/pay/{ref}/3ds", headers=h, body=b"code=123456")
    assert done.status_code == 303, done.body[:300]
    api.pump.drain()
    return done.headers["Location"]


def test_a_card_saved_while_paying_is_offered_next_time_and_can_be_removed(api):
    browser = Browser(api, api.register())
    key, uins = _pay_form(browser)
    path = browser.post("/pay", [("key", key), ("uins", uins[0]), ("method", "card"), ("save_card", "1")]
                        ).headers["Location"]
    assert browser.post(path + "/confirm", {"code": api.code_about("+79161234567", "Код для оплаты")}
                        ).status_code == 303
    go = re.search(r'href="([^"]*/dev/acquirer/pay/[^"]+)"', _text(browser.get(path))).group(1)
    back = _acquirer(api, go, save=True)
    assert urllib.parse.urlsplit(back).path == path and "ref=" in back
    paid = _text(browser.get(urllib.parse.urlsplit(back).path + "?" + urllib.parse.urlsplit(back).query))
    assert "<h1>Оплачено</h1>" in paid and "2200 00•• •••• 0004" in paid, paid[:3000]
    listed = _text(browser.get("/pay/cards"))
    card_id = re.search(r'action="/pay/cards/([0-9A-Z]+)/remove"', listed).group(1)
    offered = _text(browser.get("/pay?" + urllib.parse.urlencode({"driving_licence": LICENCE})))
    assert f'value="card:{card_id}"' in offered and "Сохранённая карта 2200 00•• •••• 0004" in offered
    removed = browser.post(f"/pay/cards/{card_id}/remove", {})
    assert removed.status_code == 303 and removed.headers["Location"] == "/pay/cards?removed=1"
    assert "2200 00•• •••• 0004" not in _text(browser.get("/pay/cards?removed=1"))
    assert browser.post(f"/pay/cards/{card_id}/remove", {}).status_code == 404
    added = browser.post("/pay/cards/add", {})
    assert added.status_code == 303 and "/dev/acquirer/pay/" in added.headers["Location"]


def test_an_unavailable_gisgmp_and_a_limit_show_notices_not_errors(api, monkeypatch):
    from chalicelib.payments import rules

    browser = Browser(api, api.register())
    down = _text(browser.get("/pay?driving_licence=" + urllib.parse.quote("99 12 345001")))
    assert "ГИС ГМП не отвечает" in down
    key, uins = _pay_form(browser)
    monkeypatch.setattr(rules, "limits", lambda: {"card": 100, "sbp": 100, "wallet": 100, "bank_transfer": 100})
    over = browser.post("/pay", [("key", key), ("uins", uins[0]), ("method", "wallet")])
    html = _text(over)
    assert over.status_code == 400 and "больше предела одной операции" in html, html[:3000]
    assert _payments(browser.who) == []


def test_a_fine_is_disputed_from_its_page_and_the_list_says_so(api):
    from tests import files
    from tests.test_applications import citizen

    who = citizen(api)
    browser = Browser(api, who)
    listed = browser.get("/pay?" + urllib.parse.urlencode({"driving_licence": LICENCE}))
    uins = re.findall(r'href="/pay/fines/(\d+)/dispute"', _text(listed))
    assert len(uins) >= 2, _text(listed)[:3000]  # the profile's own fines and the licence's
    form = browser.get(f"/pay/fines/{uins[0]}/dispute")
    assert form.status_code == 200 and uins[0] in _text(form), _text(form)[:1500]
    short = browser.post(f"/pay/fines/{uins[0]}/dispute", {"grounds": "нет"})
    assert short.status_code == 400 and 'id="f-grounds-error"' in _text(short), _text(short)[:2000]
    photo = api.upload(who["access_token"], files.pdf(), category="other")
    filed = browser.post(f"/pay/fines/{uins[0]}/dispute",
                         [("grounds", "На снимке чужой автомобиль, номер читается иначе"), ("attachments", photo)])
    assert filed.status_code in (302, 303) and "/applications/" in filed.headers["Location"], _text(filed)[:1500]
    api.pump.drain()
    after = _text(browser.get("/pay?" + urllib.parse.urlencode({"driving_licence": LICENCE})))
    assert "обжалуется" in after
    assert browser.get("/pay/fines/12345678901234567890/dispute").status_code == 404
