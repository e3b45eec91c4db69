"""Operator commands against the stage boto3 points at (AWS credentials, or AWS_ENDPOINT_URL for moto).

    python -m infra.admin officer --agency fns --phone +79991234567 --last-name Соколов --first-name Андрей \
        --department "Межрайонная ИФНС" --password '...'
    python -m infra.admin operator --phone +79992000005 --last-name Кузнецова --first-name Татьяна \
        --office "МФЦ «Мои документы» района Хамовники" --password '...'

News (NT-4, docs/news.md): an editor account, and publishing without one (the actor is `admin`):
    python -m infra.admin editor --phone +79993000005 --last-name Белова --first-name Наталья \
        --office "Редакция портала госуслуг" --password '...'
    python -m infra.admin news-publish --title "Пенсии проиндексированы" --topic pensions [--topic taxes] \
        (--text "…" | --file news.txt)

Local cloud only (the test accredited CA, docs/esign.md):
    python -m infra.admin esign-issue --login +79990000001 [--out ivanov] [--pin 1234] [--days 365]
    python -m infra.admin esign-sign --cert ivanov.crt --key ivanov.key [--pin 1234] \
        (--challenge 'kabinet-login:…' | --request <application id> | --file content.json)

Push notifications (docs/push.md):
    python -m infra.admin push-apps --stage prod --apns-key AuthKey_ABC123.p8 --apns-key-id ABC123 \
        --apns-team-id TEAM123456 --apns-bundle-id ru.gosuslugi.kabinet --fcm-service-account firebase.json
    python -m infra.admin push-disable <endpoint arn>   (local cloud: what SNS does to a token Apple refused)

Single sign-on (issue 15, docs/sso.md): register a relying party (a state system signing people in with Kabinet)
    python -m infra.admin sso-client --client-id pfr-lk --name "Личный кабинет СФР" \
        --redirect-uri https://lk.sfr.example/callback --scope openid --scope profile --scope snils \
        --auth-method private_key_jwt --jwks pfr-lk.jwks.json [--sector sfr.example] [--public-sub] \
        [--post-logout-redirect-uri https://lk.sfr.example/] \
        [--backchannel-logout-uri https://lk.sfr.example/backchannel-logout] [--id-token-alg RS256]
    (--auth-method client_secret_basic: the secret is generated and printed once; none: a public client, PKCE only)
    python -m infra.admin sso-clients [--json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from chalicelib.identity.contacts import normalize_phone
from chalicelib.identity.password_policy import check_password
from infra.seed import add_editor, add_officer, add_operator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    officer = commands.add_parser("officer", help="create an agency officer account")
    for name in ("agency", "phone", "last-name", "first-name", "department", "password"):
        officer.add_argument(f"--{name}", required=True)
    officer.add_argument("--middle-name")
    operator = commands.add_parser("operator", help="create a service-centre (МФЦ) operator account")
    for name in ("phone", "last-name", "first-name", "office", "password"):
        operator.add_argument(f"--{name}", required=True)
    editor = commands.add_parser("editor", help="create a news editor account")  # news (NT-4)
    for name in ("phone", "last-name", "first-name", "office", "password"):
        editor.add_argument(f"--{name}", required=True)
    news = commands.add_parser("news-publish", help="publish news now; subscribers are notified")
    news.add_argument("--title", required=True)
    news.add_argument("--topic", action="append", required=True, help="a topic of the catalog; repeat for more")
    body = news.add_mutually_exclusive_group(required=True)
    body.add_argument("--text")
    body.add_argument("--file", type=Path, help="the text, UTF-8; paragraphs separated by an empty line")
    issue = commands.add_parser("esign-issue", help="local: a demo e-signature certificate for an account")
    issue.add_argument("--login", required=True, help="the account's phone, e-mail or SNILS")
    issue.add_argument("--out", help="file name without extension (default: esign-<login digits>)")
    issue.add_argument("--pin", help="encrypt the private key with this PIN (the signing tool asks for it)")
    issue.add_argument("--days", type=int, default=365, help="validity in days (default 365)")
    sign = commands.add_parser("esign-sign", help="local: a detached CMS signature, as a signing tool makes it")
    sign.add_argument("--cert", required=True, type=Path)
    sign.add_argument("--key", required=True, type=Path)
    sign.add_argument("--pin")
    what = sign.add_mutually_exclusive_group(required=True)
    what.add_argument("--challenge", help="the text from POST /auth/esign/challenge")
    what.add_argument("--request", help="an application id: its canonical content (GET …/signature-content)")
    what.add_argument("--file", type=Path, help="sign these bytes as they are")
    # -- push (NF-3; docs/push.md) --
    apps = commands.add_parser("push-apps", help="create or update the stage's SNS platform applications")
    apps.add_argument("--stage", required=True)
    for flag in ("apns-key", "apns-key-id", "apns-team-id", "apns-bundle-id", "fcm-service-account"):
        apps.add_argument(f"--{flag}")
    disable = commands.add_parser("push-disable", help="local: disable a device's endpoint, as SNS does to a "
                                                       "token the platform refused")
    disable.add_argument("arn")
    # -- single sign-on (issue 15; docs/sso.md) --
    sso_parsers(commands)
    args = parser.parse_args(argv)
    if args.command in ("push-apps", "push-disable"):
        return push_command(args)
    if args.command in ("sso-client", "sso-clients"):
        return sso_command(args)
    if args.command == "esign-issue":
        return esign_issue(args.login, args.out, args.pin, args.days)
    if args.command == "esign-sign":
        return esign_sign(args)
    if args.command == "news-publish":
        return news_publish(args)
    phone = normalize_phone(args.phone)
    if phone is None:
        print("Телефон: +7XXXXXXXXXX", file=sys.stderr)
        return 2
    reasons = check_password(args.password, args.password, names=(args.last_name, args.first_name), phone=phone)
    if reasons:
        print("Пароль: " + "; ".join(reasons), file=sys.stderr)
        return 2
    if args.command == "editor":
        if not add_editor(last_name=args.last_name, first_name=args.first_name, office=args.office, phone=phone,
                          password=args.password):
            print("Этот телефон уже занят", file=sys.stderr)
            return 1
        print(f"editor {phone} created")
        return 0
    if args.command == "operator":
        if not add_operator(last_name=args.last_name, first_name=args.first_name, office=args.office, phone=phone,
                            password=args.password):
            print("Этот телефон уже занят", file=sys.stderr)
            return 1
        print(f"operator {phone} created for office {args.office}")
        return 0
    if not add_officer(agency=args.agency, last_name=args.last_name, first_name=args.first_name,
                       middle_name=args.middle_name, department=args.department, phone=phone,
                       password=args.password):
        print("Этот телефон уже занят", file=sys.stderr)
        return 1
    print(f"officer {phone} created for agency {args.agency}")
    return 0


def news_publish(args: argparse.Namespace) -> int:
    """Publish as `admin` (the same transaction and fan-out as an editor's POST /editor/news)."""
    from chalicelib.core.errors import DomainError
    from chalicelib.news import publications
    from chalicelib.news.topics import TOPICS

    unknown = [t for t in args.topic if t not in TOPICS]
    if unknown:
        print(f"Неизвестная тема: {', '.join(unknown)}; темы: {', '.join(TOPICS)}", file=sys.stderr)
        return 2
    text = args.file.read_text(encoding="utf-8") if args.file else args.text
    try:
        done = publications.publish(publications.ADMIN, args.title, text, args.topic, None)
    except DomainError as exc:
        print("; ".join([exc.message, *map(str, (exc.fields or {}).values())]), file=sys.stderr)
        return 2
    print(f"published {done['id']}")
    return 0


def esign_issue(login: str, out: str | None, pin: str | None, days: int) -> int:
    """A certificate of the test accredited CA with the account's checked name, SNILS and INN: <out>.crt and
    <out>.key (PKCS#8, encrypted with the PIN if given)."""
    from chalicelib.identity.auth import find_user
    from chalicelib.identity.contacts import classify_login
    from infra import esign_ca

    found = classify_login(login)
    user = find_user(*found) if found else None
    if user is None:
        print("Учётная запись не найдена", file=sys.stderr)
        return 1
    if not user.get("snils"):
        print("У учётной записи нет проверенного СНИЛС: сначала личные данные и проверка", file=sys.stderr)
        return 1
    if days < 1:
        print("--days: от 1", file=sys.stderr)
        return 2
    try:
        ca = esign_ca.load_ca()
    except esign_ca.NoLocalCa:
        print("Тестовый удостоверяющий центр есть только в локальном облаке (make run)", file=sys.stderr)
        return 1
    issued = esign_ca.issue(ca, last_name=user["last_name"], first_name=user["first_name"],
                            middle_name=user.get("middle_name"), snils=user["snils"], inn=user.get("inn"),
                            days=days, pin=pin)
    base = Path(out or "esign-" + "".join(c for c in login if c.isalnum()))
    cert, key = base.with_suffix(".crt"), base.with_suffix(".key")
    cert.write_text(issued.cert_pem, encoding="ascii")
    key.write_text(issued.key_pem, encoding="ascii")
    key.chmod(0o600)
    print(f"certificate: {cert}\nprivate key: {key}{' (PIN-protected)' if pin else ''}")
    return 0


def esign_sign(args: argparse.Namespace) -> int:
    """Print the base64 detached CMS over a challenge, an application's canonical content, or a file."""
    from infra import esign_ca

    if args.request:
        from chalicelib.applications import views
        from chalicelib.esign import signing

        req = views.load(args.request)
        if req is None:
            print("Заявление не найдено", file=sys.stderr)
            return 1
        content = signing.canonical(req)
    elif args.file:
        content = args.file.read_bytes()
    else:
        content = args.challenge.encode()
    try:
        print(esign_ca.sign(content, args.cert.read_text(encoding="ascii"), args.key.read_text(encoding="ascii"),
                            args.pin))
    except esign_ca.WrongPin:
        print("Неверный PIN-код: ключ не открывается (так отвечает средство подписи; сервер PIN не видит)",
              file=sys.stderr)
        return 2
    return 0


# -- push (NF-3; docs/push.md) --
def push_command(args: argparse.Namespace) -> int:
    """`push-apps`: each platform whose credentials are given gets its application made or updated (APNs with
    a token signing key, FCM with an HTTP v1 service-account key). `push-disable`: the local dead endpoint."""
    import boto3

    from infra import push

    sns = boto3.client("sns")
    if args.command == "push-disable":
        from chalicelib.adapters.push import disable_endpoint

        disable_endpoint(args.arn)
        print(f"disabled {args.arn}: the next push to it fails with EndpointDisabled")
        return 0
    given = {"apns": all((args.apns_key, args.apns_key_id, args.apns_team_id, args.apns_bundle_id)),
             "fcm": bool(args.fcm_service_account)}
    if not any(given.values()):
        print("Укажите ключ APNs (--apns-key, --apns-key-id, --apns-team-id, --apns-bundle-id) и/или "
              "--fcm-service-account", file=sys.stderr)
        return 2
    if given["apns"]:
        arn = push.ensure(sns, args.stage, "apns", {
            "PlatformCredential": Path(args.apns_key).read_text(encoding="ascii"),
            "PlatformPrincipal": args.apns_key_id, "ApplePlatformTeamID": args.apns_team_id,
            "ApplePlatformBundleID": args.apns_bundle_id})
        print(f"apns: {arn}")
    if given["fcm"]:
        arn = push.ensure(sns, args.stage, "fcm", {
            "PlatformCredential": Path(args.fcm_service_account).read_text(encoding="utf-8")})
        print(f"fcm: {arn}")
    return 0


# -- single sign-on (issue 15; docs/sso.md) --
def sso_parsers(commands: Any) -> None:
    """`sso-client` takes every field `chalicelib.sso.clients.register` takes; `sso-clients` lists them."""
    from chalicelib.sso.claims import SCOPES
    from chalicelib.sso.clients import AUTH_METHODS, ID_TOKEN_ALGS

    client = commands.add_parser("sso-client", help="register a relying party of single sign-on (OIDC client)")
    client.add_argument("--client-id", required=True)
    client.add_argument("--name", required=True, help="the system's name people see on the consent page")
    client.add_argument("--redirect-uri", action="append", required=True,
                        help="matched exactly; https, or http on the loopback address; repeat for more")
    client.add_argument("--scope", action="append", required=True, choices=SCOPES,
                        help="a scope the client may ask for (openid is required); repeat for more")
    client.add_argument("--auth-method", choices=AUTH_METHODS, default=AUTH_METHODS[0],
                        help="token endpoint authentication (default private_key_jwt)")
    client.add_argument("--jwks", help="private_key_jwt: the client's public JWKS, a file or inline JSON "
                                       "(no jwks_uri: keys are registered, not fetched)")
    client.add_argument("--sector", help="sector identifier of pairwise sub (default: the client id)")
    client.add_argument("--public-sub", action="store_true", help="the person's id as sub (explicitly allowed)")
    client.add_argument("--post-logout-redirect-uri", action="append", default=[],
                        help="where end-session may send the browser back; repeat for more")
    client.add_argument("--backchannel-logout-uri", help="OIDC Back-Channel Logout: where logout tokens go")
    client.add_argument("--id-token-alg", choices=ID_TOKEN_ALGS, default=ID_TOKEN_ALGS[0])
    listing = commands.add_parser("sso-clients", help="list the registered relying parties")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")


def _uri_refusal(uri: str) -> str | None:
    """Why a redirect-type URI cannot be registered: https or loopback http, absolute, no fragment (OIDC
    Core 3.1.2.1, RFC 8252 7.3), or None."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(uri)
    except ValueError:
        return "не разбирается как адрес"
    if parts.fragment or "#" in uri:
        return "адрес не может содержать #фрагмент"
    if not parts.hostname:
        return "нужен полный адрес со схемой и хостом"
    loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not loopback:
        return "нужен https (http — только для 127.0.0.1 и localhost)"
    return None


def _read_jwks(value: str) -> dict[str, Any]:
    """The client's public JWKS from a file or inline JSON; refuses URLs and any private key material."""
    import json

    from joserfc.jwk import KeySet

    if value.startswith(("http://", "https://")):
        raise ValueError("ключи регистрируются, а не загружаются по адресу: передайте файл или JSON")
    text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
    jwks = json.loads(text)
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ValueError('нужен JWKS: {"keys": [...]} хотя бы с одним ключом')
    KeySet.import_key_set(jwks)  # each key must parse
    private = {"d", "p", "q", "dp", "dq", "qi", "k"}
    if any(private & set(k) for k in jwks["keys"]):
        raise ValueError("в JWKS есть закрытый ключ: регистрируются только открытые")
    if any(not k.get("kid") for k in jwks["keys"]):
        raise ValueError("у каждого ключа нужен kid")
    return jwks


def sso_command(args: argparse.Namespace) -> int:
    if args.command == "sso-clients":
        return sso_list(args.json)
    return sso_register(args)


def sso_register(args: argparse.Namespace) -> int:
    """Check what the core does not (URIs, JWKS shape, openid), then `clients.register` writes the client once
    with its audit entry. A client_secret_basic secret is generated here and printed once: only its hash stays."""
    import secrets

    from chalicelib.sso import clients
    from chalicelib.store.table import ConditionFailed

    for uri in [*args.redirect_uri, *args.post_logout_redirect_uri,
                *([args.backchannel_logout_uri] if args.backchannel_logout_uri else [])]:
        why = _uri_refusal(uri)
        if why:
            print(f"{uri}: {why}", file=sys.stderr)
            return 2
    if "openid" not in args.scope:
        print("--scope openid обязателен: это вход по OpenID Connect", file=sys.stderr)
        return 2
    if args.jwks and args.auth_method != "private_key_jwt":
        print("--jwks нужен только для --auth-method private_key_jwt", file=sys.stderr)
        return 2
    jwks = None
    if args.auth_method == "private_key_jwt":
        if not args.jwks:
            print("private_key_jwt: укажите --jwks (файл или JSON с открытыми ключами системы)", file=sys.stderr)
            return 2
        try:
            jwks = _read_jwks(args.jwks)
        except (OSError, ValueError) as exc:  # json.JSONDecodeError and joserfc's errors are ValueErrors
            print(f"--jwks: {exc}", file=sys.stderr)
            return 2
    secret = secrets.token_urlsafe(32) if args.auth_method == "client_secret_basic" else None
    try:
        clients.register(args.client_id, name=args.name, redirect_uris=list(dict.fromkeys(args.redirect_uri)),
                         scopes=list(dict.fromkeys(args.scope)), auth_method=args.auth_method, secret=secret,
                         jwks=jwks, sector=args.sector, public_sub=args.public_sub,
                         post_logout_redirect_uris=list(dict.fromkeys(args.post_logout_redirect_uri)),
                         backchannel_logout_uri=args.backchannel_logout_uri, id_token_alg=args.id_token_alg)
    except ConditionFailed:
        print(f"Система {args.client_id} уже зарегистрирована", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"client {args.client_id} registered ({args.auth_method})")
    if secret:
        print(f"client_secret: {secret}\n(shown once: only its hash is stored)")
    return 0


def registered_clients() -> list[dict[str, Any]]:
    """Every registered client. An admin's rare look: a filtered Scan of the table (no index lists clients yet;
    docs/sso.md), paginated, eventually consistent."""
    from chalicelib.core import aws
    from chalicelib.core.config import settings
    from chalicelib.store import codec, keys

    prefix, sort = keys.sso_client("")
    found = []
    for page in aws.client("dynamodb").get_paginator("scan").paginate(
            TableName=settings().table, FilterExpression="sk = :sk AND begins_with(pk, :p)",
            ExpressionAttributeValues={":sk": {"S": sort}, ":p": {"S": prefix}}):
        found.extend(codec.from_item(i) for i in page["Items"])
    return sorted(found, key=lambda c: c["client_id"])


def sso_list(as_json: bool) -> int:
    import json

    for c in registered_clients():
        shown = {k: c.get(k) for k in ("client_id", "name", "auth_method", "scopes", "redirect_uris", "sector",
                                       "public_sub", "post_logout_redirect_uris", "backchannel_logout_uri",
                                       "id_token_alg")}
        if as_json:
            print(json.dumps(shown, ensure_ascii=False, default=str))
        else:
            print(f"{c['client_id']}\t{c.get('name', '')}\t{c['auth_method']}\t{' '.join(c['scopes'])}\t"
                  f"{' '.join(c['redirect_uris'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
