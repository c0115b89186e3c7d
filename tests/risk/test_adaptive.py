"""Adaptive risk parameters: the on-chain volatility estimate against its Python reference, the
wick and rejected-price bounds, parameters inside their bands, and the threshold ramp."""

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.oracle.oracle_helpers import reverts_with
from tests.protocol.liquidation_helpers import call_reverts
from tests.protocol.vault_helpers import threshold_ramp
from unwind.params import RAY, WAD, wad
from unwind.risk import Estimator, default_bands, effective

REL_TOL = 1e-9  # on-chain fixed point (solady lnWad/expWad) vs float reference, relative


def sampled_path(h, risk, symbol, prices, dt):
    """Move the feed to each price, let `dt` seconds pass, and take a sample. Returns the
    reference estimator fed with exactly the prices and times the chain saw."""
    cid = h.s.ids[symbol]
    st0 = risk.volState(cid)
    ref = Estimator(risk_config(risk), variance=st0.variance / WAD)
    if st0.lastTime:
        ref.last_price, ref.last_time = st0.lastPrice / WAD, st0.lastTime
    for p in prices:
        h.advance(dt)
        h.set_price(symbol, p, settle=False)
        receipt = risk.observe(cid, sender=h.deployer)
        ts = h.chain.blocks.head.timestamp
        taken = ref.sample(ts, float(p))
        assert bool(list(receipt.decode_logs(risk.VolatilitySampled))) == taken
    return ref


def risk_config(risk):
    from unwind.params import AdaptiveParams

    c = risk.config()
    return AdaptiveParams(True, c.halfLife, c.minInterval, c.maxInterval, c.varCap, c.maxThresholdSpeed * 3600,
                          c.tolerance)


def random_walk(seed, n, start, vol_annual, dt):
    rng = random.Random(seed)
    sigma = vol_annual * math.sqrt(dt / (365 * 24 * 3600))
    prices, p = [], start
    for _ in range(n):
        p *= math.exp(rng.gauss(0, sigma))
        prices.append(round(p, 2))
    return prices


def test_estimate_matches_python_reference(h, risk):
    prices = random_walk(7, 30, 3000, 0.9, 600)
    ref = sampled_path(h, risk, "WETH", prices, 600)
    on_chain = risk.volState(h.s.ids["WETH"]).variance / WAD
    assert len(ref.samples) == len(prices)  # the first sets the anchor, the rest update the estimate
    assert on_chain == pytest.approx(ref.variance, rel=REL_TOL)
    assert risk.volatility(h.s.ids["WETH"]) / WAD == pytest.approx(ref.volatility, rel=REL_TOL)
    # The estimate moved from its initial 0.6 towards the path's volatility.
    assert ref.variance != pytest.approx(0.36, rel=1e-3)


def test_samples_no_faster_than_min_interval(h, risk):
    cid = h.s.ids["WETH"]
    risk.observe(cid, sender=h.deployer)
    before = risk.volState(cid)
    h.advance(risk.config().minInterval - 5)
    h.refresh("WETH")
    receipt = risk.observe(cid, sender=h.deployer)
    skipped = list(receipt.decode_logs(risk.SampleSkipped))
    assert [(e.id, e.reason) for e in skipped] == [(cid, 1)]
    assert risk.volState(cid) == before


