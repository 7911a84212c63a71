"""A real Kannel (bearerbox + smsbox) with Kannel's own fakesmsc as the operator, on ports of our choosing.

Not a fake of Kannel: the Debian packages ``kannel`` and ``kannel-extras`` (for ``fakesmsc``) run as they
would in production, from deploy/kannel/kannel.conf.in with the ports, the sendsms user and koronto's MO
URL filled in. The fake part is the SMSC: ``fakesmsc`` prints every message bearerbox hands it
(``Got message N: <from to text ...>``) and sends MO messages we type into its standard input
(``<from> <to> text <message>``). Kannel's fake SMSC answers every submit with an "accepted" report
(type 8) and then a "delivered" one (type 1), so the dlr-url round trip runs as with a real operator.

Used by the Kannel end-to-end test, by ``bench/sms_kannel.py`` and by ``make kannel`` (``python -m
fakes.kannel_box --mo-url ...``), which prints the settings koronto needs.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "kannel" / "kannel.conf.in"
BEARERBOX = os.environ.get("KANNEL_BEARERBOX", "/usr/sbin/bearerbox")
SMSBOX = os.environ.get("KANNEL_SMSBOX", "/usr/sbin/smsbox")
FAKESMSC = os.environ.get("KANNEL_FAKESMSC", "/usr/lib/kannel/test/fakesmsc")
_GOT = re.compile(r"Got message \d+: <(.*)>$")
_HEADER = re.compile(r"(\S+) (\+?\d+) (text|ucs-2|data|udh) ?(.*)$", re.DOTALL)


class KannelMissing(RuntimeError):
    """bearerbox, smsbox or fakesmsc is not installed."""


def missing_binaries() -> list[str]:
    return [p for p in (BEARERBOX, SMSBOX, FAKESMSC) if not (os.path.isfile(p) and os.access(p, os.X_OK))]


def free_port(low: int = 0, high: int = 0) -> int:
    """A free loopback TCP port, from [low, high) when given."""
    for port in range(low, high) if low else [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError(f"no free port in {low}-{high}")


@dataclass(frozen=True)
class Received:
    """A message bearerbox delivered to the fake SMSC (a message to a phone)."""

    sender: str
    to: str
    text: str


def _decode(kind: str, raw: str) -> str:
    if kind == "ucs-2":
        return urllib.parse.unquote_to_bytes(raw.replace("+", "%20")).decode("utf-16-be", "replace")
    if kind in ("data", "udh"):
        return urllib.parse.unquote_plus(raw)
    return raw


def _ports_from_env() -> tuple[int, int]:
    """KORONTO_KANNEL_PORTS="13100-13199" keeps Kannel's ports in a range (a shared machine); else any free."""
    low, _, high = os.environ.get("KORONTO_KANNEL_PORTS", "").partition("-")
    return (int(low), int(high)) if low.isdigit() and high.isdigit() else (0, 0)


