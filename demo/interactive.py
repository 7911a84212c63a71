"""The interactive wallet: the simulator page answers sandbox payment prompts for the phone it shows.

Without the page, the sandbox approves (or declines, for its magic numbers) by itself: the pipeline
schedules the provider's simulated callbacks. While a simulator page is open for a phone it keeps a
heartbeat in the shared cache (web, worker and beat all see it). A sandbox push for that phone is then
held as a *prompt* instead: the pipeline calls `wallet_prompt_hold` where it would schedule the
simulated callbacks, and gets nothing back to schedule. The person answers on the page, and
`wallet_prompt_answer` feeds the sandbox callback body through the same task the pipeline uses for
simulated callbacks (store the raw callback, then process it), so everything after is the real path.

A phone without a page (scripts, tests, `manage.py phone`) never has a heartbeat, so it keeps the
sandbox's automatic behaviour. Nothing here is active unless settings.DEMO_MODE is on.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from demo import texts as _texts  # noqa: F401  (registers the prompt's words)
from vending.i18n import render
from vending.models import Payment
from vending.payments import FailureReason, Outcome, SimulatedCallback
from vending.payments.registry import SANDBOX
from vending.wallets import wallet_spec

# The page polls every couple of seconds; a closed page stops holding prompts after this long.
HEARTBEAT_SECONDS = 20
# How long an unanswered prompt stays on the page (a real STK prompt gives up after about a minute;
# the payment sweep then asks the sandbox, which answers from the reference alone).
PROMPT_SECONDS = 90
# The one PIN the demo wallet accepts; any other 4-digit PIN is a "wrong PIN" decline.
DEMO_PIN = "1234"
PIN_LENGTH = 4
_JSON_HEADERS = {"Content-Type": "application/json"}
PROMPT_TEXTS = ("ask", "pin_hint", "approved", "wrong_pin", "declined")


class PromptNotFound(LookupError):
    """No open prompt with that id for that phone (answered already, expired, or never there)."""


class BadPin(ValueError):
    """Not a PIN the wallet would even send (wrong length, not digits); the prompt stays open."""


@dataclass(frozen=True)
class WalletPrompt:
    id: str  # the purchase reference: unique, short, and what the customer sees
    phone: str
    provider: str
    provider_reference: str
    wallet: str
    amount: str
    currency: str
    merchant: str
    created_at: float
    # The callbacks the sandbox would have delivered on its own: what "approve" sends.
    bodies: tuple[str, ...]
    language: str = "en"  # the purchase's: the prompt speaks the payer's language

    def public(self) -> dict[str, object]:
        """What the page may show: no provider reference, no callback bodies."""
        spec = wallet_spec(self.wallet)
        wallet_name = (spec.prompt_name or spec.name) if spec else self.wallet
        values = {
            "wallet": wallet_name,
            "currency": self.currency,
            "amount": self.amount,
            "merchant": self.merchant,
            "ref": self.id,
            "length": PIN_LENGTH,
        }
        return {
            "id": self.id,
            "wallet": self.wallet,
            "wallet_name": wallet_name,
            "amount": self.amount,
            "currency": self.currency,
            "merchant": self.merchant,
            "reference": self.id,
            "pin_length": PIN_LENGTH,
            "language": self.language,
            "texts": {key: render(f"demo.wallet.{key}", self.language, **values) for key in PROMPT_TEXTS},
        }


def _phone_key(phone: str) -> str:
    return f"demo:wallet:page:{phone}"


def _prompts_key(phone: str) -> str:
    return f"demo:wallet:prompts:{phone}"


# -- the page's heartbeat --------------------------------------------------------------------------


def wallet_register(*, phone: str) -> None:
    """The simulator page for `phone` is open: hold its sandbox pushes for a while."""
    cache.set(_phone_key(phone), True, timeout=HEARTBEAT_SECONDS)


def wallet_unregister(*, phone: str) -> None:
    cache.delete(_phone_key(phone))


def wallet_is_interactive(*, phone: str) -> bool:
    return bool(settings.DEMO_MODE and cache.get(_phone_key(phone)))


# -- the pipeline's hook ---------------------------------------------------------------------------


def wallet_prompt_hold(
    *, provider: str, payment: Payment, callbacks: tuple[SimulatedCallback, ...]
) -> tuple[SimulatedCallback, ...]:
    """The simulated callbacks the pipeline should still schedule for this push.

    Called inside the pipeline's transaction. For a sandbox push to a phone whose simulator page is open
    it returns none, and stores a prompt for the page once the transaction commits (a rolled-back push
    leaves no prompt). Otherwise it returns `callbacks` unchanged.
    """
    purchase = payment.purchase
    if provider != SANDBOX or not callbacks or not wallet_is_interactive(phone=purchase.payer_phone):
        return callbacks
    prompt = WalletPrompt(
        id=purchase.reference,
        phone=purchase.payer_phone,
        provider=provider,
        provider_reference=payment.provider_reference,
        wallet=purchase.wallet,
        amount=f"{purchase.amount:.2f}",
        currency=purchase.currency,
        merchant=purchase.meter.supply_group.utility.name,
        created_at=time.time(),
        bodies=tuple(callback.body.decode() for callback in callbacks),
        language=purchase.language,
    )
    transaction.on_commit(lambda: _store(prompt))
    return ()


# -- prompts ----------------------------------------------------------------------------------------


def _load(phone: str, now: float) -> list[WalletPrompt]:
    rows = cache.get(_prompts_key(phone)) or []
    prompts = [WalletPrompt(**{**row, "bodies": tuple(row["bodies"])}) for row in rows]
    return [p for p in prompts if now - p.created_at < PROMPT_SECONDS]


def _save(phone: str, prompts: list[WalletPrompt]) -> None:
    cache.set(_prompts_key(phone), [asdict(p) for p in prompts], timeout=PROMPT_SECONDS)


def _store(prompt: WalletPrompt) -> None:
    prompts = [p for p in _load(prompt.phone, prompt.created_at) if p.id != prompt.id]
    _save(prompt.phone, [*prompts, prompt])


def wallet_prompts(*, phone: str, now: float | None = None) -> list[WalletPrompt]:
    """The open prompts for `phone`, oldest first."""
    return _load(phone, time.time() if now is None else now)


def wallet_prompts_clear(*, phone: str) -> None:
    cache.delete(_prompts_key(phone))


def _take(phone: str, prompt_id: str, now: float) -> WalletPrompt:
    prompts = _load(phone, now)
    prompt = next((p for p in prompts if p.id == prompt_id), None)
    if prompt is None:
        raise PromptNotFound(prompt_id)
    _save(phone, [p for p in prompts if p.id != prompt_id])
    return prompt


def _decline_body(prompt: WalletPrompt, reason: FailureReason) -> str:
    """A decline in the sandbox's own callback format (vending.payments.sandbox parse_callback)."""
    return json.dumps(
        {
            "provider_reference": prompt.provider_reference,
            "outcome": Outcome.DECLINED.value,
            "failure_reason": reason.value,
            "amount": None,
            "phone": prompt.phone,
        },
        sort_keys=True,
    )


def wallet_prompt_answer(*, phone: str, prompt_id: str, pin: str | None, now: float | None = None) -> str:
    """Approve (with a PIN) or decline (`pin=None`) one prompt; returns "approved", "wrong_pin" or "declined".

    The answer goes through the sandbox callback task, run here and now: the callback is stored raw and
    processed exactly as a simulated callback would be, and the pipeline enqueues the vend on commit.
    """
    from vending.tasks import sandbox_callback_task

    if pin is not None and (len(pin) != PIN_LENGTH or not pin.isdigit()):
        raise BadPin(f"the PIN has {PIN_LENGTH} digits")
    prompt = _take(phone, prompt_id, time.time() if now is None else now)
    bodies: tuple[str, ...]
    if pin is None:
        answer, bodies = "declined", (_decline_body(prompt, FailureReason.CANCELLED),)
    elif pin != DEMO_PIN:
        answer, bodies = "wrong_pin", (_decline_body(prompt, FailureReason.WRONG_PIN),)
    else:
        answer, bodies = "approved", prompt.bodies
    for body in bodies:
        sandbox_callback_task(prompt.provider, body, dict(_JSON_HEADERS))
    return answer
