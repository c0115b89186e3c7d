"""PNG figures of the benchmarks (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path


def plot_crash(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series, sales = result["series"], result["sales"]
    minutes = [t / 60 for t in series["t"]]
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    c0, c1 = result["congested_blocks"]
    for a in (ax, ax2):
        a.axvspan(c0 * 12 / 60, (c1 + 1) * 12 / 60, color="orange", alpha=0.15, lw=0)
    floor = result["floor_over_ref"]
    ax.plot(minutes, series["price"], color="black", lw=1.6, label="WETH feed price (market)")
    ax.plot(minutes, series["reference"], color="tab:blue", lw=1.2, label="auction reference max(current, delayed)")
    ax.plot(minutes, [r * floor for r in series["reference"]], color="tab:blue", lw=0.8, ls="--",
            label=f"auction floor (reference x {floor:.2f})")
    keepers = sorted({s["taker"] for s in sales})
    for k, colour in zip(keepers, ("tab:green", "tab:red")):
        xs = [s["t"] / 60 for s in sales if s["taker"] == k]
        ys = [s["price"] for s in sales if s["taker"] == k]
        ax.scatter(xs, ys, s=10, color=colour, alpha=0.7, label=f"take by keeper {k[:8]}")
    ax.set_ylabel("price [uUSD per WETH]")
    ax.set_title(f"Crash replay ({result['param_set']} parameters): {result['accounts']} accounts, "
                 f"{result['auctions']} auctions, recovery {result['recovery_ratio']:.3f}, "
                 f"bad debt {result['bad_debt']:,.0f}")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)

    width = 12 / 60
    per_block_takes, per_block_kicks = {}, {}
    for s in sales:
        per_block_takes[s["t"]] = per_block_takes.get(s["t"], 0) + s["owe"]
    for k in result["kicks"]:
        per_block_kicks[k["t"]] = per_block_kicks.get(k["t"], 0) + k["tab"]
    ax2.bar([t / 60 for t in per_block_kicks], [v / 1e3 for v in per_block_kicks.values()], width=width,
            color="tab:purple", alpha=0.6, label="debt into auctions (kicks) [k uUSD]")
    ax2.bar([t / 60 for t in per_block_takes], [-v / 1e3 for v in per_block_takes.values()], width=width,
            color="tab:green", alpha=0.8, label="debt repaid by takes [k uUSD, down]")
    ax2.axhline(0, color="black", lw=0.5)
    ax2.set_ylabel("k uUSD per block")
    ax2.set_xlabel("minutes since the crash began (12-second blocks; shaded: congested blocks)")
    ax3 = ax2.twinx()
    ax3.plot(minutes, series["base_fee_gwei"], color="gray", lw=0.8, label="base fee [gwei]")
    ax3.set_ylabel("base fee [gwei]")
    h1, l1 = ax2.get_legend_handles_labels()
    h2, l2 = ax3.get_legend_handles_labels()
    ax2.legend(h1 + h2, l1 + l2, loc="lower left", fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
