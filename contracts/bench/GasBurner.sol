// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Block filler for benchmarks (local chains only)
/// @notice `burn(gas)` uses about `gas` gas and does nothing else, so a benchmark can make blocks
///         nearly full (congestion) with ordinary transactions competing on fees.
contract GasBurner {
    function burn(uint256 gasToBurn) external view {
        uint256 stop = gasleft() > gasToBurn ? gasleft() - gasToBurn : 0;
        while (gasleft() > stop) {}
    }
}
