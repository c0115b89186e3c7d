// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUnwindLiquidator} from "../../interfaces/IUnwindLiquidator.sol";
import {IDirectLiquidator} from "../../interfaces/IDirectLiquidator.sol";
import {ILiquidationEngine} from "../../interfaces/ILiquidationEngine.sol";
import {MockFixedPriceMarket} from "./MockFlashTaker.sol";

/// @notice A direct liquidator's flash receiver for the tests: sells the seized collateral in a
///         market and hands `repay` to the liquidator (mode Pay), keeps it (mode Keep: the engine's
///         burn must then fail), re-enters the direct liquidator (mode Reenter: its lock must
///         hold), or sells, pays and calls the auction engine's liquidate on `target` from inside
///         the callback (mode LiquidateOther: reachable, and it must see a consistent state).
contract MockFlashLiquidator is IUnwindLiquidator {
    using SafeERC20 for IERC20;

    enum Mode {
        Pay,
        Keep,
        Reenter,
        LiquidateOther
    }

    IDirectLiquidator public immutable engine;
    IERC20 public immutable debtToken;
    MockFixedPriceMarket public immutable market;
    Mode public mode;
    uint256 public calls;
    uint256 public lastSeized; // [token units]
    uint256 public lastRepay; // [wad]
    address public lastAccount;
    ILiquidationEngine public auctionEngine;
    address public target;

    error NotEngine(address caller);

    constructor(IDirectLiquidator engine_, IERC20 debtToken_, MockFixedPriceMarket market_) {
        engine = engine_;
        debtToken = debtToken_;
        market = market_;
    }

    function setMode(Mode m) external {
        mode = m;
    }

    function setTarget(ILiquidationEngine auctionEngine_, address target_) external {
        (auctionEngine, target) = (auctionEngine_, target_);
    }

    /// @inheritdoc IUnwindLiquidator
    function onUnwindLiquidate(
        address liquidator,
        address account,
        address collateral,
        uint256 seized,
        uint256 repay,
        bytes calldata
    ) external {
        if (msg.sender != address(engine)) revert NotEngine(msg.sender);
        ++calls;
        (lastSeized, lastRepay, lastAccount) = (seized, repay, account);
        if (mode == Mode.Reenter) {
            engine.liquidateDirect(account, 0, repay, 0, address(this), "");
            return;
        }
        IERC20(collateral).forceApprove(address(market), seized);
        market.sell(collateral, seized, address(this));
        if (mode != Mode.Keep) debtToken.safeTransfer(liquidator, repay);
        if (mode == Mode.LiquidateOther) auctionEngine.liquidate(target, address(this));
    }
}
