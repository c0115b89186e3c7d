// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Unwind perps liquidity pool
/// @notice The counterparty of every perp trade. It is an ERC-4626 vault on the debt token (uUSD):
///         LPs deposit debt tokens for shares and redeem shares for debt tokens. Trader losses,
///         trading fees and funding paid by traders arrive as plain transfers from PerpMarkets;
///         trader gains and funding received are paid by PerpMarkets through `payOut`.
///
///         UNITS. Assets are debt-token wei [wad]. Shares carry `decimalsOffset = 6` virtual
///         decimals (OpenZeppelin's inflation defence): `decimals() == 24`. Conversions round in
///         the pool's favour (OpenZeppelin ERC4626: shares minted and assets paid round down,
///         shares burnt and assets taken round up).
///
///         ASSETS. `totalAssets = max(0, balance - liabilities)` where `balance` is the pool's
///         debt-token balance and `liabilities = IPerpMarkets.unrealisedLiabilities()`: for each
///         market, max(0, traders' net unrealised PnL including unsettled funding) at the price
///         less favourable to the pool. Within a market winners' gains are netted against
///         losers' losses; across markets losses are not counted: share value for withdrawals never
///         includes money the traders have not yet paid, beyond that netting.
///
///         DEPOSITS are priced at `entryAssets` (balance less the traders' net PnL over all
///         markets, losses counted, at the price more favourable to the pool), which is never below
///         totalAssets: one LP's entry cannot be timed between two closes, or across an oracle hop,
///         to take value from the LPs already in (a review found both with entry at totalAssets).
///
///         An insolvent pool (shares outstanding and totalAssets 0) takes no deposits or mints
///         (`maxDeposit`/`maxMint` return 0): the money would only pay liabilities already owed.
///
///         WITHDRAWAL LIMIT. What stays in the pool after an LP withdrawal must cover the
///         liabilities times (1 + withdrawalBuffer): `available = max(0, balance - required)`,
///         `required = liabilities + ceil(liabilities * withdrawalBuffer / WAD)`. `maxWithdraw` and
///         `maxRedeem` return exactly the largest amounts that `withdraw` and `redeem` accept.
interface IPerpPool {
    // --- Errors ---

    error ZeroAddress();
    /// @notice `setMarkets` may be called once.
    error MarketsAlreadySet(address markets);
    /// @notice MARKETS_ROLE is held by `markets` alone, set once by setMarkets: never granted to
    ///         another address, never revoked (or renounced).
    error MarketsRoleFixed(address account);
    error InvalidParameter(string name, uint256 value, uint256 min, uint256 max);
    /// @notice `payOut` asked for more than the pool holds.
    error PoolBalanceShort(uint256 requested, uint256 balance);

    // --- Events ---

    event MarketsSet(address indexed markets);
    event WithdrawalBufferSet(uint256 buffer);
    event PaidOut(address indexed to, uint256 amount);

    // --- Markets ---

    /// @notice PerpMarkets only (MARKETS_ROLE): pay `amount` debt-token wei of trader gains to `to`.
    function payOut(address to, uint256 amount) external;

    // --- Views ---

    /// @notice The PerpMarkets contract whose liabilities the pool carries (zero until set).
    function markets() external view returns (address);

    /// @notice Traders' unrealised gains the pool owes [wad] (IPerpMarkets.unrealisedLiabilities).
    function liabilities() external view returns (uint256);

    /// @notice [debt wei] what a deposit or mint buys into: the balance less traders' net unrealised
    ///         PnL with their losses counted (IPerpMarkets.unrealisedNetForEntry, at the price more
    ///         favourable to the pool), never below totalAssets. Withdrawals and redemptions stay at
    ///         totalAssets, which counts gains only: an LP can neither buy in cheap after a winner's
    ///         close nor leave rich before a loser's. Known pitfall: a loss a trader never pays
    ///         (owed beyond its margin) is counted until it is written off.
    function entryAssets() external view returns (uint256);

    /// @notice Debt tokens that must stay in the pool: liabilities x (1 + withdrawalBuffer), rounded up.
    function requiredReserve() external view returns (uint256);

    /// @notice Debt tokens LPs may withdraw in total now: max(0, balance - requiredReserve()).
    function withdrawable() external view returns (uint256);

    /// @notice [wad] extra share of the liabilities that must stay in the pool (0.1e18: 110%).
    function withdrawalBuffer() external view returns (uint256);

    // --- Governance ---

    /// @notice Once: the PerpMarkets contract; it receives MARKETS_ROLE (payOut).
    function setMarkets(address markets_) external;

    /// @notice [wad] <= 1e18 (200% of the liabilities must stay).
    function setWithdrawalBuffer(uint256 buffer) external;
}
