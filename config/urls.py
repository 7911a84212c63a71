from django.contrib import admin
from django.urls import include, path

from vending.views.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("vending.api.urls")),
    path("", include("vending.urls")),
    path("", include("ussd.urls")),
    path("simulator/", include("demo.urls")),
]
