"""USSD and SMS gateway callbacks."""

urlpatterns: list = []
