"""Printing a scenario's result (for `ape run scenario`)."""

from __future__ import annotations

from decimal import Decimal

from unwind.params import WAD
from unwind.scenarios.world import DEBT


def _fmt_units(w, sym, units) -> str:
    if sym == DEBT:
        return f"{Decimal(units) / WAD:,.2f}"
    dec = w.decimals.get(sym, 18)
    return f"{Decimal(units) / 10**dec:,.4f}"


def print_result(console, w, result):
    from rich.table import Table

    sc, v = result.scenario, result.variant
    head = {"defence": "real system", "naive": "NAIVE setup", "gap": "real system, KNOWN GAP"}[v.kind]
    console.rule(f"#{sc.number} {sc.title} [{v.key}: {head}]")
    console.print(f"[bold]incident[/bold]: {sc.incident}")
    console.print(f"[bold]variant[/bold]: {v.label}")
    console.print(f"[bold]pass criterion[/bold]: {sc.criterion}")
    steps = Table(title="What happened", show_lines=False)
    steps.add_column("who")
    steps.add_column("what")
    for who, what in result.steps:
        steps.add_row(who, what)
    console.print(steps)
    if result.checks:
        checks = Table(title="Checks")
        checks.add_column("")
        checks.add_column("check")
        checks.add_column("detail")
        for c in result.checks:
            checks.add_row("[green]PASS[/green]" if c.passed else "[red]FAIL[/red]", c.name, c.detail)
        console.print(checks)
    if result.pnl:
        p = result.pnl
        console.print(f"[bold]attacker PnL[/bold]: {p.net:+,.2f} USD = holdings {p.trading:+,.2f} - gas "
                      f"{p.gas_usd:,.2f} ({p.gas_units:,} gas in {p.txs} txs, 20 gwei, ETH at "
                      f"{p.pref['WETH']:,.0f}); P_ref: " + ", ".join(f"{k} {x:,}" for k, x in p.pref.items()))
    books = Table(title="Collateral and debt, before -> after")
    books.add_column("item")
    books.add_column("before", justify="right")
    books.add_column("after", justify="right")
    b0, b1 = result.books_before, result.books_after
    for sym in b1["vault collateral"]:
        before = b0["vault collateral"].get(sym, 0)
        books.add_row(f"vault collateral {sym}", _fmt_units(w, sym, before), _fmt_units(w, sym, b1["vault collateral"][sym]))
    for key in ("vault debt", "auction tabs", "buffer surplus", "bad debt", "debt token supply"):
        books.add_row(key, _fmt_units(w, DEBT, b0[key]), _fmt_units(w, DEBT, b1[key]))
    for acct, pos in b1["positions"].items():
        old = b0["positions"].get(acct, {})
        label = "attacker" if acct == str(w.attacker) else ("attacker contract" if acct == str(w.bot) else acct[:10])
        for sym, units in pos.items():
            if units or old.get(sym):
                books.add_row(f"{label} {sym if sym != DEBT else 'debt'}", _fmt_units(w, sym, old.get(sym, 0)),
                              _fmt_units(w, sym, units))
    console.print(books)
    if v.kind == "naive":
        verdict = "[green]attack succeeded, as it must on the naive setup[/green]" if result.attack_succeeded \
            else "[red]attack did NOT succeed on the naive setup: the scenario proves nothing[/red]"
    elif v.kind == "gap":
        verdict = ("[yellow]known gap: criterion does not hold; fix needed: " + v.fix + "[/yellow]"
                   if not result.criterion_holds else "[green]gap closed: the criterion holds now[/green]")
    else:
        verdict = "[green]criterion holds[/green]" if result.criterion_holds else "[red]criterion FAILS[/red]"
    console.print(verdict)
