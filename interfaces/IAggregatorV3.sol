// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Chainlink-style price feed, as Unwind consumes it
/// @notice The shape of Chainlink's AggregatorV3Interface. Unwind reads only `decimals` and
///         `latestRoundData`, and trusts neither: the oracle adapter treats a round as usable only
///         when `answer > 0`, `roundId != 0`, `0 < updatedAt <= block.timestamp`,
///         `startedAt != 0` and `updatedAt` is within the feed's heartbeat.
/// @dev Known pitfalls of real feeds: answers clamped at `minAnswer`/`maxAnswer` (Venus/LUNA
///      2022), deprecated aggregators that revert, and rounds left stale for hours.
interface IAggregatorV3 {
    function decimals() external view returns (uint8);

    function description() external view returns (string memory);

    function version() external view returns (uint256);

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
