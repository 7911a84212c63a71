"""Back-office pages outside the admin site: the staff second-factor page (backoffice.security)."""

from django.urls import path

from backoffice.security import second_factor_view

urlpatterns = [
    path("admin/2fa/", second_factor_view, name="staff-2fa"),
]
