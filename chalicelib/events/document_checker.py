"""S3 ObjectCreated on the documents bucket → the check of each uploaded file (DC-2)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.core import observability
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
        # Keys are u/<user id>/<document id>: the log names the document, never the owner's id.
        document_id = key.rsplit("/", 1)[-1] if key.count("/") == 2 else "-"
        log.info("document check %s (version %s): %s", document_id, obj.get("versionId"), outcome)
        if outcome in ("accepted", "rejected"):
            observability.count(observability.DOCUMENT_CHECKED)
        if outcome == "rejected":
            observability.count(observability.DOCUMENT_REJECTED)
        outcomes.append(outcome)
    return outcomes
