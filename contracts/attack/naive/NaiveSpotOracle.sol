// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ConstantProductMarket} from "../ConstantProductMarket.sol";
import {NaiveOracleBase} from "./NaiveOracleBase.sol";

/// @title NaiveSpotOracle
/// @notice TEST-ONLY. Prices each token at a constant-product market's SPOT price, the mistake
///         behind bZx and Harvest (2020): one transaction that trades big moves the price it
///         reads (scenarios 7 and 18). Tokens without a market are priced by a fixed value.
/// @dev NEVER deploy outside a local test chain.
contract NaiveSpotOracle is NaiveOracleBase {
    mapping(address token => ConstantProductMarket) public markets;
    mapping(address token => uint256) public fixedPrice; // [wad] for tokens without a market

    function setMarket(address token, ConstantProductMarket market) external onlyOwner {
        markets[token] = market;
    }

    function setFixedPrice(address token, uint256 p) external onlyOwner {
        fixedPrice[token] = p;
    }

    function price(address token) public view override returns (uint256) {
        ConstantProductMarket m = markets[token];
        if (address(m) == address(0)) return fixedPrice[token];
        return m.spotPrice();
    }

    function name() external pure override returns (string memory) {
        return "NaiveSpotOracle (test only)";
    }
}
