"""Files on orders: upload (multipart), checksum, size limit, who may upload and download."""

from __future__ import annotations

import hashlib

from django.core.files.uploadedfile import SimpleUploadedFile

from hotline.orders.models import Attachment
from tests.api.conftest import API, ApiClient, dispatched_order, new_order

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _upload(user, number, *, kind="intake", name="现场照片.png", content=PHOTO,
            content_type="image/png"):
    client = ApiClient(user).client
    f = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(f"{API}/orders/{number}/attachments", {"file": f, "kind": kind})


def test_upload_and_download(city, media):
    order = new_order(city)
    r = _upload(city.agent, order.number)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert body["size"] == len(PHOTO) and body["name"] == "现场照片.png"
    assert body["kind"] == "intake" and body["content_type"] == "image/png"
    stored = Attachment.objects.get(pk=body["id"])
    assert stored.uploaded_by == city.agent
    assert "现场" not in stored.file.name  # stored under a generated name

    detail = ApiClient(city.agent).get(f"/orders/{order.number}").json()
    assert [a["id"] for a in detail["attachments"]] == [body["id"]]
    download = ApiClient(city.agent).client.get(body["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PHOTO
    assert "attachment" in download["Content-Disposition"]


def test_download_needs_scope(city, media):
    order = dispatched_order(city)
    att_id = _upload(city.agent, order.number).json()["id"]
    url = f"/orders/{order.number}/attachments/{att_id}"
    assert ApiClient(city.handler).get(url).status_code == 200
    assert ApiClient(city.env_handler).get(url).status_code == 404
    other = new_order(city)
    assert ApiClient(city.agent).get(f"/orders/{other.number}/attachments/{att_id}"
                                     ).status_code == 404


def test_reply_files_only_from_the_lead_unit(city, media):
    order = dispatched_order(city)
    assert _upload(city.housing_handler, order.number, kind="reply").status_code == 403
    assert _upload(city.agent, order.number, kind="reply").status_code == 403
    assert _upload(city.handler, order.number, kind="reply").status_code == 201
    assert _upload(city.housing_handler, order.number, kind="other").status_code == 201
    assert _upload(city.env_handler, order.number, kind="other").status_code == 404


def test_size_limit_kind_and_empty_file(city, media, settings):
    settings.HOTLINE_MAX_ATTACHMENT_BYTES = 100
    order = new_order(city)
    r = _upload(city.agent, order.number, content=b"x" * 101)
    assert r.status_code == 413 and r.json()["field"] == "file"
    assert _upload(city.agent, order.number, content=b"x" * 100).status_code == 201
    r = _upload(city.agent, order.number, kind="recording", content=b"x")
    assert r.status_code == 422 and r.json()["field"] == "kind"
    r = _upload(city.agent, order.number, content=b"")
    assert r.status_code == 422 and r.json()["field"] == "file"
    r = ApiClient(city.agent).client.post(f"{API}/orders/{order.number}/attachments",
                                          {"kind": "intake"})
    assert r.status_code == 422 and r.json()["field"] == "file"
    assert list(media.rglob("*.*")) and len(list(media.rglob("*.*"))) == 1


def test_hostile_names_and_types_are_cleaned(city, media):
    order = new_order(city)
    r = _upload(city.agent, order.number, name="../../etc/pass\x01wd.sh",
                content_type="text/html\x00; evil")
    assert r.status_code == 201
    assert r.json()["name"] == "passwd.sh"
    assert r.json()["content_type"] == "application/octet-stream"
    stored = Attachment.objects.get(pk=r.json()["id"])
    assert stored.file.name.startswith(f"orders/{order.number}/")
    assert ".." not in stored.file.name


def test_recordings_are_hidden_from_those_who_may_not_know_the_citizen(city, media):
    order = dispatched_order(city, type="report", title="举报")
    rec = Attachment.objects.create(
        order=order, kind=Attachment.Kind.RECORDING, file="orders/x/rec.wav", name="rec.wav",
        content_type="audio/wav", size=1, sha256="0" * 64, created_at=order.created_at,
    )
    handler, agent = ApiClient(city.handler), ApiClient(city.agent)
    assert handler.get(f"/orders/{order.number}").json()["attachments"] == []
    assert handler.get(f"/orders/{order.number}/attachments/{rec.pk}").status_code == 404
    assert [a["id"] for a in agent.get(f"/orders/{order.number}").json()["attachments"]] == [
        rec.pk]
