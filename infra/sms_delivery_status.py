"""`make sms-delivery-status STAGE=…`: switch on SNS's SMS delivery-status logging, once per account and region.

SMS delivery status is an account-level SNS setting (SetSMSAttributes), which CloudFormation has no resource for.
The stack creates the role SNS logs with (`SmsDeliveryStatusRole`, output `SmsDeliveryStatusRoleArn`) and the two
log groups the function is subscribed to; this names the role in the account's SMS attributes and logs every
successful SMS too (sampling 100 %: a delivered status is what clears a message's «sending»). Idempotent; run it
after the first deploy, like `make secrets` (docs/delivery-feedback.md).
"""

from __future__ import annotations

import argparse
from typing import Any

SUCCESS_SAMPLING = "100"


def switch_on(sns: Any, role_arn: str) -> dict[str, str]:
    """Name `role_arn` as the account's SMS delivery-status role; returns the attributes SNS now has."""
    sns.set_sms_attributes(attributes={"DeliveryStatusIAMRole": role_arn,
                                       "DeliveryStatusSuccessSamplingRate": SUCCESS_SAMPLING})
    now = sns.get_sms_attributes()["attributes"]  # all of them: moto filters by the first name only
    return {k: v for k, v in now.items() if k.startswith("DeliveryStatus")}


def role_of(cloudformation: Any, stage: str) -> str:
    """The stack's SmsDeliveryStatusRoleArn output."""
    [stack] = cloudformation.describe_stacks(StackName=f"kabinet-{stage}")["Stacks"]  # as `make deploy` names it
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if "SmsDeliveryStatusRoleArn" not in outputs:
        raise SystemExit(f"stack {stack['StackName']} has no SmsDeliveryStatusRoleArn output: deploy it first")
    return outputs["SmsDeliveryStatusRoleArn"]


def main() -> None:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage")
    args = parser.parse_args()
    attributes = switch_on(boto3.client("sns"), role_of(boto3.client("cloudformation"), args.stage))
    print("SMS delivery status:", ", ".join(f"{k}={v}" for k, v in sorted(attributes.items())))


if __name__ == "__main__":
    main()
