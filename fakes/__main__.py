"""Run a fake on the command line: ``python -m fakes daraja --port 8101``.

Fakes: ``daraja`` (default port 8101), ``waafipay`` (8102), ``africastalking`` (8103), ``edahab`` (8104; its
``--delay`` approves each invoice that many seconds after it is issued), ``hormuud`` (8105). Point the
settings at them, e.g. ``DARAJA_BASE_URL=http://127.0.0.1:8101`` with the fake's demo credentials printed at
start.
"""

from __future__ import annotations

import argparse
import sys

from ._base import FakeServer
from .africastalking import FAKE_AT_API_KEY, FAKE_AT_USERNAME, FakeAfricasTalking
from .daraja import FAKE_CONSUMER_KEY, FAKE_CONSUMER_SECRET, FAKE_PASSKEY, FAKE_SHORTCODE, FakeDaraja
from .edahab import FAKE_EDAHAB_AGENT, FAKE_EDAHAB_API_KEY, FAKE_EDAHAB_SECRET, FakeEdahab
from .hormuud import FAKE_HORMUUD_PASSWORD, FAKE_HORMUUD_USERNAME, FakeHormuud
from .waafipay import FAKE_API_KEY, FAKE_API_USER_ID, FAKE_MERCHANT_UID, FakeWaafiPay

DEFAULT_PORTS = {"daraja": 8101, "waafipay": 8102, "africastalking": 8103, "edahab": 8104, "hormuud": 8105}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakes", description=__doc__)
    parser.add_argument("fake", choices=sorted(DEFAULT_PORTS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument(
        "--delay", type=float, default=2.0, help="daraja: seconds before the callback; waafipay: the 'slow' prompt time"
    )
    parser.add_argument("--dlr-url", default="", help="africastalking, hormuud: POST delivery reports here")
    parser.add_argument("--verbose", action="store_true", help="log each request line")
    args = parser.parse_args(argv)
    port = args.port if args.port is not None else DEFAULT_PORTS[args.fake]
    server: FakeServer
    if args.fake == "daraja":
        server = FakeDaraja(args.host, port, callback_delay=args.delay, verbose=args.verbose)
        settings = {
            "DARAJA_CONSUMER_KEY": FAKE_CONSUMER_KEY,
            "DARAJA_CONSUMER_SECRET": FAKE_CONSUMER_SECRET,
            "DARAJA_SHORTCODE": FAKE_SHORTCODE,
            "DARAJA_PASSKEY": FAKE_PASSKEY,
        }
        base_name = "DARAJA_BASE_URL"
    elif args.fake == "waafipay":
        server = FakeWaafiPay(args.host, port, slow_seconds=args.delay, verbose=args.verbose)
        settings = {
            "WAAFIPAY_MERCHANT_UID": FAKE_MERCHANT_UID,
            "WAAFIPAY_API_USER_ID": FAKE_API_USER_ID,
            "WAAFIPAY_API_KEY": FAKE_API_KEY,
        }
        base_name = "WAAFIPAY_BASE_URL"
    elif args.fake == "edahab":
        server = FakeEdahab(args.host, port, approve_after=args.delay, verbose=args.verbose)
        settings = {
            "EDAHAB_API_KEY": FAKE_EDAHAB_API_KEY,
            "EDAHAB_API_SECRET": FAKE_EDAHAB_SECRET,
            "EDAHAB_AGENT_CODE": FAKE_EDAHAB_AGENT,
        }
        base_name = "EDAHAB_BASE_URL"
    elif args.fake == "hormuud":
        server = FakeHormuud(args.host, port, dlr_url=args.dlr_url, dlr_delay=args.delay, verbose=args.verbose)
        settings = {"HORMUUD_SMS_USERNAME": FAKE_HORMUUD_USERNAME, "HORMUUD_SMS_PASSWORD": FAKE_HORMUUD_PASSWORD}
        base_name = "HORMUUD_SMS_BASE_URL"
    else:
        server = FakeAfricasTalking(args.host, port, dlr_url=args.dlr_url, dlr_delay=args.delay, verbose=args.verbose)
        settings = {"AT_USERNAME": FAKE_AT_USERNAME, "AT_API_KEY": FAKE_AT_API_KEY}
        base_name = "AT_API_BASE_URL"
    # These are the fake's own demo values, not real credentials.
    print(f"{base_name}={server.base_url}", *(f"{k}={v}" for k, v in settings.items()), sep="\n", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
