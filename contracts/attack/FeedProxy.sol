// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";

/// @title FeedProxy
/// @notice A Chainlink-style proxy (EACAggregatorProxy's shape) in front of an aggregator: it
///         forwards `latestRoundData` and `decimals` and exposes `aggregator()`, but not the
///         aggregator's `minAnswer()`/`maxAnswer()`. The oracle adapter must look behind it for
///         the clamp bounds (OracleAdapter choice 14; scenario 5).
/// @dev Test double for a local chain; anyone can repoint it (a proxy's phase change).
contract FeedProxy is IAggregatorV3 {
    IAggregatorV3 public aggregator;

    constructor(IAggregatorV3 aggregator_) {
        aggregator = aggregator_;
    }

    function setAggregator(IAggregatorV3 aggregator_) external {
        aggregator = aggregator_;
    }

    function decimals() external view returns (uint8) {
        return aggregator.decimals();
    }

    function description() external view returns (string memory) {
        return aggregator.description();
    }

    function version() external view returns (uint256) {
        return aggregator.version();
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return aggregator.latestRoundData();
    }
}
