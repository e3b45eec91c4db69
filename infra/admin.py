"""Operator commands against the stage boto3 points at (AWS credentials, or AWS_ENDPOINT_URL for moto).

    python -m infra.admin officer --agency fns --phone +79991234567 --last-name Соколов --first-name Андрей \
        --department "Межрайонная ИФНС" --password '...'
    python -m infra.admin operator --phone +79992000005 --last-name Кузнецова --first-name Татьяна \
        --office "МФЦ «Мои документы» района Хамовники" --password '...'
"""

from __future__ import annotations

import argparse
import sys

from chalicelib.identity.contacts import normalize_phone
from chalicelib.identity.password_policy import check_password
from infra.seed import add_officer, add_operator


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
    args = parser.parse_args(argv)
    phone = normalize_phone(args.phone)
    if phone is None:
        print("Телефон: +7XXXXXXXXXX", file=sys.stderr)
        return 2
    reasons = check_password(args.password, args.password, names=(args.last_name, args.first_name), phone=phone)
    if reasons:
        print("Пароль: " + "; ".join(reasons), file=sys.stderr)
        return 2
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


if __name__ == "__main__":
    sys.exit(main())
