"""The partner API under /api/v1/ (mounted in config/urls.py)."""

from django.urls import path

from vending.api import schema, views

_ = schema  # registers the Api-Key security scheme with drf-spectacular

urlpatterns = [
    path("meters/<str:number>", views.MeterView.as_view(), name="api-meter"),
    path("quotes", views.QuoteView.as_view(), name="api-quotes"),
    path("purchases", views.PurchasesView.as_view(), name="api-purchases"),
    path("purchases/<uuid:purchase_id>", views.PurchaseDetailView.as_view(), name="api-purchase"),
    path("purchases/<uuid:purchase_id>/confirmation", views.ConfirmationView.as_view(), name="api-confirmation"),
    path("purchases/<uuid:purchase_id>/reversal", views.ReversalView.as_view(), name="api-reversal"),
    path("faults", views.FaultsView.as_view(), name="api-faults"),
    path("statement", views.StatementView.as_view(), name="api-statement"),
    path("schema/", views.SchemaView.as_view(), name="api-schema"),
    path("docs/", views.DocsView.as_view(url_name="api-schema"), name="api-docs"),
]
