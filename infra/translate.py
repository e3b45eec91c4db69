"""SAM → plain CloudFormation, as CloudFormation's Serverless transform does on deployment.

    .venv-gate/bin/python infra/translate.py build/prod/sam.json build/prod/cloudformation.json eu-central-1

Runs in the gate's virtualenv (aws-sam-translator pins a pydantic of its own) and imports nothing of ours.
CodeUri becomes an S3 URI first, as `aws cloudformation package` makes it.
"""

from __future__ import annotations

import json
import os
import sys

from samtranslator.parser import parser
from samtranslator.translator.translator import Translator

ACCOUNT = "123456789012"


def main() -> None:
    source, target, region = sys.argv[1], sys.argv[2], sys.argv[3]
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    with open(source, encoding="utf-8") as f:
        template = json.load(f)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/deployment.zip"
    translated = Translator({}, parser.Parser()).translate(
        sam_template=template,
        parameter_values={"AWS::Region": region, "AWS::Partition": "aws", "AWS::AccountId": ACCOUNT})
    with open(target, "w", encoding="utf-8") as f:
        json.dump(translated, f, indent=1)


if __name__ == "__main__":
    main()
