// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IPriceOracle (Euler's shape)
/// @notice Quotes an amount of one asset in another, in the assets' own smallest units.
interface IPriceOracle {
    /// @notice A short human-readable name of this oracle.
    function name() external view returns (string memory);

    /// @notice How much `quote` `inAmount` of `base` is worth, rounded down.
    /// @param inAmount Amount of `base`, in `base`'s smallest units.
    /// @return outAmount Amount of `quote`, in `quote`'s smallest units.
    function getQuote(uint256 inAmount, address base, address quote) external view returns (uint256 outAmount);

    /// @notice Bid and ask quotes; this oracle has no spread, so both equal `getQuote`.
    function getQuotes(uint256 inAmount, address base, address quote)
        external
        view
        returns (uint256 bidOutAmount, uint256 askOutAmount);
}
