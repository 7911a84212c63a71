"""Server-drawn SVG bar charts for the dashboard: a value axis with rounded ticks, each bar's value, and a
label for every day (every n-th when there are too many to read). No JavaScript, no CDN."""

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 18, 46  # margins: the value axis left, day labels below


@dataclass(frozen=True)
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    label_shown: bool


@dataclass(frozen=True)
class Tick:
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    bars: list[ChartBar]
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM
    empty: bool = False


def _nice_step(top: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) so that `ticks` steps cover `top`."""
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def bar_chart(title: str, series: list[tuple[str, float]], *, unit: str, places: int = 0) -> Chart:
    """`series`: (day label, value) in order; `unit` names the values (KES, kWh); `places` their decimals."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = max((v for _, v in series), default=0.0)
    empty = top <= 0
    step = _nice_step(top) if not empty else 1.0
    axis_top = step * max(1, math.ceil(top / step))
    tick_places = 0 if step >= 1 else max(places, 2)
    ticks = [
        Tick(y=TOP + plot_h - plot_h * i * step / axis_top, text=_fmt(i * step, tick_places))
        for i in range(round(axis_top / step) + 1)
    ]
    slot = plot_w / max(1, len(series))
    every = max(1, math.ceil(len(series) / 16))  # at most ~16 day labels fit under 720 px
    width = max(2.0, slot * 0.7)
    bars = [
        ChartBar(
            x=LEFT + i * slot + (slot - width) / 2,
            y=TOP + plot_h - plot_h * value / axis_top,
            width=width,
            height=plot_h * value / axis_top,
            label=label,
            value=_fmt(value, places) if value else "",
            label_shown=i % every == 0 or i == len(series) - 1,
        )
        for i, (label, value) in enumerate(series)
    ]
    return Chart(title=title, unit=unit, bars=bars, ticks=ticks, empty=empty)


def _fmt(value: float, places: int) -> str:
    """Thousands separated, `places` decimals: 1,750 / 88.2."""
    return f"{value:,.{places}f}"
