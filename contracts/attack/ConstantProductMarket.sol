// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title ConstantProductMarket
/// @notice A local x*y=k market of one collateral token (`base`) against the debt token (`quote`),
///         with a swap fee, for the adversarial oracle scenarios (tests/scenarios, `ape run
///         scenario`). It is the "outside world" an attacker trades in: Unwind's oracle adapter
///         never reads it; deliberately naive oracles in `contracts/attack/naive/` do.
///
///         PRICE SCALE. `spotPrice()` is quote wei per ONE WHOLE base token, as a WAD (the oracle
///         adapter's scale): `reserveQuote * 10**baseDecimals / reserveBase` (the quote token has
///         18 decimals).
///
///         TWAP. Like Uniswap v2, the market accumulates `spotPrice * seconds` in
///         `priceCumulativeLast` on the first trade of each block, before the trade, so a price
///         only counts for the time it was held. `currentCumulativePrice()` adds the time since.
/// @dev Test double for a local chain: only the owner adds or removes liquidity (no LP shares).
contract ConstantProductMarket {
    using SafeERC20 for IERC20;

    uint256 internal constant BPS = 10_000;

    IERC20 public immutable base; // the collateral token
    IERC20 public immutable quote; // the debt token (18 decimals)
    uint256 public immutable baseUnit; // 10**base.decimals()
    uint256 public immutable feeBps; // [bps] taken from the amount in
    address public immutable owner;

    uint256 public reserveBase; // [base units]
    uint256 public reserveQuote; // [quote wei]
    uint256 public priceCumulativeLast; // [wad price * seconds]
    uint256 public blockTimestampLast; // [unix seconds]

    error NotOwner(address caller);
    error UnknownToken(address token);
    error InsufficientOutput(uint256 out, uint256 minOut);
    error EmptyReserves();
    error ZeroAmount();

    event Swap(address indexed sender, address indexed tokenIn, uint256 amountIn, uint256 amountOut, address to);
    event Liquidity(int256 baseDelta, int256 quoteDelta, uint256 reserveBase, uint256 reserveQuote);

    constructor(IERC20 base_, IERC20 quote_, uint256 feeBps_) {
        require(feeBps_ < BPS, "fee");
        base = base_;
        quote = quote_;
        baseUnit = 10 ** IERC20Metadata(address(base_)).decimals();
        feeBps = feeBps_;
        owner = msg.sender;
        blockTimestampLast = block.timestamp;
    }

    // --- Views ---

    /// @notice Quote wei per whole base token [wad], 0 when empty.
    function spotPrice() public view returns (uint256) {
        if (reserveBase == 0) return 0;
        return reserveQuote * baseUnit / reserveBase;
    }

    /// @notice The cumulative price as of now (the stored one plus the current price since).
    function currentCumulativePrice() public view returns (uint256 cumulative, uint256 timestamp) {
        cumulative = priceCumulativeLast;
        timestamp = block.timestamp;
        if (timestamp > blockTimestampLast) cumulative += spotPrice() * (timestamp - blockTimestampLast);
    }

    /// @notice What `amountIn` of `tokenIn` buys now.
    function getAmountOut(address tokenIn, uint256 amountIn) public view returns (uint256) {
        (uint256 rIn, uint256 rOut) = _reserves(tokenIn);
        if (rIn == 0 || rOut == 0) revert EmptyReserves();
        uint256 inWithFee = amountIn * (BPS - feeBps);
        return inWithFee * rOut / (rIn * BPS + inWithFee);
    }

    /// @notice How much `tokenIn` it takes to get `amountOut` of the other token (rounded up).
    function getAmountIn(address tokenIn, uint256 amountOut) public view returns (uint256) {
        (uint256 rIn, uint256 rOut) = _reserves(tokenIn);
        if (amountOut >= rOut) revert EmptyReserves();
        return (rIn * amountOut * BPS) / ((rOut - amountOut) * (BPS - feeBps)) + 1;
    }

    /// @notice The amount of quote to sell (tokenIn == quote) or base to sell (tokenIn == base) to
    ///         move the spot price to `targetPrice` [wad], ignoring the fee (an estimate).
    function amountToReach(uint256 targetPrice) external view returns (address tokenIn, uint256 amountIn) {
        uint256 k = reserveBase * reserveQuote;
        // targetPrice = q * unit / b and b * q = k  =>  b = sqrt(k * unit / targetPrice)
        uint256 b = _sqrt(k * baseUnit / targetPrice);
        if (b < reserveBase) {
            uint256 q = k / b;
            return (address(quote), (q - reserveQuote) * BPS / (BPS - feeBps));
        }
        return (address(base), (b - reserveBase) * BPS / (BPS - feeBps));
    }

    // --- Trading ---

    /// @notice Sell `amountIn` of `tokenIn` (pulled from the caller) for the other token, sent to `to`.
    function swap(address tokenIn, uint256 amountIn, uint256 minOut, address to) external returns (uint256 out) {
        if (amountIn == 0) revert ZeroAmount();
        _accumulate();
        out = getAmountOut(tokenIn, amountIn);
        if (out < minOut) revert InsufficientOutput(out, minOut);
        IERC20(tokenIn).safeTransferFrom(msg.sender, address(this), amountIn);
        if (tokenIn == address(base)) {
            reserveBase += amountIn;
            reserveQuote -= out;
            quote.safeTransfer(to, out);
        } else {
            reserveQuote += amountIn;
            reserveBase -= out;
            base.safeTransfer(to, out);
        }
        emit Swap(msg.sender, tokenIn, amountIn, out, to);
    }

    // --- Liquidity (owner) ---

    function addLiquidity(uint256 baseAmount, uint256 quoteAmount) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _accumulate();
        base.safeTransferFrom(msg.sender, address(this), baseAmount);
        quote.safeTransferFrom(msg.sender, address(this), quoteAmount);
        reserveBase += baseAmount;
        reserveQuote += quoteAmount;
        emit Liquidity(int256(baseAmount), int256(quoteAmount), reserveBase, reserveQuote);
    }

    function removeLiquidity(uint256 baseAmount, uint256 quoteAmount, address to) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _accumulate();
        reserveBase -= baseAmount;
        reserveQuote -= quoteAmount;
        base.safeTransfer(to, baseAmount);
        quote.safeTransfer(to, quoteAmount);
        emit Liquidity(-int256(baseAmount), -int256(quoteAmount), reserveBase, reserveQuote);
    }

    // --- Internal ---

    function _accumulate() internal {
        uint256 elapsed = block.timestamp - blockTimestampLast;
        if (elapsed > 0) {
            priceCumulativeLast += spotPrice() * elapsed;
            blockTimestampLast = block.timestamp;
        }
    }

    function _reserves(address tokenIn) internal view returns (uint256 rIn, uint256 rOut) {
        if (tokenIn == address(base)) return (reserveBase, reserveQuote);
        if (tokenIn == address(quote)) return (reserveQuote, reserveBase);
        revert UnknownToken(tokenIn);
    }

    function _sqrt(uint256 x) internal pure returns (uint256 y) {
        if (x == 0) return 0;
        y = x;
        uint256 z = (x + 1) / 2;
        while (z < y) {
            y = z;
            z = (x / z + z) / 2;
        }
    }
}
