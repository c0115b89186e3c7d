"""The keeper drives AdaptiveRisk: it samples volatility when a sample is due, writes the
parameters, and shows them in its metrics and log."""

from unwind.keeper.__main__ import build_keeper
from unwind.keeper.process import write_record
from unwind.params import WAD


def test_keeper_samples_and_writes_adaptive_parameters(h, risk, chain, accounts, tmp_path):
    cid = h.s.ids["WETH"]
    record = write_record(h.s, tmp_path / "deployment.json")
    keeper = build_keeper(chain.provider.uri, accounts[3].private_key, record,
                          ["--adapt-every", "1", "--state-file", str(tmp_path / "k.json")])
    keeper.start()
    maxltv_before = h.s.vault.collateral(cid).maxLtv
    sampled = []
    # Violent but accepted moves, one every 10 minutes; the keeper steps once per block.
    for i in range(12):
        h.advance(600)
        h.set_price("WETH", 2100 if i % 2 == 0 else 3000, settle=False)
        h.refresh_all()
        head = chain.blocks.head.number
        keeper.step(head)
        keeper.step(chain.blocks.head.number)  # settles the mined update
        sampled.append(risk.volState(cid).lastTime)
    assert len(set(sampled)) == 12  # one sample every step: each was due
    e = risk.effective(cid)
    assert e.volatility > risk.band(cid).volInit  # the estimate rose with the moves
    assert h.s.vault.collateral(cid).maxLtv == e.maxLtv < maxltv_before  # written by the keeper's update
    gauge = keeper.metrics.risk_volatility.labels(str(cid))._value.get()
    assert abs(gauge - e.volatility / WAD) < 0.05  # shown (as of the keeper's last look)
    assert keeper.summary.reverted == 0


def test_client_shows_effective_parameters_and_why(h, risk, chain):
    from web3 import Web3

    from unwind.abis import PUBLIC, abis_from_manifest
    from unwind.client import UnwindClient

    by_name = abis_from_manifest()
    abis = {key: by_name[name] for key, name in PUBLIC.items()}
    record = {"contracts": {k: c.address for k, c in h.s.modules.items()},
              "collateral": {sym: {"id": cid} for sym, cid in h.s.ids.items()}}
    client = UnwindClient(deployment=record, abis=abis, w3=Web3(Web3.HTTPProvider(chain.provider.uri)))
    rows = {r["collateral"]: r for r in client.risk()}
    assert set(rows) == set(h.s.ids)
    weth = rows["WETH"]
    e = risk.effective(h.s.ids["WETH"])
    assert weth["volatility"] * WAD == e.volatility and weth["max_ltv"] * WAD == e.maxLtv
    assert weth["max_ltv_now"] * WAD == h.s.vault.collateral(h.s.ids["WETH"]).maxLtv
    assert weth["why"].startswith("volatility 60% sits 25% of the way from 40% to 120%")
