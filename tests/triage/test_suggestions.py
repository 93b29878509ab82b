"""Suggestions on intake: never blocking, routed through the catalogue, recorded per order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.directory.models import Category
from hotline.orders.services import do_action
from hotline.triage.models import ClassifierVersion, OrderSuggestion
from hotline.triage.services import (
    Reason,
    forget_loaded_model,
    suggest_categories,
    suggest_new_orders,
    suggestion_agreement,
)
from hotline.triage.training import do_train_classifier
from tests.orders.helpers import new_order
from tests.triage.conftest import labelled_history

if TYPE_CHECKING:
    from pytest_django.fixtures import DjangoAssertNumQueries

    from tests.conftest import City
    from tests.triage.conftest import Path

pytestmark = pytest.mark.usefixtures("model_dir")


@pytest.fixture
def trained(city: City) -> City:
    labelled_history(city)
    assert do_train_classifier().activated
    return city


def test_without_a_model_there_are_no_suggestions_and_intake_goes_on(city: City) -> None:
    found = suggest_categories("小区停水两天了")
    assert found.items == [] and found.reason == Reason.NO_MODEL
    order = new_order(city.agent, text="小区停水两天了", category="")
    assert order.pk and order.category is None
    assert suggest_new_orders() == 0


def test_empty_text_is_not_sent_to_the_model(trained: City) -> None:
    assert suggest_categories("   ").reason == Reason.EMPTY_TEXT


def test_the_top_suggestion_names_the_category_and_its_department(trained: City) -> None:
    found = suggest_categories("我家从昨天开始停水了，一直没有来水", title="停水")
    assert found.version is not None and found.version.version == 1
    top = found.items[0]
    assert top.category.code == "100101"
    assert top.lead_unit == trained.water
    assert trained.housing in top.co_units
    assert 0 < top.score <= 1
    assert [item.score for item in found.items] == sorted((i.score for i in found.items), reverse=True)


def test_the_department_follows_the_district_route(trained: City) -> None:
    anywhere = suggest_categories("夜间施工噪音很大，吵得睡不着")
    assert anywhere.items[0].category.code == "100201"
    assert anywhere.items[0].lead_unit == trained.env
    in_gulou = suggest_categories("夜间施工噪音很大，吵得睡不着", district=trained.gulou)
    assert in_gulou.items[0].lead_unit == trained.subcentre


def test_a_category_switched_off_since_training_is_not_suggested(trained: City) -> None:
    Category.objects.filter(code="100101").update(active=False)
    found = suggest_categories("小区停水了")
    assert "100101" not in [item.category.code for item in found.items]


def test_an_unreadable_model_file_means_no_suggestions_not_an_error(trained: City, model_dir: Path) -> None:
    version = ClassifierVersion.objects.get()
    (model_dir / version.file).write_bytes(b"not a model")
    forget_loaded_model()
    found = suggest_categories("小区停水了")
    assert found.items == [] and found.reason == Reason.MODEL_UNAVAILABLE


def test_new_orders_get_their_suggestion_recorded_once(trained: City) -> None:
    first = new_order(trained.agent, text="今天又停水了", category="", citizen_phone="13700000001")
    second = new_order(trained.agent, text="晚上施工噪音扰民", category="",
                       citizen_phone="13700000002")
    assert suggest_new_orders() >= 2
    assert suggest_new_orders() == 0  # nothing new: nothing done twice
    assert OrderSuggestion.objects.get(order=first).suggested[0][0] == "100101"
    assert OrderSuggestion.objects.get(order=second).suggested[0][0] == "100201"


def test_agreement_counts_how_often_agents_kept_the_suggestion(trained: City) -> None:
    kept = new_order(trained.agent, text="今天又停水了", category="", citizen_phone="13700000001")
    changed = new_order(trained.agent, text="今天又停水了", category="", citizen_phone="13700000002")
    suggest_new_orders()
    do_action(trained.agent, kept.number, "dispatch", {"category": "100101"})
    do_action(trained.agent, changed.number, "dispatch", {"category": "100201"})
    agreement = suggestion_agreement()
    # The 40 orders of the last days the model learnt from got a suggestion too (all kept).
    assert agreement.orders == 42
    assert agreement.top1 == round(41 / 42, 4)
    assert agreement.top3 == 1.0  # only two categories: the other one is second


def test_the_routes_of_all_suggestions_come_in_two_queries(
    trained: City, django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    from hotline.directory.routing import routes_for

    ids = [trained.cat_outage.pk, trained.cat_noise.pk]
    with django_assert_max_num_queries(2):
        routes = routes_for(ids, trained.gulou.pk)
    assert routes[trained.cat_outage.pk][0] == trained.water  # the default route
    assert routes[trained.cat_noise.pk][0] == trained.subcentre  # the district's own
    assert routes_for(ids, None)[trained.cat_noise.pk][0] == trained.env
