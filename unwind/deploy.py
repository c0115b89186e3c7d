"""Deploy and wire the whole Unwind system. Tests, the demo and `ape run deploy` all use this.

Order: debt token, oracle adapter, buffer, vault, auction, engine; then module roles; then
collateral listings and risk parameters; finally every admin and governor role moves to the
timelock and the guardian role to the guardian, and the deployer renounces its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from unwind.params import SystemParams, default_params


@dataclass
class System:
    debt_token: object
    oracle: object
    buffer: object
    vault: object
    auction: object
    engine: object
    timelock: object
    collateral: dict = field(default_factory=dict)  # symbol -> token contract
    feeds: dict = field(default_factory=dict)  # symbol -> mock feed contract
    ids: dict = field(default_factory=dict)  # symbol -> collateral id
    params: SystemParams | None = None

    @property
    def modules(self) -> dict:
        return {
            "debt_token": self.debt_token,
            "oracle": self.oracle,
            "buffer": self.buffer,
            "vault": self.vault,
            "auction": self.auction,
            "engine": self.engine,
            "timelock": self.timelock,
        }


def role(name: str) -> bytes:
    from eth_utils import keccak

    return keccak(text=name)


DEFAULT_ADMIN = b"\x00" * 32


def feed_answer(price: str | Decimal, feed_decimals: int) -> int:
    return int(Decimal(str(price)) * (10**feed_decimals))


def deploy_system(project, deployer, params: SystemParams | None = None, guardian=None) -> System:
    """Deploy every contract with mock tokens and mock feeds (a local or test chain)."""
    params = params or default_params()
    guardian = guardian or deployer
    tx = {"sender": deployer}

    debt = project.DebtToken.deploy("Unwind USD", "uUSD", deployer, **tx)
    oracle = project.OracleAdapter.deploy(deployer, debt, **tx)
    buffer = project.LiquidityBuffer.deploy(deployer, debt, **tx)
    vault = project.Vault.deploy(deployer, debt, buffer, oracle, **tx)
    auction = project.DutchAuction.deploy(deployer, vault, debt, buffer, **tx)
    engine = project.LiquidationEngine.deploy(deployer, vault, auction, debt, buffer, **tx)
    timelock = project.Timelock.deploy(params.timelock_delay, [deployer], [deployer], deployer, **tx)

    # Module roles: who may mint, burn, confiscate, kick, absorb.
    for module in (vault, engine, buffer):
        debt.grantRole(role("MINTER_ROLE"), module, **tx)
    for module in (vault, auction, buffer):
        debt.grantRole(role("BURNER_ROLE"), module, **tx)
    vault.grantRole(role("ENGINE_ROLE"), engine, **tx)
    vault.grantRole(role("AUCTION_ROLE"), auction, **tx)
    auction.grantRole(role("ENGINE_ROLE"), engine, **tx)
    for module in (auction, engine):
        buffer.grantRole(role("MODULE_ROLE"), module, **tx)

    system = System(debt, oracle, buffer, vault, auction, engine, timelock, params=params)
    oracle.setRecoveryGrace(params.recovery_grace, **tx)
    for c in params.collaterals:
        token = project.MockERC20.deploy(f"Mock {c.symbol}", c.symbol, c.decimals, **tx)
        feed = project.MockAggregator.deploy(
            c.feed_decimals, f"{c.symbol} / USD", feed_answer(c.price, c.feed_decimals), **tx
        )
        oracle.setFeed(
            token,
            (
                feed.address,
                c.heartbeat,
                "0x0000000000000000000000000000000000000000",
                0,
                c.max_deviation_bps,
                c.max_jump_bps,
                params.oracle_delay,
                0,
                0,
            ),
            **tx,
        )
        receipt = vault.listCollateral(
            token, c.max_ltv, c.liquidation_threshold, c.penalty, c.supply_cap * 10**c.decimals, **tx
        )
        cid = vault.collateralId(token)
        auction.setParams(cid, c.auction.as_tuple(), **tx)
        engine.setCollateralCap(cid, c.collateral_cap, **tx)
        system.collateral[c.symbol] = token
        system.feeds[c.symbol] = feed
        system.ids[c.symbol] = cid
        del receipt

    vault.setDust(params.dust, **tx)
    vault.setDebtCeiling(params.debt_ceiling, **tx)
    if params.stability_fee != 10**27:
        vault.setStabilityFee(params.stability_fee, **tx)
    engine.setTargetHealth(params.target_health, **tx)
    engine.setLotMargin(params.lot_margin, **tx)
    engine.setIncentive(params.tip, params.chip, **tx)
    engine.setGlobalCap(params.global_cap, **tx)
    engine.setUnpauseGrace(params.unpause_grace, **tx)

    hand_over(system, deployer, guardian)
    return system


def hand_over(system: System, deployer, guardian) -> None:
    """Give governance to the timelock and the guardian role to `guardian`; the deployer keeps none."""
    tx = {"sender": deployer}
    timelock = system.timelock
    for module in (system.oracle, system.buffer, system.vault, system.auction, system.engine):
        module.grantRole(DEFAULT_ADMIN, timelock, **tx)
        module.grantRole(role("GOVERNOR_ROLE"), timelock, **tx)
        if guardian != deployer:
            module.grantRole(role("GUARDIAN_ROLE"), guardian, **tx)
            module.renounceRole(role("GUARDIAN_ROLE"), deployer, **tx)
        module.renounceRole(role("GOVERNOR_ROLE"), deployer, **tx)
        module.renounceRole(DEFAULT_ADMIN, deployer, **tx)
    system.debt_token.grantRole(DEFAULT_ADMIN, timelock, **tx)
    system.debt_token.renounceRole(DEFAULT_ADMIN, deployer, **tx)
    # The timelock administers itself from now on: no one can add proposers or executors at once.
    timelock.renounceRole(DEFAULT_ADMIN, deployer, **tx)


def govern(system: System, proposer, target, method: str, *args, chain=None):
    """Schedule `target.method(*args)` on the timelock and execute it once the delay has passed.

    On a live network the two halves happen days apart; here, when a chain is given, time is
    moved forward past the delay between them.
    """
    timelock = system.timelock
    data = getattr(target, method).encode_input(*args)
    zero = b"\x00" * 32
    salt = role(f"{target.address}:{method}:{args}:{timelock.getMinDelay()}:{_nonce()}")
    delay = timelock.getMinDelay()
    timelock.schedule(target, 0, data, zero, salt, delay, sender=proposer)
    if delay and chain is not None:
        chain.mine(1, deltatime=delay)
    return timelock.execute(target, 0, data, zero, salt, sender=proposer)


_counter = [0]


def _nonce() -> int:
    _counter[0] += 1
    return _counter[0]
