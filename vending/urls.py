"""Provider webhooks of the vending app; the last segment is WEBHOOK_SECRET."""

from django.urls import path

from vending.views import webhooks

urlpatterns = [
    path("hooks/daraja/<str:secret>/", webhooks.daraja_callback, name="daraja-callback"),
    path("hooks/at/delivery/<str:secret>/", webhooks.at_delivery_report, name="at-delivery"),
    path("hooks/sms/<str:gateway>/<str:secret>/delivery/", webhooks.sms_delivery_report, name="sms-delivery"),
]
