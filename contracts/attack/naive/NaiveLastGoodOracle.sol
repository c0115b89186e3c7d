// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOracleAdapter} from "../../../interfaces/IOracleAdapter.sol";
import {NaiveOracleBase} from "./NaiveOracleBase.sol";

/// @title NaiveLastGoodOracle
/// @notice TEST-ONLY. Wraps Unwind's real adapter but, like a "last good price" fallback used
///         for everything (Liquity v2's shut-down branches), serves the adapter's last accepted
///         price (`current`) for borrowing and liquidations even when the adapter is FROZEN or
///         guarded. While the real market moves away from that frozen price, anyone can trade
///         against it (scenario 16).
/// @dev NEVER deploy outside a local test chain.
contract NaiveLastGoodOracle is NaiveOracleBase {
    IOracleAdapter public immutable inner;

    constructor(IOracleAdapter inner_) {
        inner = inner_;
    }

    function price(address token) public view override returns (uint256) {
        return inner.peek(token).current;
    }

    function _record(address token) internal override {
        inner.poke(token);
    }

    function name() external pure override returns (string memory) {
        return "NaiveLastGoodOracle (test only)";
    }
}
