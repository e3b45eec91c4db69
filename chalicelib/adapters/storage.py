"""The documents bucket (S3): presigned upload forms and download links, reads for checks, server-side writes.

Files never pass through the API Lambda: a browser posts straight to S3 under a policy that pins the key,
the content type and the size, and downloads through a link that lives a few minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from chalicelib.core.aws import client
from chalicelib.core.config import settings

UPLOAD_TTL = 900
DOWNLOAD_TTL = 300
UPLOAD_META = "x-amz-meta-upload"  # the upload id, so the checker can tell a fresh upload from a stale one


def _s3() -> Any:
    return client("s3")


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the real (Cyrillic) name, percent-encoded."""
    fallback = re.sub(r'[^A-Za-z0-9._-]+', "_", filename).strip("_") or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def upload_form(key: str, *, content_type: str, max_size: int, upload_id: str,
                redirect: str | None = None) -> dict[str, Any]:
    """A presigned POST that accepts exactly one object: this key, this type, 1..max_size bytes.

    `redirect`: where S3 sends a browser after a plain (script-less) form post, `success_action_redirect`. The
    policy lets the field start with it, so a page's script may add a query of its own, never another address.
    """
    fields = {"Content-Type": content_type, UPLOAD_META: upload_id}
    conditions: list[Any] = [{"Content-Type": content_type}, {UPLOAD_META: upload_id},
                             ["content-length-range", 1, max_size]]
    if redirect:
        fields["success_action_redirect"] = redirect
        conditions.append(["starts-with", "$success_action_redirect", redirect])
    post = _s3().generate_presigned_post(settings().documents_bucket, key, Fields=fields, Conditions=conditions,
                                         ExpiresIn=UPLOAD_TTL)
    return {"url": post["url"], "fields": post["fields"]}


def download_url(key: str, version_id: str, *, filename: str, content_type: str) -> str:
    return _s3().generate_presigned_url("get_object", ExpiresIn=DOWNLOAD_TTL, Params={
        "Bucket": settings().documents_bucket, "Key": key, "VersionId": version_id,
        "ResponseContentDisposition": content_disposition(filename), "ResponseContentType": content_type})


@dataclass(frozen=True)
class Stored:
    data: bytes
    size: int
    version_id: str
    upload_id: str | None


def read(key: str, version_id: str | None, limit: int) -> Stored | None:
    """The object's first `limit + 1` bytes (enough to tell it is too large) and its size and version;
    None when that object (version) is gone — an event delivered again after the file was deleted."""
    params: dict[str, Any] = {"Bucket": settings().documents_bucket, "Key": key, "Range": f"bytes=0-{limit}"}
    if version_id:
        params["VersionId"] = version_id
    try:
        resp = _s3().get_object(**params)
    except _s3().exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchVersion", "404"):
            return None
        raise
    size = int(resp["ContentRange"].rsplit("/", 1)[1]) if resp.get("ContentRange") else int(resp["ContentLength"])
    return Stored(resp["Body"].read(), size, resp.get("VersionId") or "null",
                  (resp.get("Metadata") or {}).get(UPLOAD_META.removeprefix("x-amz-meta-")))


def put(key: str, data: bytes, *, content_type: str) -> str:
    """Write a file the system made itself (an issued PDF); returns its version id."""
    resp = _s3().put_object(Bucket=settings().documents_bucket, Key=key, Body=data, ContentType=content_type)
    return resp.get("VersionId") or "null"


def delete_versions(key: str, version_ids: list[str]) -> None:
    """Remove these versions for good (a delete marker alone would leave them readable by version id)."""
    if version_ids:
        _s3().delete_objects(Bucket=settings().documents_bucket, Delete={
            "Objects": [{"Key": key, "VersionId": v} for v in version_ids], "Quiet": True})
