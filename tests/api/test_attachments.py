"""Files on orders: upload (multipart), checksum, size limit, who may upload and download, and
(issue 10, finding 8) what is accepted is decided by the content, photos lose their metadata."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import StreamingHttpResponse
from PIL import Image

from hotline.orders.models import Attachment
from tests.api.conftest import API, ApiClient, dispatched_order, new_order
from tests.core.test_files import REFUSED, image_bytes, jpeg_with_gps, minimal_pdf

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse
    from pytest_django.fixtures import Settings

    from hotline.directory.models import User
    from tests.conftest import City

PHOTO = image_bytes("PNG")


def _upload(user: User, number: str, *, kind: str = "intake", name: str = "现场照片.png",
            content: bytes = PHOTO, content_type: str = "image/png",
            language: str = "zh-hans") -> _MonkeyPatchedWSGIResponse:
    client = ApiClient(user).client
    f = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(f"{API}/orders/{number}/attachments", {"file": f, "kind": kind},
                       headers={"accept-language": language})


def test_upload_and_download(city: City, media: Path) -> None:
    order = new_order(city)
    r = _upload(city.agent, order.number)
    assert r.status_code == 201, r.content
    body = r.json()
    stored = Attachment.objects.get(pk=body["id"])
    with stored.file.open("rb") as handle:
        kept = handle.read()  # the re-encoded image, which the checksum and size describe
    with Image.open(stored.file.path) as image:
        assert image.format == "PNG" and image.size == (40, 30)
    assert body["sha256"] == hashlib.sha256(kept).hexdigest()
    assert body["size"] == len(kept) and body["name"] == "现场照片.png"
    assert body["kind"] == "intake" and body["content_type"] == "image/png"
    assert stored.uploaded_by == city.agent
    assert "现场" not in stored.file.name and stored.file.name.endswith(".png")

    detail = ApiClient(city.agent).get(f"/orders/{order.number}").json()
    assert [a["id"] for a in detail["attachments"]] == [body["id"]]
    download = ApiClient(city.agent).client.get(body["url"])
    assert download.status_code == 200
    assert isinstance(download, StreamingHttpResponse)
    assert b"".join(download.streaming_content) == kept
    assert "attachment" in download["Content-Disposition"]


def test_download_needs_scope(city: City, media: Path) -> None:
    order = dispatched_order(city)
    att_id = _upload(city.agent, order.number).json()["id"]
    url = f"/orders/{order.number}/attachments/{att_id}"
    assert ApiClient(city.handler).get(url).status_code == 200
    assert ApiClient(city.env_handler).get(url).status_code == 404
    other = new_order(city)
    assert ApiClient(city.agent).get(f"/orders/{other.number}/attachments/{att_id}"
                                     ).status_code == 404


def test_reply_files_only_from_the_lead_unit(city: City, media: Path) -> None:
    order = dispatched_order(city)
    assert _upload(city.housing_handler, order.number, kind="reply").status_code == 403
    assert _upload(city.agent, order.number, kind="reply").status_code == 403
    assert _upload(city.handler, order.number, kind="reply").status_code == 201
    assert _upload(city.housing_handler, order.number, kind="other").status_code == 201
    assert _upload(city.env_handler, order.number, kind="other").status_code == 404


def test_size_limit_kind_and_empty_file(city: City, media: Path, settings: Settings) -> None:
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


def test_hostile_names_and_types_are_cleaned(city: City, media: Path) -> None:
    order = new_order(city)
    r = _upload(city.agent, order.number, name="../../etc/pass\x01wd.sh",
                content_type="text/html\x00; evil")
    assert r.status_code == 201
    # The name keeps its stem but says what the content is; the claimed type is ignored.
    assert r.json()["name"] == "passwd.png"
    assert r.json()["content_type"] == "image/png"
    stored = Attachment.objects.get(pk=r.json()["id"])
    assert stored.file.name.startswith(f"orders/{order.number}/")
    assert ".." not in stored.file.name


def test_recordings_are_hidden_from_those_who_may_not_know_the_citizen(city: City, media: Path) -> None:
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


@pytest.mark.parametrize("name,label", [
    ("photo.jpg", "html as photo.jpg"), ("photo.jpg", "svg as photo.jpg"),
    ("report.pdf", "windows program as a.pdf"), ("说明.txt", "shell script"),
    ("scan.docx", "zip archive"), ("a.doc", "macro doc"),
])
def test_hostile_content_under_an_innocent_name_is_refused(city: City, media: Path, name: str,
                                                           label: str) -> None:
    order = new_order(city)
    r = _upload(city.agent, order.number, name=name, content=REFUSED[label],
                content_type="image/jpeg", language="en")
    assert r.status_code == 422, r.content
    assert r.json()["field"] == "file"
    assert "Allowed are images (JPEG, PNG, GIF, WebP), PDF" in r.json()["detail"]
    assert not Attachment.objects.filter(order=order).exists()
    assert not list(media.rglob("*.*"))


def test_a_photo_is_stored_without_its_exif_and_gps(city: City, media: Path) -> None:
    order = new_order(city)
    r = _upload(city.agent, order.number, name="IMG_0001.JPG", content=jpeg_with_gps(),
                content_type="application/octet-stream")
    assert r.status_code == 201, r.content
    assert r.json()["content_type"] == "image/jpeg" and r.json()["name"] == "IMG_0001.JPG"
    stored = Attachment.objects.get(pk=r.json()["id"])
    with stored.file.open("rb") as handle:
        kept = handle.read()
    assert b"Exif" not in kept and b"PhoneMaker" not in kept and b"taken at home" not in kept
    with Image.open(stored.file.path) as image:
        assert not image.getexif() and image.size == (30, 40)


def test_a_pdf_named_like_a_web_page_is_offered_as_a_pdf(city: City, media: Path) -> None:
    order = new_order(city)
    r = _upload(city.agent, order.number, name="回执.html", content=minimal_pdf(),
                content_type="text/html")
    assert r.status_code == 201
    assert r.json()["name"] == "回执.pdf" and r.json()["content_type"] == "application/pdf"
    download = ApiClient(city.agent).client.get(r.json()["url"])
    assert download["Content-Type"] == "application/pdf"
    assert isinstance(download, StreamingHttpResponse)
    assert b"".join(download.streaming_content) == minimal_pdf()  # a PDF is kept as sent


def test_the_refusal_speaks_the_callers_language(city: City, media: Path) -> None:
    order = new_order(city)
    r = _upload(city.agent, order.number, name="photo.jpg", content=REFUSED["svg as photo.jpg"],
                content_type="image/jpeg")
    assert r.status_code == 422
    assert "允许的类型为图片" in r.json()["detail"]
