"""The loser of a race leaves nothing behind (issue 9, defect 6): no signed PDF with the applicant's data stays in
S3 without a document record when an officer's approval loses to the citizen's cancel or another officer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from chalicelib.applications import agency, views
from chalicelib.applications.actors import Actor
from chalicelib.core.config import settings
from chalicelib.core.errors import Conflict
from chalicelib.store import keys, table
from tests.test_applications import citizen, officer, submit_ncr


def _issued_objects(user_id: str) -> list[str]:
    """Every version of every object under the person's issued prefix."""
    s3 = boto3.client("s3", region_name=settings().region)
    resp = s3.list_object_versions(Bucket=settings().documents_bucket, Prefix=f"g/{user_id}/")
    return [f"{v['Key']}@{v['VersionId']}" for v in resp.get("Versions", [])]


def _recorded(user_id: str) -> list[str]:
    """The object versions that a document record of the person points to."""
    page = table.query(keys.documents_of(user_id), index="GSI1", limit=100, consistent=False)
    return [f"{d['key']}@{v['s3_version']}" for d in page.items if d["key"].startswith("g/") for v in d["versions"]]


def test_an_approval_that_loses_to_the_citizens_cancel_leaves_no_signed_pdf(api):
    person = citizen(api)
    clerk = officer(api, "mvd", "+79991110001")
    rid = submit_ncr(api, person)["id"]
    assert api.post(f"/agency/requests/{rid}/take", token=clerk["access_token"]).status_code == 200
    stale = views.load(rid)  # what the officer's approval read, just before the cancel
    assert api.post(f"/requests/{rid}/cancel", token=person["access_token"]).status_code == 200
    with pytest.raises(Conflict):
        agency.approve_loaded(stale, Actor("officer", clerk["user_id"], "Петров Сергей"), "Одобрено")
    assert _issued_objects(person["user_id"]) == []


def test_racing_approve_and_cancel_leave_only_referenced_pdfs(api):
    person = citizen(api)
    clerk = officer(api, "mvd", "+79991110001")
    actor = Actor("officer", clerk["user_id"], "Петров Сергей")
    for _ in range(3):
        rid = submit_ncr(api, person)["id"]
        api.post(f"/agency/requests/{rid}/take", token=clerk["access_token"])
        req = views.load(rid)

        def approve(req=req):
            return agency.approve_loaded(req, actor, "Одобрено")

        def cancel(rid=rid):
            from chalicelib.applications import transitions
            from chalicelib.applications.actors import Actor as A
            return transitions.transition(views.load(rid), "cancelled", A("citizen", person["user_id"]))

        with ThreadPoolExecutor(2) as pool:
            outcomes = [pool.submit(fn) for fn in (approve, cancel)]
            won = [f for f in outcomes if f.exception() is None]
        assert len(won) >= 1
    assert sorted(_issued_objects(person["user_id"])) == sorted(_recorded(person["user_id"]))
