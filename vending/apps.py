from django.apps import AppConfig


class VendingConfig(AppConfig):
    name = "vending"
    verbose_name = "Vending"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from vending.sms import checks  # noqa: F401  (registers the SMS route check)
