// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Unwind liquidity buffer
/// @notice The system's reserve. Its surplus is the debt tokens it holds: stability fees,
///         rounding remainders and liquidation penalties (net of keeper incentives) accrue to it.
///         It absorbs an auction's shortfall by burning its own tokens; what it cannot cover is
///         recorded as bad debt, never hidden, and healed as soon as surplus arrives.
///
///         ACCOUNTING IDENTITY (exact, in debt-token wei, rounding included):
///             debtToken.totalSupply() == vault.totalDebt() + auction.totalDebt() + buffer.badDebt()
///         where vault.totalDebt() = ceil(totalNormalisedDebt * rate / RAY), auction.totalDebt()
///         is the sum of the tabs of running auctions (principal plus penalty), and the buffer's
///         surplus is part of totalSupply (it is tokens the buffer holds). Every module books the
///         exact rounding difference of an operation to the buffer, so the identity has no slack.
interface ILiquidityBuffer {
    error SurplusLocked(uint256 available, uint256 requested);
    error ZeroAddress();

    event ShortfallAbsorbed(uint256 indexed auctionId, uint256 shortfall, uint256 covered, uint256 newBadDebt);
    event IncentivePaid(address indexed to, uint256 amount, uint256 fromSurplus, uint256 newBadDebt);
    event Healed(uint256 amount);
    event SurplusWithdrawn(address indexed to, uint256 amount);
    event SurplusFloorSet(uint256 floor);

    /// @notice Surplus [wad]: the debt tokens the buffer holds.
    function surplus() external view returns (uint256);

    /// @notice Bad debt [wad]: debt tokens in circulation that no account or auction backs.
    function badDebt() external view returns (uint256);

    /// @notice Auction-only: cover `shortfall` [wad] of a finished auction from surplus, record
    ///         the rest as bad debt.
    function absorb(uint256 auctionId, uint256 shortfall) external;

    /// @notice Module-only: pay a keeper incentive from surplus; what surplus cannot cover is
    ///         minted and recorded as bad debt (an incentive is always paid).
    function pay(address to, uint256 amount) external;

    /// @notice Anyone: burn surplus against recorded bad debt. Returns the amount healed.
    function heal() external returns (uint256);

    /// @notice Governance: send surplus above the floor to `to`; refused while there is bad debt.
    function withdrawSurplus(address to, uint256 amount) external;

    /// @notice Governance: the surplus kept back from withdrawals [wad].
    function setSurplusFloor(uint256 floor) external;
}
