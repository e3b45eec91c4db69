""""Мои документы": presigned uploads checked by the S3 handler, versions, downloads, deletion, the access journal
(DC-1..DC-3, DC-6). Files go to the moto server over HTTP exactly as a browser posts them."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
import requests

from chalicelib.core.aws import client
from chalicelib.core.config import settings
from chalicelib.events import document_checker
from chalicelib.store import keys, table
from tests import files

MIB = 1024 * 1024


@pytest.fixture
def user(api):
    return api.register(phone="+79161234567")


def _versions(key: str) -> list[dict]:
    return client("s3").list_object_versions(Bucket=settings().documents_bucket, Prefix=key).get("Versions", [])


def _download(api, token: str, document_id: str, version: str | None = None) -> requests.Response:
    suffix = f"?version={version}" if version else ""
    link = api.get(f"/documents/{document_id}/download{suffix}", token=token)
    assert link.status_code == 200, link.json
    assert link.json["expires_in"] <= 300
    return requests.get(link.json["url"], timeout=10)


def test_upload_is_checked_then_available_and_downloads_the_same_bytes(api, user):
    token = user["access_token"]
    data = files.pdf()
    start = api.post("/documents/uploads", {"category": "passport", "filename": "Паспорт.pdf",
                                            "content_type": "application/pdf", "size": len(data),
                                            "valid_until": "2035-05-01"}, token=token)
    assert start.status_code == 201
    doc_id = start.json["document_id"]
    assert api.get(f"/documents/{doc_id}", token=token).json["status"] == "checking"
    form = start.json["upload"]
    requests.post(form["url"], data=form["fields"], files={"file": ("Паспорт.pdf", data, "application/pdf")},
                  timeout=10).raise_for_status()
    api.pump.drain()

    doc = api.get(f"/documents/{doc_id}", token=token).json
    assert doc["status"] == "available" and doc["category_title"] == "Паспорт"
    assert doc["valid_until"] == "2035-05-01" and doc["expired"] is False
    assert [v["number"] for v in doc["versions"]] == [1]
    assert doc["versions"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    got = _download(api, token, doc_id)
    assert got.status_code == 200 and got.content == data
    assert "filename*=UTF-8''%D0%9F%D0%B0%D1%81%D0%BF%D0%BE%D1%80%D1%82.pdf" in got.headers["Content-Disposition"]
    stored = client("s3").head_object(Bucket=settings().documents_bucket, Key=f"u/{user['user_id']}/{doc_id}")
    assert stored["ServerSideEncryption"] == "aws:kms"  # DC-6: encrypted at rest with the documents key


def test_the_presigned_policy_pins_key_type_and_size(api, user):
    token = user["access_token"]
    for category, limit in (("passport", 5 * MIB), ("diploma", 10 * MIB)):
        resp = api.post("/documents/uploads", {"category": category, "filename": "a.png", "content_type": "image/png",
                                               "size": 1000}, token=token)
        fields = resp.json["upload"]["fields"]
        policy = json.loads(base64.b64decode(fields["policy"]))
        key = f"u/{user['user_id']}/{resp.json['document_id']}"
        assert fields["key"] == key
        assert {"key": key} in policy["conditions"]  # exactly this key: nothing outside the user's prefix
        assert {"Content-Type": "image/png"} in policy["conditions"]
        assert ["content-length-range", 1, limit] in policy["conditions"]
        assert resp.json["expires_in"] == 900


@pytest.mark.parametrize(("data", "declared", "filename", "reason"), [
    (files.EXE, "application/pdf", "scan.pdf", "исполняемая программа"),
    (files.image("JPEG"), "image/png", "photo.png", "заявлен как PNG, но по содержимому это JPG"),
    (files.BROKEN_PDF, "application/pdf", "scan.pdf", "PDF повреждён"),
    (files.BROKEN_PNG, "image/png", "scan.png", "повреждено"),
    (files.image("PNG", (20, 20)), "image/png", "tiny.png", "слишком маленькое"),
])
def test_disguised_or_broken_files_are_rejected_deleted_and_the_owner_told(api, user, data, declared, filename,
                                                                           reason):
    token = user["access_token"]
    api.no_quiet_hours(token)
    doc_id = api.upload(token, data, filename=filename, content_type=declared)
    doc = api.get(f"/documents/{doc_id}", token=token).json
    assert doc["status"] == "rejected" and reason in doc["reason"]
    assert _versions(f"u/{user['user_id']}/{doc_id}") == []  # the object is gone from S3
    refused = api.get(f"/documents/{doc_id}/download", token=token)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "DOCUMENT_REJECTED"
    notice = api.outbox("+79161234567")[0]
    assert filename in notice["text"] and "не принят" in notice["text"]


def test_a_file_larger_than_the_category_allows_is_rejected_even_if_s3_let_it_in(api, user):
    """moto does not enforce content-length-range; the checker's own size check stands."""
    token = user["access_token"]
    big = files.pdf() + b"%" + b"0" * (5 * MIB)
    doc_id = api.upload(token, big, category="passport", declared_size=1000)
    doc = api.get(f"/documents/{doc_id}", token=token).json
    assert doc["status"] == "rejected" and "больше допустимых 5 МБ" in doc["reason"]


