"""Webhook and partner URLs of the vending app."""

urlpatterns: list = []
