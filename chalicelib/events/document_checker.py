"""S3 ObjectCreated on the documents bucket → the check of each uploaded file (DC-2)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.documents.library import check_upload

log = logging.getLogger("kabinet.documents")


def handle(records: list[dict[str, Any]]) -> list[str]:
    """Each record on its own; a failure raises so Lambda's asynchronous retries (and then the
    on-failure destination) get the whole event: records already decided are skipped as duplicates."""
    outcomes = []
    for record in records:
        obj = record["s3"]["object"]
        key = unquote_plus(obj["key"])  # S3 events carry keys URL-encoded
        outcome = check_upload(key, obj.get("versionId"))
        log.info("document check %s (version %s): %s", key, obj.get("versionId"), outcome)
        outcomes.append(outcome)
    return outcomes
