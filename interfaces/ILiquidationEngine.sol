// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOracleAdapter} from "./IOracleAdapter.sol";

/// @title Unwind liquidation engine
/// @notice Anyone may liquidate an account whose health (IVault) is below 1 at the oracle's
///         confirmed liquidation prices. The engine closes only what is needed:
///
///         PARTIAL CLOSE. Collateral is seized in collateral-id order (the listing order).
///         Closing debt `x` against collateral i moves `x * (1 + penalty_i) / (1 - lotMargin)`
///         of value into an auction: the tab is `x * (1 + penalty_i)`, and the extra `lotMargin`
///         (default 5%) lets the auction raise the whole tab even when it sells a little below the
///         reference (the unused part returns to the owner when the tab is paid; deeper discounts
///         eat into the penalty first, then the buffer). `x` is the smallest amount that brings
///         health back to `targetHealth`; when one collateral is not enough it is taken whole and
///         the next one is used. A partial close never seizes a holding worth less than the dust
///         floor (planting a wei of some collateral in an account changes nothing). When the whole
///         basket is not enough, everything is liquidated, the debt split by value (a holding
///         whose share rounds to no debt, worth a few wei, stays with the owner: planting such a
///         holding in an account cannot block its liquidation). Each auction's tab is its planned
///         debt plus penalty; the vault's rounding of the debt it removes (a few wei, with a
///         stability fee) goes to the largest one.
///         SIZING PRICE. Whether an account is liquidatable is decided at the confirmed liquidation
///         price max(current, delayed); the close `x`, its target health and the lots are sized at
///         min(current, liquidationPrice): in a falling market the delayed price is stale, and a lot
///         sized at it could not raise the tab at today's price (crash replay, bench/). A depressed
///         current price cannot trigger a liquidation, only enlarge one that the confirmed price
///         already allows; the extra collateral returns to the owner once the tab is paid.
///         A partial close can raise health only while
///         `liquidationThreshold_i * (1 + penalty_i) / (1 - lotMargin) < 1`; governance keeps
///         lotMargin below `1 - threshold * (1 + penalty)` of every collateral (with the default
///         parameters: WETH 0.12, WBTC 0.142, USDC 0.055), otherwise such accounts are
///         liquidated in full.
///
///         DUST. A liquidation closes at least `min(debt, dust)` and never leaves a debt between
///         0 and `dust`: what remains is zero or at least `dust`. A close below the dust floor is
///         raised to it on the seizure that restored health (the one taken in part), or becomes a
///         full liquidation when that seizure cannot grow.
///
///         INCENTIVE. The caller names a `keeper` who receives `tip + chip * x`, capped at the
///         penalty of that liquidation, so it never exceeds the penalty. It is minted together
///         with the penalty: the auction's tab includes the penalty, and the buffer receives
///         `penalty - incentive` at once (ILiquidityBuffer's identity).
///         SELF-LIQUIDATION. An owner who liquidates its own account (as keeper, from a second
///         address) and buys the lots back loses `penalty - incentive >= 0` whenever the auctions
///         raise their tabs. It gains only when nobody else bids while the price falls below what
///         covers a tab: then the pair gains that auction's shortfall (bad debt, paid by the buffer)
///         less `penalty - incentive`, at most, per lot bought at the floor,
///         `x * (1 + penalty) * (maxDiscount - lotMargin) / (1 - lotMargin) - (penalty - incentive)`
///         (the lot valued at the sizing price; with the defaults, maxDiscount 20%, lotMargin 5%,
///         penalty 10%: 7.4% of `x` plus the incentive, 1,458 on a close of 17,185). Every other
///         keeper can take that discount first: the bound is the price of no competing bidder over
///         the whole fall of the curve, and no bidder at all makes it bad debt, never hidden.
///
///         QUEUE. The tabs of running auctions may not exceed `globalCap` in all, nor
///         `collateralCap[id]` per collateral (Maker's Hole/hole). A plan that does not fit is made
///         again within the room left: a full liquidation has each seizure cut to its room (or
///         skipped when it has none) and goes on with the others; a partial close takes each
///         collateral as far as its room allows and goes on with the next ones. A full cap on one
///         collateral, or a planted holding of it, therefore never blocks the liquidation of the
///         others. What fits keeps the dust rules: a remainder below the dust floor first goes to
///         seizures of whole holdings that still have room (so the small share of a holding whose
///         collateral has no room, a planted wei's, cannot hold back the end of a liquidation),
///         else the last seizures shrink so that at least dust remains; when less than
///         `min(debt, dust)` fits, the liquidation reverts
///         `LiquidationCapReached` (naming the first collateral whose room bound the plan).
///
///         GUARDS. A collateral the oracle guards (IOracleAdapter.Guard: frozen, recovery grace,
///         sequencer down or in grace, delayed feed stopped) has no liquidation price: it counts at
///         its last accepted price for the health check and the sizing, and it is never seized.
///         An account that is unsafe so counted is liquidated from its priced collateral; a full
///         liquidation leaves the guarded holdings their share of the debt by value (when that
///         share is at least the dust floor; a smaller one goes with the priced collateral). Anyone
///         may deposit for anyone, so holding a guarded token cannot shield an unsafe account
///         (scenario 18). Only when nothing priced is left to seize does the liquidation revert
///         `OracleGuarded` (waiting for the guard to lift). Liquidations also revert with a named
///         reason when the guardian paused them (`LiquidationsPaused`), they are inside the grace
///         period after an unpause (`LiquidationGrace`), the vault is shut down
///         (`ShutdownActive`), or the auction's stop level forbids new auctions
///         (IDutchAuction.StopLevel).
///
///         DIRECT LIQUIDATION, the one-step path beside the auctions, is IDirectLiquidator's: the same
///         trigger, guards, target health and dust rules, read from this engine (`liquidationGate`).
interface ILiquidationEngine {
    // --- Types ---

