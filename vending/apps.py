from django.apps import AppConfig


class VendingConfig(AppConfig):
    name = "vending"
    verbose_name = "Vending"
    default_auto_field = "django.db.models.BigAutoField"
