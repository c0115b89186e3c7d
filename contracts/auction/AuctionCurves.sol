// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMathLib as FPM} from "solady/utils/FixedPointMathLib.sol";
import {IDutchAuction} from "../../interfaces/IDutchAuction.sol";

/// @title AuctionCurves
/// @notice Price of a Dutch auction `elapsed` seconds after it started at `top`. Every curve
///         rounds up (the protocol's favour: a taker never pays less than the exact curve).
library AuctionCurves {
    uint256 internal constant RAY = 1e27;

    function price(IDutchAuction.AuctionParams memory p, uint256 top, uint256 elapsed)
        internal
        pure
        returns (uint256)
    {
        if (p.curve == IDutchAuction.Curve.Linear) {
            // top * (1 - elapsed / duration), zero after `duration`
            if (elapsed >= p.duration) return 0;
            return FPM.mulDivUp(top, p.duration - elapsed, p.duration);
        }
        if (p.curve == IDutchAuction.Curve.Exponential) {
            // top * cut ** elapsed
            return FPM.mulDivUp(top, rpowUp(p.cut, elapsed), RAY);
        }
        // Stairstep: top * cut ** floor(elapsed / step)
        return FPM.mulDivUp(top, rpowUp(p.cut, elapsed / p.step), RAY);
    }

    /// @notice `x ** n` for a RAY number `x <= RAY`, every product rounded UP, so the result is
    ///         never below the exact power (a rounding-to-nearest power can be, and a price built
    ///         on it can then fall one wei below the exact curve).
    function rpowUp(uint256 x, uint256 n) internal pure returns (uint256 z) {
        z = RAY;
        while (n != 0) {
            if (n & 1 != 0) z = FPM.mulDivUp(z, x, RAY);
            n >>= 1;
            if (n != 0) x = FPM.mulDivUp(x, x, RAY);
        }
    }
}
