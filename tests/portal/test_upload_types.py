"""Issue 10, finding 8 on the staff pages: a disguised web page is refused on the order form
(422 with the allowed types, no order half-made), a photo is stored without its metadata."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from hotline.directory.models import User
from hotline.orders.models import Order
from tests.core.test_files import REFUSED, jpeg_with_gps
from tests.portal.test_order_pages import form_data

if TYPE_CHECKING:
    from tests.conftest import City


def test_a_web_page_named_photo_jpg_is_refused_and_no_order_is_made(city: City,
                                                                    login: Callable[[User], Client]) -> None:
    client = login(city.agent)
    upload = SimpleUploadedFile("photo.jpg", REFUSED["html as photo.jpg"], content_type="image/jpeg")
    response = client.post(reverse("portal:order_new"), {**form_data(), "uploads": upload},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert "Allowed are images (JPEG, PNG, GIF, WebP), PDF" in response.content.decode()
    assert not Order.objects.exists()


def test_a_photo_from_the_order_form_loses_its_gps(city: City, login: Callable[[User], Client]) -> None:
    client = login(city.agent)
    upload = SimpleUploadedFile("现场.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = client.post(reverse("portal:order_new"), {**form_data(), "uploads": upload})
    assert response.status_code == 302
    attachment = Order.objects.get().attachments.get()
    with attachment.file.open("rb") as handle:
        assert b"Exif" not in handle.read()
    with Image.open(attachment.file.path) as image:
        assert not image.getexif()
