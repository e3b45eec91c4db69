"""The trusted CA list for qualified e-signatures (AU-5, DC-5): configuration in Secrets Manager.

The secret `kabinet-<stage>-esign-trust` holds `{"roots": [PEM, ...], "intermediates": [PEM, ...]}`: the root
certificates of the accredited CAs (Минцифры's list of accredited CAs, as the operator exports it) and any
intermediate certificates between them and a person's certificate. The local cloud's bootstrap fills it with the
test «Тестовый аккредитованный удостоверяющий центр» (infra/esign_ca.py); on AWS, `make secrets
ARGS=--esign-trust=<file>` does. An empty or unset secret trusts nobody: every certificate is refused.

A container rereads the list every TRUST_TTL seconds, so a CA added or withdrawn reaches warm containers.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from chalicelib.core.aws import client
from chalicelib.core.config import settings

TRUST_TTL = 300


@dataclass(frozen=True)
class TrustList:
    """Root certificates of the accredited CAs and the intermediates that may sit between them and a person's
    certificate, each as DER."""

    roots: tuple[bytes, ...] = ()
    intermediates: tuple[bytes, ...] = ()


def parse(text: str) -> TrustList:
    """The secret's value as a TrustList (DER); also what `make secrets` checks before it writes one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    doc = json.loads(text)

    def ders(pems: list[str]) -> tuple[bytes, ...]:
        return tuple(c.public_bytes(serialization.Encoding.DER) for pem in pems
                     for c in x509.load_pem_x509_certificates(pem.encode()))

    return TrustList(roots=ders(doc.get("roots", [])), intermediates=ders(doc.get("intermediates", [])))


def _load() -> TrustList:
    sm = client("secretsmanager")
    try:
        raw = sm.get_secret_value(SecretId=settings().esign_trust_secret_id)["SecretString"]
    except sm.exceptions.ResourceNotFoundException:  # created empty and not filled yet: nobody is trusted
        return TrustList()
    return parse(raw)


class _TrustCache:
    """The container's copy of the list, with its age (monotonic time: the injected clock may stand still)."""

    def __init__(self) -> None:
        self._loaded: tuple[float, TrustList] | None = None

    def __call__(self) -> TrustList:
        now = time.monotonic()
        if self._loaded is None or now - self._loaded[0] >= TRUST_TTL:
            self._loaded = (now, _load())
        return self._loaded[1]

    def cache_clear(self) -> None:
        self._loaded = None


trust_list: Any = _TrustCache()
