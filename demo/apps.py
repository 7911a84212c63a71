from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "Demo (phone simulator)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The simulator page answers sandbox PIN prompts itself: it holds their callbacks (demo/interactive.py).
        from demo.interactive import wallet_prompt_hold
        from vending.services.sandbox_hooks import register_callback_hold

        register_callback_hold(wallet_prompt_hold)
