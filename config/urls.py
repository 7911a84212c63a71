from django.contrib import admin
from django.urls import include, path

from vending.views.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("backoffice.urls")),  # admin/2fa/: before the admin site, which would 404 it
    path("admin/", admin.site.urls),
    path("api/v1/", include("vending.api.urls")),
    path("", include("vending.urls")),
    path("", include("ussd.urls")),
    path("simulator/", include("demo.urls")),
]
