// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../../../interfaces/IAggregatorV3.sol";
import {NaiveOracleBase} from "./NaiveOracleBase.sol";

/// @title NaiveCappedOracle
/// @notice TEST-ONLY. A capped price (Aave's CAPO shape): `min(feed answer, cap)`, where the
///         cap is a governance setter that checks nothing. A cap set below the live rate
///         undervalues every position's collateral at once and liquidates healthy accounts
///         (Aave CAPO 2026, scenario 15). The feed read itself is minimal (sign and heartbeat).
/// @dev NEVER deploy outside a local test chain.
contract NaiveCappedOracle is NaiveOracleBase {
    struct Source {
        IAggregatorV3 feed;
        uint256 scale; // 10**(18 - feedDecimals)
        uint256 cap; // [wad] 0: no cap
    }

    mapping(address token => Source) public sources;

    function setFeed(address token, IAggregatorV3 feed) external onlyOwner {
        sources[token].feed = feed;
        sources[token].scale = 10 ** (18 - feed.decimals());
    }

    /// @notice The naive setter: no comparison with the live price.
    function setCap(address token, uint256 cap) external onlyOwner {
        sources[token].cap = cap;
    }

    function price(address token) public view override returns (uint256 p) {
        Source memory s = sources[token];
        (, int256 answer,,,) = s.feed.latestRoundData();
        require(answer > 0, "answer");
        p = uint256(answer) * s.scale;
        if (s.cap != 0 && p > s.cap) p = s.cap;
    }

    function name() external pure override returns (string memory) {
        return "NaiveCappedOracle (test only)";
    }
}
