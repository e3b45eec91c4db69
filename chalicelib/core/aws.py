"""boto3 clients, created on first use and kept for the container's life.

boto3 is imported here lazily so that importing the app stays cheap; AWS_ENDPOINT_URL (set by
the local cloud) is honoured by boto3 itself, so nothing else knows where AWS is.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.core.config import settings


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # SigV4 for S3: presigned GETs of SSE-KMS objects require it (and newer regions accept nothing else).
    return boto3.client(service, region_name=settings().region,
                        config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2,
                                      read_timeout=5, signature_version="s3v4" if service == "s3" else None))
