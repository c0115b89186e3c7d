"""Unwind keeper: index positions from events, liquidate unsafe accounts, bid in auctions.

The package is plain Python over web3.py so that its logic can be tested without a chain:
`index` (positions mirrored from vault events, reorg-safe), `health` (off-chain health from a
constant number of reads per block), `strategy` (what to liquidate, what to bid), `gas` (EIP-1559
fees with a cap and replacement), `nonces` (write-ahead record of sent transactions that survives
a restart), `metrics` (Prometheus), and `runner` (the loop that ties them to an RPC endpoint),
whose `Keeper` is made of named parts: `reading` (the chain: index, market state, auctions),
`liquidating` (the liquidation path), `bidding` (takes and redos) and `transactions` (sending,
nonces, receipts).
`scripts/keeper.py` (`ape run keeper`) and `bots/keeper_bot.py` (silverback) are thin shells.
"""
