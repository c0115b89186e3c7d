"""Deploy and wire the whole Unwind system. Tests, the demo and `ape run deploy` all use this.

Order: debt token, oracle adapter, buffer, vault, auction, engine; then module roles; then
collateral listings and risk parameters; finally every admin and governor role moves to the
timelock and the guardian role to the guardian, and the deployer renounces its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from unwind.params import ZERO_ADDRESS, SystemParams, default_params


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
    risk: object = None  # AdaptiveRisk, when params.adaptive.enabled
    direct: object = None  # DirectLiquidator (IDirectLiquidator): direct liquidation beside the auctions

    @property
    def modules(self) -> dict:
        modules = {
            "debt_token": self.debt_token,
            "oracle": self.oracle,
            "buffer": self.buffer,
            "vault": self.vault,
            "auction": self.auction,
            "engine": self.engine,
            "timelock": self.timelock,
        }
        if self.direct is not None:
            modules["direct"] = self.direct
        if self.risk is not None:
            modules["risk"] = self.risk
        return modules


def role(name: str) -> bytes:
    from eth_utils import keccak

    return keccak(text=name)


DEFAULT_ADMIN = b"\x00" * 32
RESERVE_CHUNK = 128  # auction sales per reserve transaction (~9M gas)


def feed_answer(price: str | Decimal, feed_decimals: int) -> int:
    return int(Decimal(str(price)) * (10**feed_decimals))


class DeployInterrupted(RuntimeError):
    """An injected failure (UNWIND_DEPLOY_FAIL_AFTER): the deployment stops as if killed."""


class ResumeError(RuntimeError):
    """A recorded step cannot be reused (no code at a recorded address)."""


class Journal:
    """What a deployment has done so far: contracts (address, tx, block) and transactions (tx, block).

    With a `save` callback it is written after every step, so a deployment killed halfway resumes
    from it: recorded contracts are reused (after checking their code is there) and recorded
    transactions are not sent again. Without one it only remembers (tests, the demo).
    """

    def __init__(self, data: dict | None = None, save=None):
        self.data = data if data is not None else {}
        self.data.setdefault("deployments", {})
        self.data.setdefault("steps", {})
        self._save = save

    def contract(self, key: str) -> dict | None:
        return self.data["deployments"].get(key)

    def done(self, key: str) -> bool:
        return key in self.data["steps"]

    def add_contract(self, key, name, address, tx, block) -> None:
        self.data["deployments"][key] = {"contract": name, "address": address, "tx": tx, "block": block}
        self.save()

    def add_step(self, key, tx, block) -> None:
        self.data["steps"][key] = {"tx": tx, "block": block}
        self.save()

    def save(self) -> None:
        if self._save:
            self._save(self.data)


class _Steps:
    """Runs each deployment step once, in order, through a Journal."""

    def __init__(self, project, sender, journal: Journal, tx_kwargs: dict | None, fail_after: int | None,
                 progress=None, total: int | None = None):
        self.project = project
        self.tx = {"sender": sender, **(tx_kwargs or {})}
        self.journal = journal
        self.fail_after = fail_after
        self.sent = 0
        self.reused = 0
        self.resuming = bool(journal.data["deployments"] or journal.data["steps"])
        self.progress = progress  # progress(line) before each step sent: `step 23/68: <what>`
        self.total = total
        self.index = 0  # steps reached, sent or reused

    def _announce(self, what: str) -> None:
        self.index += 1
        if self.progress is not None:
            self.progress(f"step {self.index}/{self.total or '?'}: {what}")

    def _tick(self) -> None:
        self.sent += 1
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise DeployInterrupted(f"injected failure after {self.sent} steps (UNWIND_DEPLOY_FAIL_AFTER)")

    def deploy(self, key: str, name: str, *args):
        container = getattr(self.project, name)
        rec = self.journal.contract(key)
        if rec:
            from ape import chain

            if not chain.provider.get_code(rec["address"]):
                raise ResumeError(f"{key}: the record says {name} is at {rec['address']}, but there is no code there")
            self.reused += 1
            self.index += 1
            return container.at(rec["address"])
        self._announce(describe_deploy(key, name))
        c = container.deploy(*args, **self.tx)
        meta = c.creation_metadata
        self.journal.add_contract(key, name, c.address, c.txn_hash, meta.block if meta else None)
        self._tick()
        return c

    def send(self, key: str, contract, method: str, *args, skip_if=None):
        if self.journal.done(key):
            self.reused += 1
            self.index += 1
            return None
        if skip_if is not None and self.resuming and skip_if():
            # Sent by a run killed before it could record it: the chain already has it.
            self._announce(f"{describe_send(key, method)}: already on chain (sent by the interrupted run)")
            self.journal.add_step(key, None, None)
            return None
        self._announce(describe_send(key, method))
        receipt = getattr(contract, method)(*args, **self.tx)
        self.journal.add_step(key, receipt.txn_hash, receipt.block_number)
        self._tick()
        return receipt


def _address(x) -> str:
    return x if isinstance(x, str) else x.address


def _resolve(who: str, deployer) -> str:
    if who == "deployer":
        return deployer.address
    if who == "anyone":
        return ZERO_ADDRESS
    return who


def _listed(vault, token) -> bool:
    """Whether the vault lists `token`, read without a reverting call (collateralId reverts for an
    unlisted token, and Ape prints the trace of every reverted call: `reverted without message`)."""
    address = _address(token).lower()
    return any(str(vault.collateral(i).token).lower() == address for i in range(vault.collateralCount()))


def describe_deploy(key: str, name: str) -> str:
    return f"deploy {name}" + ("" if key.replace("_", "") == name.lower() else f" ({key})")


def describe_send(key: str, method: str) -> str:
    """A step's key as a progress line (`role.vault.ENGINE_ROLE.engine`: `vault grants ENGINE_ROLE to engine`)."""
    parts = key.split(".")
    if parts[0] == "role" and len(parts) == 4:
        return f"{parts[1]} grants {parts[2]} to {parts[3]}"
    return key if parts[-1] == method else f"{key} ({method})"


