"""The backtest chart: one PNG per symbol — mid price with the fills, position, PnL.

Drawn with matplotlib (the optional extra `ttxt-kafka[charts]`, which `make setup` installs);
without it the rest of the report is still written and the summary says how to get the chart.
Three panels on one time axis (UTC):

1. the mid price, buys as green up-triangles and sells as red down-triangles at their fill
   price (hollow when the fill was a taker's);
2. the position (a step line: it changes only at fills);
3. the total PnL in the quote asset (realized + unrealized - fees, marked to the mid), with the
   realized part after fees dashed, shaded green above zero and red below.

A long run has millions of mid changes: the line is reduced to the low and the high of each of
~2,000 time buckets (the envelope a screen can show), so the PNG takes a second to draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ttxt_kafka.events import Side

from .tracker import SymbolTrack

if TYPE_CHECKING:
    from .report import SymbolResult

BUCKETS = 2000
BUY, SELL = "#1a9850", "#d73027"
INSTALL_HINT = "pip install 'ttxt-kafka[charts]' (matplotlib), or `make setup`"


class ChartUnavailable(RuntimeError):
    """No chart library: the message says how to install it."""


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ChartUnavailable(f"the chart needs matplotlib: {INSTALL_HINT}") from None
    matplotlib.use("Agg", force=True)  # files only: never open a window
    import matplotlib.pyplot as plt

    return plt


def envelope(ts: Sequence[int], values: Sequence[float], buckets: int = BUCKETS
             ) -> tuple[list[int], list[float]]:
    """At most ~2 points per time bucket: the low and the high, in time order."""
    n = len(ts)
    if n <= 2 * buckets:
        return list(ts), list(values)
    t0, t1 = ts[0], ts[-1]
    width = max(1, (t1 - t0) // buckets + 1)
    out_t: list[int] = []
    out_v: list[float] = []
    i = 0
    while i < n:
        end = t0 + ((ts[i] - t0) // width + 1) * width
        j = i
        lo = hi = i
        while j < n and ts[j] < end:
            if values[j] < values[lo]:
                lo = j
            if values[j] > values[hi]:
                hi = j
            j += 1
        for k in sorted({lo, hi}):
            out_t.append(ts[k])
            out_v.append(values[k])
        i = j
    return out_t, out_v


def _times(ts: Sequence[int]) -> list[datetime]:
    return [datetime.fromtimestamp(t / 1e6, UTC).replace(tzinfo=None) for t in ts]


def draw_chart(track: SymbolTrack, path: Path, *, title: str,
               summary: SymbolResult | None = None) -> None:
    plt = _pyplot()
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    led = track.ledger
    fig, (ax_px, ax_pos, ax_pnl) = plt.subplots(
        3, 1, figsize=(12, 8), dpi=100, sharex=True,
        gridspec_kw={"height_ratios": [3, 1, 1.6], "hspace": 0.08})
    try:
        t, v = envelope(track.mid_ts, track.mid_px)
        ax_px.plot(_times(t), v, color="#4a4a4a", linewidth=0.8, label="mid")
        for side, color, marker, label in ((Side.BUY, BUY, "^", "buy"),
                                           (Side.SELL, SELL, "v", "sell")):
            rows = [r.fill for r in track.fills if r.fill.side is side]
            for maker in (True, False):
                part = [f for f in rows if f.is_maker is maker]
                if not part:
                    continue
                ax_px.scatter(_times([f.exchange_ts for f in part]),
                              [float(f.price) for f in part], marker=marker, s=36, zorder=3,
                              color=color if maker else "none", edgecolors=color,
                              linewidths=1.0,
                              label=f"{label} ({len(part)}{'' if maker else ' taker'})")
        ax_px.set_ylabel(f"price ({led.quote})")
        ax_px.set_title(title, loc="left", fontsize=13, fontweight="bold",
                        pad=22 if summary is not None else 6)
        if summary is not None:  # the numbers, on their own line under the title
            ax_px.text(0, 1.015, _headline(summary), transform=ax_px.transAxes, fontsize=9,
                       color="#333333", va="bottom", ha="left")
        ax_px.legend(loc="best", fontsize=8, framealpha=0.8, edgecolor="none", ncol=5)
        ax_px.ticklabel_format(axis="y", useOffset=False, style="plain")

        samples = track.samples
        st = _times([s.ts for s in samples])
        ax_pos.step(st, [float(s.position) for s in samples], where="post", color="#2c7fb8",
                    linewidth=1.0)
        ax_pos.axhline(0, color="#999999", linewidth=0.6)
        ax_pos.set_ylabel(f"position ({led.base})")

        total = [float(s.total) for s in samples]
        realized = [float(s.realized - s.fees) for s in samples]
        ax_pnl.plot(st, total, color="#222222", linewidth=1.0, label="total PnL")
        ax_pnl.plot(st, realized, color="#7b3294", linewidth=0.8, linestyle="--",
                    label="realized - fees")
        ax_pnl.fill_between(st, total, 0, where=[x >= 0 for x in total], color=BUY,
                            alpha=0.15, interpolate=True, linewidth=0)
        ax_pnl.fill_between(st, total, 0, where=[x < 0 for x in total], color=SELL,
                            alpha=0.15, interpolate=True, linewidth=0)
        ax_pnl.axhline(0, color="#999999", linewidth=0.6)
        ax_pnl.set_ylabel(f"PnL ({led.quote})")
        ax_pnl.legend(loc="best", fontsize=8, framealpha=0.8, edgecolor="none", ncol=2)

        locator = AutoDateLocator()
        ax_pnl.xaxis.set_major_locator(locator)
        ax_pnl.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax_pnl.set_xlabel("exchange time (UTC)")
        for ax in (ax_px, ax_pos, ax_pnl):
            ax.grid(True, color="#e6e6e6", linewidth=0.6)
            ax.spines[["top", "right"]].set_visible(False)
        fig.align_ylabels()
        fig.savefig(path, format="png", metadata={"Software": None},
                    bbox_inches="tight", pad_inches=0.2)
    finally:
        plt.close(fig)


def _headline(r: SymbolResult) -> str:
    from .report import num

    return (f"{r.fills} fills · total PnL {_short(r.total)} {r.quote} (realized "
            f"{_short(r.realized)}, unrealized {_short(r.unrealized)}, fees "
            f"{_short(r.fees_value)}) · position {num(r.position)} {r.base}")


def _short(value: Any) -> str:
    """A readable rounding for the title only (the files keep every digit)."""
    return f"{float(value):,.4f}".rstrip("0").rstrip(".") if value else "0"
