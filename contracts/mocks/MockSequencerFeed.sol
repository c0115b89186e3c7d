// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";

/// @notice A Chainlink L2 sequencer uptime feed the test harness controls: `answer` 0 = up,
///         1 = down; `startedAt` is when the status last changed.
/// @dev Test double for the outside world. Anyone can set it: local chains only.
contract MockSequencerFeed is IAggregatorV3 {
    uint8 public constant override decimals = 0;
    string public override description = "L2 sequencer uptime";
    uint256 public constant override version = 1;

    uint80 public roundId;
    int256 public answer; // 0: up, 1: down
    uint256 public startedAt; // [unix seconds] when the status last changed
    uint256 public updatedAt; // [unix seconds]
    bool public reverts;

    /// @notice Starts up, with the status changed `upFor` seconds ago.
    constructor(uint256 upFor) {
        _set(0, block.timestamp - upFor);
    }

    /// @notice Report down (`true`) or up (`false`) from now; `startedAt` moves only on a change.
    function setDown(bool down) external {
        int256 next = down ? int256(1) : int256(0);
        _set(next, next == answer ? startedAt : block.timestamp);
    }

    /// @notice Overwrite the round verbatim (any answer, any `startedAt`, including 0).
    function setStatus(int256 answer_, uint256 startedAt_) external {
        _set(answer_, startedAt_);
    }

    function setReverts(bool reverts_) external {
        reverts = reverts_;
    }

    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        require(!reverts, "MockSequencerFeed: reverting");
        return (roundId, answer, startedAt, updatedAt, roundId);
    }

    function _set(int256 answer_, uint256 startedAt_) private {
        roundId += 1;
        answer = answer_;
        startedAt = startedAt_;
        updatedAt = block.timestamp;
    }
}
