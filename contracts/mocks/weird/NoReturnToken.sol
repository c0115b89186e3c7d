// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {WeirdTokenBase} from "./WeirdTokenBase.sol";

/// @notice Like USDT and BNB on mainnet: transfer, transferFrom and approve return NOTHING (and
///         revert on failure). A caller that decodes a bool reverts on every call; SafeERC20
///         accepts empty return data from a contract.
contract NoReturnToken is WeirdTokenBase {
    constructor(string memory name_, string memory symbol_, uint8 decimals_) WeirdTokenBase(name_, symbol_, decimals_) {}

    function transfer(address to, uint256 amount) external {
        require(_tryMove(msg.sender, msg.sender, to, amount), "NoReturnToken: transfer failed");
    }

    function transferFrom(address from, address to, uint256 amount) external {
        require(_tryMove(msg.sender, from, to, amount), "NoReturnToken: transfer failed");
    }

    function approve(address spender, uint256 amount) external {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
    }
}
