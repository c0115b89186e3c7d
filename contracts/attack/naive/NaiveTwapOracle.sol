// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ConstantProductMarket} from "../ConstantProductMarket.sol";
import {NaiveOracleBase} from "./NaiveOracleBase.sol";

/// @title NaiveTwapOracle
/// @notice TEST-ONLY. A short-window time-weighted average of one market, unbounded and not
///         cross-checked against anything: Inverse Finance (2022). The average of the last full
///         window (at least `window` seconds, rolled on `update`) is served; an attacker who holds
///         the market moved for one window (a few blocks, with nobody arbitraging) moves it all
///         the way (scenario 8). Tokens without a market are priced by a fixed value.
/// @dev NEVER deploy outside a local test chain.
contract NaiveTwapOracle is NaiveOracleBase {
    struct Observation {
        ConstantProductMarket market;
        uint256 cumulative; // market cumulative price at `timestamp`
        uint256 timestamp;
        uint256 average; // [wad] average over the last full window
    }

    uint256 public immutable window; // [seconds]
    mapping(address token => Observation) public observations;
    mapping(address token => uint256) public fixedPrice; // [wad]

    constructor(uint256 window_) {
        window = window_;
    }

    function setMarket(address token, ConstantProductMarket market) external onlyOwner {
        (uint256 cumulative, uint256 t) = market.currentCumulativePrice();
        observations[token] = Observation(market, cumulative, t, market.spotPrice());
    }

    function setFixedPrice(address token, uint256 p) external onlyOwner {
        fixedPrice[token] = p;
    }

    function price(address token) public view override returns (uint256) {
        Observation memory o = observations[token];
        if (address(o.market) == address(0)) return fixedPrice[token];
        (uint256 cumulative, uint256 t) = o.market.currentCumulativePrice();
        if (t - o.timestamp >= window) return (cumulative - o.cumulative) / (t - o.timestamp);
        return o.average;
    }

    function _record(address token) internal override {
        Observation storage o = observations[token];
        if (address(o.market) == address(0)) return;
        (uint256 cumulative, uint256 t) = o.market.currentCumulativePrice();
        if (t - o.timestamp >= window) {
            o.average = (cumulative - o.cumulative) / (t - o.timestamp);
            o.cumulative = cumulative;
            o.timestamp = t;
        }
    }

    function name() external pure override returns (string memory) {
        return "NaiveTwapOracle (test only)";
    }
}
