from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class BackofficeConfig(AppConfig):
    default = True  # "backoffice" in INSTALLED_APPS means this one, not KorontoAdminConfig below
    name = "backoffice"
    verbose_name = "Back office"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backoffice.roles import sync_roles_after_migrate

        # Runs after django.contrib.auth's own post_migrate handler (auth is listed first), so every
        # permission exists by then, including ones added by later migrations of any app.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="backoffice.sync_roles")


class KorontoAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with koronto's site (backoffice/site.py) as the default `admin.site`."""

    default = False  # named explicitly in INSTALLED_APPS
    default_site = "backoffice.site.KorontoAdminSite"
