// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../../../interfaces/IAggregatorV3.sol";
import {NaiveOracleBase} from "./NaiveOracleBase.sol";

/// @title NaiveFeedOracle
/// @notice TEST-ONLY. Reads a Chainlink-style feed the way too many integrations do:
///         `(, answer, , updatedAt, ) = feed.latestRoundData(); price = uint256(answer) * scale`.
///         What it gets wrong, on purpose (each one is a scenario's "naive" variant):
///         - no sign check: the cast is unchecked, so -1 becomes ~2**256 (scenario 2);
///         - no zero, roundId, startedAt or bounds check: an answer clamped at the feed's
///           `minAnswer` is taken at face value (scenarios 4, 5);
///         - heartbeat written as `updatedAt + heartbeat >= block.timestamp`, or not at all when
///           the heartbeat is 0: a round stamped in the future stays "fresh" for ever
///           (scenarios 1, 4);
///         - the call is not wrapped: a reverting feed reverts every consumer (scenario 3);
///         - no delayed price, no jump breaker, no secondary, no sequencer check
///           (scenarios 6, 11, 14, 17).
/// @dev NEVER deploy outside a local test chain.
contract NaiveFeedOracle is NaiveOracleBase {
    struct Source {
        IAggregatorV3 feed;
        uint256 scale; // 10**(18 - feedDecimals)
        uint256 heartbeat; // [seconds] 0: not checked
    }

    mapping(address token => Source) public sources;

    function setFeed(address token, IAggregatorV3 feed, uint256 heartbeat) external onlyOwner {
        sources[token] = Source(feed, 10 ** (18 - feed.decimals()), heartbeat);
    }

    function price(address token) public view override returns (uint256 p) {
        Source memory s = sources[token];
        (, int256 answer,, uint256 updatedAt,) = s.feed.latestRoundData();
        if (s.heartbeat != 0) require(updatedAt + s.heartbeat >= block.timestamp, "stale");
        unchecked {
            p = uint256(answer) * s.scale;
        }
    }

    function name() external pure override returns (string memory) {
        return "NaiveFeedOracle (test only)";
    }
}
