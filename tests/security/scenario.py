"""A reporter's case driven through the real services: a 举报 and a confidential order by one
citizen (the canary), a plain complaint by the same phone, and plain orders of other citizens
that the 举报s are merged into or linked with, through merge, link, transfer, return, reopen,
reply and call back. Agents write the caller's name and number where agents do (contact
summaries, call-back notes, file names), so any path that carries them to a department shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from hotline.orders.attachments import do_attach
from hotline.orders.models import Attachment, Order
from hotline.orders.services import NewOrder, do_action, do_create_order

CANARY_NAME = "金丝雀某某"
CANARY_PHONE = "13700001234"
# What would identify the canary besides the name and the number written out in full.
CANARY_FORMS = (CANARY_NAME, CANARY_PHONE, "137****1234", "137 0000 1234", "137-0000-1234")


@dataclass
class Case:
    report: Order  # 举报 by the canary, dispatched to water (lead) and housing (co)
    confidential: Order  # confidential complaint by the canary: sub-centre, street, environment
    complaint: Order  # the canary's plain complaint, kept at the centre, merged into the 举报
    second_report: Order  # another 举报 by the canary, merged into a plain complaint of water's
    plain: Order  # a plain complaint by another citizen, at water
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def orders(self) -> list[Order]:
        return [self.report, self.confidential, self.complaint, self.second_report, self.plain]


def _order(city: Any, **overrides: Any) -> Order:
    fields: dict[str, Any] = dict(
        type="complaint", channel="phone", title="停水三天", text="鼓楼区某小区停水三天，无人处理",
        citizen_phone=CANARY_PHONE, citizen_name=CANARY_NAME, district="gulou",
        category="100101",
    )
    fields.update(overrides)
    order, _created = do_create_order(city.agent, NewOrder(**fields))
    return order


def _act(user: Any, order: Order, action: str, **params: Any) -> Order:
    return do_action(user, order.number, action, params)


def _attach(city: Any, order: Order, name: str) -> Attachment:
    upload = SimpleUploadedFile(name, "现场情况说明，见附图。".encode(), content_type="text/plain")
    return do_attach(city.agent, order, upload, Attachment.Kind.INTAKE)


def build(city: Any) -> Case:
    report = _order(
        city, type="report", title=f"{CANARY_NAME}举报某水厂偷排污水",
        # The reporter writes their own name and number into the text: still never shown.
        text=f"我是{CANARY_NAME}，电话{CANARY_PHONE}。某水厂夜间向河道偷排污水，已持续一周",
        contact_summary=f"{CANARY_NAME}来电举报偷排，回电{CANARY_PHONE}",
    )
    files = [_attach(city, report, f"{CANARY_NAME}的举报材料.txt")]
    _act(city.agent, report, "dispatch", unit="water", co_units=["housing"])
    _act(city.handler, report, "sign")

    # The canary's plain complaint about the same matter: linked as a duplicate, then merged
    # into the 举报 (its contact moves along).
    complaint = _order(city, title="河道污水", text="河道有污水排入，气味很大",
                       contact_summary=f"{CANARY_NAME}再次来电，号码{CANARY_PHONE}")
    _act(city.agent, complaint, "link", other=report.number, kind="duplicate")
    _act(city.agent, complaint, "merge", into=report.number, note="同一事项")

    # A plain complaint of another citizen at water, linked with the 举报; a second 举报 by the
    # canary is merged into it (the finding: the complaint's history and contacts).
    plain = _order(city, citizen_phone="13812341234", citizen_name="张三")
    _act(city.agent, plain, "dispatch")
    _act(city.agent, plain, "link", other=report.number, kind="related")
    second = _order(city, type="report", title="举报停水不作为", text="物业拖延抢修",
                    contact_summary=f"举报人{CANARY_NAME}，{CANARY_PHONE}")
    files.append(_attach(city, second, f"{CANARY_PHONE}-录音说明.txt"))
    _act(city.agent, second, "dispatch")
    _act(city.agent, second, "merge", into=plain.number)

    _act(city.handler, report, "reply", reply="已查处，责令整改")
    _act(city.agent, report, "approve_reply")
    _act(city.agent, report, "callback", resolved=True, satisfaction="satisfied",
         note=f"已回访{CANARY_NAME}（{CANARY_PHONE}），表示满意")

    # The confidential complaint: the sub-centre transfers it to a street, the street returns
    # it, the centre re-dispatches it, the reply is not accepted at the call back, it reopens.
    confidential = _order(city, confidential=True, title="噪声扰民", text="楼下商铺夜间施工噪声",
                          category="100201", contact_summary=f"{CANARY_NAME}要求保密")
    files.append(_attach(city, confidential, f"{CANARY_NAME}.txt"))
    _act(city.agent, confidential, "dispatch")
    _act(city.sub_agent, confidential, "transfer", unit="gulou-dongjie")
    _act(city.street_handler, confidential, "return", reason="不属于街道职责")
    _act(city.monitor, confidential, "approve_return", unit="env")
    _act(city.env_handler, confidential, "sign")
    _act(city.env_handler, confidential, "reply", reply="已约谈商铺")
    _act(city.agent, confidential, "approve_reply")
    _act(city.agent, confidential, "callback", resolved=False, satisfaction="unsatisfied",
         note=f"回访{CANARY_NAME}，不满意")
    _act(city.agent, confidential, "reopen", reason=f"市民{CANARY_NAME}（{CANARY_PHONE}）不满意，重办")
    _act(city.env_handler, confidential, "reply", reply="已责令停止夜间施工")

    for order in (report, confidential, complaint, second, plain):
        order.refresh_from_db()
    return Case(report=report, confidential=confidential, complaint=complaint,
                second_report=second, plain=plain, attachments=files)
