// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {WeirdTokenBase} from "./WeirdTokenBase.sol";

/// @notice Like stETH or AMPL: balances are shares times a global index that anyone may move
///         here (`rebase`), so a holder's balance changes without any transfer. No call the
///         vault can make tells such a token apart from a plain one before it rebases.
contract RebasingToken is WeirdTokenBase {
    uint256 public index = 1e18; // [wad] balance per share

    constructor(string memory name_, string memory symbol_, uint8 decimals_) WeirdTokenBase(name_, symbol_, decimals_) {}

    /// @notice Scale every balance by `newIndex / index` (a positive or negative rebase).
    function rebase(uint256 newIndex) external {
        index = newIndex;
    }

    function totalSupply() public view override returns (uint256) {
        return _supply * index / 1e18;
    }

    function balanceOf(address who) public view override returns (uint256) {
        return _balances[who] * index / 1e18;
    }

    function mint(address to, uint256 amount) external override {
        uint256 shares = amount * 1e18 / index;
        _balances[to] += shares;
        _supply += shares;
        emit Transfer(address(0), to, amount);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        require(_tryMove(msg.sender, msg.sender, to, amount * 1e18 / index), "RebasingToken: transfer failed");
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        require(_tryMove(msg.sender, from, to, amount * 1e18 / index), "RebasingToken: transfer failed");
        return true;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }
}
