"""`make secrets STAGE=…`: the one-time command that fills the stage's empty secrets after the first deploy.

CloudFormation can generate only random strings, and our secrets are key pairs, so the stack creates them
empty and this puts the values in, once: a secret that already has a value is left alone (rotation is a
runbook step, docs/runbook.md). The token-signing keys, the single sign-on keys with their pairwise-`sub` secret
(docs/sso.md: that secret must never be regenerated) and the acquirer's webhook HMAC key (32 random bytes,
docs/acquirer.md) are generated here. The document-signing identity
comes from the operator's CA (`--document-identity file.json`); `--self-signed` makes a test identity for
a dev stage. The trusted CA list for qualified e-signatures (`--esign-trust roots.pem`: the accredited CAs' root
certificates, PEM, one after another; or a JSON `{roots, intermediates}`) is configuration rather than a secret,
but lives beside them; unlike the keys it may be replaced (`--esign-trust` again overwrites it: CAs gain and lose
accreditation). Locally, infra/bootstrap.py makes them all.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.resources import name


def ensure(sm: Any, secret_id: str, make: Callable[[], str]) -> bool:
    """Put `make()` into the secret when it has no value yet; True when it did."""
    try:
        sm.get_secret_value(SecretId=secret_id)
    except sm.exceptions.ResourceNotFoundException:
        sm.put_secret_value(SecretId=secret_id, SecretString=make())
        return True
    return False


def rotate(sm: Any, secret_id: str, step: str) -> dict[str, Any]:
    """One step of a token-key rotation (docs/runbook.md); returns the new secret value.

    add:      a new key joins `keys` (the JWKS serves it; nothing signs with it yet);
    activate: the added key signs from now on (wait tokens.KEYS_TTL after `add`: every container knows it);
    retire:   every other key goes (wait ACCESS_TTL + KEYS_TTL after `activate`: no token names it).
    """
    from chalicelib.core.tokens import new_signing_secret

    doc = json.loads(sm.get_secret_value(SecretId=secret_id)["SecretString"])
    if step == "add":
        fresh = json.loads(new_signing_secret())
        doc["next_kid"] = fresh["active_kid"]
        doc["keys"].update(fresh["keys"])
    elif step == "activate":
        if "next_kid" not in doc:
            raise SystemExit("nothing to activate: run the `add` step first")
        doc["active_kid"] = doc.pop("next_kid")
    elif step == "retire":
        doc["keys"] = {doc["active_kid"]: doc["keys"][doc["active_kid"]]}
    else:
        raise SystemExit(f"unknown rotation step {step!r}: add, activate or retire")
    sm.put_secret_value(SecretId=secret_id, SecretString=json.dumps(doc))
    return doc


# -- single sign-on (issue 15; docs/sso.md "Signing keys") --
def rotate_sso(sm: Any, secret_id: str, step: str) -> dict[str, Any]:
    """One step of an SSO key rotation (chalicelib/sso/signing.py `rotated`, docs/runbook.md); returns the new
    secret value. The pairwise secret is carried over unchanged."""
    from chalicelib.sso.signing import rotated

    try:
        value = rotated(sm.get_secret_value(SecretId=secret_id)["SecretString"], step)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    sm.put_secret_value(SecretId=secret_id, SecretString=value)
    return dict(json.loads(value))


def main() -> None:
    import boto3

    from chalicelib.adapters.acquirer import new_webhook_secret
    from chalicelib.adapters.signer import new_identity
    from chalicelib.core.tokens import new_signing_secret

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--document-identity", type=Path, help="JSON {key, cert, chain, trust} from the CA")
    source.add_argument("--self-signed", action="store_true", help="a test signing identity (not for prod)")
    source.add_argument("--rotate-token-key", choices=["add", "activate", "retire"],
                        help="one step of a token-key rotation (docs/runbook.md)")
    source.add_argument("--rotate-sso-key", choices=["add", "activate", "retire"],
                        help="one step of an SSO key rotation (docs/runbook.md); the pairwise secret stays")
    parser.add_argument("--esign-trust", type=Path,
                        help="trusted CA list for e-signatures: PEM roots, or JSON {roots, intermediates}")
    args = parser.parse_args()
    if args.rotate_token_key:
        doc = rotate(boto3.client("secretsmanager"), name(args.stage, "token-signing"), args.rotate_token_key)
        print(f"token keys: active {doc['active_kid']}, all {sorted(doc['keys'])}")
        return
    if args.rotate_sso_key:  # single sign-on (issue 15)
        doc = rotate_sso(boto3.client("secretsmanager"), name(args.stage, "sso-signing"), args.rotate_sso_key)
        print(f"SSO keys: active {doc['active']}, all {sorted(doc['keys'])}")
        return
    if args.self_signed and args.stage == "prod":
        raise SystemExit("prod signs documents with the operator's CA: pass --document-identity")
    sm = boto3.client("secretsmanager")
    tokens = name(args.stage, "token-signing")
    print(tokens, "filled" if ensure(sm, tokens, new_signing_secret) else "already set")
    webhook = name(args.stage, "acquirer-webhook")  # give the acquirer this value (docs/acquirer.md)
    print(webhook, "filled" if ensure(sm, webhook, new_webhook_secret) else "already set")
    from chalicelib.sso.signing import new_sso_secret  # single sign-on (issue 15): filled once, never again

    sso = name(args.stage, "sso-signing")
    print(sso, "filled" if ensure(sm, sso, new_sso_secret) else "already set")
    documents = name(args.stage, "document-signing")
    if args.document_identity or args.self_signed:
        make = (lambda: args.document_identity.read_text(encoding="utf-8")) if args.document_identity else (
            lambda: new_identity(args.stage))
        print(documents, "filled" if ensure(sm, documents, make) else "already set")
    else:
        print(documents, "not touched: pass --document-identity (or --self-signed on a dev stage)")
    trust = name(args.stage, "esign-trust")
    if args.esign_trust:
        value = esign_trust_value(args.esign_trust.read_text(encoding="utf-8"))
        sm.put_secret_value(SecretId=trust, SecretString=value)
        from chalicelib.adapters.esign_trust import parse

        print(trust, "set:", len(parse(value).roots), "root certificate(s)")
    else:
        print(trust, "not touched: pass --esign-trust roots.pem (until then no e-signature certificate is trusted)")


def esign_trust_value(text: str) -> str:
    """The trusted CA list's secret value from a PEM bundle of roots or a JSON document; checked by parsing it."""
    from chalicelib.adapters.esign_trust import parse

    if text.lstrip().startswith("{"):
        doc = json.loads(text)
        value = json.dumps({"roots": doc.get("roots", []), "intermediates": doc.get("intermediates", [])})
    else:
        value = json.dumps({"roots": [text], "intermediates": []})
    if not parse(value).roots:
        raise SystemExit("--esign-trust: no root certificate found")
    return value


if __name__ == "__main__":
    main()
