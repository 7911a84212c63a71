"""The phone simulator (demo mode only): the page and the JSON endpoints it polls."""

from django.urls import path

from demo import views

urlpatterns = [
    path("", views.simulator, name="demo-simulator"),
    path("api/inbox/", views.inbox, name="demo-inbox"),
    path("api/wallet/", views.wallet, name="demo-wallet"),
    path("api/wallet/<str:prompt_id>/approve/", views.wallet_approve, name="demo-wallet-approve"),
    path("api/wallet/<str:prompt_id>/decline/", views.wallet_decline, name="demo-wallet-decline"),
    path("api/meter/<str:drn>/", views.meter, name="demo-meter"),
    path("api/meter/<str:drn>/token/", views.meter_token, name="demo-meter-token"),
]
