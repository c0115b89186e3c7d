// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Flash direct-liquidation callback
/// @notice `DirectLiquidator.liquidateDirect` with non-empty `data` sends the seized collateral to
///         `receiver` first and then calls `receiver.onUnwindLiquidate`. When the call returns, the
///         direct liquidator burns `repay` debt tokens from the caller of liquidateDirect: the receiver can sell
///         the collateral in a market and hand the proceeds to the caller, so a liquidator needs no
///         inventory of debt tokens (as IUnwindTaker for auction takes).
/// @dev The direct liquidator is locked during the callback: re-entering liquidateDirect reverts.
///      The engine's auction liquidations (`liquidate`, `liquidateBatch`) stay reachable from the
///      callback and see the state after the seizure, which is already consistent (the account's
///      debt and collateral are reduced); only the debt token's supply is `repay` above the
///      accounting identity until the burn that ends the same transaction, and nothing in the
///      engine, auction or vault reads the supply. Implementations must check that `msg.sender`
///      is the direct liquidator they expect and that `liquidator` is who they trust.
interface IUnwindLiquidator {
    /// @param liquidator the caller of liquidateDirect (who pays `repay`)
    /// @param account the liquidated account
    /// @param collateral the collateral token sent to the receiver
    /// @param seized collateral received [token units]
    /// @param repay debt tokens the liquidator must hold when this returns [wad]
    /// @param data the bytes passed to liquidateDirect
    function onUnwindLiquidate(
        address liquidator,
        address account,
        address collateral,
        uint256 seized,
        uint256 repay,
        bytes calldata data
    ) external;
}
