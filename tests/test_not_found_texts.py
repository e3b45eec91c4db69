"""«Не найден» agrees with the noun (issue 9, defect 8): Заявление не найдено, Регистрация не найдена."""

from __future__ import annotations

import pytest

from chalicelib.core.ids import new_id

CASES = [
    ("GET", "/requests/{id}", "Заявление не найдено"),
    ("POST", "/requests/{id}/cancel", "Заявление не найдено"),
    ("GET", "/documents/{id}", "Документ не найден"),
    ("POST", "/me/messages/{id}/read", "Сообщение не найдено"),
    ("DELETE", "/me/sessions/{id}", "Сеанс не найден"),
    ("POST", "/me/login-history/{id}/not-me", "Запись истории входов не найдена"),
    ("GET", "/services/{id}", "Услуга не найдена"),
]


@pytest.mark.parametrize(("method", "path", "message"), CASES)
def test_not_found_messages_agree_in_gender(api, method, path, message):
    token = api.register()["access_token"]
    resp = api.call(method, path.format(id=new_id()), {} if method == "POST" else None, token=token)
    assert resp.status_code == 404 and resp.json["error"] == {"code": "NOT_FOUND", "message": message, "fields": {}}


def test_an_unknown_registration_is_feminine(api):
    resp = api.post(f"/auth/registrations/{new_id()}/confirm", {"code": "123456"})
    assert resp.status_code == 404 and resp.json["error"]["message"] == "Регистрация не найдена"
