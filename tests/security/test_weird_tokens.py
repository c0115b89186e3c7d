"""Misbehaving collateral tokens (solmate's weird ERC-20 list): each is either supported
correctly, end to end, or refused with a clear error at listing or deposit.

- no return value (USDT-style): supported (SafeERC20): deposit, borrow, liquidation, take,
  leftover return and withdraw move exactly the amounts accounted;
- returns false (ZRX-style): supported; a transfer that returns false never credits anything
  (SafeERC20FailedOperation), also when the token returns false after moving tokens;
- fee on transfer: refused at deposit (TransferAmountMismatch names the shortfall);
- rebasing: code cannot tell before it rebases, so governance declares it before listing and the
  listing is refused (UnsupportedToken); a token listed as plain that rebases down is caught at
  the next deposit (CollateralBalanceShort);
- transfer hook that re-enters: refused by the reentrancy lock, even with the hook holding an
  operator's authority; a hook that does not re-enter is supported.
"""

import pytest
from sec_helpers import (
    FEE_ON_TRANSFER,
    GOVERNOR,
    MAX_UINT,
    REBASING,
    TRANSFER_HOOKS,
    assert_reverts,
    gov_reverts,
    list_token,
    units,
)

from unwind.deploy import feed_answer
from unwind.params import WAD


@pytest.fixture(scope="module", autouse=True)
def _session_fixtures_first(chain, project, accounts, deployer, alice, bob, keeper, outsider, system, gov):
    """Every session and module fixture set up before Ape's per-test isolation snapshot."""


def fund_keeper(system, keeper, debt=200_000):
    usdc = system.collateral["USDC"]
    usdc.mint(keeper, debt * 2 * 10**6, sender=keeper)
    usdc.approve(system.vault, MAX_UINT, sender=keeper)
    system.vault.deposit(keeper, system.ids["USDC"], debt * 2 * 10**6, sender=keeper)
    system.vault.borrow(keeper, debt * WAD, keeper, sender=keeper)


def test_no_return_value_token_supported_end_to_end(system, gov, project, deployer, alice, keeper, chain):
    s = system
    tok = project.NoReturnToken.deploy("No Return", "NRT", 18, sender=deployer)
    cid, feed = list_token(s, gov, project, deployer, tok, "NRT", price="100")
    tok.mint(alice, units(1000), sender=alice)
    tok.approve(s.vault, MAX_UINT, sender=alice)
    s.vault.deposit(alice, cid, units(1000), sender=alice)
    assert tok.balanceOf(s.vault) == units(1000) == s.vault.collateralOf(alice, cid)
    s.vault.withdraw(alice, cid, units(100), alice, sender=alice)
    assert tok.balanceOf(alice) == units(100) and tok.balanceOf(s.vault) == units(900)
    s.vault.borrow(alice, s.vault.maxBorrow(alice), alice, sender=alice)
    # The price falls 20%: alice is liquidated, her collateral sold for debt tokens.
    feed.setAnswer(feed_answer("80", 8), sender=deployer)
    s.oracle.poke(tok, sender=deployer)
    assert s.vault.healthOf(alice) < WAD
    held_before = s.vault.collateralOf(alice, cid)
    tx = s.engine.liquidate(alice, keeper, sender=keeper)
    kick = s.auction.Kick.from_receipt(tx)[0]
    # The lot stays in the vault, in its auction custody.
    assert kick.lot == held_before - s.vault.collateralOf(alice, cid) == s.vault.inAuction(cid)
    assert tok.balanceOf(s.vault) == s.vault.collateralOf(alice, cid) + kick.lot and tok.balanceOf(s.auction) == 0
    fund_keeper(s, keeper)
    tx = s.auction.take(kick.id, kick.lot, MAX_UINT, keeper, b"", sender=keeper)
    take = s.auction.Take.from_receipt(tx)[0]
    end = s.auction.AuctionEnded.from_receipt(tx)[0]
    assert tok.balanceOf(keeper) == take.slice
    assert take.slice + end.leftover == kick.lot
    assert tok.balanceOf(s.auction) == 0 and s.vault.inAuction(cid) == 0
    assert tok.balanceOf(s.vault) == s.vault.collateralOf(alice, cid)
    supply, backing = s.debt_token.totalSupply(), s.vault.totalDebt() + s.auction.totalDebt() + s.buffer.badDebt()
    assert supply == backing


