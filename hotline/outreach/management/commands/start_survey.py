"""``manage.py start_survey NUMBER [--sms]``: ask the citizen of one order now, by the order
type's policy (or by SMS), and say what was done. For trying the survey and for wiring."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.core.errors import ServiceError
from hotline.orders.models import Order
from hotline.outreach import surveys


class Command(BaseCommand):
    help = "Start the satisfaction survey of one order (state 待回访) now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="the acceptance number")
        parser.add_argument("--sms", action="store_true", help="by SMS, whatever the policy")

    def handle(self, *args: Any, **options: Any) -> None:
        order = Order.objects.filter(number=options["number"]).first()
        if order is None:
            raise CommandError(f"no order {options['number']}")
        try:
            survey = (surveys.start_sms_survey(order) if options["sms"]
                      else surveys.start_survey(order))
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        if survey is None:
            self.stdout.write("the policy says an agent calls back: nothing sent")
            return
        self.stdout.write(f"survey {survey.pk}: {survey.state}, by {survey.method or '-'}, "
                          f"tried {', '.join(survey.tried) or '-'}; page "
                          f"{surveys.survey_link(survey)}")
