from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from hotline.api.urls import api
from hotline.intake.sms.webhook import sms_webhook
from hotline.intake.wechat import wechat_view
from hotline.web.access import public_page

urlpatterns = [
    path("api/v1/", api.urls),
    # Django's i18n URLconf, with its one view declared public (hotline.core.rules).
    path("i18n/setlang/", public_page(set_language), name="set_language"),
    # Channels' machine endpoints (hotline.intake): each authenticates its caller itself.
    path("intake/sms/webhook/", sms_webhook, name="sms_webhook"),
    # WeChat pushes sign their query (no session, no CSRF token): see hotline/intake/wechat.py.
    path("intake/wechat/", public_page(csrf_exempt(wechat_view)), name="intake-wechat"),
    path("open311/", include("hotline.intake.open311.urls")),
    path("citizen/survey/", include("hotline.portal.survey_urls")),  # outreach's survey page
    path("citizen/", include("hotline.portal.citizen_urls")),
    path("knowledge/", include("hotline.portal.knowledge_urls")),
    path("insight/", include("hotline.portal.insight_urls")),
    path("quality/", include("hotline.portal.quality_urls")),
    path("briefs/", include("hotline.portal.brief_urls")),
    path("triage/", include("hotline.portal.triage_urls")),
    path("appointments/", include("hotline.portal.appointment_urls")),  # issue 13 item 8
    path("partners/", include("hotline.portal.partner_urls")),  # issue 13 item 9

    path("outreach/", include("hotline.portal.outreach_urls")),
    path("desk/wallboard/", include("hotline.desk.wallboard_urls")),
    path("desk/", include("hotline.desk.urls")),
    path("", include("hotline.portal.urls")),
    # Not under i18n_patterns: with any unprefixed i18n_patterns in the URLconf, Django's
    # LocaleMiddleware ignores the language cookie on every unprefixed page, which breaks the
    # language switch (/i18n/setlang/) everywhere. The admin follows the cookie like the rest.
    path("admin/", admin.site.urls),
]

# Friendly, translated error pages (JSON under /api/); never Django's technical pages.
handler400 = "hotline.web.errors.bad_request"
handler403 = "hotline.web.errors.permission_denied"
handler404 = "hotline.web.errors.page_not_found"
handler500 = "hotline.web.errors.server_error"