def test_returns_false_token_never_credits_a_failed_transfer(system, gov, project, deployer, alice, bob):
    s = system
    tok = project.ReturnsFalseToken.deploy("Returns False", "RFT", 18, sender=deployer)
    cid, _ = list_token(s, gov, project, deployer, tok, "RFT")
    tok.mint(alice, units(10), sender=alice)
    # No allowance: the token returns false and moves nothing; the deposit is refused.
    assert_reverts("SafeERC20FailedOperation", s.vault.deposit, alice, cid, units(10), sender=alice, token=tok)
    tok.approve(s.vault, MAX_UINT, sender=alice)
    # More than the balance: false again, refused.
    assert_reverts("SafeERC20FailedOperation", s.vault.deposit, alice, cid, units(11), sender=alice, token=tok)
    s.vault.deposit(alice, cid, units(10), sender=alice)  # supported when it works
    assert s.vault.collateralOf(alice, cid) == units(10) == tok.balanceOf(s.vault)
    s.vault.withdraw(alice, cid, units(4), bob, sender=alice)
    assert tok.balanceOf(bob) == units(4)
    # A token that says false even when it moved the tokens: refused too (never trusted).
    tok.setAlwaysFalse(True, sender=deployer)
    assert_reverts("SafeERC20FailedOperation", s.vault.deposit, alice, cid, units(1), sender=alice, token=tok)
    assert_reverts("SafeERC20FailedOperation", s.vault.withdraw, alice, cid, units(1), alice, sender=alice,
                   token=tok)


def test_fee_on_transfer_token_refused_at_deposit(system, gov, project, deployer, alice):
    s = system
    tok = project.FeeOnTransferToken.deploy("Fee", "FOT", sender=deployer)
    cid, _ = list_token(s, gov, project, deployer, tok, "FOT")
    tok.mint(alice, units(100), sender=alice)
    tok.approve(s.vault, MAX_UINT, sender=alice)
    assert_reverts("TransferAmountMismatch", s.vault.deposit, alice, cid, units(100), sender=alice,
                   token=tok, expected=units(100), received=units(99))
    # Declared as what it is, it is not even listed.
    other = project.FeeOnTransferToken.deploy("Fee 2", "FOT2", sender=deployer)
    gov(s.vault, "declareTokenBehaviour", other, FEE_ON_TRANSFER)
    gov_reverts(s, deployer, "UnsupportedToken", s.vault, "listCollateral", other, 1, 2, 0, 1,
                token=other, behaviour=FEE_ON_TRANSFER)


def test_rebasing_token_declared_is_refused_at_listing(system, gov, project, deployer):
    s = system
    tok = project.RebasingToken.deploy("Rebasing", "REB", 18, sender=deployer)
    gov(s.vault, "declareTokenBehaviour", tok, REBASING | TRANSFER_HOOKS)
    assert s.vault.tokenBehaviour(tok) == REBASING | TRANSFER_HOOKS
    gov_reverts(s, deployer, "UnsupportedToken", s.vault, "listCollateral", tok, 1, 2, 0, 1,
                token=tok, behaviour=REBASING | TRANSFER_HOOKS)
    # Hooks alone are fine (every entry is non-reentrant): the declaration can be corrected.
    gov(s.vault, "declareTokenBehaviour", tok, TRANSFER_HOOKS)
    gov(s.vault, "listCollateral", tok, 1, 2, 0, 1)
    # Once listed, the declaration is fixed.
    gov_reverts(s, deployer, "CollateralAlreadyListed", s.vault, "declareTokenBehaviour", tok, REBASING, token=tok)


def test_declaring_is_governance_only(system, outsider):
    assert_reverts("AccessControlUnauthorizedAccount", system.vault.declareTokenBehaviour,
                   system.collateral["WETH"], REBASING, sender=outsider, account=outsider, neededRole=GOVERNOR)


