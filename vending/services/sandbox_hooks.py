"""What another app may do with the sandbox's simulated callbacks before they are scheduled.

The demo's phone simulator answers a sandbox PIN prompt itself when its page is open (demo/interactive.py),
so it holds those callbacks back. It registers that hold here from its AppConfig; the payment service calls
whatever is registered and so never imports the demo (no arrow from vending up into demo).
"""

from collections.abc import Callable

from vending.models import Payment
from vending.payments import SimulatedCallback

CallbackHold = Callable[..., tuple[SimulatedCallback, ...]]

_holds: list[CallbackHold] = []


def register_callback_hold(hold: CallbackHold) -> None:
    """`hold(provider=, payment=, callbacks=)` returns the callbacks still to schedule; called in the push's
    transaction, in registration order."""
    if hold not in _holds:
        _holds.append(hold)


def callbacks_to_schedule(
    *, provider: str, payment: Payment, callbacks: tuple[SimulatedCallback, ...]
) -> tuple[SimulatedCallback, ...]:
    for hold in _holds:
        callbacks = hold(provider=provider, payment=payment, callbacks=callbacks)
    return callbacks
