"""Published mayor's-mailbox letters for the demo (``manage.py load_demo_letters``, and the
launcher's first start), so the public list at /citizen/mailbox/ is not empty.

The letters and replies are real: Shangluo city's mayor's mailbox (商洛市市长信箱), read at load
time from the shared data folder next to the project (``../shared/data/mayor-mailbox/
shangluo.csv``, see its README) and never copied into the repository. Without the file the demo
simply has no published letters. The writers are invented (the file names none).

Every letter goes the way a real one does: the letter form's service (``do_receive_letter``),
then dispatch, sign-for, the department's reply and the centre's acceptance through the order
services with ``now=`` at the file's dates, so each has a real history. A reply from one of the
city's departments goes to the demo department that does the same work; a reply from a general
office (信息办, a county's government office) is answered by the centre itself.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hotline.core.roles import Role
from hotline.demo.data.people import GIVEN, SURNAMES
from hotline.directory.models import Unit, UnitKind, User
from hotline.intake.mailbox import Letter
from hotline.intake.mailbox_services import do_receive_letter
from hotline.intake.messages import Outcome
from hotline.intake.models import ReceivedMessage
from hotline.orders.services import do_action

SHANGLUO_CSV = settings.BASE_DIR.parent / "shared" / "data" / "mayor-mailbox" / "shangluo.csv"
DEFAULT_LETTERS = 40
SUBMISSION_PREFIX = "shangluo-"
# (words in the replying agency's name, the demo unit doing that work); the first match wins,
# so the traffic police come before the police and transport. "民政局", not "民政": every
# 人民政府 (a county's government office) has those two characters in it.
AGENCY_UNITS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("交警", "交通警察"), "traffic-police"),
    (("公安",), "police"),
    (("城市管理", "城管"), "urban"),
    (("交通",), "transport"),
    (("教育",), "edu"),
    (("住房和城乡建设", "住建", "物业"), "housing"),
    (("公积金",), "hfund"),
    (("人力资源", "社会保障", "养老保险"), "hrss"),
    (("医疗保障", "医保"), "medsec"),
    (("卫生健康", "卫健"), "health"),
    (("自然资源",), "nrp"),
    (("水务", "水利"), "water"),
    (("环境保护", "生态环境"), "env"),
    (("民政局",), "civil"),
    (("市场监管", "物价"), "market"),
    (("农业农村",), "agri"),
)


class NoCentre(Exception):
    pass


@dataclass(frozen=True)
class MailboxRow:
    mail_id: str
    title: str
    query: str
    query_date: dt.date
    reply: str
    reply_date: dt.date
    reply_agency: str


@dataclass(frozen=True)
class LoadResult:
    created: int = 0
    skipped: int = 0
    missing: bool = False  # the shared data file is not there

    @property
    def message(self) -> str:
        if self.missing:
            return f"no published mailbox letters: {SHANGLUO_CSV} is absent"
        return f"mailbox letters: {self.created} published, {self.skipped} already there"


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def read_rows(path: Path, limit: int) -> list[MailboxRow]:
    """The first ``limit`` letters of the file that have a title, a text, a reply and both
    dates (the file is newest first)."""
    rows: list[MailboxRow] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for raw in csv.DictReader(handle):
            asked, replied = _date(raw["query_date"]), _date(raw["reply_date"])
            title, query, reply = (raw[k].strip() for k in ("title", "query", "reply"))
            if not (asked and replied and title and query and reply and raw["mail_id"]):
                continue
            rows.append(MailboxRow(raw["mail_id"].strip(), title, query, asked, reply,
                                   max(replied, asked), raw["reply_agency"].strip()))
            if len(rows) >= limit:
                break
    return rows


def replying_unit(agency: str) -> Unit | None:
    """The demo unit that does the work of the agency that replied, or None (the centre)."""
    for words, code in AGENCY_UNITS:
        if any(word in agency for word in words):
            return Unit.objects.filter(code=code, active=True).first()
    return None


def _handler(unit: Unit) -> User | None:
    return User.objects.filter(unit=unit, role=Role.DEPT_HANDLER, is_active=True) \
        .order_by("pk").first()


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _publish(row: MailboxRow, number: str, received_at: dt.datetime, agent: User) -> None:
    replied_at = max(_at(row.reply_date, 16), received_at + dt.timedelta(hours=4))
    unit = replying_unit(row.reply_agency)
    handler = _handler(unit) if unit is not None else None
    if unit is None or handler is None:
        do_action(agent, number, "answer", {"reply": row.reply}, now=replied_at)
        return
    do_action(agent, number, "dispatch", {"unit": unit.code},
              now=received_at + dt.timedelta(hours=1))
    do_action(handler, number, "sign", now=received_at + dt.timedelta(hours=2))
    do_action(handler, number, "reply", {"reply": row.reply}, now=replied_at)
    do_action(agent, number, "approve_reply", now=replied_at + dt.timedelta(hours=1))


def load_letters(path: Path | None = None, limit: int = DEFAULT_LETTERS,
                 progress: Callable[[str], None] | None = None) -> LoadResult:
    """Publish the first ``limit`` letters of the file with their replies; letters already
    loaded are skipped, so it can run again."""
    path = path or SHANGLUO_CSV
    if not path.exists():
        return LoadResult(missing=True)
    agent = User.objects.filter(role=Role.AGENT, unit__kind=UnitKind.CENTRE, is_active=True) \
        .order_by("pk").first()
    if agent is None:
        raise NoCentre("no agent of the hotline centre: load the directory (load_demo) first")
    created = skipped = 0
    with transaction.atomic():
        for index, row in enumerate(read_rows(path, limit)):
            submission_id = SUBMISSION_PREFIX + row.mail_id
            if ReceivedMessage.objects.filter(channel="mailbox",
                                              message_id=submission_id).exists():
                skipped += 1
                continue
            received_at = _at(row.query_date, 8 + index % 10)
            writer = SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 7) % len(GIVEN)]
            receipt = do_receive_letter(
                Letter(title=row.title, text=row.query, name=writer,
                       phone=f"137{index:08d}", publish=True),
                received_at=received_at, submission_id=submission_id)
            if receipt.outcome != Outcome.CREATED:
                skipped += 1
                continue
            _publish(row, receipt.order_number, received_at, agent)
            created += 1
    if progress:
        progress(f"mailbox letters from {path.name}: {created} published")
    return LoadResult(created=created, skipped=skipped)
