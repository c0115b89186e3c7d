"""The stage every adversarial scenario plays on: Unwind deployed by `unwind.deploy`, a
constant-product market of each collateral against the debt token, a flash lender, liquidity, the
attacker's contract, and the verbs scenarios use (prices, time, positions, attempts that may
revert, keeper passes, governance).

One `World` is built per test module (or per `ape run scenario` process) and every scenario runs
from the same starting state: tests get a fresh copy through Ape's per-test isolation (anvil
snapshots), the CLI through `chain.snapshot()`/`chain.restore()` between scenarios. Each scenario
first calls `World.begin()`, which refreshes every feed and pokes the adapter, so nothing depends
on how much chain time earlier runs used.

Who is who (Ape's test accounts): 0 governance proposer and guardian, 3 honest keeper, 4 the
attacker, 5 the liquidity provider ("the rest of the market": arbitrage, flash-lender funding),
1, 2, 6, 7, 8 ordinary borrowers (victims).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from unittest.mock import patch

from unwind.deploy import System, deploy_system, feed_answer, govern
from unwind.params import WAD, default_params

ZERO = "0x0000000000000000000000000000000000000000"
MAX_UINT = 2**256 - 1
DEBT = "uUSD"
GAS_PRICE_GWEI = 20  # a realistic mainnet gas price for the attacker's PnL
MARKET_FEE_BPS = 30  # 0.3%, Uniswap v2
FLASH_FEE_BPS = 5  # 0.05%, Aave v3

# Market depth at start: (collateral whole tokens, debt tokens) at the feeds' prices.
MARKET_DEPTH = {"WETH": (2_000, 6_000_000), "WBTC": (100, 6_000_000), "USDC": (2_000_000, 2_000_000)}
FLASH_LIQUIDITY = {DEBT: 20_000_000, "WETH": 5_000, "WBTC": 200}
# Capital of their own (bought at par before the story starts; counted in the attacker's PnL).
ATTACKER_CAPITAL = {DEBT: 4_000_000, "USDC": 2_000_000}
KEEPER_CAPITAL = {DEBT: 1_000_000}

# IOracleAdapter enums as Ape returns them (ints)
UNSET, LIVE, SECONDARY, FROZEN = range(4)
GUARDS = ["None", "NoPrice", "Frozen", "RecoveryGrace", "DelayedStopped", "SequencerDown", "SequencerGrace"]
STATUSES = ["Unset", "Live", "Secondary", "Frozen"]


def D(x) -> Decimal:
    return Decimal(str(x))


@dataclass
class Attempt:
    """The outcome of a transaction that may revert."""

    ok: bool
    error: str | None = None  # custom error name, or the revert string
    inputs: dict = field(default_factory=dict)
    receipt: object = None
    gas: int = 0

    def __bool__(self) -> bool:
        return self.ok


@contextmanager
def quiet_reverts():
    """An expected revert needs no call-tree printout (ape-foundry prints one per revert and
    pays a debug trace for it)."""
    try:
        from ape_ethereum.trace import Trace
    except ImportError:  # pragma: no cover
        yield
        return
    with patch.object(Trace, "show", lambda self, *a, **k: None):
        yield


class World:
    def __init__(self, project, chain, accounts, system: System | None = None):
        self.project = project
        self.chain = chain
        self.gov = accounts[0]
        self.keeper = accounts[3]
        self.attacker = accounts[4]
        self.lp = accounts[5]
        self.victims = [accounts[i] for i in (1, 2, 6, 7, 8)]
        self.s = system or deploy_system(project, self.gov, default_params())
        self.tokens = dict(self.s.collateral)
        self.tokens[DEBT] = self.s.debt_token
        self.decimals = {sym: t.decimals() for sym, t in self.tokens.items()}
        self.markets: dict = {}
        self.extra_feeds: list = []  # secondary feeds a scenario added: kept fresh too
        self._errors = None
        self.steps: list = []  # (who, what) of the running scenario
        self.attacker_gas = 0
        self.attacker_txs = 0
        self.scenario_start_block = 0
        self._build()

    # ------------------------------------------------------------------ build

    def _build(self):
        s, lp = self.s, self.lp
        # The liquidity provider's debt tokens come from its own USDC-backed position.
        need = (sum(q for _, q in MARKET_DEPTH.values()) + FLASH_LIQUIDITY[DEBT] + ATTACKER_CAPITAL[DEBT]
                + KEEPER_CAPITAL[DEBT] + 2_000_000)
        self.deposit(lp, "USDC", need * 100 // 80)
        s.vault.borrow(lp, need * WAD, lp, sender=lp)
        for sym, (base, quote) in MARKET_DEPTH.items():
            m = self.project.ConstantProductMarket.deploy(self.tokens[sym], s.debt_token, MARKET_FEE_BPS, sender=lp)
            self.mint(lp, sym, base)
            self.tokens[sym].approve(m, MAX_UINT, sender=lp)
            s.debt_token.approve(m, MAX_UINT, sender=lp)
            m.addLiquidity(self.units(sym, base), quote * WAD, sender=lp)
            self.markets[sym] = m
        self.lender = self.project.FlashLender.deploy(FLASH_FEE_BPS, sender=lp)
        for sym, amount in FLASH_LIQUIDITY.items():
            if sym != DEBT:
                self.mint(lp, sym, amount)
            self.tokens[sym].transfer(self.lender, self.units(sym, amount), sender=lp)
        self.bot = self.project.OracleAttacker.deploy(sender=self.attacker)
        for who, capital in ((self.attacker, ATTACKER_CAPITAL), (self.keeper, KEEPER_CAPITAL)):
            for sym, amount in capital.items():
                if sym != DEBT:
                    self.mint(lp, sym, amount)
                self.tokens[sym].transfer(who, self.units(sym, amount), sender=lp)
        for who in (self.attacker, self.keeper):
            for sym in self.tokens:
                self.tokens[sym].approve(s.vault, MAX_UINT, sender=who)
                for m in self.markets.values():
                    self.tokens[sym].approve(m, MAX_UINT, sender=who)
        self._saved = self._python_state()

    def _python_state(self):
        s = self.s
        return (dict(s.collateral), dict(s.feeds), dict(s.ids), dict(self.tokens), dict(self.decimals),
                dict(self.markets), list(self.extra_feeds))

    def add_collateral(self, sym: str, token, feed, cid: int, extra_feeds=()):
        """Register a collateral a scenario listed (undone by the next `begin()`)."""
        self.s.collateral[sym] = token
        self.s.feeds[sym] = feed
        self.s.ids[sym] = cid
        self.tokens[sym] = token
        self.decimals[sym] = token.decimals()
        self.extra_feeds.extend(extra_feeds)

    # ------------------------------------------------------------------ units, money

    def units(self, sym: str, whole) -> int:
        return int(D(whole) * 10 ** self.decimals[sym])

    def whole(self, sym: str, units: int) -> Decimal:
        return D(units) / 10 ** self.decimals[sym]

    def mint(self, account, sym: str, whole) -> int:
        amount = self.units(sym, whole)
        self.tokens[sym].mint(account, amount, sender=account)
        return amount

    def symbol_of(self, token) -> str:
        addr = str(getattr(token, "address", token)).lower()
        return next(sym for sym, t in self.tokens.items() if t.address.lower() == addr)

    # ------------------------------------------------------------------ scenario bookkeeping

    def begin(self):
        """Start a scenario: fresh rounds on every feed, adapter poked, logs cleared."""
        (collateral, feeds, ids, tokens, decimals, markets, extra) = self._saved
        s = self.s
        s.collateral.clear(); s.collateral.update(collateral)  # noqa: E702
        s.feeds.clear(); s.feeds.update(feeds)  # noqa: E702
        s.ids.clear(); s.ids.update(ids)  # noqa: E702
        self.tokens, self.decimals, self.markets = dict(tokens), dict(decimals), dict(markets)
        self.extra_feeds = list(extra)
        self.steps = []
        self.attacker_gas = 0
        self.attacker_txs = 0
        self.refresh_all()
        for token in self.s.collateral.values():
            self.s.oracle.poke(token, sender=self.gov)
        self.scenario_start_block = self.chain.blocks.head.number + 1

    def say(self, who: str, what: str):
        self.steps.append((who, what))

    def count_gas(self, receipt_or_gas):
        """Count one attacker transaction (a receipt, or its gas used)."""
        if receipt_or_gas is not None:
            gas = receipt_or_gas if isinstance(receipt_or_gas, int) else receipt_or_gas.gas_used
            self.attacker_gas += int(gas)
            self.attacker_txs += 1

    def act(self, what: str, fn, *args, sender=None):
        """An attacker transaction that must succeed; its gas is counted."""
        sender = sender or self.attacker
        receipt = fn(*args, sender=sender)
        self.count_gas(receipt)
        self.say("attacker", what)
        return receipt

    def attempt(self, fn, *args, sender=None, who: str | None = None, what: str | None = None,
                count_gas: bool | None = None) -> Attempt:
        """Send a transaction that may revert; return how it ended (error name and inputs).

        An attacker's reverted transaction is mined on anvil and costs gas: it is counted when
        `sender` is the attacker (or `count_gas` says so)."""
        from ape.exceptions import ContractLogicError

        if count_gas is None:
            count_gas = sender == self.attacker
        with quiet_reverts():
            try:
                receipt = fn(*args, sender=sender) if sender is not None else fn(*args)
                res = Attempt(True, receipt=receipt, gas=int(getattr(receipt, "gas_used", 0) or 0))
            except ContractLogicError as exc:
                name, inputs = self.decode_error(exc)
                res = Attempt(False, name, inputs, gas=self._reverted_gas(exc))
        if count_gas:
            self.attacker_gas += res.gas
            self.attacker_txs += 1
        if what:
            self.say(who or ("attacker" if sender == self.attacker else "user"),
                     f"{what}: {'ok' if res.ok else 'reverted ' + str(res.error)}")
        return res

    def _reverted_gas(self, exc) -> int:
        txn = getattr(exc, "txn", None)
        h = getattr(txn, "txn_hash", None) if txn is not None else None
        if h is None:
            return 0
        try:
            return int(self.chain.provider.get_receipt(h.hex() if isinstance(h, bytes) else h).gas_used)
        except Exception:  # noqa: BLE001 - gas of a failed attempt is best effort
            return 0

    def decode_error(self, exc) -> tuple[str, dict]:
        from ape.exceptions import CustomError

        if isinstance(exc, CustomError):
            return type(exc).__name__, dict(exc.inputs)
        msg = str(getattr(exc, "revert_message", "") or exc)
        raw = None
        if msg.startswith("0x") and len(msg) >= 10:
            raw = bytes.fromhex(msg[2:])
        else:
            import re

            found = re.search(r"0x([0-9a-fA-F]{8})[:\s]*([0-9a-fA-F]*)", msg)
            if found:
                raw = bytes.fromhex(found.group(1) + found.group(2))
        if raw:
            decoded = self._decode_raw(raw)
            if decoded:
                return decoded
        return msg, {}

    def _decode_raw(self, raw: bytes):
        from eth_abi import decode as abi_decode
        from eth_utils import keccak

        if self._errors is None:
            self._errors = {}
            for name in ("Vault", "LiquidationEngine", "DirectLiquidator", "DutchAuction", "OracleAdapter", "LiquidityBuffer",
                         "ConstantProductMarket", "FlashLender", "OracleAttacker"):
                ct = getattr(self.project, name).contract_type
                for abi in ct.abi:
                    if getattr(abi, "type", None) == "error":
                        self._errors[keccak(text=abi.selector)[:4]] = abi
        abi = self._errors.get(raw[:4])
        if abi is None:
            return None
        try:
            values = abi_decode([i.canonical_type for i in abi.inputs], raw[4:])
        except Exception:  # noqa: BLE001
            values = []
        return abi.name, {i.name: v for i, v in zip(abi.inputs, values)}

    # ------------------------------------------------------------------ time and prices

    def now(self) -> int:
        return self.chain.blocks.head.timestamp

    def advance(self, seconds: int):
        self.chain.mine(1, deltatime=int(seconds))

    def feed_price(self, sym: str, price, feed=None):
        """A new round on `sym`'s feed (or `feed`) at `price` (units of account per whole token)."""
        feed = feed or self.s.feeds[sym]
        feed.setAnswer(feed_answer(D(price), feed.decimals()), sender=self.gov)

    def refresh(self, sym: str):
        feed = self.s.feeds[sym]
        feed.setAnswer(feed.answer(), sender=self.gov)

    def refresh_all(self):
        for sym in self.s.feeds:
            self.refresh(sym)
        for feed in self.extra_feeds:
            feed.setAnswer(feed.answer(), sender=self.gov)

    def poke(self, *syms):
        for sym in syms or tuple(self.s.collateral):
            self.s.oracle.poke(self.s.collateral[sym], sender=self.keeper)

    def settle(self, *syms, refresh=True):
        """Two OSM hops with fresh rounds and pokes: the delayed price catches up."""
        syms = syms or tuple(self.s.collateral)
        for _ in range(2):
            self.advance(self.s.params.oracle_delay + 1)
            if refresh:
                for sym in syms:
                    self.refresh(sym)
            self.poke(*syms)

    def quote(self, sym: str):
        return self.s.oracle.peek(self.s.collateral[sym])

    def describe_quote(self, sym: str) -> str:
        q = self.quote(sym)
        f = lambda x: f"{D(x) / WAD:,.2f}"  # noqa: E731
        return (f"{sym} (Unwind adapter): current {f(q.current)}, borrow {f(q.borrowPrice)}, liquidation "
                f"{f(q.liquidationPrice)}, status {STATUSES[int(q.status)]}, guard {GUARDS[int(q.guard)]}")

    # ------------------------------------------------------------------ markets

    def spot(self, sym: str) -> Decimal:
        return D(self.markets[sym].spotPrice()) / WAD

    def move_market(self, sym: str, target_price, trader=None):
        """The rest of the market (arbitrage by the liquidity provider) trades `sym`'s market to
        `target_price`. Not the attacker: its trades are not in the attacker's books."""
        trader = trader or self.lp
        m = self.markets[sym]
        token_in, amount = m.amountToReach(int(D(target_price) * WAD))
        if amount == 0:
            return
        sym_in = self.symbol_of(token_in)
        if sym_in != DEBT and self.tokens[sym_in].balanceOf(trader) < amount:
            self.tokens[sym_in].mint(trader, amount, sender=trader)
        self.tokens[sym_in].approve(m, MAX_UINT, sender=trader)
        m.swap(token_in, amount, 0, trader, sender=trader)

    # ------------------------------------------------------------------ positions

    def deposit(self, account, sym: str, whole) -> int:
        amount = self.mint(account, sym, whole)
        self.tokens[sym].approve(self.s.vault, MAX_UINT, sender=account)
        self.s.vault.deposit(account, self.s.ids[sym], amount, sender=account)
        return amount

    def open(self, account, basket: dict, share_of_limit=None, debt=None):
        """Deposit `basket` (whole tokens) and borrow either `debt` (whole debt tokens) or
        `share_of_limit` of the borrow limit."""
        for sym, amount in basket.items():
            self.deposit(account, sym, amount)
        if debt is None:
            debt_wad = int(self.s.vault.maxBorrow(account) * D(share_of_limit))
        else:
            debt_wad = int(D(debt) * WAD)
        if debt_wad:
            self.s.vault.borrow(account, debt_wad, account, sender=account)
        return debt_wad

    def position(self, account) -> dict:
        v = self.s.vault
        out = {sym: v.collateralOf(account, cid) for sym, cid in self.s.ids.items()}
        out[DEBT] = v.debtOf(account)
        return out

    def health(self, account) -> Decimal:
        h = self.s.vault.healthOf(account)
        return D("Infinity") if h == MAX_UINT else D(h) / WAD

    # ------------------------------------------------------------------ keepers and events

    def liquidations(self, since_block: int | None = None) -> list:
        """Every liquidation since the scenario began, by either path (Liquidate and LiquidateDirect
        events, in block order): a check of "no liquidation" holds for the direct path too."""
        start = self.scenario_start_block if since_block is None else since_block
        head = self.chain.blocks.head.number
        both = list(self.s.engine.Liquidate.range(start, head + 1)) + list(
            self.s.direct.LiquidateDirect.range(start, head + 1))
        return sorted(both, key=lambda e: (e.block_number, e.log_index))

    def takes(self, since_block: int | None = None) -> list:
        start = self.scenario_start_block if since_block is None else since_block
        head = self.chain.blocks.head.number
        return list(self.s.auction.Take.range(start, head + 1))

    def keeper_pass(self, accounts) -> int:
        """What an honest keeper does each block: one `liquidateBatch` over the accounts with debt
        (the engine skips healthy and guarded ones). Returns how many it liquidated."""
        accs = [a for a in accounts if self.s.vault.debtOf(a) > 0]
        if not accs:
            return 0
        receipt = self.s.engine.liquidateBatch(accs, self.keeper, sender=self.keeper)
        n = len(list(receipt.events.filter(self.s.engine.Liquidate)))
        self.say("keeper", f"liquidateBatch over {len(accs)} accounts: {n} liquidated")
        return n

    def keeper_process_pass(self, accounts, timeout: float = 90.0) -> int:
        """The keeper as operators run it: `python -m unwind.keeper --kick-only` in its own process
        over RPC, reading the deployment record, its own index and the oracle; blocks are mined
        until it has liquidated every account of `accounts` that is unsafe now, or `timeout`
        seconds pass. Returns how many of them it liquidated."""
        import tempfile
        import time
        from pathlib import Path

        from unwind.keeper.process import KeeperProcess, write_record

        s = self.s
        start = self.chain.blocks.head.number + 1
        unsafe = {str(a) for a in accounts if s.vault.debtOf(a) > 0 and s.vault.healthOf(a) < WAD}
        done: set = set()
        with tempfile.TemporaryDirectory(prefix="unwind-keeper-") as tmp:
            record = write_record(s, Path(tmp) / "deployment.json")
            proc = KeeperProcess(self.chain.provider.uri, record, self.keeper.private_key, Path(tmp), "keeper",
                                 extra=("--kick-only",))
            try:
                if not proc.wait_for("indexed", 60):
                    raise RuntimeError(f"the keeper process did not start:\n{proc.output()[-2000:]}")
                end = time.time() + timeout
                while time.time() < end and not unsafe <= done:
                    self.chain.mine(1)
                    time.sleep(0.5)
                    head = self.chain.blocks.head.number
                    done |= {str(e.account) for e in s.engine.Liquidate.range(start, head + 1)
                             if str(e.keeper) == str(self.keeper)}
                    done |= {str(e.account) for e in s.direct.LiquidateDirect.range(start, head + 1)
                             if str(e.liquidator) == str(self.keeper)}
            finally:
                proc.stop()
                log = proc.output()
        n = len(unsafe & done)
        self.say("keeper", f"the keeper process (python -m unwind.keeper, over RPC) liquidated {n} of the "
                           f"{len(unsafe)} unsafe accounts")
        if n < len(unsafe):
            self.say("keeper", "its log ends: " + " | ".join(log.strip().splitlines()[-5:]))
        return n

    # ------------------------------------------------------------------ governance

    def govern(self, target, method: str, *args):
        return govern(self.s, self.gov, target, method, *args, chain=self.chain)

    def feed_config(self, sym: str) -> list:
        return list(self.s.oracle.feedConfig(self.s.collateral[sym]))

    def install_oracle(self, oracle, label: str):
        """Governance points the vault (and so the engine) at another oracle. The auction keeps
        the adapter it was deployed with (it has no setter): its floor still reads Unwind's."""
        self.govern(self.s.vault, "setOracle", oracle)
        self.say("governance", f"vault.setOracle({label}) [naive setup]")

    def naive_feed_oracle(self, heartbeat: int = 0, feeds: dict | None = None):
        o = self.project.NaiveFeedOracle.deploy(sender=self.gov)
        for sym, token in self.s.collateral.items():
            feed = (feeds or {}).get(sym, self.s.feeds[sym])
            o.setFeed(token, feed, heartbeat, sender=self.gov)
        return o

    # ------------------------------------------------------------------ books

    def books(self, accounts=()) -> dict:
        """Protocol totals and the positions of `accounts`: collateral and debt."""
        s = self.s
        out = {
            "vault collateral": {sym: s.vault.collateral(cid).totalSupplied for sym, cid in s.ids.items()},
            "vault debt": s.vault.totalDebt(),
            "auction tabs": s.auction.totalDebt(),
            "buffer surplus": s.buffer.surplus(),
            "bad debt": s.buffer.badDebt(),
            "debt token supply": s.debt_token.totalSupply(),
            "positions": {str(a): self.position(a) for a in accounts},
        }
        return out

    def identity_holds(self) -> bool:
        s = self.s
        return s.debt_token.totalSupply() == s.vault.totalDebt() + s.auction.totalDebt() + s.buffer.badDebt()


def build_world(project, chain, accounts) -> World:
    return World(project, chain, accounts)