def count_steps(params: SystemParams, guardian_is_deployer: bool) -> int:
    """How many steps (contracts and transactions) deploy_system takes for `params`: the N of `step n/N`.

    Mirrors deploy_system and hand_over; tests/operator/test_deploy.py checks it against real deployments.
    """
    n = 8 + 14 + 1  # modules; module roles; recovery grace
    n += bool(params.sequencer_feed) + (params.min_ramp_duration != 86400)
    for c in params.collaterals:
        n += (not c.token) + (not c.feed) + 4 + bool(c.frozen)  # mocks; feed, listing, auction, cap; frozen
        n += bool(c.direct.max_debt)  # direct liquidation
    n += -(-params.auction_reserve // RESERVE_CHUNK)
    n += 2 + (params.stability_fee != 10**27) + 5  # dust, ceiling; fee; engine settings
    modules = 6
    if params.adaptive.enabled:
        from unwind.risk import default_bands

        n += 1 + len(default_bands(params)) + 3
        modules += 1
    n += modules * (4 + (0 if guardian_is_deployer else 2)) + 3  # hand-over
    return n


def deploy_system(project, deployer, params: SystemParams | None = None, guardian=None, journal: Journal | None = None,
                  tx_kwargs: dict | None = None, fail_after: int | None = None, progress=None) -> System:
    """Deploy and wire every contract; mock tokens and feeds where the parameters say `mock`.

    `guardian` (an account) overrides params.guardian. With a `journal` from an interrupted run,
    steps already done are reused instead of sent again (see Journal). `tx_kwargs` go with every
    transaction (fee caps on a live network); `fail_after` stops after that many sent steps.
    `progress(line)` is called before each step is sent (`step 23/68: engine.setIncentive`).
    """
    params = params or default_params()
    guardian = _address(guardian) if guardian is not None else _resolve(params.guardian, deployer)
    total = count_steps(params, guardian == deployer.address)
    steps = _Steps(project, deployer, journal or Journal(), tx_kwargs, fail_after, progress, total)
    proposers = [_resolve(a, deployer) for a in params.proposers]
    executors = [_resolve(a, deployer) for a in params.executors]

    debt = steps.deploy("debt_token", "DebtToken", "Unwind USD", "uUSD", deployer)
    oracle = steps.deploy("oracle", "OracleAdapter", deployer, debt)
    buffer = steps.deploy("buffer", "LiquidityBuffer", deployer, debt)
    vault = steps.deploy("vault", "Vault", deployer, debt, buffer, oracle)
    auction = steps.deploy("auction", "DutchAuction", deployer, vault, debt, buffer)
    engine = steps.deploy("engine", "LiquidationEngine", deployer, vault, auction, debt, buffer)
    direct = steps.deploy("direct", "DirectLiquidator", deployer, vault, debt, buffer, engine)
    timelock = steps.deploy("timelock", "Timelock", params.timelock_delay, proposers, executors, deployer)

    # Module roles: who may mint, burn, confiscate, kick, absorb.
    grants = [(debt, "debt_token", "MINTER_ROLE", m, n) for m, n in ((vault, "vault"), (engine, "engine"), (buffer, "buffer"),
                                                                    (direct, "direct"))]
    grants += [(debt, "debt_token", "BURNER_ROLE", m, n) for m, n in ((vault, "vault"), (auction, "auction"), (buffer, "buffer"),
                                                                    (direct, "direct"))]
    grants += [(vault, "vault", "ENGINE_ROLE", engine, "engine"), (vault, "vault", "ENGINE_ROLE", direct, "direct"),
               (vault, "vault", "AUCTION_ROLE", auction, "auction"),
               (auction, "auction", "ENGINE_ROLE", engine, "engine")]
    grants += [(buffer, "buffer", "MODULE_ROLE", m, n) for m, n in ((auction, "auction"), (engine, "engine"))]
    for target, tname, rname, module, mname in grants:
        steps.send(f"role.{tname}.{rname}.{mname}", target, "grantRole", role(rname), module)

    system = System(debt, oracle, buffer, vault, auction, engine, timelock, params=params, direct=direct)
    steps.send("oracle.setRecoveryGrace", oracle, "setRecoveryGrace", params.recovery_grace)
    if params.sequencer_feed:
        steps.send("oracle.setSequencerFeed", oracle, "setSequencerFeed", params.sequencer_feed, params.sequencer_grace)
    if params.min_ramp_duration != 86400:
        steps.send("vault.setMinRampDuration", vault, "setMinRampDuration", params.min_ramp_duration)
    for c in params.collaterals:
        k = f"collateral.{c.symbol}"
        if c.token:
            token = project.MockERC20.at(c.token)  # any ERC-20: the mock's ABI is the standard one
        else:
            token = steps.deploy(f"{k}.token", "MockERC20", f"Mock {c.symbol}", c.symbol, c.decimals)
        if c.feed:
            feed = project.MockAggregator.at(c.feed)  # read through the aggregator interface only
        else:
            feed = steps.deploy(f"{k}.feed", "MockAggregator", c.feed_decimals, f"{c.symbol} / USD",
                                feed_answer(c.price, c.feed_decimals))
        steps.send(f"{k}.setFeed", oracle, "setFeed", token, feed_config(c, params, feed.address))
        steps.send(f"{k}.listCollateral", vault, "listCollateral", token, c.max_ltv, c.liquidation_threshold,
                   c.penalty, c.supply_cap * 10**c.decimals, skip_if=lambda t=token: _listed(vault, t))
        cid = vault.collateralId(token)
        steps.send(f"{k}.auction.setParams", auction, "setParams", cid, c.auction.as_tuple())
        steps.send(f"{k}.setCollateralCap", engine, "setCollateralCap", cid, c.collateral_cap)
        if c.direct.max_debt:
            steps.send(f"{k}.setDirectParams", direct, "setDirectParams", cid, c.direct.as_tuple())
        if c.frozen:
            steps.send(f"{k}.setFrozen", vault, "setFrozen", cid, True)
        system.collateral[c.symbol] = token
        system.feeds[c.symbol] = feed
        system.ids[c.symbol] = cid

    # Pre-pay auction storage (IDutchAuction.reserve): a crash's liquidations then reuse slots.
    for done in range(0, params.auction_reserve, RESERVE_CHUNK):
        n = min(RESERVE_CHUNK, params.auction_reserve - done)
        steps.send(f"auction.reserve.{done}", auction, "reserve", n,
                   skip_if=lambda want=done + n: auction.poolSize() >= want)
    steps.send("vault.setDust", vault, "setDust", params.dust)
    steps.send("vault.setDebtCeiling", vault, "setDebtCeiling", params.debt_ceiling)
    if params.stability_fee != 10**27:
        steps.send("vault.setStabilityFee", vault, "setStabilityFee", params.stability_fee)
    steps.send("engine.setTargetHealth", engine, "setTargetHealth", params.target_health)
    steps.send("engine.setLotMargin", engine, "setLotMargin", params.lot_margin)
    steps.send("engine.setIncentive", engine, "setIncentive", params.tip, params.chip)
    steps.send("engine.setGlobalCap", engine, "setGlobalCap", params.global_cap)
    steps.send("engine.setUnpauseGrace", engine, "setUnpauseGrace", params.unpause_grace)

    if params.adaptive.enabled:
        from unwind.risk import default_bands

        risk = steps.deploy("risk", "AdaptiveRisk", deployer, vault, auction, engine, params.adaptive.as_tuple())
        for i, band in default_bands(params).items():
            cid = system.ids[params.collaterals[i].symbol]
            steps.send(f"risk.setBand.{params.collaterals[i].symbol}", risk, "setBand", cid, band.as_tuple())
        for target, tname in ((vault, "vault"), (auction, "auction"), (engine, "engine")):
            steps.send(f"role.{tname}.RISK_ROLE.risk", target, "grantRole", role("RISK_ROLE"), risk)
        system.risk = risk

    hand_over(system, deployer, guardian, steps)
    system.steps_sent, system.steps_reused = steps.sent, steps.reused
    return system


def feed_config(c, params: SystemParams, feed_address: str) -> tuple:
    """IOracleAdapter.FeedConfig for a collateral's parameters."""
    return (
        feed_address,
        c.heartbeat,
        c.secondary_feed or ZERO_ADDRESS,
        c.secondary_heartbeat,
        c.max_deviation_bps,
        c.max_jump_bps,
        params.oracle_delay,
        c.min_answer,
        c.max_answer,
    )


def hand_over(system: System, deployer, guardian, steps: _Steps | None = None) -> None:
    """Give governance to the timelock and the guardian role to `guardian`; the deployer keeps none."""
    steps = steps or _Steps(None, deployer, Journal(), None, None)
    guardian = _address(guardian)
    timelock = system.timelock
    names = [n for n in ("oracle", "buffer", "vault", "auction", "engine", "direct", "risk") if getattr(system, n) is not None]
    for name in names:
        module = getattr(system, name)
        k = f"handover.{name}"
        steps.send(f"{k}.admin", module, "grantRole", DEFAULT_ADMIN, timelock)
        steps.send(f"{k}.governor", module, "grantRole", role("GOVERNOR_ROLE"), timelock)
        if guardian != deployer.address:
            steps.send(f"{k}.guardian", module, "grantRole", role("GUARDIAN_ROLE"), guardian)
            steps.send(f"{k}.renounce_guardian", module, "renounceRole", role("GUARDIAN_ROLE"), deployer)
        steps.send(f"{k}.renounce_governor", module, "renounceRole", role("GOVERNOR_ROLE"), deployer)
        steps.send(f"{k}.renounce_admin", module, "renounceRole", DEFAULT_ADMIN, deployer)
    steps.send("handover.debt_token.admin", system.debt_token, "grantRole", DEFAULT_ADMIN, timelock)
    steps.send("handover.debt_token.renounce_admin", system.debt_token, "renounceRole", DEFAULT_ADMIN, deployer)
    # The timelock administers itself from now on: no one can add proposers or executors at once.
    steps.send("handover.timelock.renounce_admin", timelock, "renounceRole", DEFAULT_ADMIN, deployer)


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
