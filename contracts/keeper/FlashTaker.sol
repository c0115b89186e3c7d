// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUnwindTaker} from "../../interfaces/IUnwindTaker.sol";
import {IUnwindLiquidator} from "../../interfaces/IUnwindLiquidator.sol";

/// @notice The market shape the flash taker sells into (the local constant-product market has it;
///         on a live network an adapter to a real DEX router would).
interface ISwapMarket {
    function getAmountOut(address tokenIn, uint256 amountIn) external view returns (uint256);

    function swap(address tokenIn, uint256 amountIn, uint256 minOut, address to) external returns (uint256);
}

/// @title FlashTaker
/// @notice A keeper's callee for `DutchAuction.take(..., receiver = this, data)` and
///         `DirectLiquidator.liquidateDirect(..., receiver = this, data)`: it receives the
///         collateral, sells it in the market named in `data`, and sends the proceeds to the keeper
///         (the taker or liquidator), who then pays `owe` (or `repay`) from them in the same
///         transaction. The keeper needs no inventory of debt tokens, and a sale that would not
///         cover the payment, or fall below the keeper's minimum proceeds, reverts as a whole.
/// @dev Only the configured auction and direct liquidator may call back, and only for calls its owner made.
contract FlashTaker is IUnwindTaker, IUnwindLiquidator {
    using SafeERC20 for IERC20;

    address public immutable auction;
    address public immutable owner; // the keeper account
    IERC20 public immutable debtToken;
    address public immutable direct; // the DirectLiquidator whose direct liquidations call back

    error NotAuction(address caller);
    error NotDirectLiquidator(address caller);
    error NotOwner(address taker);
    error InsufficientProceeds(uint256 proceeds, uint256 needed);
    error ZeroAddress();

    event FlashTake(address indexed collateral, uint256 amount, uint256 owe, uint256 proceeds);

    constructor(address auction_, address owner_, IERC20 debtToken_, address direct_) {
        if (
            auction_ == address(0) || owner_ == address(0) || address(debtToken_) == address(0)
                || direct_ == address(0)
        ) revert ZeroAddress();
        auction = auction_;
        owner = owner_;
        debtToken = debtToken_;
        direct = direct_;
    }

    /// @param data abi.encode(market, minProceeds): where to sell and the least the keeper accepts.
    function onUnwindTake(address taker, address collateral, uint256 amount, uint256 owe, bytes calldata data)
        external
    {
        if (msg.sender != auction) revert NotAuction(msg.sender);
        _sell(taker, collateral, amount, owe, data);
    }

    /// @param data abi.encode(market, minProceeds), as for a take.
    function onUnwindLiquidate(
        address liquidator,
        address,
        address collateral,
        uint256 seized,
        uint256 repay,
        bytes calldata data
    ) external {
        if (msg.sender != direct) revert NotDirectLiquidator(msg.sender);
        _sell(liquidator, collateral, seized, repay, data);
    }

    /// @dev Sell `amount` of `collateral` for at least max(minProceeds, owe) and send the proceeds
    ///      to `taker`, who must be the owner.
    function _sell(address taker, address collateral, uint256 amount, uint256 owe, bytes calldata data) internal {
        if (taker != owner) revert NotOwner(taker);
        (address market, uint256 minProceeds) = abi.decode(data, (address, uint256));
        uint256 floor = minProceeds > owe ? minProceeds : owe;
        IERC20(collateral).forceApprove(market, amount);
        uint256 proceeds = ISwapMarket(market).swap(collateral, amount, floor, address(this));
        if (proceeds < floor) revert InsufficientProceeds(proceeds, floor);
        debtToken.safeTransfer(taker, proceeds); // the auction (direct liquidator) then burns `owe` from the taker
        emit FlashTake(collateral, amount, owe, proceeds);
    }
}
