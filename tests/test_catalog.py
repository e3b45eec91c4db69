"""Service catalog (SV-1..SV-3): the data, search with typos, filters, sorts, paging, suggestions, categories,
service cards, pre-filled forms and popularity from the SVCSTATS partition."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import urlencode

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from chalicelib.catalog import popularity, prefill, search, services
from chalicelib.core.aws import client
from chalicelib.store import keys, table

# SV-2: every service the sources name, by the id the catalog gives it.
SV2 = {
    "passport": ["passport-replace-age", "passport-lost"],
    "foreign passport": ["foreign-passport-old", "foreign-passport-new"],
    "driving licence": ["driving-licence-replace"],
    "residence registration": ["residence-registration", "stay-registration"],
    "EGRN extract": ["egrn-extract"],
    "no-criminal-record certificate": ["no-criminal-record"],
    "tax deduction and income declaration": ["tax-deduction", "income-declaration"],
    "tax debt": ["tax-debt"],
    "OSAGO": ["osago"],
    "housing subsidy": ["housing-subsidy"],
    "SFR registration certificate": ["sfr-registration"],
    "benefits": ["child-benefit", "maternity-capital", "maternity-capital-use"],
    "sole-trader registration/changes/closure": ["sole-trader-registration", "sole-trader-changes",
                                                 "sole-trader-closure"],
    "EGRIP extract": ["egrip-extract"],
    "reports to FNS/SFR/FSS": ["reports-fns", "reports-sfr"],
    "doctor appointment": ["doctor-appointment"],
    "vehicle registration": ["vehicle-registration"],
    "complaints": ["complaint"],
}
AGENCIES = {"mvd", "gibdd", "fns", "sfr", "rosreestr", "minzdrav", "regional", "cbr"}
FULL_PROFILE = {"last_name": "Щербакова", "first_name": "Юлия", "middle_name": "Викторовна", "phone": "+79161234567",
                "email": "yulia@example.ru", "birth_date": "12.04.1988", "snils": "112-233-445 95",
                "inn": "500100732259", "address": "г. Москва, ул. Тверская, д. 1, кв. 1",
                "passport": {"series": "4509", "number": "123456", "issued_at": "2008-05-14",
                             "issued_by": "ОВД Тверской", "division_code": "772-001"}}


@pytest.fixture(autouse=True)
def fresh_counts():
    popularity.reset()
    yield
    popularity.reset()


def _get(api, path: str, token: str | None = None, **params: str):
    return api.get(f"{path}?{urlencode(params)}" if params else path, token=token)


def _ids(resp) -> list[str]:
    assert resp.status_code == 200, resp.json
    return [item["id"] for item in resp.json["items"]]


def _all_pages(api, **params: str) -> list[dict]:
    items, cursor = [], None
    while True:
        resp = _get(api, "/services", **params, **({"cursor": cursor} if cursor else {}))
        assert resp.status_code == 200, resp.json
        assert len(resp.json["items"]) <= search.PAGE
        items += resp.json["items"]
        cursor = resp.json["cursor"]
        if cursor is None:
            return items


# ------------------------------------------------------------------------------------------------ data

def test_the_catalog_data_keeps_its_invariants():
    catalog = services.all_services()
    ids = [s.id for s in catalog]
    assert len(catalog) >= 32 and len(set(ids)) == len(ids)
    assert services.check(list(catalog)) == []  # every form is a valid JSON Schema 2020-12
    assert {s.category for s in catalog} == set(services.CATEGORIES)
    assert {s.tier for s in catalog} <= set(services.TIERS)  # per service: tests/test_catalog_tiers.py
    assert {s.agency.id for s in catalog} <= AGENCIES
    assert all(s.updated <= date(2026, 11, 23) for s in catalog)
    for name, wanted in SV2.items():
        assert all(services.get(i) for i in wanted), name
    automatic = [s for s in catalog if s.automatic]
    assert len(automatic) >= 6
    assert all(s.certificate_kind and s.result == "document" for s in automatic)
    record = services.get("no-criminal-record")
    assert record.certificate_kind == "no_criminal_record" and not record.automatic and record.days == 30
    assert services.by_certificate_kind("tax_debt").id == "tax-debt"
    assert services.by_certificate_kind("nothing") is None
    assert set(prefill.SOURCES) == services.PREFILL_SOURCES
    for s in catalog:
        props = s.form["properties"]
        assert 3 <= len(props) <= 9, s.id
        for name, prop in props.items():
            assert prop.get("format") in (None, *services.FORMATS), (s.id, name)
            assert prop.get("x-prefill") in (None, *services.PREFILL_SOURCES), (s.id, name)


def test_prefilled_values_fit_every_form():
    for s in services.all_services():
        filled = prefill.prefill(s, FULL_PROFILE)
        assert set(filled["missing"]) <= set(s.form["required"])
        assert all(s.form["properties"][name].get("x-prefill") for name in filled["values"])
        partial = {**s.form, "required": []}
        errors = list(Draft202012Validator(partial).iter_errors(filled["values"]))
        assert errors == [], (s.id, [e.message for e in errors])


def _record(**change) -> dict:
    raw = json.loads(services.DATA.read_text(encoding="utf-8"))
    return {**raw[0], **change}


@pytest.mark.parametrize("records", [
    [_record(), _record()],  # duplicate id
    [_record(id="suggest")],  # would hide the route
    [_record(category="Прочее")],
    [_record(automatic=True, certificate_kind=None)],
    [_record(regions=["Москва"])],
    [_record(attachments=["photo"])],
    [_record(form={"type": "object", "additionalProperties": False, "properties": {
        "x": {"type": "string", "title": "X", "maxLength": 5, "x-prefill": "profile.salary"}}})],
    [_record(form={"type": "object", "additionalProperties": False, "properties": {
        "x": {"type": "string", "title": "X", "maxLength": 5, "format": "uuid"}}})],
    [_record(form={"type": "object", "additionalProperties": False, "properties": {
        "x": {"type": "string", "title": "X", "enum": ["a", "b"], "x-enum-titles": ["А"]}}})],
])
def test_bad_catalog_data_is_refused_on_load(records):
    with pytest.raises((ValidationError, ValueError)):
        services.parse(json.dumps(records, ensure_ascii=False))


def test_a_form_that_is_not_json_schema_is_reported():
    service = services.get("osago")
    broken = service.model_copy(update={"form": {**service.form, "required": "vin"}})
    assert services.check([service, broken]) == ["osago: 'vin' is not of type 'array'"]


# ------------------------------------------------------------------------------------------------ search

def test_search_forgives_one_typo_per_word(api):
    assert _ids(_get(api, "/services", q="спровка о судимасти"))[0] == "no-criminal-record"
    assert set(_ids(_get(api, "/services", q="загранпспорт"))[:2]) == {"foreign-passport-old", "foreign-passport-new"}
    assert _ids(_get(api, "/services", q="выпеска егрн"))[0] == "egrn-extract"


def test_search_matches_prefixes_and_treats_yo_as_ye(api):
    assert set(_ids(_get(api, "/services", q="загран"))[:2]) == {"foreign-passport-old", "foreign-passport-new"}
    with_e, with_yo = _ids(_get(api, "/services", q="учет")), _ids(_get(api, "/services", q="УЧЁТ"))
    assert with_e == with_yo and "inn-certificate" in with_e
    assert _ids(_get(api, "/services", q="запись ко врачу"))[0] == "doctor-appointment"  # "ко" is optional
    assert _ids(_get(api, "/services", q="2ндфл"))[0] == "income-2ndfl"
    assert _ids(_get(api, "/services", q="cghfdrf j celbvjcnb"))[0] == "no-criminal-record"  # Latin layout
    assert _get(api, "/services", q="паспорт квазар").json == {"items": [], "cursor": None, "total": 0}


def test_search_ranks_title_matches_above_keywords_and_description(api):
    found = _ids(_get(api, "/services", q="паспорт"))
    assert found.index("passport-lost") < found.index("foreign-passport-new")  # title word vs keyword
    assert found.index("foreign-passport-new") < found.index("state-duty-payment")  # keyword vs description


def test_filters_narrow_the_catalog(api):
    certificates = _all_pages(api, category="Справки")
    counts = {c["title"]: c["count"] for c in _get(api, "/services/categories").json}
    assert len(certificates) == counts["Справки"] and {i["category"] for i in certificates} == {"Справки"}

    moscow = {i["id"] for i in _all_pages(api, region="77")}
    novosibirsk = {i["id"] for i in _all_pages(api, region="54")}
    assert {"resident-parking", "kindergarten", "doctor-appointment", "passport-lost"} <= moscow
    assert "resident-parking" not in novosibirsk and "kindergarten" not in novosibirsk
    assert {"doctor-appointment", "passport-lost"} <= novosibirsk

    quick = _all_pages(api, max_days="1")
    assert quick and all(i["days"] <= 1 for i in quick)
    assert "no-criminal-record" not in {i["id"] for i in quick}
    found = _ids(_get(api, "/services", q="справка", category="Справки", max_days="1"))
    assert "tax-debt" in found and "no-criminal-record" not in found


@pytest.mark.parametrize(("params", "field"), [
    ({"category": "Прочее"}, "category"), ({"region": "moscow"}, "region"), ({"region": "777"}, "region"),
    ({"max_days": "0"}, "max_days"), ({"max_days": "-3"}, "max_days"), ({"max_days": "два"}, "max_days"),
    ({"max_days": "1.5"}, "max_days"), ({"sort": "random"}, "sort"), ({"q": "я" * 201}, "q"),
])
def test_bad_filters_answer_400(api, params, field):
    resp = _get(api, "/services", **params)
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == "VALIDATION_ERROR" and field in resp.json["error"]["fields"]


def test_sorts(api):
    """`title` is А→Я with ё as е and case ignored (docs/catalog.md): the known titles in their literal order."""
    known = ["egrip-extract", "egrn-extract", "pension-account", "sole-trader-closure", "sole-trader-registration",
             "complaint", "child-benefit", "foreign-passport-new", "foreign-passport-old", "tax-deduction",
             "inn-certificate", "kindergarten", "income-2ndfl", "tax-payment"]
    by_title = [i["id"] for i in _all_pages(api, sort="title")]
    assert [i for i in by_title if i in known] == known
    updated = [i["updated"] for i in _all_pages(api, sort="updated")]
    assert updated == sorted(updated, reverse=True)
    tiers = [services.TIERS.index(i["tier"]) for i in _all_pages(api, sort="tier")]
    assert tiers == sorted(tiers)
    found = _ids(_get(api, "/services", q="справка", sort="title"))
    assert found == ["income-2ndfl", "pension-amount", "tax-debt", "no-criminal-record", "self-employed-certificate",
                     "drug-offence-certificate"]


def test_the_title_sort_reads_yo_as_ye_and_ignores_case(api):
    """The catalog's own titles never hinge on ё or on case, so seven services are retitled where they do: by code
    point «Ёмкость» would come first (Ё precedes А) and «Бланк» before «аренда»."""
    titles = ["Счета", "Есть", "Бланк", "Ёмкость", "аренда", "Счёт", "Ежегодный"]
    retitled = [s.model_copy(update={"title": t}) for s, t in zip(services.all_services(), titles, strict=False)]
    found = search.search(sort="title", index=search.Index(retitled))["items"]
    assert [i["title"] for i in found] == ["аренда", "Бланк", "Ежегодный", "Ёмкость", "Есть", "Счёт", "Счета"]


def test_paging_walks_the_whole_catalog_once(api):
    items = _all_pages(api)
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == len(services.all_services())
    first = _get(api, "/services")
    assert len(first.json["items"]) == search.PAGE and first.json["total"] == len(ids)
    other_list = _get(api, "/services", sort="title", cursor=first.json["cursor"])
    assert other_list.status_code == 400 and other_list.json["error"]["code"] == "INVALID_CURSOR"
    for garbage in ("garbage!", "eyJvIjogLTF9", "bm90IGpzb24"):
        resp = _get(api, "/services", cursor=garbage)
        assert resp.status_code == 400 and resp.json["error"]["code"] == "INVALID_CURSOR"


# ------------------------------------------------------------------------------------------------ suggest, categories

def test_suggest_is_short_case_insensitive_and_public(api):
    lower = _get(api, "/services/suggest", q="справка")
    assert lower.status_code == 200 and lower.headers["Cache-Control"] == "public, max-age=60"
    assert 1 <= len(lower.json["items"]) <= 10
    assert set(lower.json["items"][0]) == {"id", "title"}
    assert _get(api, "/services/suggest", q="СПРАВКА").json == lower.json
    assert len(_get(api, "/services/suggest", q="на").json["items"]) == 10  # a broad prefix is capped
    assert _get(api, "/services/suggest", q="с").json == {"items": []}
    assert api.get("/services/suggest").json == {"items": []}
    assert _get(api, "/services/suggest", q="судимасть").json["items"][0]["id"] == "no-criminal-record"


def test_categories_count_the_whole_catalog(api):
    resp = api.get("/services/categories")
    assert resp.status_code == 200
    assert [c["title"] for c in resp.json] == ["Документы", "Оплата", "Заявления", "Справки"]
    assert sum(c["count"] for c in resp.json) == len(services.all_services()) == _get(api, "/services").json["total"]


# ------------------------------------------------------------------------------------------------ card, prefill

def test_service_card_and_unknown_service(api):
    card = api.get("/services/no-criminal-record")
    assert card.status_code == 200
    body = card.json
    assert body["title"] == "Справка о наличии (отсутствии) судимости" and body["agency"]["id"] == "mvd"
    assert body["attachments"] == [{"category": "passport", "title": "Паспорт"}]
    assert body["form"]["properties"]["snils"]["format"] == "snils" and "snils" in body["form"]["required"]
    assert body["tier_title"] == "Подтверждённая" and body["certificate_kind"] == "no_criminal_record"
    missing = api.get("/services/no-such-service")
    assert missing.status_code == 404
    assert missing.json["error"] == {"code": "NOT_FOUND", "message": "Услуга не найдена", "fields": {}}
    assert api.get("/services/no-such-service/prefill", token=api.register()["access_token"]).status_code == 404


def test_prefill_takes_what_the_profile_has(api):
    user = api.register()
    token = user["access_token"]
    resp = api.get("/services/no-criminal-record/prefill", token=token)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert resp.json["service_id"] == "no-criminal-record"
    assert resp.json["values"] == {"last_name": "Кузнецов", "first_name": "Алексей"}
    assert resp.json["missing"] == ["birth_date", "birth_place", "snils", "purpose", "address"]
    assert resp.json["tier"] == {"required": "confirmed", "current": "simplified", "enough": False}

    table.update(keys.user(user["user_id"]), "SET birth_date = :b, snils = :s, passport = :p, address = :a",
                 values={":b": "12.04.1988", ":s": "112-233-445 95", ":p": FULL_PROFILE["passport"],
                         ":a": FULL_PROFILE["address"]})
    values = api.get("/services/no-criminal-record/prefill", token=token).json
    assert values["values"]["birth_date"] == "1988-04-12" and values["values"]["snils"] == "11223344595"
    assert values["missing"] == ["birth_place", "purpose"]
    passport = api.get("/services/passport-replace-age/prefill", token=token).json
    assert passport["values"]["passport"] == "4509123456" and passport["values"]["phone"] == "+79161234567"


def test_prefill_needs_sign_in(api):
    resp = api.get("/services/no-criminal-record/prefill")
    assert resp.status_code == 401 and resp.json["error"]["code"] == "UNAUTHORIZED"


# ------------------------------------------------------------------------------------------------ popularity

def _count(service_id: str, submitted: int) -> None:
    table.put({"pk": keys.service_stats(service_id)[0], "sk": keys.service_stats(service_id)[1],
               "submitted": submitted})


def test_popularity_orders_the_catalog_and_is_cached(api, fake_clock):
    before = _ids(_get(api, "/services"))
    assert before[:2] != ["osago", "tax-debt"]
    _count("tax-debt", 12)
    _count("osago", 40)
    assert _ids(_get(api, "/services")) == before  # counts are cached for the container
    popularity.reset()
    found = _get(api, "/services").json["items"]
    assert [i["id"] for i in found[:2]] == ["osago", "tax-debt"] and found[0]["popularity"] == 40
    assert _ids(_get(api, "/services", q="справка"))[0] == "tax-debt"  # equal relevance: the popular first
    assert _get(api, "/services/suggest", q="справка").json["items"][0]["id"] == "tax-debt"

    _count("egrn-extract", 100)
    assert _ids(_get(api, "/services"))[0] == "osago"
    fake_clock.advance(popularity.TTL + 1)
    assert _ids(_get(api, "/services"))[0] == "egrn-extract"
    assert api.get("/services/egrn-extract").json["popularity"] == 100


def test_browsing_reads_the_table_at_most_once_per_ttl(api):
    calls: list[str] = []

    def count(model, **_):
        calls.append(model.name)

    client("dynamodb").meta.events.register("before-call.dynamodb", count)
    for q in ("пасп", "справка о суд", "загранпспорт", "вычет"):
        assert _get(api, "/services/suggest", q=q).status_code == 200
        assert _get(api, "/services", q=q).status_code == 200
    assert api.get("/services/categories").status_code == 200
    assert api.get("/services/osago").status_code == 200
    client("dynamodb").meta.events.unregister("before-call.dynamodb", count)
    assert calls == ["Query"]
