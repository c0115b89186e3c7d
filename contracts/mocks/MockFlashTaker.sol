// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUnwindTaker} from "../../interfaces/IUnwindTaker.sol";

/// @notice A market that buys collateral for debt tokens at a fixed price anyone can set.
/// @dev Test double for an outside DEX. It pays from the debt tokens it was funded with.
contract MockFixedPriceMarket {
    using SafeERC20 for IERC20;

    IERC20 public immutable debtToken;
    mapping(address token => uint256) public price; // [wad] debt wei per whole token

    error NoMarketPrice(address token);

    event Sold(address indexed token, address indexed seller, uint256 amount, uint256 proceeds);

    constructor(IERC20 debtToken_) {
        debtToken = debtToken_;
    }

    function setPrice(address token, uint256 price_) external {
        price[token] = price_;
    }

    /// @notice Debt tokens paid for `amount` of `token` (rounded down, the market's favour).
    function quote(address token, uint256 amount) public view returns (uint256) {
        uint256 p = price[token];
        if (p == 0) revert NoMarketPrice(token);
        return amount * p / 10 ** IERC20Metadata(token).decimals();
    }

    /// @notice Pull `amount` of `token` from the caller and pay the proceeds to `to`.
    function sell(address token, uint256 amount, address to) external returns (uint256 proceeds) {
        proceeds = quote(token, amount);
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        debtToken.safeTransfer(to, proceeds);
        emit Sold(token, msg.sender, amount, proceeds);
    }
}

/// @notice A keeper's flash-take receiver: sells the collateral it receives in a market (or, with
///         no market, pays from debt tokens it was funded with) and hands `owe` to the taker.
/// @dev Trusts only calls from `auction` made on behalf of `owner`, as IUnwindTaker asks.
contract MockFlashTaker is IUnwindTaker {
    using SafeERC20 for IERC20;

    address public immutable auction;
    IERC20 public immutable debtToken;
    address public immutable owner;
    MockFixedPriceMarket public immutable market; // zero: pay from the pre-funded balance

    uint256 public calls;
    uint256 public lastAmount; // [token units]
    uint256 public lastOwe; // [wad]
    uint256 public lastProceeds; // [wad]

    error NotAuction(address caller);
    error UntrustedTaker(address taker);
    error NotOwner(address caller);
    error CannotPay(uint256 balance, uint256 owe);

    constructor(address auction_, IERC20 debtToken_, address owner_, MockFixedPriceMarket market_) {
        auction = auction_;
        debtToken = debtToken_;
        owner = owner_;
        market = market_;
    }

    /// @inheritdoc IUnwindTaker
    function onUnwindTake(address taker, address collateral, uint256 amount, uint256 owe, bytes calldata)
        external
    {
        if (msg.sender != auction) revert NotAuction(msg.sender);
        if (taker != owner) revert UntrustedTaker(taker);
        uint256 proceeds;
        if (address(market) != address(0)) {
            IERC20(collateral).forceApprove(address(market), amount);
            proceeds = market.sell(collateral, amount, address(this));
        }
        uint256 balance = debtToken.balanceOf(address(this));
        if (balance < owe) revert CannotPay(balance, owe);
        debtToken.safeTransfer(taker, owe);
        ++calls;
        lastAmount = amount;
        lastOwe = owe;
        lastProceeds = proceeds;
    }

    /// @notice Owner: take out profits or inventory.
    function sweep(IERC20 token, address to) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        token.safeTransfer(to, token.balanceOf(address(this)));
    }
}