def test_rebasing_token_listed_as_plain_is_enforced(system, gov, project, deployer, alice, bob):
    """Listed without a declaration, a token is declared plain: once it rebases DOWN the vault
    holds less than it owes its depositors, and no new deposit joins the short pool. A rebase up
    is a donation: the accounting is unchanged and the excess never counts."""
    s = system
    tok = project.RebasingToken.deploy("Rebasing", "REB", 18, sender=deployer)
    cid, _ = list_token(s, gov, project, deployer, tok, "REB")
    for who in (alice, bob):
        tok.mint(who, units(100), sender=who)
        tok.approve(s.vault, MAX_UINT, sender=who)
    s.vault.deposit(alice, cid, units(50), sender=alice)
    tok.rebase(2 * WAD, sender=deployer)  # doubled: the vault holds 100, accounts for 50
    assert tok.balanceOf(s.vault) == units(100)
    s.vault.deposit(bob, cid, units(10), sender=bob)
    assert s.vault.collateralOf(alice, cid) == units(50) and s.vault.collateral(cid).totalSupplied == units(60)
    tok.rebase(WAD // 2, sender=deployer)  # down to a quarter: 60 accounted, 27.5 held
    held = tok.balanceOf(s.vault)
    assert held < units(60)
    values = assert_reverts("CollateralBalanceShort", s.vault.deposit, bob, cid, units(1), sender=bob, token=tok)
    assert values["accounted"] == units(61) and values["balance"] == held + units(1)
    # Withdrawing is never blocked (IVault's safety rules): the first to leave gets theirs.
    s.vault.withdraw(alice, cid, units(10), alice, sender=alice)


def test_reentering_transfer_hook_refused(system, gov, project, deployer, alice, bob, keeper):
    """A token whose transfer calls back into the protocol. The hook even holds alice's operator
    authority, so the only thing that can stop it is the reentrancy lock, and it does."""
    s = system
    tok = project.HookToken.deploy("Hook", "HOOK", 18, sender=deployer)
    cid, feed = list_token(s, gov, project, deployer, tok, "HOOK", price="100")
    tok.mint(alice, units(1000), sender=alice)
    tok.approve(s.vault, MAX_UINT, sender=alice)
    s.vault.deposit(alice, cid, units(500), sender=alice)  # no hook armed: plain
    s.vault.borrow(alice, 30_000 * WAD, alice, sender=alice)
    s.vault.setOperator(tok, True, sender=alice)
    reentries = {
        "withdraw": s.vault.withdraw.encode_input(alice, cid, units(400), tok.address),
        "borrow": s.vault.borrow.encode_input(alice, 20_000 * WAD, tok.address),
        "deposit": s.vault.deposit.encode_input(alice, cid, 1),
        "repay": s.vault.repay.encode_input(alice, 1),
    }
    for name, data in reentries.items():
        tok.arm(s.vault, data, sender=deployer)
        assert_reverts("ReentrancyGuardReentrantCall", s.vault.deposit, alice, cid, units(10), sender=alice)
        assert_reverts("ReentrancyGuardReentrantCall", s.vault.withdraw, alice, cid, units(10), alice,
                       sender=alice)
    # From inside a vault transfer, a liquidation reaches the locked vault too.
    tok.arm(s.engine, s.engine.liquidate.encode_input(alice, tok.address), sender=deployer)
    assert_reverts("ReentrancyGuardReentrantCall", s.vault.deposit, alice, cid, units(10), sender=alice,
                   abis=(s.vault,))
    assert s.vault.collateralOf(alice, cid) == units(500) and tok.balanceOf(s.vault) == units(500)
    # A hook that only reads is supported: the deposit goes through.
    tok.arm(s.vault, s.vault.dust.encode_input(), sender=deployer)
    calls = tok.hookCalls()
    s.vault.deposit(alice, cid, units(10), sender=alice)
    assert tok.hookCalls() == calls + 1
    assert s.vault.collateralOf(alice, cid) == units(510) == tok.balanceOf(s.vault)

    # During an auction take, the hook (on the transfer to the taker) tries to take again.
    tok.arm(s.vault, s.vault.dust.encode_input(), sender=deployer)
    feed.setAnswer(feed_answer("70", 8), sender=deployer)
    s.oracle.poke(tok, sender=deployer)
    tx = s.engine.liquidate(alice, keeper, sender=keeper)
    kick = s.auction.Kick.from_receipt(tx)[0]
    fund_keeper(s, keeper)
    tok.arm(s.auction, s.auction.take.encode_input(kick.id, kick.lot, MAX_UINT, tok.address, b""), sender=deployer)
    assert_reverts("ReentrancyGuardReentrantCall", s.auction.take, kick.id, kick.lot // 2, MAX_UINT, keeper, b"",
                   sender=keeper)
    tok.arm(s.auction, s.auction.redo.encode_input(kick.id, tok.address), sender=deployer)
    assert_reverts("ReentrancyGuardReentrantCall", s.auction.take, kick.id, kick.lot // 2, MAX_UINT, keeper, b"",
                   sender=keeper)
