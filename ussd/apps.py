from django.apps import AppConfig


class UssdConfig(AppConfig):
    name = "ussd"
    verbose_name = "USSD and SMS channels"
    default_auto_field = "django.db.models.BigAutoField"
