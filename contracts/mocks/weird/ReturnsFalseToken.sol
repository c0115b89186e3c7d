// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {WeirdTokenBase} from "./WeirdTokenBase.sol";

/// @notice Like ZRX or BAT: a transfer that cannot go through returns `false` instead of
///         reverting, and moves nothing. A caller that ignores the return value would credit a
///         deposit that never arrived. With `alwaysFalse` set it returns false even when it did
///         move the tokens (a token whose return value means nothing).
contract ReturnsFalseToken is WeirdTokenBase {
    bool public alwaysFalse;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) WeirdTokenBase(name_, symbol_, decimals_) {}

    function setAlwaysFalse(bool on) external {
        alwaysFalse = on;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        bool ok = _tryMove(msg.sender, msg.sender, to, amount);
        return ok && !alwaysFalse;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        bool ok = _tryMove(msg.sender, from, to, amount);
        return ok && !alwaysFalse;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }
}
