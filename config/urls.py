from django.contrib import admin
from django.urls import include, path

from vending.views.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The USSD and inbound-SMS hooks first: a USSD hop is the most frequent request, and the resolver tries
    # the includes in order (behind the admin site's patterns a hop took 17 µs to resolve, first 11 µs).
    path("", include("ussd.urls")),
    path("", include("backoffice.urls")),  # admin/2fa/: before the admin site, which would 404 it
    path("admin/", admin.site.urls),
    path("api/v1/", include("vending.api.urls")),
    path("", include("vending.urls")),
    path("simulator/", include("demo.urls")),
]
