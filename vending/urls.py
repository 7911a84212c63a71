"""Provider webhooks of the vending app; the last segment is WEBHOOK_SECRET."""

from django.urls import path

from vending.views import webhooks

urlpatterns = [
    path("hooks/daraja/<str:secret>/", webhooks.daraja_callback, name="daraja-callback"),
    path(
        "hooks/daraja/reversal/result/<str:secret>/",
        webhooks.daraja_reversal_result,
        {"kind": "result"},
        name="daraja-reversal-result",
    ),
    path(
        "hooks/daraja/reversal/timeout/<str:secret>/",
        webhooks.daraja_reversal_result,
        {"kind": "timeout"},
        name="daraja-reversal-timeout",
    ),
    path("hooks/at/delivery/<str:secret>/", webhooks.at_delivery_report, name="at-delivery"),
    path("hooks/sms/<str:gateway>/<str:secret>/delivery/", webhooks.sms_delivery_report, name="sms-delivery"),
]
