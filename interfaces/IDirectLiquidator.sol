// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOracleAdapter} from "./IOracleAdapter.sol";

/// @title Unwind direct liquidation
/// @notice The one-step path beside the auctions (ILiquidationEngine): liquidations at a discount
///         that grows with how unsafe the account is, for accounts small enough to be closed at
///         once. It follows the engine's pause, grace after an unpause and target health
///         (ILiquidationEngine.liquidationGate) and the vault's shutdown, and it is the engine's
///         rules for the trigger (health < 1 at the confirmed price, guarded holdings at their last
///         accepted price) and for dust: one set of rules for both paths.
///
///         DIRECT LIQUIDATION (`liquidateDirect`, beside the auctions). The caller repays part of an
///         unsafe account's debt and receives one of its collaterals in the same transaction, at
///         the confirmed price max(current, delayed) less a discount. Unlike an auction's lot,
///         which competition sells up towards the market, a direct sale is final: a wick of the
///         current price must neither start it (the trigger is the confirmed price, as always) nor
///         cheapen it (it is never priced below the confirmed price). In a falling market, where the
///         delayed price is above the market, direct liquidation simply does not pay and keepers
///         use the auctions, which are sized at today's price.
///           - per unit of debt closed the account gives up `1 + penalty` of collateral value, as
///             an auction at the reference price would take; the liquidator pays
///             `repay = x * (1 + penalty) / (1 + discount)` (rounded up) and receives collateral
///             worth `repay * (1 + discount)` (rounded down), so its gain is `discount * repay`;
///             the rest of the penalty, `repay - x`, goes to the buffer at once;
///           - the DISCOUNT grows with how unsafe the account is, as Euler's: `1 - health`,
///             clamped to the collateral's [minDiscount, maxDiscount], maxDiscount <= its penalty.
///             A barely unsafe account is not overpaid for (Aave's and Morpho's fixed bonus pay the
///             full bonus at health 0.999), a deeply unsafe one still attracts a liquidator. The
///             liquidator never pays less per unit of collateral than
///             `confirmedPrice / (1 + maxDiscount)`;
///           - SELF-LIQUIDATION cannot profit: the owner and a second address together give up
///             `repay - x >= 0` (to the buffer); the collateral only moves between them. Below
///             health `(1 + penalty) * threshold` each close lowers health, so a liquidator that
///             closes in small steps (a small maxRepay) meets a growing discount; it stays within
///             maxDiscount <= penalty, and the account gives up `1 + penalty` per unit whatever the
///             discount: only the buffer's share shrinks;
///           - the same trigger (health < 1 at the confirmed price, guarded holdings counted at
///             their last accepted price), guards (paused, grace, shutdown; the seized collateral
///             must be priced), target health and dust rules as `liquidate`: the close is the
///             smallest that restores `targetHealth` (at confirmed prices) seizing from this
///             collateral, capped by what
///             it holds and by `maxRepay`; at least min(debt, dust); never a debt left between 0
///             and dust (`DirectBelowDust` when `maxRepay` or the holding cannot meet that);
///           - ROUTING: per collateral, `directParams(id).maxDebt`: an account whose debt is above
///             it must go through the auctions (`DirectNotAllowed`); 0 turns the path off. An
///             account whose whole basket (at confirmed prices, guarded holdings at their last) is
///             worth less than debt x (1 + penalty) goes through the auctions too
///             (`DirectUnderwater`): it is liquidated in full there and any shortfall is recorded
///             as bad debt, where a direct close could take its collateral and leave the debt
///             with nothing behind it; after a direct close the rest of the debt stays covered. Large
///             positions in a crash are better sold over time (less impact, the queue's caps);
///             small and medium ones are cheaper and faster in one step;
///           - with `data`, the collateral goes to `receiver` first and
///             IUnwindLiquidator.onUnwindLiquidate is called before the repay is burned from the
///             caller (no inventory needed); `minSeized` guards the caller against a price move.
///         The auction queue's caps do not apply: nothing is put up for auction.
interface IDirectLiquidator {
    // --- Types ---

    /// @notice Direct liquidation of one collateral (see DIRECT LIQUIDATION).
    struct DirectParams {
        uint128 maxDebt; // [wad] accounts owing more go through the auctions; 0: no direct liquidation
        uint64 minDiscount; // [wad]
        uint64 maxDiscount; // [wad] >= minDiscount, <= the collateral's penalty
    }

    /// @notice What liquidateDirect(account, collateralId, maxRepay, ...) would do now.
    struct DirectPreview {
        bool allowed;
        bytes4 refusal; // the error liquidateDirect would revert with when not allowed (0 when allowed)
        uint256 health; // [wad] at liquidation prices
        uint256 discount; // [wad]
        uint256 repay; // [wad] debt tokens the liquidator pays
        uint256 seized; // [token units] collateral it receives
        uint256 debtClosed; // [wad] the account's debt it closes
        uint256 toBuffer; // [wad] repay - debtClosed: the penalty beyond the liquidator's discount
    }

    // --- Errors ---

    error NotLiquidatable(address account, uint256 health);
    error OracleGuarded(address token, IOracleAdapter.Guard guard);
    error LiquidationsPaused();
    error LiquidationGrace(uint256 until);
    error ShutdownActive();
    error InvalidParameter(string name, uint256 value, uint256 min, uint256 max);
    error ZeroAddress();
    error NotHeld(address account, uint256 collateralId);
    error DirectNotAllowed(uint256 collateralId, uint256 debt, uint256 maxDebt);
    error DirectBelowDust(uint256 close, uint256 minClose);
    error DirectUnderwater(uint256 collateralValue, uint256 debt);
    error SeizedBelowMinimum(uint256 seized, uint256 minSeized);

    // --- Events ---

    event LiquidateDirect(
        address indexed account,
        address indexed liquidator,
        uint256 indexed collateralId,
        uint256 repaid,
        uint256 seized,
        uint256 debtClosed,
        uint256 discount,
        uint256 healthBefore
    );
    event DirectParamsSet(uint256 indexed collateralId, uint256 maxDebt, uint256 minDiscount, uint256 maxDiscount);

    // --- Entry points ---

    /// @notice Repay at most `maxRepay` of `account`'s debt and receive its collateral `collateralId`
    ///         at the discounted confirmed price, at least `minSeized` of it, sent to `receiver`
    ///         (with `data`, through IUnwindLiquidator.onUnwindLiquidate before payment). Returns
    ///         what was repaid [wad] and seized [token units].
    function liquidateDirect(
        address account,
        uint256 collateralId,
        uint256 maxRepay,
        uint256 minSeized,
        address receiver,
        bytes calldata data
    ) external returns (uint256 repaid, uint256 seized);

    // --- Views ---

    /// @notice What liquidateDirect(account, collateralId, maxRepay, ...) would repay and seize now,
    ///         or why it would be refused (`refusal`, the error's selector). It reads prices without
    ///         updating the oracle and does not look at the pause, the grace after an unpause or a
    ///         shutdown (`liquidateDirect` checks them first).
    function previewLiquidateDirect(address account, uint256 collateralId, uint256 maxRepay)
        external
        view
        returns (DirectPreview memory);

    function directParams(uint256 id) external view returns (DirectParams memory);

    // --- Governance ---

    /// @notice Direct liquidation of collateral `id`: maxDebt <= 2^128-1, minDiscount <=
    ///         maxDiscount <= the collateral's penalty (checked against the vault's current one;
    ///         the discount is also capped at the penalty when it is used).
    function setDirectParams(uint256 id, DirectParams calldata p) external;
}
