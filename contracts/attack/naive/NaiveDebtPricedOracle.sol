// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../../../interfaces/IAggregatorV3.sol";
import {ConstantProductMarket} from "../ConstantProductMarket.sol";
import {NaiveOracleBase} from "./NaiveOracleBase.sol";

/// @title NaiveDebtPricedOracle
/// @notice TEST-ONLY. Prices collateral in debt tokens through the debt token's MARKET price
///         (a stablecoin/debt-token pool, the stablecoin taken as $1): collateral USD price x
///         debt tokens per dollar. When the debt token trades at 1.3 every collateral looks 23%
///         cheaper and healthy accounts are liquidated: Compound's DAI oracle, November 2020,
///         inverted (scenario 10). Unwind values debt at par instead.
/// @dev NEVER deploy outside a local test chain.
contract NaiveDebtPricedOracle is NaiveOracleBase {
    struct Source {
        IAggregatorV3 feed;
        uint256 scale; // 10**(18 - feedDecimals)
    }

    mapping(address token => Source) public sources;
    /// @notice A market of a dollar stablecoin (base) against the debt token (quote).
    ConstantProductMarket public immutable debtMarket;

    constructor(ConstantProductMarket debtMarket_) {
        debtMarket = debtMarket_;
    }

    function setFeed(address token, IAggregatorV3 feed) external onlyOwner {
        sources[token] = Source(feed, 10 ** (18 - feed.decimals()));
    }

    function price(address token) public view override returns (uint256) {
        Source memory s = sources[token];
        (, int256 answer,,,) = s.feed.latestRoundData();
        require(answer > 0, "answer");
        // debt tokens per whole stablecoin = debt tokens per dollar
        return uint256(answer) * s.scale * debtMarket.spotPrice() / 1e18;
    }

    function name() external pure override returns (string memory) {
        return "NaiveDebtPricedOracle (test only)";
    }
}
