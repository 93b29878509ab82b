from django.contrib.auth import views as auth_views
from django.urls import path

from hotline.portal import (
    audit_views,
    citizen_history_views,
    citizen_views,
    fax_views,
    mailbox_staff_views,
    order_list_views,
    order_print_views,
    order_views,
    paper_views,
    security_views,
    views,
    workbench_views,
)
from hotline.web.access import public_page

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", public_page(auth_views.LoginView.as_view(
        template_name="portal/login.html", redirect_authenticated_user=True)), name="login"),
    path("logout/", public_page(auth_views.LogoutView.as_view()), name="logout"),
    path("login/code/", security_views.two_factor, name="two_factor"),
    path("login/authenticator/", security_views.two_factor_enrol, name="two_factor_enrol"),
    path("account/password/", security_views.password_change, name="password_change"),
    path("security/", security_views.security_settings, name="security_settings"),
    path("status/", views.status, name="status"),
    path("orders/", order_list_views.order_list, name="order_list"),
    path("orders/filters/save/", order_list_views.save_filter, name="order_filter_save"),
    path("orders/filters/<int:filter_id>/delete/", order_list_views.delete_filter,
         name="order_filter_delete"),
    path("orders/export/", order_list_views.export_orders, name="order_export"),
    path("orders/exports/<int:export_id>/", order_list_views.export_status,
         name="order_export_status"),
    path("orders/exports/<int:export_id>/download/", order_list_views.export_download,
         name="order_export_download"),
    path("orders/new/", order_views.order_new, name="order_new"),
    path("orders/similar/", order_views.order_similar_panel, name="order_similar_panel"),
    path("orders/letters-visits/new/", paper_views.register, name="paper_new"),
    path("orders/<str:number>/", order_views.order_detail, name="order_detail"),
    path("orders/<str:number>/print/", order_print_views.order_print, name="order_print"),
    path("orders/<str:number>/letter.pdf", order_print_views.assignment_letter,
         name="order_letter"),
    path("orders/<str:number>/fax/", fax_views.send_reply_fax, name="order_fax"),
    path("orders/<str:number>/act/<str:action>/", order_views.order_action, name="order_action"),
    path("orders/<str:number>/files/<int:attachment_id>/", order_views.attachment_download,
         name="attachment_download"),
    path("workbench/", workbench_views.workbench, name="workbench"),
    path("mailbox/", mailbox_staff_views.letters, name="mailbox_letters"),
    path("mailbox/<int:letter_id>/publication/", mailbox_staff_views.publication,
         name="mailbox_publication"),
    path("audit/access-log/", audit_views.access_log_page, name="access_log"),
    path("citizens/", citizen_history_views.citizen_search_page, name="citizen_search"),
    path("citizens/<int:citizen_id>/", citizen_history_views.citizen_detail_page,
         name="citizen_detail"),
    path("citizens/merge/", citizen_views.citizen_merge_page, name="citizen_merge"),
    path("audit/access-log/export/", audit_views.access_log_export, name="access_log_export"),
]