@dataclass
class KannelBox:
    mo_url: str  # koronto's /hooks/sms/kannel/<secret>/
    port_range: tuple[int, int] = field(default_factory=_ports_from_env)
    log_level: int = 1
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="koronto-kannel-")))
    username: str = "koronto"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    global_sender: str = "KORONTO"

    def __post_init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []
        self.received: list[Received] = []
        self._arrived = threading.Condition()
        self.ports: dict[str, int] = {}

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> KannelBox:
        missing = missing_binaries()
        if missing:
            raise KannelMissing(f"Kannel is not installed ({', '.join(missing)}); apt-get install kannel kannel-extras")
        low, high = self.port_range
        for name in ("admin_port", "smsbox_port", "sendsms_port", "fakesmsc_port"):
            port = free_port(low, high)
            while port in self.ports.values():
                port = free_port(port + 1, high or port + 100)
            self.ports[name] = port
        conf = string.Template(TEMPLATE.read_text()).substitute(
            **self.ports,
            admin_password=secrets.token_urlsafe(12),
            log_dir=str(self.workdir),
            log_level=self.log_level,
            smsc_id="fake",
            global_sender=self.global_sender,
            username=self.username,
            password=self.password,
            mo_url=self.mo_url,
        )
        conf_path = self.workdir / "kannel.conf"
        conf_path.write_text(conf)
        conf_path.chmod(0o600)
        self._spawn([BEARERBOX, str(conf_path)], "bearerbox.out")
        self._wait_port(self.ports["smsbox_port"], timeout)
        self._spawn([SMSBOX, str(conf_path)], "smsbox.out")
        self._wait_port(self.ports["sendsms_port"], timeout)
        self._fakesmsc = self._spawn(
            [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.ports["fakesmsc_port"])], None, stdin=True
        )
        threading.Thread(target=self._read_fakesmsc, name="fakesmsc-reader", daemon=True).start()
        self._wait_smsc_online(timeout)
        return self

    def stop(self) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._procs.clear()

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> KannelBox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, argv: list[str], log_name: str | None, *, stdin: bool = False) -> subprocess.Popen[bytes]:
        out = open(self.workdir / log_name, "ab") if log_name else subprocess.PIPE  # noqa: SIM115
        proc = subprocess.Popen(
            argv,
            cwd=self.workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            start_new_session=True,
        )
        self._procs.append(proc)
        return proc

    @staticmethod
    def _wait_port(port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"Kannel did not open port {port} within {timeout:.0f}s")

    def _wait_smsc_online(self, timeout: float) -> None:
        url = f"http://127.0.0.1:{self.ports['admin_port']}/status.txt"
        deadline = time.monotonic() + timeout
        import urllib.request

        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:
                    if "online" in reply.read().decode("utf-8", "replace").split("SMSC connections:")[-1]:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("fakesmsc did not come online in bearerbox")

    # -- the fake operator ----------------------------------------------------------------------------

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sendsms_port']}/cgi-bin/sendsms"

    def settings(self) -> dict[str, str]:
        """The environment koronto needs to send through this Kannel."""
        return {
            "KANNEL_SENDSMS_URL": self.sendsms_url,
            "KANNEL_USERNAME": self.username,
            "KANNEL_PASSWORD": self.password,
        }

    def send_mo(self, sender: str, to: str, text: str) -> None:
        """A phone sends `text` to our short code `to`: fakesmsc hands it to bearerbox, smsbox to koronto."""
        if "\n" in text:
            raise ValueError("fakesmsc reads one message per line")
        assert self._fakesmsc.stdin is not None
        self._fakesmsc.stdin.write(f"{sender} {to} text {text}\n".encode())
        self._fakesmsc.stdin.flush()

    def _read_fakesmsc(self) -> None:
        assert self._fakesmsc.stdout is not None
        with open(self.workdir / "fakesmsc.out", "ab") as log:
            for raw in self._fakesmsc.stdout:
                log.write(raw)
                log.flush()
                got = _GOT.search(raw.decode("utf-8", "replace").rstrip("\n"))
                if not got:
                    continue
                header = _HEADER.match(got[1])
                with self._arrived:
                    if header:
                        self.received.append(Received(header[1], header[2], _decode(header[3], header[4])))
                    elif self.received:
                        # The fake SMSC's wire is one line per message, so bearerbox's plain text with
                        # newlines reaches fakesmsc as several lines: the later ones continue the text.
                        last = self.received[-1]
                        self.received[-1] = Received(last.sender, last.to, f"{last.text}\n{got[1]}")
                    self._arrived.notify_all()

    def wait_for(self, check: Callable[[list[Received]], bool], timeout: float = 30.0) -> list[Received]:
        """Block until `check(received)` is true or `timeout`; return what arrived."""
        with self._arrived:
            self._arrived.wait_for(lambda: check(self.received), timeout=timeout)
            return list(self.received)

    def log_text(self) -> str:
        return "\n".join(
            (self.workdir / name).read_text(errors="replace")[-4000:]
            for name in ("bearerbox.log", "smsbox.log", "fakesmsc.out")
            if (self.workdir / name).exists()
        )


def _default_mo_url() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    from django.conf import settings

    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/hooks/sms/kannel/{settings.WEBHOOK_SECRET}/"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fakes.kannel_box", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mo-url",
        default="",
        help="koronto's http://HOST/hooks/sms/kannel/<secret>/ "
        "(default: from PUBLIC_BASE_URL and WEBHOOK_SECRET of this checkout's settings)",
    )
    parser.add_argument("--ports", default="13013-13113", help="range to take Kannel's four ports from")
    args = parser.parse_args(argv)
    low, _, high = args.ports.partition("-")
    box = KannelBox(
        mo_url=args.mo_url or _default_mo_url(), port_range=(int(low), int(high)), workdir=ROOT / "var" / "kannel"
    )
    box.workdir.mkdir(parents=True, exist_ok=True)

    def stop_on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # a plain `kill` (or make's own) stops Kannel too, not only Ctrl-C

    signal.signal(signal.SIGTERM, stop_on_term)
    box.start()
    print("# Start koronto (make demo) with these settings to send through this Kannel:")
    print(*(f"{k}={v}" for k, v in box.settings().items()), "SMS_ROUTES=*=kannel", sep="\n")
    print(
        f"# logs in {box.workdir}; phone messages appear in fakesmsc.out. Type MO messages as "
        f"'+252611000111 44135 IIBSO <meter> 5' (Ctrl-C stops Kannel).",
        flush=True,
    )
    try:
        for line in sys.stdin:
            sender, _, rest = line.strip().partition(" ")
            to, _, text = rest.partition(" ")
            if sender and to and text:
                box.send_mo(sender, to, text)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        box.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
