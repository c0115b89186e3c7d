// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IUnwindTaker} from "../../interfaces/IUnwindTaker.sol";
import {IDutchAuction} from "../../interfaces/IDutchAuction.sol";
import {ILiquidationEngine} from "../../interfaces/ILiquidationEngine.sol";

/// @notice A hostile flash-take receiver: from inside `onUnwindTake` it re-enters the auction
///         (take, redo) or the engine (liquidate), or makes any armed call (`armCall`: a setter,
///         the vault), as armed. Any revert of the inner call bubbles up, so the outer take
///         reverts with the protocol's reason. With mode None it behaves and pays `owe` from debt
///         tokens it was funded with (the control case); with NoPay it keeps them.
/// @dev Test double for an attacker. Anyone can arm it: local chains only.
contract ReentrantTaker is IUnwindTaker {
    enum Mode {
        None,
        Take,
        Redo,
        Liquidate,
        Call,
        NoPay
    }

    IDutchAuction public immutable auction;
    ILiquidationEngine public immutable engine;
    IERC20 public immutable debtToken;

    Mode public mode;
    uint256 public targetId; // auction to re-enter (take, redo)
    address public victim; // account to liquidate from the callback
    uint256 public calls;
    address public callTarget; // Mode.Call
    bytes public callData;

    constructor(IDutchAuction auction_, ILiquidationEngine engine_, IERC20 debtToken_) {
        auction = auction_;
        engine = engine_;
        debtToken = debtToken_;
    }

    function arm(Mode mode_, uint256 targetId_, address victim_) external {
        mode = mode_;
        targetId = targetId_;
        victim = victim_;
    }

    function armCall(address target, bytes calldata data) external {
        mode = Mode.Call;
        callTarget = target;
        callData = data;
    }

    /// @inheritdoc IUnwindTaker
    function onUnwindTake(address taker, address, uint256, uint256 owe, bytes calldata) external {
        require(msg.sender == address(auction), "ReentrantTaker: not the auction");
        ++calls;
        Mode m = mode;
        if (m == Mode.Take) {
            auction.take(targetId, type(uint256).max, type(uint256).max, address(this), "");
        } else if (m == Mode.Redo) {
            auction.redo(targetId, address(this));
        } else if (m == Mode.Liquidate) {
            engine.liquidate(victim, address(this));
        } else if (m == Mode.Call) {
            (bool ok, bytes memory ret) = callTarget.call(callData);
            if (!ok) {
                assembly {
                    revert(add(ret, 32), mload(ret))
                }
            }
        } else if (m == Mode.NoPay) {
            return;
        }
        debtToken.transfer(taker, owe);
    }
}