def test_images_are_accepted(api, user):
    token = user["access_token"]
    for fmt, ct, name in (("PNG", "image/png", "snils.png"), ("JPEG", "image/jpeg", "snils.JPG")):
        doc_id = api.upload(token, files.image(fmt), filename=name, content_type=ct, category="snils")
        assert api.get(f"/documents/{doc_id}", token=token).json["status"] == "available"


def test_a_replacement_is_a_new_version_and_the_old_one_stays_downloadable(api, user):
    token = user["access_token"]
    first, second = files.pdf("first"), files.image("PNG")
    doc_id = api.upload(token, first, category="diploma")
    assert api.upload(token, second, filename="diploma.png", content_type="image/png", document_id=doc_id) == doc_id
    doc = api.get(f"/documents/{doc_id}", token=token).json
    assert doc["status"] == "available" and doc["version"] == 2 and doc["content_type"] == "image/png"
    assert [(v["number"], v["current"]) for v in doc["versions"]] == [(2, True), (1, False)]
    assert _download(api, token, doc_id).content == second
    assert _download(api, token, doc_id, version="1").content == first
    assert len(_versions(f"u/{user['user_id']}/{doc_id}")) == 2  # S3 versioning keeps both
    assert api.get(f"/documents/{doc_id}/download?version=7", token=token).status_code == 404


def test_a_rejected_replacement_keeps_the_current_version(api, user):
    token = user["access_token"]
    first = files.pdf()
    doc_id = api.upload(token, first)
    api.upload(token, files.EXE, document_id=doc_id)
    doc = api.get(f"/documents/{doc_id}", token=token).json
    assert doc["status"] == "available" and doc["version"] == 1
    assert "исполняемая программа" in doc["last_rejection"]["reason"]
    assert _download(api, token, doc_id).content == first
    assert len(_versions(f"u/{user['user_id']}/{doc_id}")) == 1
    assert "Прежняя версия" not in api.outbox("+79161234567")[0]["text"]  # SMS is short; the e-mail says it


def test_a_superseded_upload_form_changes_nothing(api, user):
    token = user["access_token"]
    doc_id = api.upload(token, files.pdf("v1"))
    body = {"filename": "b.pdf", "content_type": "application/pdf", "size": 2000}
    old = api.post(f"/documents/{doc_id}/versions", body, token=token).json["upload"]
    api.post(f"/documents/{doc_id}/versions", body, token=token)  # a newer request supersedes the first form
    requests.post(old["url"], data=old["fields"], files={"file": ("b.pdf", files.pdf("late"), "application/pdf")},
                  timeout=10).raise_for_status()
    api.pump.drain()
    doc = api.get(f"/documents/{doc_id}", token=token).json
    assert doc["version"] == 1 and doc["replacement"] == "checking"
    assert len(_versions(f"u/{user['user_id']}/{doc_id}")) == 1


