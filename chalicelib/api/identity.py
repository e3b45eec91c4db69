"""Personal data and the identity page (ID-3, ID-6, ID-8)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.identity import personal
from chalicelib.identity.personal_models import CheckingOut, IdentityOut, PersonalDataIn

bp = Blueprint(__name__)


@endpoint(bp, "PUT", "/me/personal-data", summary="Submit personal data for the state-registry checks (MVD, SFR, FNS)",
          body=PersonalDataIn, response=CheckingOut, status=202, role="citizen", tag="identity",
          checked={"birth_date": "не в будущем и не раньше 1900 года",
                   "snils": "контрольное число СНИЛС", "inn": "контрольные цифры ИНН",
                   "birth_place": "не короче 2 символов после схлопывания пробелов",
                   "passport.issued_by": "не короче 5 символов после схлопывания пробелов",
                   "address": "не короче 5 символов после схлопывания пробелов",
                   "passport.issued_at": "не в будущем и не раньше 14-летия",
                   "passport_document_id": "свой проверенный скан паспорта; нужен, когда меняются проверенные ФИО, "
                                           "дата рождения, пол или паспорт"})
def submit(call: Call, body: PersonalDataIn) -> dict[str, Any]:
    return personal.submit(call.user_id, body, call.origin.ip)


@endpoint(bp, "GET", "/me/identity", summary="Tier, checked data, data being checked, registry answers, next tier",
          response=IdentityOut, role="citizen", tag="identity")
def identity(call: Call) -> dict[str, Any]:
    return personal.identity(call.user_id)
