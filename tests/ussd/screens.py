"""Expected-screen helpers for transcript tests."""

from vending.i18n import render

NAV = "0 Back 00 Home"
HOME = "CON Koronto electricity\n1. Buy electricity\n2. My meters\n3. My last tokens\n4. Purchase status\n5. Language"


def con(*lines: str) -> str:
    return "CON " + "\n".join(lines)


def end(text: str) -> str:
    return "END " + text


def home(lang: str) -> str:
    items = [render(f"ussd.home.{key}", lang) for key in ("buy", "meters", "tokens", "status", "language")]
    return con(render("ussd.home.title", lang), *[f"{n}. {label}" for n, label in enumerate(items, 1)])


def nav(lang: str) -> str:
    return render("ussd.nav", lang)