def test_the_checker_is_idempotent(api, user):
    token = user["access_token"]
    doc_id = api.upload(token, files.pdf())
    key = f"u/{user['user_id']}/{doc_id}"
    version = _versions(key)[0]["VersionId"]
    record = {"s3": {"bucket": {"name": settings().documents_bucket},
                     "object": {"key": key.replace("/", "%2F"), "versionId": version}}}
    assert document_checker.handle([record, record]) == ["duplicate", "duplicate"]
    assert api.get(f"/documents/{doc_id}", token=token).json["version"] == 1


def test_deleting_removes_the_file_but_keeps_metadata_and_journal(api, user):
    token = user["access_token"]
    doc_id = api.upload(token, files.pdf())
    assert api.call("DELETE", f"/documents/{doc_id}", token=token).status_code == 204
    doc = api.get(f"/documents/{doc_id}", token=token).json
    assert doc["status"] == "deleted" and doc["versions"][0]["sha256"]
    gone = api.get(f"/documents/{doc_id}/download", token=token)
    assert gone.status_code == 410 and gone.json["error"]["code"] == "DOCUMENT_DELETED"
    assert _versions(f"u/{user['user_id']}/{doc_id}") == []
    assert api.get("/documents", token=token).json["items"] == []
    assert [d["id"] for d in api.get("/documents?status=deleted", token=token).json["items"]] == [doc_id]
    assert api.call("DELETE", f"/documents/{doc_id}", token=token).status_code == 410
    assert api.post(f"/documents/{doc_id}/versions", {"filename": "a.pdf", "content_type": "application/pdf",
                                                      "size": 10}, token=token).status_code == 410


def test_the_journal_records_every_view_download_replacement_and_deletion(api, user):
    token = user["access_token"]
    doc_id = api.upload(token, files.pdf())
    api.get(f"/documents/{doc_id}", token=token)
    _download(api, token, doc_id)
    api.upload(token, files.pdf("v2"), document_id=doc_id)
    api.call("DELETE", f"/documents/{doc_id}", token=token)
    entries = api.get(f"/documents/{doc_id}/journal", token=token).json["items"]
    assert [e["action"] for e in entries] == ["deleted", "replaced", "replacement_requested", "downloaded", "viewed",
                                              "accepted", "created"]
    by_owner = [e for e in entries if e["actor"]["kind"] == "owner"]
    assert all(e["ip"] == "127.0.0.1" and e["at"].endswith("Z") for e in by_owner)
    assert entries[1]["actor"] == {"kind": "system", "name": "Система"} and entries[1]["version"] == 2
    assert entries[3]["version"] == 1 and entries[3]["action_title"] == "Скачивание файла"


def test_list_is_newest_first_filters_by_category_and_pages(api, user):
    token = user["access_token"]
    ids = [api.upload(token, files.pdf(str(n)), category="contract" if n % 2 else "receipt") for n in range(3)]
    listed = api.get("/documents", token=token).json
    assert [d["id"] for d in listed["items"]] == ids[::-1] and listed["cursor"] is None
    contracts = api.get("/documents?category=contract", token=token).json["items"]
    assert [d["id"] for d in contracts] == [ids[1]]
    assert api.get("/documents?category=car", token=token).status_code == 400
    assert api.get("/documents?status=lost", token=token).status_code == 400
    assert api.get("/documents?cursor=abc", token=token).json["error"]["code"] == "INVALID_CURSOR"


