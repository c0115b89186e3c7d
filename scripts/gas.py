"""`ape run gas`: gas of each protocol operation on a fresh local deployment, as JSON.

    ape run gas [--out bench/results/gas.json]

Each figure is the gasUsed of one transaction receipt. `liquidate` is an account holding two
collateral types whose liquidation creates its auction(s); `take_full` buys a whole auction.
"""

import json
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from unwind.deploy import deploy_system
from unwind.params import WAD
from unwind.story import set_price, settle_oracle


def _open(s, account, basket, utilisation="0.97"):
    for symbol, units in basket.items():
        token = s.collateral[symbol]
        token.mint(account, units, sender=account)
        token.approve(s.vault, 2**256 - 1, sender=account)
        s.vault.deposit(account, s.ids[symbol], units, sender=account)
    limit = s.vault.maxBorrow(account)
    return s.vault.borrow(account, int(limit * float(utilisation)), account, sender=account)


def measure(s, op, borrowers, keeper, bidder):
    gas = {}
    weth, wbtc = s.collateral["WETH"], s.collateral["WBTC"]
    first = borrowers[0]
    weth.mint(first, 10**19, sender=first)
    weth.approve(s.vault, 2**256 - 1, sender=first)
    s.vault.deposit(first, s.ids["WETH"], 10**18, sender=first)  # warm the position
    gas["deposit"] = s.vault.deposit(first, s.ids["WETH"], 5 * 10**18, sender=first).gas_used
    gas["borrow"] = s.vault.borrow(first, 4_000 * WAD, first, sender=first).gas_used
    gas["repay"] = s.vault.repay(first, 1_000 * WAD, sender=first).gas_used

    # 1 account for single liquidation, 10 for the batch: WETH + WBTC each.
    for account in borrowers[1:]:
        _open(s, account, {"WETH": 4 * 10**18, "WBTC": 2 * 10**7})
    _open(s, bidder, {"USDC": 10_000_000 * 10**6}, "0.9")
    set_price(s, chain, op, "WETH", "2500")
    set_price(s, chain, op, "WBTC", "50000")
    settle_oracle(s, chain, op)

    receipt = s.engine.liquidate(borrowers[1], keeper, sender=keeper)
    gas["liquidate"] = receipt.gas_used
    batch = [a.address for a in borrowers[2:12]]
    receipt = s.engine.liquidateBatch(batch, keeper, sender=keeper)
    gas["liquidate_batch_10"] = receipt.gas_used // len(batch)

    ids = list(s.auction.list())
    _, price, lot, _ = s.auction.getStatus(ids[0])
    gas["take_partial"] = s.auction.take(ids[0], lot // 4, price, bidder, b"", sender=bidder).gas_used
    _, price, lot, _ = s.auction.getStatus(ids[1])
    gas["take_full"] = s.auction.take(ids[1], lot, price, bidder, b"", sender=bidder).gas_used

    chain.mine(1, deltatime=s.params.collaterals[0].auction.max_age + 1)
    for feed in s.feeds.values():
        feed.setAnswer(feed.answer(), sender=op)
    gas["redo"] = s.auction.redo(ids[2], keeper, sender=keeper).gas_used
    return gas


@click.command(cls=ConnectedProviderCommand)
@click.option("--out", default="bench/results/gas.json", show_default=True)
def cli(ecosystem, network, provider, out):
    test = accounts.test_accounts
    op, keeper, bidder = test[0], test[1], test[2]
    borrowers = [test.generate_test_account() for _ in range(12)]
    for b in borrowers:
        chain.set_balance(b, 10**20)
    s = deploy_system(project, op)
    gas = measure(s, op, borrowers, keeper, bidder)
    solidity = project.config.solidity
    result = {
        "operations": gas,
        "compiler": {
            "solc": str(solidity.version),
            "optimize": solidity.optimize,
            "runs": solidity.optimization_runs,
            "via_ir": solidity.via_ir,
            "evm_version": solidity.evm_version,
        },
        "feeds": "MockAggregator (one latestRoundData read per collateral per oracle update)",
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=2) + "\n")
    for name, value in gas.items():
        click.echo(f"{name:20} {value:>9,}")
    click.echo(f"written to {out}")
