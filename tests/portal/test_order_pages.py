"""The order list, the new-order form and the order page with its action forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hotline.directory.models import User
from hotline.orders.models import Attachment, Order
from hotline.orders.services import do_action
from tests.core.test_files import image_bytes
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse

    from tests.conftest import City

pytestmark = pytest.mark.django_db


def act(client: Client, number: str, action: str, data: dict[str, Any] | None = None,
        **extra: Any) -> _MonkeyPatchedWSGIResponse:
    return client.post(reverse("portal:order_action", args=[number, action]), data or {}, **extra)


# --- list ------------------------------------------------------------------------------------

def listed(client: Client, **params: Any) -> set[str]:
    response = client.get(reverse("portal:order_list"), params)
    assert response.status_code == 200
    return {o.number for o in response.context["page"].object_list}


def test_list_filters(city: City, login: Callable[[User], Client], dispatched: Order) -> None:
    noise = new_order(city, title="夜间施工噪声", category="100201", district="taijiang",
                      type="suggestion", channel="web")
    client = login(city.agent)
    both = {dispatched.number, noise.number}
    assert listed(client) == both
    assert listed(client, state="dispatched") == {dispatched.number}
    assert listed(client, type="suggestion") == {noise.number}
    assert listed(client, channel="web") == {noise.number}
    assert listed(client, district="gulou") == {dispatched.number}
    assert listed(client, lead_unit="water") == {dispatched.number}
    assert listed(client, category="10") == both  # a level-1 category includes its leaves
    assert listed(client, category="1001") == {dispatched.number}
    assert listed(client, q="噪声") == {noise.number}
    assert listed(client, q=dispatched.number) == {dispatched.number}
    today = timezone.localdate()
    assert listed(client, created_from=today.isoformat(), created_to=today.isoformat()) == both
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert listed(client, created_from=tomorrow) == set()
    assert listed(client, overdue="on") == set()
    Order.objects.filter(pk=dispatched.pk).update(sign_due=timezone.now() - dt.timedelta(hours=1))
    assert listed(client, overdue="on") == {dispatched.number}


def test_list_highlights_overdue_orders(city: City, login: Callable[[User], Client],
                                        dispatched: Order) -> None:
    Order.objects.filter(pk=dispatched.pk).update(overdue_at=timezone.now())
    html = login(city.agent).get(reverse("portal:order_list")).content.decode()
    assert 'class="late"' in html


def test_list_bad_filters_are_ignored_not_500(city: City, login: Callable[[User], Client],
                                              order: Order) -> None:
    response = login(city.agent).get(
        reverse("portal:order_list"), {"state": "nonsense", "created_from": "yesterday"}
    )
    assert response.status_code == 200
    assert order.number in response.content.decode()


def test_list_paginates(city: City, login: Callable[[User], Client], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hotline.portal.order_list_views.PAGE_SIZE", 2)
    for i in range(5):
        new_order(city, title=f"事项{i}")
    client = login(city.agent)
    first = client.get(reverse("portal:order_list")).context["page"]
    assert len(first.object_list) == 2 and first.has_next() and not first.has_previous()
    second = client.get(reverse("portal:order_list"), {"after": first.next_cursor}).context["page"]
    last = client.get(reverse("portal:order_list"), {"after": second.next_cursor}).context["page"]
    assert len(last.object_list) == 1 and not last.has_next()


def test_list_htmx_request_returns_only_the_table(city: City, login: Callable[[User], Client],
                                                  order: Order) -> None:
    response = login(city.agent).get(
        reverse("portal:order_list"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="order-results"
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<table" in html and "<html" not in html


# --- new order -------------------------------------------------------------------------------

def form_data(**overrides: Any) -> dict[str, Any]:
    data = {"type": "complaint", "channel": "phone", "urgency": "normal",
            "citizen_name": "李四", "citizen_phone": "139 0000 1111", "citizen_tags": ["elderly"],
            "title": "路灯不亮", "text": "小区门口路灯坏了一周", "address": "鼓楼区东街1号",
            "district": "gulou", "category": "100101", "idempotency_key": "k1"}
    data.update(overrides)
    return data


def test_new_order_form_registers_an_order(city: City, login: Callable[[User], Client]) -> None:
    client = login(city.agent)
    assert client.get(reverse("portal:order_new")).status_code == 200
    upload = SimpleUploadedFile("photo.jpg", image_bytes("JPEG"), content_type="image/jpeg")
    response = client.post(reverse("portal:order_new"), {**form_data(), "uploads": upload})
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:order_detail", args=[order.number])
    assert (order.title, order.citizen.phone, order.citizen.tags) == (
        "路灯不亮", "13900001111", ["elderly"])
    assert order.attachments.get().kind == Attachment.Kind.INTAKE
    page = client.get(response["Location"]).content.decode()
    assert f"Work order {order.number} registered." in page


def test_new_order_form_resent_registers_once(city: City, login: Callable[[User], Client]) -> None:
    client = login(city.agent)
    client.post(reverse("portal:order_new"), form_data())
    client.post(reverse("portal:order_new"), form_data())
    assert Order.objects.count() == 1


@pytest.mark.parametrize(("overrides", "field"), [
    ({"title": ""}, "title"),
    ({"type": "bogus"}, "type"),
    ({"citizen_phone": "12"}, "citizen_phone"),
])
def test_new_order_form_shows_errors(city: City, login: Callable[[User], Client], overrides: dict[str, str],
                                     field: str) -> None:
    response = login(city.agent).post(reverse("portal:order_new"), form_data(**overrides))
    assert response.status_code == 422
    assert response.context["form"].errors[field]
    assert not Order.objects.exists()


def test_new_order_refused_category_is_a_field_error(city: City, login: Callable[[User], Client]) -> None:
    city.cat_outage.accepted_types = ["consultation"]
    city.cat_outage.save()
    response = login(city.agent).post(reverse("portal:order_new"), form_data())
    assert response.status_code == 422
    assert "does not accept" in str(response.context["form"].errors["category"])


# --- order page and actions ------------------------------------------------------------------

def test_order_page_shows_details_and_history(city: City, login: Callable[[User], Client],
                                              dispatched: Order) -> None:
    html: Any = login(city.agent).get(reverse("portal:order_detail", args=[dispatched.number]))
    html = html.content.decode()
    assert "张三" in html and "13812341234" in html
    assert "Dispatch" in html and "Accepted → Dispatched" in html
    assert "市水务局" in html and "市住建局" in html


def test_order_page_previews_the_route_and_names_dispatch_targets(city: City, login: Callable[[User], Client],
                                                                  order: Order) -> None:
    client = login(city.agent)
    response = client.get(reverse("portal:order_detail", args=[order.number]))
    assert response.context["route"] == (city.water, [city.housing])
    do_action(city.agent, order.number, "dispatch")
    response = client.get(reverse("portal:order_detail", args=[order.number]))
    assert response.context["route"] is None
    targets = {event.action: target for event, target in response.context["events"]}
    assert targets == {"create": "", "dispatch": "市水务局、市住建局"}


def test_order_page_lists_the_citizens_other_requests_for_the_centre(city: City,
                                                                     login: Callable[[User], Client],
                                                                     dispatched: Order) -> None:
    earlier = new_order(city, title="上月也停水")
    url = reverse("portal:order_detail", args=[dispatched.number])
    assert login(city.agent).get(url).context["other_orders"] == [earlier]
    assert login(city.handler).get(url).context["other_orders"] == []


def test_department_does_not_see_the_citizen_of_a_report(city: City, login: Callable[[User], Client]) -> None:
    report = new_order(city, type="report", title="非法排污")
    do_action(city.agent, report.number, "dispatch", {"unit": "water"})
    html: Any = login(city.handler).get(reverse("portal:order_detail", args=[report.number]))
    html = html.content.decode()
    assert "张三" not in html and "13812341234" not in html
    assert "identity is withheld" in html


def test_order_page_offers_only_the_users_actions(city: City, login: Callable[[User], Client],
                                                  dispatched: Order) -> None:
    def offered(user: User) -> set[str]:
        response = login(user).get(reverse("portal:order_detail", args=[dispatched.number]))
        return {item["action"] for item in response.context["action_forms"]}

    assert offered(city.handler) == {"sign", "return", "transfer"}
    assert offered(city.housing_handler) == {"co_reply"}
    assert "sign" not in offered(city.agent) and "urge" in offered(city.agent)
    assert offered(city.auditor) == set()
    assert offered(city.leader) == {"supervise", "instruct"}


def test_full_loop_through_the_pages(city: City, login: Callable[[User], Client], order: Order) -> None:
    client = login(city.agent)
    response = act(client, order.number, "dispatch", {"dispatch-note": "请尽快处理"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == "dispatched" and order.lead_unit == city.water

    client = login(city.handler)
    response = act(client, order.number, "sign", {"next": reverse("portal:workbench")})
    assert response["Location"] == reverse("portal:workbench")
    upload = SimpleUploadedFile("result.txt", b"fixed", content_type="text/plain")
    response = act(client, order.number, "reply", {"reply-reply": "已恢复供水", "uploads": upload})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == "replied" and order.reply_text == "已恢复供水"
    attachment = order.attachments.get(kind="reply")
    download = client.get(reverse("portal:attachment_download",
                                  args=[order.number, attachment.pk]))
    assert isinstance(download, StreamingHttpResponse)
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"fixed"

    client = login(city.agent)
    assert act(client, order.number, "approve_reply").status_code == 302
    response = act(client, order.number, "callback",
                   {"callback-resolved": "yes", "callback-satisfaction": "satisfied"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.state, order.resolved, order.satisfaction) == ("closed", True, "satisfied")


def test_every_action_a_page_may_offer_has_a_form() -> None:
    from hotline.orders import lifecycle
    from hotline.portal.forms import ACTION_FORMS
    from hotline.portal.order_access import ELSEWHERE, WORKER_ONLY

    offered = {action for action in lifecycle.Action
               if lifecycle.ACTION_ROLES.get(action, frozenset()) - {"system"}}
    assert offered - WORKER_ONLY - ELSEWHERE <= set(ACTION_FORMS)


def test_order_page_in_call_back_renders_the_call_back_form(
        city: City, login: Callable[[User], Client], order: Order) -> None:
    do_action(city.agent, order.number, "dispatch", {})
    do_action(city.handler, order.number, "sign", {})
    do_action(city.handler, order.number, "reply", {"reply": "已恢复供水"})
    do_action(city.agent, order.number, "approve_reply", {})
    response = login(city.agent).get(reverse("portal:order_detail", args=[order.number]))
    assert response.status_code == 200
    offered = {item["action"] for item in response.context["action_forms"]}
    assert "callback" in offered and "callback_attempt" not in offered


def test_action_with_missing_input_shows_the_error(city: City, login: Callable[[User], Client],
                                                   dispatched: Order) -> None:
    response = act(login(city.handler), dispatched.number, "return", {"return-reason": ""})
    assert response.status_code == 422
    assert response.context["action_forms"]
    failed = next(i for i in response.context["action_forms"] if i["action"] == "return")
    assert failed["open"] and failed["form"].errors["reason"]
    dispatched.refresh_from_db()
    assert dispatched.state == "dispatched"


def test_service_error_becomes_a_message_and_4xx(city: City, login: Callable[[User], Client],
                                                 dispatched: Order) -> None:
    client = login(city.handler)
    assert act(client, dispatched.number, "sign").status_code == 302
    response = act(client, dispatched.number, "sign")  # already signed: conflict
    assert response.status_code == 409
    assert "cannot sign" in response.content.decode()


def test_service_error_for_htmx_is_200_so_htmx_swaps(city: City, login: Callable[[User], Client],
                                                     dispatched: Order) -> None:
    client = login(city.handler)
    act(client, dispatched.number, "sign")
    response = act(client, dispatched.number, "sign", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "cannot sign" in response.content.decode()


def test_wrong_role_is_403(city: City, login: Callable[[User], Client], order: Order) -> None:
    response = act(login(city.auditor), order.number, "dispatch")
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.state == "accepted"


def test_unknown_action_is_404_and_get_redirects(city: City, login: Callable[[User], Client],
                                                 order: Order) -> None:
    client = login(city.agent)
    assert act(client, order.number, "fly").status_code == 404
    assert act(client, order.number, "remind").status_code == 404  # the worker's only
    response = client.get(reverse("portal:order_action", args=[order.number, "dispatch"]))
    assert response.status_code == 302


def test_extension_request_takes_days_and_reason(city: City, login: Callable[[User], Client],
                                                 dispatched: Order) -> None:
    client = login(city.handler)
    act(client, dispatched.number, "sign")
    bad = act(client, dispatched.number, "request_extension",
              {"request_extension-days": "99", "request_extension-reason": "需现场勘查"})
    assert bad.status_code == 422
    good = act(client, dispatched.number, "request_extension",
               {"request_extension-days": "3", "request_extension-reason": "需现场勘查"})
    assert good.status_code == 302
    dispatched.refresh_from_db()
    assert dispatched.extension_pending_days == 3


def test_unsafe_next_is_ignored(city: City, login: Callable[[User], Client], dispatched: Order) -> None:
    response = act(login(city.handler), dispatched.number, "sign",
                   {"next": "https://evil.example/"})
    assert response["Location"] == reverse("portal:order_detail", args=[dispatched.number])


def test_attachment_of_another_order_is_404(city: City, login: Callable[[User], Client],
                                            dispatched: Order) -> None:
    other = new_order(city, title="另一单")
    upload = SimpleUploadedFile("a.txt", b"x", content_type="text/plain")
    from hotline.orders.attachments import do_attach

    attachment = do_attach(city.agent, other, upload, "intake")
    url = reverse("portal:attachment_download", args=[dispatched.number, attachment.pk])
    assert login(city.handler).get(url).status_code == 404
