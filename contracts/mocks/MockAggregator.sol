// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";

/// @notice A Chainlink-style feed the test harness controls completely: honest rounds, stale
///         rounds, zero or negative answers, malformed rounds, and answers clamped at a bound.
/// @dev Test double for the outside world (a price feed). Anyone can set it: local chains only.
contract MockAggregator is IAggregatorV3 {
    uint8 public immutable override decimals;
    string public override description;
    uint256 public constant override version = 4;

    uint80 public roundId;
    int256 public answer;
    uint256 public startedAt;
    uint256 public updatedAt;
    uint80 public answeredInRound;
    /// @notice Answers are clamped into [minAnswer, maxAnswer] as Chainlink's OCR aggregators do.
    int256 public minAnswer;
    int256 public maxAnswer;
    bool public reverts;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    constructor(uint8 decimals_, string memory description_, int256 initialAnswer) {
        decimals = decimals_;
        description = description_;
        minAnswer = 1;
        maxAnswer = type(int192).max;
        _push(initialAnswer, block.timestamp);
    }

    /// @notice An honest new round at the current time (clamped to the bounds like a real feed).
    function setAnswer(int256 newAnswer) external {
        _push(newAnswer, block.timestamp);
    }

    /// @notice A new round with an arbitrary `updatedAt` (stale or in the future).
    function setAnswerAt(int256 newAnswer, uint256 at) external {
        _push(newAnswer, at);
    }

    /// @notice Overwrite the latest round verbatim, without clamping: malformed rounds.
    function setRound(uint80 roundId_, int256 answer_, uint256 startedAt_, uint256 updatedAt_, uint80 answeredInRound_)
        external
    {
        roundId = roundId_;
        answer = answer_;
        startedAt = startedAt_;
        updatedAt = updatedAt_;
        answeredInRound = answeredInRound_;
    }

    function setBounds(int256 min_, int256 max_) external {
        minAnswer = min_;
        maxAnswer = max_;
    }

    function setReverts(bool reverts_) external {
        reverts = reverts_;
    }

    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        require(!reverts, "MockAggregator: reverting");
        return (roundId, answer, startedAt, updatedAt, answeredInRound);
    }

    function _push(int256 newAnswer, uint256 at) private {
        int256 clamped = newAnswer;
        if (newAnswer > 0 || minAnswer > 0) {
            // Chainlink OCR clamps reported values into its bounds; zero/negative tests use setRound.
            if (clamped < minAnswer) clamped = minAnswer;
            if (clamped > maxAnswer) clamped = maxAnswer;
        }
        roundId += 1;
        answer = clamped;
        startedAt = at;
        updatedAt = at;
        answeredInRound = roundId;
        emit AnswerUpdated(clamped, roundId, at);
    }
}
