// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice A market in FlashTaker's ISwapMarket shape that quotes a fixed price but pays `cutBps`
///         less than it quoted and ignores `minOut`: the broken or malicious venue that
///         FlashTaker's own proceeds check (InsufficientProceeds) is there for.
/// @dev Test double for an outside DEX. It pays from the debt tokens it was funded with.
contract ShortchangingMarket {
    using SafeERC20 for IERC20;

    IERC20 public immutable debtToken;
    uint256 public immutable price; // [wad] debt wei per whole token, quoted
    uint256 public immutable cutBps; // kept back from what was quoted

    constructor(IERC20 debtToken_, uint256 price_, uint256 cutBps_) {
        debtToken = debtToken_;
        price = price_;
        cutBps = cutBps_;
    }

    function getAmountOut(address tokenIn, uint256 amountIn) public view returns (uint256) {
        return amountIn * price / 10 ** IERC20Metadata(tokenIn).decimals();
    }

    function swap(address tokenIn, uint256 amountIn, uint256, address to) external returns (uint256 out) {
        out = getAmountOut(tokenIn, amountIn) * (10_000 - cutBps) / 10_000;
        IERC20(tokenIn).safeTransferFrom(msg.sender, address(this), amountIn);
        debtToken.safeTransfer(to, out);
    }
}