@pytest.mark.parametrize("how", ["zero", "negative", "stale", "jump"])
def test_rejected_price_never_feeds_the_estimate(h, risk, how):
    cid = h.s.ids["WETH"]
    feed = h.s.feeds["WETH"]
    risk.observe(cid, sender=h.deployer)
    before = risk.volState(cid)
    h.advance(risk.config().minInterval + 1)
    if how == "zero":
        feed.setAnswer(0, sender=h.deployer)
    elif how == "negative":
        feed.setAnswer(-1, sender=h.deployer)
    elif how == "stale":
        h.advance(3601)  # past the heartbeat with no new round
    else:
        feed.setAnswer(feed.answer() // 4, sender=h.deployer)  # -75%: beyond maxJump, no secondary
    receipt = risk.observe(cid, sender=h.deployer)
    assert [(e.id, e.reason) for e in receipt.decode_logs(risk.SampleSkipped)] == [(cid, 2)]
    assert risk.volState(cid) == before
    assert h.s.oracle.status(h.s.collateral["WETH"]) != 1  # not Live: the price was not accepted


def test_one_round_wick_moves_the_estimate_at_most_the_bound(h, risk):
    cid = h.s.ids["WETH"]
    band = default_bands(h.s.params)[cid]
    calm = random_walk(3, 6, 3000, 0.3, 900)
    sampled_path(h, risk, "WETH", calm, 900)
    before = risk.volState(cid).variance
    eff_before = risk.effective(cid)
    # A 45% wick (inside maxJump, so the oracle accepts it) sampled out and back.
    ref = sampled_path(h, risk, "WETH", [round(calm[-1] * 0.55, 2), calm[-1]], 900)
    after = risk.volState(cid).variance
    bound = risk.wickBound()
    assert after > before  # the wick was sampled: the bound is not vacuous
    assert after - before <= bound
    assert bound / WAD == pytest.approx(ref.wick_bound(), rel=1e-9)
    # The parameters move by at most the bound mapped through the band.
    vol_move = math.sqrt((before + bound) / WAD) - math.sqrt(before / WAD)
    s_move = vol_move / ((band.vol_high - band.vol_low) / WAD)
    eff_after = risk.effective(cid)
    ltv_span = (band.ltv_at_low - band.ltv_at_high) / WAD
    assert (eff_before.maxLtv - eff_after.maxLtv) / WAD <= s_move * ltv_span + 1e-18
    assert (eff_after.buffer - eff_before.buffer) / WAD <= s_move * (band.buffer_at_high - band.buffer_at_low) / WAD + 1e-18


def test_sync_writes_effective_parameters_within_bands(h, risk):
    cid = h.s.ids["WETH"]
    band = default_bands(h.s.params)[cid]
    # A violent but accepted path (30% moves every 10 minutes) drives volatility past volHigh.
    prices = [3000 * (0.7 if i % 2 else 1.0) for i in range(1, 41)]
    sampled_path(h, risk, "WETH", prices, 600)
    assert risk.volatility(cid) >= band.vol_high
    receipt = risk.sync(cid, sender=h.deployer)
    [event] = list(receipt.decode_logs(risk.ParametersAdapted))
    e = risk.effective(cid)
    assert e.position == WAD
    assert h.s.vault.collateral(cid).maxLtv == band.ltv_at_high == e.maxLtv
    p = h.s.auction.params(cid)
    # The default WETH curve is exponential: the band moves its cut and leaves the duration, which
    # that curve does not use, alone.
    assert p.curve == 1 and p.buffer == band.buffer_at_high and p.cut == band.cut_at_high
    assert p.duration == band.duration_at_low
    assert h.s.engine.chip() == band.chip_at_high
    ramp = threshold_ramp(h.s.vault, cid)
    assert ramp[1] == band.lt_at_high
    assert list(event.e) == list(e)  # the event carries the values and the volatility behind them
    # Governance switches WETH to a linear curve: the next sync moves its duration instead.
    linear = list(p)
    linear[0], linear[2] = 0, band.duration_at_low
    h.govern(h.s.auction, "setParams", cid, tuple(linear))
    risk.sync(cid, sender=h.deployer)
    p = h.s.auction.params(cid)
    assert p.curve == 0 and p.duration == band.duration_at_high and p.buffer == band.buffer_at_high


def test_threshold_only_falls_along_a_rate_limited_ramp(h, risk, alice):
    cid = h.s.ids["WETH"]
    band = default_bands(h.s.params)[cid]
    cfg = risk.config()
    # Alice borrows 22,400 on 10 WETH; the volatile path ends at 2,900, where she is healthy
    # at today's threshold 0.8 (health 1.036) and would be unsafe at once at 0.75 (0.971).
    h.open(alice, {"WETH": 10}, 22_400)
    prices = [3000 * (0.7 if i % 2 else 1.0) for i in range(1, 41)] + [2900]
    sampled_path(h, risk, "WETH", prices, 600)
    h.settle("WETH")
    assert h.s.vault.healthOf(alice) > WAD
    risk.sync(cid, sender=h.deployer)
    ramp = threshold_ramp(h.s.vault, cid)
    drop = band.lt_at_low - band.lt_at_high
    min_duration = max(h.s.vault.minRampDuration(), -(-drop * WAD // cfg.maxThresholdSpeed) // WAD)
    assert ramp[3] - ramp[2] >= min_duration
    # Right after the step Alice is still healthy: the threshold has not jumped.
    assert h.s.vault.collateral(cid).liquidationThreshold >= band.lt_at_low - 10**12
    assert h.s.vault.healthOf(alice) > WAD
    # A second sync while the ramp runs starts no new ramp.
    h.advance(3600)
    risk.sync(cid, sender=h.deployer)
    assert threshold_ramp(h.s.vault, cid) == ramp
    # Halfway through the ramp the threshold is halfway down, never further.
    h.advance((ramp[3] - ramp[2]) // 2 - 3600)
    now_lt = h.s.vault.collateral(cid).liquidationThreshold
    assert now_lt >= band.lt_at_low - drop // 2 - 10**12


def test_outsiders_cannot_govern_the_module(risk, outsider, h):
    band = default_bands(h.s.params)[0].as_tuple()
    governor = risk.GOVERNOR_ROLE()
    for method, args in [
        ("setBand", (0, band)),
        ("removeBand", (0,)),
        ("setEstimatorConfig", (tuple(risk.config()),)),
    ]:
        with reverts_with(risk.AccessControlUnauthorizedAccount, account=outsider.address, neededRole=governor):
            getattr(risk, method)(*args, sender=outsider)


def test_risk_role_opens_only_the_adaptive_setters(h, risk, accounts):
    """A RISK_ROLE holder may move maxLtv but not, say, the dust floor or the oracle."""
    holder = accounts[8]
    vault = h.s.vault
    h.govern(vault, "grantRole", vault.RISK_ROLE(), holder)
    cid = h.s.ids["WETH"]
    vault.setMaxLtv(cid, wad("0.7"), sender=holder)
    assert vault.collateral(cid).maxLtv == wad("0.7")
    with reverts_with(vault.AccessControlUnauthorizedAccount, account=holder.address, neededRole=vault.GOVERNOR_ROLE()):
        vault.setDust(wad(1), sender=holder)
    # Module bounds still apply to the role: maxLtv at the threshold is refused.
    with reverts_with(vault.InvalidParameter, name="maxLtv"):
        vault.setMaxLtv(cid, wad("0.8"), sender=holder)


def test_band_validation(risk, accounts, h):
    """Governance (the timelock) is refused bands that break the rules; checked as calls from it."""
    governor = accounts[h.s.timelock.address]  # impersonated on anvil
    b = default_bands(h.s.params)[0]
    bad = [
        ("volLow<volHigh", dict(vol_high=b.vol_low)),
        ("ltv<lt", dict(ltv_at_high=b.lt_at_high)),
        ("1<=bufferAtLow<=bufferAtHigh", dict(buffer_at_low=WAD - 1)),
        ("durationAtHigh<=durationAtLow", dict(duration_at_high=b.duration_at_low + 1)),
        ("cutAtHigh<=cutAtLow<1", dict(cut_at_low=RAY)),
        ("chipAtLow<=chipAtHigh", dict(chip_at_high=b.chip_at_low - 1)),
    ]
    from dataclasses import replace

    from eth_utils import keccak

    selector = keccak(text="InvalidBand(string)")[:4].hex()
    for field, change in bad:
        with pytest.raises(Exception) as info:
            risk.setBand.call(0, replace(b, **change).as_tuple(), sender=governor)
        message = str(getattr(info.value, "revert_message", "") or info.value)
        assert f"custom error 0x{selector}" in message and field in message, message


def test_a_collateral_without_a_band_is_refused_not_adapted(h, risk, accounts):
    """IAdaptiveRisk NotAdapted (issue 16 item 8): once governance removes WBTC's band, every
    per-collateral entry point refuses WBTC (sampling, writing, both, and the two views), as it
    does an id that never had a band; removing the band a second time is refused too."""
    cid = h.s.ids["WBTC"]
    assert risk.adapted(cid) and cid in risk.adaptedIds()
    h.govern(risk, "removeBand", cid)
    assert not risk.adapted(cid) and cid not in risk.adaptedIds()
    for method in ("observe", "sync", "update"):
        with reverts_with(risk.NotAdapted, id=cid):
            getattr(risk, method)(cid, sender=h.deployer)
    for view in ("effective", "volatility"):  # checked on the raw revert data (eth_call)
        call_reverts(risk, "NotAdapted", getattr(risk, view), cid, sender=h.deployer, id=cid)
    never = h.s.vault.collateralCount()
    with reverts_with(risk.NotAdapted, id=never):
        risk.update(never, sender=h.deployer)
    governor = accounts[h.s.timelock.address]  # as a call from it
    call_reverts(risk, "NotAdapted", risk.removeBand, cid, sender=governor, id=cid)
    # The other collaterals are still adapted.
    risk.update(h.s.ids["WETH"], sender=h.deployer)


# --- effective parameters stay inside their bands on random price paths -----------------------


def _within(value, a, b):
    return min(a, b) <= value <= max(a, b)


@settings(max_examples=400, deadline=None)
@given(
    moves=st.lists(st.floats(min_value=-0.5, max_value=0.5, allow_nan=False), min_size=1, max_size=60),
    gaps=st.lists(st.integers(min_value=1, max_value=6 * 3600), min_size=60, max_size=60),
)
def test_reference_parameters_stay_in_band(moves, gaps):
    """The float reference over many random paths (fast); the on-chain run below checks the
    contract on fewer paths against the same bounds."""
    from unwind.params import default_params
    from unwind.params import AdaptiveParams

    band = default_bands(default_params())[0]
    est = Estimator(AdaptiveParams(), variance=(band.vol_init / WAD) ** 2)
    t, p = 0, 3000.0
    for r, gap in zip(moves, gaps):
        t += gap
        p *= math.exp(r)
        est.sample(t, p)
        assert 0 <= est.variance <= max(est.config.var_cap / WAD, (band.vol_init / WAD) ** 2)
        e = effective(band, est.volatility)
        assert _within(e["max_ltv"] * WAD, band.ltv_at_low, band.ltv_at_high)
        assert _within(e["threshold"] * WAD, band.lt_at_low, band.lt_at_high)
        assert e["max_ltv"] < e["threshold"]
        assert _within(e["buffer"] * WAD, band.buffer_at_low, band.buffer_at_high)
        assert _within(e["duration"], band.duration_at_low, band.duration_at_high)


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    moves=st.lists(st.floats(min_value=-0.4, max_value=0.4, allow_nan=False), min_size=4, max_size=10),
    gap=st.integers(min_value=300, max_value=4 * 3600),
)
def test_on_chain_parameters_stay_in_band(h, risk, chain, moves, gap):
    cid = h.s.ids["WETH"]
    band = default_bands(h.s.params)[cid]
    snap = chain.snapshot()
    try:
        p = 3000.0
        prices = []
        for r in moves:
            p = max(1.0, p * math.exp(r))
            prices.append(round(p, 2))
        ref = sampled_path(h, risk, "WETH", prices, gap)
        risk.sync(cid, sender=h.deployer)
        e = risk.effective(cid)
        assert e.volatility / WAD == pytest.approx(ref.volatility, rel=REL_TOL)
        assert _within(e.maxLtv, band.ltv_at_low, band.ltv_at_high)
        assert _within(e.threshold, band.lt_at_low, band.lt_at_high)
        assert _within(e.buffer, band.buffer_at_low, band.buffer_at_high)
        assert _within(e.duration, band.duration_at_low, band.duration_at_high)
        c = h.s.vault.collateral(cid)
        assert _within(c.maxLtv, band.ltv_at_low, band.ltv_at_high)
        assert c.maxLtv < c.liquidationThreshold
        assert _within(h.s.auction.params(cid).buffer, band.buffer_at_low, band.buffer_at_high)
        h.assert_identity()
    finally:
        chain.restore(snap)
