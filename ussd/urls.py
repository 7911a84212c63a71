"""Africa's Talking gateway callbacks for USSD and inbound SMS; the last segment is WEBHOOK_SECRET."""

from django.urls import path

from ussd.views import sms, ussd

urlpatterns = [
    path("hooks/at/ussd/<str:secret>/", ussd.ussd_callback, name="ussd-callback"),
    path("hooks/at/sms/<str:secret>/", sms.inbound_sms_callback, name="sms-inbound"),
    # Inbound SMS of any gateway in vending.sms.GATEWAYS (africastalking, kannel, hormuud).
    path("hooks/sms/<str:gateway>/<str:secret>/", sms.inbound_sms, name="sms-inbound-gateway"),
]