def test_categories_are_listed_with_their_limits(api, user):
    cats = {c["id"]: c for c in api.get("/documents/categories", token=user["access_token"]).json}
    assert cats["passport"]["max_size"] == 5 * MIB and cats["other"]["max_size"] == 10 * MIB
    assert cats["marriage"]["title"] == "Свидетельство о браке" and len(cats) == 11


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"category": "car"}, 400, "category"),
    ({"content_type": "application/x-msdownload"}, 400, "content_type"),
    ({"filename": "scan.exe"}, 400, "filename"),
    ({"filename": "../../etc/passwd.pdf"}, 400, "filename"),
    ({"filename": ""}, 400, "filename"),
    ({"size": 0}, 400, "size"),
    ({"size": "big"}, 400, "size"),
    ({"size": 10 * MIB + 1}, 413, "size"),
    ({"size": 5 * MIB + 1, "category": "passport"}, 413, "size"),
    ({"valid_until": "31.12.2030"}, 400, "valid_until"),
    ({"owner": "someone-else"}, 400, "owner"),
])
def test_bad_upload_requests_are_refused_in_the_one_shape(api, user, body, status, field):
    base = {"category": "other", "filename": "scan.pdf", "content_type": "application/pdf", "size": 1000}
    resp = api.post("/documents/uploads", {**base, **body}, token=user["access_token"])
    assert resp.status_code == status and field in resp.json["error"]["fields"], resp.json
    assert api.get("/documents?status=checking", token=user["access_token"]).json["items"] == []


def test_documents_need_sign_in(api):
    assert api.get("/documents").status_code == 401
    assert api.post("/documents/uploads", {}).json["error"]["code"] == "UNAUTHORIZED"


def test_another_persons_document_is_a_404_on_every_route(api, user):
    token = user["access_token"]
    doc_id = api.upload(token, files.pdf())
    other = api.register(phone="+79167654321", last_name="Смирнова", first_name="Анна")["access_token"]
    replace = {"filename": "a.pdf", "content_type": "application/pdf", "size": 10}
    for method, path, body in (("GET", f"/documents/{doc_id}", None), ("GET", f"/documents/{doc_id}/download", None),
                               ("GET", f"/documents/{doc_id}/journal", None),
                               ("POST", f"/documents/{doc_id}/versions", replace),
                               ("DELETE", f"/documents/{doc_id}", None)):
        resp = api.call(method, path, body, token=other)
        assert resp.status_code == 404 and resp.json["error"]["code"] == "NOT_FOUND", (method, path)
    assert api.get("/documents", token=other).json["items"] == []
    journal = api.get(f"/documents/{doc_id}/journal", token=token).json["items"]
    assert [e["action"] for e in journal] == ["accepted", "created"]  # their tries left no trace
    assert api.get(f"/documents/{doc_id}", token=token).json["status"] == "available"  # untouched
    assert api.get("/documents/not-an-id", token=token).status_code == 404


def test_the_bucket_is_versioned_private_and_encrypted_with_its_own_key(api):
    s3 = client("s3")
    bucket = settings().documents_bucket
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block[k] for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"))
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"].startswith("arn:aws:kms:")


def test_an_expired_document_says_so(api, user):
    token = user["access_token"]
    doc_id = api.upload(token, files.pdf(), category="passport", valid_until="2020-05-01")
    doc = api.get(f"/documents/{doc_id}", token=token).json
    assert doc["valid_until"] == "2020-05-01" and doc["expired"] is True


def test_an_event_for_a_file_already_removed_is_a_no_op(api, user):
    token = user["access_token"]
    doc_id = api.upload(token, files.EXE)
    record = {"s3": {"bucket": {"name": settings().documents_bucket},
                     "object": {"key": f"u/{user['user_id']}/{doc_id}", "versionId": "3HL4kqtJlcpXroDTDmJ"}}}
    assert document_checker.handle([record]) == ["gone"]
    assert api.get(f"/documents/{doc_id}", token=token).json["status"] == "rejected"


def test_a_replacement_for_a_rejected_document_expires_if_no_file_comes(api, user):
    token = user["access_token"]
    doc_id = api.upload(token, files.EXE)
    api.post(f"/documents/{doc_id}/versions", {"filename": "a.pdf", "content_type": "application/pdf",
                                               "size": 100}, token=token)
    item = table.get(keys.document(user["user_id"], doc_id))
    assert item["status"] == "checking" and item["ttl"] > 0
