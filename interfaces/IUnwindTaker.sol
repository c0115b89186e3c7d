// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Flash-take callback
/// @notice `DutchAuction.take` with non-empty `data` sends the collateral to `receiver` first
///         and then calls `receiver.onUnwindTake`. When the call returns, the auction burns
///         `owe` debt tokens from the caller of `take`: the receiver can sell the collateral in
///         a market and hand the proceeds to the caller, so a keeper needs no inventory.
/// @dev The auction is locked during the callback: re-entering take, redo or a new liquidation
///      reverts. Implementations must check that `msg.sender` is the auction they expect and
///      that `taker` is who they trust.
interface IUnwindTaker {
    /// @param taker the caller of take (who pays `owe`)
    /// @param collateral the collateral token sent to the receiver
    /// @param amount collateral received [token units]
    /// @param owe debt tokens the taker must hold when this returns [wad]
    /// @param data the bytes passed to take
    function onUnwindTake(address taker, address collateral, uint256 amount, uint256 owe, bytes calldata data)
        external;
}
