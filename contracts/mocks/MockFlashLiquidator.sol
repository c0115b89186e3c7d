// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUnwindLiquidator} from "../../interfaces/IUnwindLiquidator.sol";
import {IDirectLiquidator} from "../../interfaces/IDirectLiquidator.sol";
import {MockFixedPriceMarket} from "./MockFlashTaker.sol";

/// @notice A direct liquidator's flash receiver for the tests: sells the seized collateral in a
///         market and hands `repay` to the liquidator (mode Pay), keeps it (mode Keep: the engine's
///         burn must then fail), or re-enters the engine (mode Reenter: the engine's lock must hold).
contract MockFlashLiquidator is IUnwindLiquidator {
    using SafeERC20 for IERC20;

    enum Mode {
        Pay,
        Keep,
        Reenter
    }

    IDirectLiquidator public immutable engine;
    IERC20 public immutable debtToken;
    MockFixedPriceMarket public immutable market;
    Mode public mode;
    uint256 public calls;
    uint256 public lastSeized; // [token units]
    uint256 public lastRepay; // [wad]
    address public lastAccount;

    error NotEngine(address caller);

    constructor(IDirectLiquidator engine_, IERC20 debtToken_, MockFixedPriceMarket market_) {
        engine = engine_;
        debtToken = debtToken_;
        market = market_;
    }

    function setMode(Mode m) external {
        mode = m;
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
        if (mode == Mode.Pay) debtToken.safeTransfer(liquidator, repay);
    }
}
