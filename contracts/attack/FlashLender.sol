// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice ERC-3156 borrower callback.
interface IFlashBorrower {
    function onFlashLoan(address initiator, address token, uint256 amount, uint256 fee, bytes calldata data)
        external
        returns (bytes32);
}

/// @title FlashLender
/// @notice An ERC-3156-style flash lender of whatever tokens it holds, for the adversarial
///         scenarios: an attacker borrows for one transaction and must return `amount + fee`.
/// @dev Test double for a local chain (the "outside world" of Aave/Balancer flash loans).
contract FlashLender {
    using SafeERC20 for IERC20;

    bytes32 public constant CALLBACK_SUCCESS = keccak256("ERC3156FlashBorrower.onFlashLoan");
    uint256 public immutable feeBps; // [bps]
    address public immutable owner;

    error CallbackFailed();
    error NotRepaid(uint256 expected, uint256 balance);
    error NotOwner(address caller);

    event FlashLoan(address indexed receiver, address indexed token, uint256 amount, uint256 fee);

    constructor(uint256 feeBps_) {
        feeBps = feeBps_;
        owner = msg.sender;
    }

    function maxFlashLoan(address token) external view returns (uint256) {
        return IERC20(token).balanceOf(address(this));
    }

    function flashFee(address, uint256 amount) public view returns (uint256) {
        return (amount * feeBps + 9_999) / 10_000; // rounded up
    }

    /// @notice Send `amount` of `token` to `receiver`, call it, then pull back `amount + fee`.
    function flashLoan(IFlashBorrower receiver, address token, uint256 amount, bytes calldata data)
        external
        returns (bool)
    {
        uint256 fee = flashFee(token, amount);
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransfer(address(receiver), amount);
        if (receiver.onFlashLoan(msg.sender, token, amount, fee, data) != CALLBACK_SUCCESS) revert CallbackFailed();
        IERC20(token).safeTransferFrom(address(receiver), address(this), amount + fee);
        uint256 balance = IERC20(token).balanceOf(address(this));
        if (balance < before + fee) revert NotRepaid(before + fee, balance);
        emit FlashLoan(address(receiver), token, amount, fee);
        return true;
    }

    function withdraw(IERC20 token, uint256 amount, address to) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        token.safeTransfer(to, amount);
    }
}
