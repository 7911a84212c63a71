"""Gateway callbacks for USSD and inbound SMS; the last segment is WEBHOOK_SECRET.

`/hooks/ussd/<gateway>/<secret>/` picks the USSD adapter by name (ussd/gateways/); the Africa's Talking
paths under `/hooks/at/` stay as aliases.
"""

from django.urls import path

from ussd.views import sms, ussd

urlpatterns = [
    path("hooks/ussd/<str:gateway>/<str:secret>/", ussd.gateway_callback, name="ussd-gateway"),
    path("hooks/at/ussd/<str:secret>/", ussd.ussd_callback, name="ussd-callback"),
    path("hooks/at/sms/<str:secret>/", sms.inbound_sms_callback, name="sms-inbound"),
    # Inbound SMS of any gateway in vending.sms.GATEWAYS (africastalking, kannel, hormuud).
    path("hooks/sms/<str:gateway>/<str:secret>/", sms.inbound_sms, name="sms-inbound-gateway"),
]