    struct Seizure {
        uint8 collateralId;
        address token;
        uint8 decimals;
        uint256 lot; // [token units] collateral put up for auction (the vault keeps it until sold)
        uint256 debt; // [wad] debt closed against this collateral
        uint256 tab; // [wad] debt + penalty the auction must raise
        uint256 startPrice; // [wad price] the oracle's auctionStartPrice (auction starts at x buffer)
    }

    struct Preview {
        bool liquidatable;
        IOracleAdapter.Guard guard; // None unless an oracle guard blocks it (nothing priced to seize)
        uint256 health; // [wad] at liquidation prices
        uint256 debt; // [wad] the account's debt now
        uint256 debtToClose; // [wad]
        uint256 penalty; // [wad]
        uint256 incentive; // [wad] paid to the keeper
        Seizure[] seizures; // one per collateral touched (one auction each)
    }

    // --- Errors ---

    error NotLiquidatable(address account, uint256 health);
    error OracleGuarded(address token, IOracleAdapter.Guard guard);
    error LiquidationCapReached(uint256 collateralId, uint256 room);
    error LiquidationsPaused();
    error LiquidationGrace(uint256 until);
    error ShutdownActive();
    error InvalidParameter(string name, uint256 value, uint256 min, uint256 max);
    error ZeroAddress();

    // --- Events ---

    event Liquidate(
        address indexed account,
        address indexed keeper,
        uint256 debtClosed,
        uint256 penalty,
        uint256 incentive,
        uint256 healthBefore
    );
    event ParameterSet(bytes32 indexed name, uint256 indexed id, uint256 value);
    event LiquidationsPausedSet(bool paused, uint256 resumeAt);

    // --- Entry points ---

    /// @notice Liquidate `account`, paying the incentive to `keeper`. Reverts with the reason when
    ///         the account is healthy or a guard applies. Returns the debt closed and auction ids.
    function liquidate(address account, address keeper)
        external
        returns (uint256 debtClosed, uint256[] memory auctionIds);

    /// @notice Liquidate every account of `accounts` that is liquidatable now; accounts that are
    ///         healthy, guarded by the oracle or blocked by a full cap are skipped, not reverted.
    ///         Returns how many were liquidated.
    function liquidateBatch(address[] calldata accounts, address keeper) external returns (uint256 liquidated);

    // --- Views ---

    /// @notice What a direct liquidation (IDirectLiquidator) needs of this engine, in one read:
    ///         whether liquidations are paused, when the grace after an unpause ends, the target health.
    function liquidationGate() external view returns (bool paused, uint256 resumeAt, uint256 targetHealth);

    /// @notice What `liquidate(account, ...)` would do now (seizures, penalty, incentive).
    function previewLiquidate(address account) external view returns (Preview memory);

    function targetHealth() external view returns (uint256); // [wad]

    function lotMargin() external view returns (uint256); // [wad]

    function tip() external view returns (uint256); // [wad]

    function chip() external view returns (uint256); // [wad]

    function globalCap() external view returns (uint256); // [wad]

    function collateralCap(uint256 id) external view returns (uint256); // [wad]

    function paused() external view returns (bool);

    function resumeAt() external view returns (uint256); // [timestamp]

    function unpauseGrace() external view returns (uint256); // [seconds]

    // --- Governance ---

    function setTargetHealth(uint256 target) external; // (1, 2]

    function setLotMargin(uint256 margin) external; // [0, 0.25]

    /// @notice The keeper incentive; `tip + chip * dust` must not exceed the smallest penalty on a
    ///         dust-sized position (checked against the vault's current parameters).
    function setIncentive(uint256 tip, uint256 chip) external;

    function setGlobalCap(uint256 cap) external; // <= type(uint128).max

    function setCollateralCap(uint256 id, uint256 cap) external;

    function setUnpauseGrace(uint256 grace) external; // <= 1 day

    /// @notice Guardian: stop liquidations at once.
    function pause() external;

    /// @notice Governance: resume; liquidations wait `unpauseGrace` seconds more.
    function unpause() external;
}
