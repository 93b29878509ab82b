from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.core.errors import Forbidden, InvalidInput
from hotline.orders.citizen_merge import do_merge_citizens
from hotline.orders.citizens import find_or_register_citizen
from hotline.orders.contacts import NewContact, do_record_contact
from hotline.orders.models import Citizen, CitizenIdentity, CitizenMerge, IdentityKind, Order

from .helpers import new_order

if TYPE_CHECKING:
    from tests.conftest import City

# The twins fixture: the kept record, the one merged into it, an order of each.
Twins = tuple[Citizen, Citizen, Order, Order]


@pytest.fixture
def twins(city: City) -> Twins:
    """One person registered twice: by phone on a call, by email and a chat session online."""
    call = do_record_contact(city.agent, NewContact(channel="phone", citizen_phone="13812341234",
                                                    citizen_name="张三"))
    order = new_order(city.agent, citizen_phone="13812341234")
    mail = do_record_contact(city.system, NewContact(
        channel="email", citizen_email="zs@example.cn",
        identities=[(IdentityKind.CHAT, "s-1")]))
    web = new_order(city.agent, citizen_phone="", citizen_email="zs@example.cn",
                    citizen_tags=["elderly"])
    assert call.citizen is not None and mail.citizen is not None
    assert web.citizen == mail.citizen != call.citizen
    Citizen.objects.filter(pk=mail.citizen.pk).update(confidential=True)
    mail.citizen.refresh_from_db()
    return call.citizen, mail.citizen, order, web


def test_merge_moves_contacts_orders_identities_and_tags(city: City, twins: Twins) -> None:
    keep, merge, order, web = twins
    record = do_merge_citizens(city.admin, keep, merge)
    assert not Citizen.objects.filter(pk=merge.pk).exists()
    keep.refresh_from_db()
    assert set(keep.orders.all()) == {order, web}
    assert keep.contacts.count() == 4  # the call, the email and each order's own contact
    assert (keep.email, keep.tags, keep.confidential) == ("zs@example.cn", ["elderly"], True)
    assert CitizenIdentity.objects.get(kind="chat", value="s-1").citizen == keep
    assert (record.keep, record.merged_id, record.orders, record.actor) == (
        keep, merge.pk, [web.number], city.admin)
    # The registry finds the person by every key of both records.
    assert find_or_register_citizen(identities=[(IdentityKind.CHAT, "s-1")]) == keep
    assert find_or_register_citizen(email="zs@example.cn") == keep


def test_the_merged_phone_stays_findable(city: City) -> None:
    keep = find_or_register_citizen(phone="13812341234")
    merge = find_or_register_citizen(phone="13912345678", email="b@example.cn")
    assert keep is not None and merge is not None
    do_merge_citizens(city.admin, keep, merge)
    assert find_or_register_citizen(phone="139 1234 5678") == keep
    assert Citizen.objects.count() == 1


def test_a_phone_of_a_record_without_one_moves_over(city: City) -> None:
    keep = find_or_register_citizen(email="a@example.cn")
    merge = find_or_register_citizen(phone="13912345678")
    assert keep is not None and merge is not None
    do_merge_citizens(city.admin, keep, merge)
    keep.refresh_from_db()
    assert keep.phone == "13912345678"


def test_merging_into_itself_is_refused(city: City, twins: Twins) -> None:
    keep, _merge, _order, _web = twins
    with pytest.raises(InvalidInput):
        do_merge_citizens(city.admin, keep, keep)


@pytest.mark.parametrize("who", ["agent", "monitor", "leader", "handler", "auditor"])
def test_only_centre_admins_merge(city: City, twins: Twins, who: str) -> None:
    keep, merge, _order, _web = twins
    with pytest.raises(Forbidden):
        do_merge_citizens(getattr(city, who), keep, merge)
    assert Citizen.objects.filter(pk=merge.pk).exists()
    assert not CitizenMerge.objects.exists()


def test_merges_of_merges_follow_the_kept_record(city: City) -> None:
    a, b, c = (find_or_register_citizen(phone=p) for p in ("13800000001", "13800000002",
                                                           "13800000003"))
    assert a and b and c
    do_merge_citizens(city.admin, b, c)
    do_merge_citizens(city.admin, a, b)
    assert set(CitizenMerge.objects.values_list("keep_id", flat=True)) == {a.pk}


def test_the_access_log_still_finds_views_made_before_the_merge(city: City) -> None:
    """The log keeps the citizen id it wrote; after a merge an audit search by either phone
    still finds who saw the person under the merged record."""
    from hotline.orders.access_log import AccessFilters, do_log_access, search_access_log
    from hotline.orders.models import AccessKind

    keep = find_or_register_citizen(phone="13812341234", name="张三")
    merge = find_or_register_citizen(phone="13900001111", name="张三")
    assert keep is not None and merge is not None
    do_log_access(city.agent, AccessKind.CITIZEN_VIEW, citizen=merge, detail="before the merge")
    do_merge_citizens(city.admin, keep, merge)
    for phone in ("13812341234", "139 0000 1111"):
        found = search_access_log(city.audit_admin, AccessFilters(citizen_phone=phone))
        assert [e.detail for e in found] == ["before the merge"], phone
