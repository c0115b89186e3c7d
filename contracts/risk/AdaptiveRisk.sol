// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib as FPM} from "solady/utils/FixedPointMathLib.sol";
import {Governed} from "../governance/Governed.sol";
import {IAdaptiveRisk} from "../../interfaces/IAdaptiveRisk.sol";
import {IVault} from "../../interfaces/IVault.sol";
import {IDutchAuction} from "../../interfaces/IDutchAuction.sol";
import {ILiquidationEngine} from "../../interfaces/ILiquidationEngine.sol";
import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";

/// @title AdaptiveRisk
/// @notice Realised volatility per collateral from accepted oracle prices, and risk parameters
///         that follow it inside governance bounds. See IAdaptiveRisk for the rules.
/// @dev Holds the vault's, auction's and engine's RISK_ROLE: it may call only the setters that
///      role opens (maxLtv, liquidation threshold, auction params, keeper incentive), and every
///      value it writes passes the module's own bounds.
contract AdaptiveRisk is IAdaptiveRisk, Governed, ReentrancyGuardTransient {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant RAY = 1e27;
    uint256 internal constant YEAR = 365 days;
    int256 internal constant LN2_WAD = 693147180559945309; // ln(2) as a wad
    uint256 internal constant MAX_VAR_CAP = 25e18; // 500% annualised vol

    IVault public immutable vault;
    IDutchAuction public immutable auction;
    ILiquidationEngine public immutable engine;

    EstimatorConfig internal _cfg;
    mapping(uint256 id => Band) internal _bands;
    mapping(uint256 id => VolState) internal _state;
    uint256[] internal _ids;
    mapping(uint256 id => uint256) internal _idPlusOne; // position in _ids + 1

    constructor(address admin, IVault vault_, IDutchAuction auction_, ILiquidationEngine engine_, EstimatorConfig memory c)
        Governed(admin)
    {
        vault = vault_;
        auction = auction_;
        engine = engine_;
        _setConfig(c);
    }

    // --- Anyone ---

    /// @inheritdoc IAdaptiveRisk
    function observe(uint256 id) public nonReentrant {
        _observe(id);
    }

    /// @inheritdoc IAdaptiveRisk
    function sync(uint256 id) public nonReentrant {
        _sync(id);
    }

    /// @inheritdoc IAdaptiveRisk
    function update(uint256 id) external nonReentrant {
        _observe(id);
        _sync(id);
    }

    // --- Views ---

    /// @inheritdoc IAdaptiveRisk
    function effective(uint256 id) public view returns (Effective memory e) {
        if (_idPlusOne[id] == 0) revert NotAdapted(id);
        e = _effective(id, _bands[id]);
        e.chip = _engineChip();
    }

    /// @inheritdoc IAdaptiveRisk
    function volatility(uint256 id) public view returns (uint256) {
        if (_idPlusOne[id] == 0) revert NotAdapted(id);
        return FPM.sqrtWad(_state[id].variance);
    }

    function volState(uint256 id) external view returns (VolState memory) {
        return _state[id];
    }

    function band(uint256 id) external view returns (Band memory) {
        return _bands[id];
    }

    function adapted(uint256 id) external view returns (bool) {
        return _idPlusOne[id] != 0;
    }

    function adaptedIds() external view returns (uint256[] memory) {
        return _ids;
    }

    function config() external view returns (EstimatorConfig memory) {
        return _cfg;
    }

    /// @inheritdoc IAdaptiveRisk
    function wickBound() public view returns (uint256) {
        return 2 * FPM.mulDivUp(_weight(_cfg.maxInterval), _cfg.varCap, WAD);
    }

    // --- Governance ---

    /// @inheritdoc IAdaptiveRisk
    function setBand(uint256 id, Band calldata b) external onlyRole(GOVERNOR_ROLE) {
        if (id >= vault.collateralCount()) revert UnknownCollateral(id);
        if (b.volLow >= b.volHigh) revert InvalidBand("volLow<volHigh");
        if (b.volHigh > 5e18) revert InvalidBand("volHigh<=5");
        if (b.volInit > 5e18) revert InvalidBand("volInit<=5");
        if (b.ltvAtHigh > b.ltvAtLow) revert InvalidBand("ltvAtHigh<=ltvAtLow");
        if (b.ltAtHigh > b.ltAtLow || b.ltAtHigh == 0) revert InvalidBand("0<ltAtHigh<=ltAtLow");
        // maxLtv must stay below the threshold at every point of the band (both are linear in s).
        if (b.ltvAtLow >= b.ltAtLow || b.ltvAtHigh >= b.ltAtHigh) revert InvalidBand("ltv<lt");
        if (b.bufferAtLow < WAD || b.bufferAtHigh < b.bufferAtLow) revert InvalidBand("1<=bufferAtLow<=bufferAtHigh");
        if (b.durationAtHigh > b.durationAtLow) revert InvalidBand("durationAtHigh<=durationAtLow");
        if (b.cutAtHigh > b.cutAtLow || b.cutAtLow >= RAY) revert InvalidBand("cutAtHigh<=cutAtLow<1");
        if (b.chipAtHigh < b.chipAtLow) revert InvalidBand("chipAtLow<=chipAtHigh");
        _bands[id] = b;
        if (_idPlusOne[id] == 0) {
            _ids.push(id);
            _idPlusOne[id] = _ids.length;
            _state[id].variance = uint88(FPM.mulDiv(b.volInit, b.volInit, WAD));
        }
        emit BandSet(id, b);
    }

    /// @inheritdoc IAdaptiveRisk
    function removeBand(uint256 id) external onlyRole(GOVERNOR_ROLE) {
        uint256 pos = _idPlusOne[id];
        if (pos == 0) revert NotAdapted(id);
        uint256 last = _ids[_ids.length - 1];
        _ids[pos - 1] = last;
        _idPlusOne[last] = pos;
        _ids.pop();
        delete _idPlusOne[id];
        delete _bands[id];
        delete _state[id];
        emit BandRemoved(id);
    }

    /// @inheritdoc IAdaptiveRisk
    function setEstimatorConfig(EstimatorConfig calldata c) external onlyRole(GOVERNOR_ROLE) {
        _setConfig(c);
    }

    // --- Internals ---

    function _setConfig(EstimatorConfig memory c) internal {
        if (c.halfLife < 1 hours || c.halfLife > 30 days) revert InvalidParameter("halfLife", c.halfLife, 1 hours, 30 days);
        if (c.minInterval < 12 || c.minInterval > 1 days) revert InvalidParameter("minInterval", c.minInterval, 12, 1 days);
        if (c.maxInterval < c.minInterval || c.maxInterval > 1 days) {
            revert InvalidParameter("maxInterval", c.maxInterval, c.minInterval, 1 days);
        }
        if (c.varCap == 0 || c.varCap > MAX_VAR_CAP) revert InvalidParameter("varCap", c.varCap, 1, MAX_VAR_CAP);
        if (c.maxThresholdSpeed == 0 || c.maxThresholdSpeed > WAD / 1 hours) {
            revert InvalidParameter("maxThresholdSpeed", c.maxThresholdSpeed, 1, WAD / 1 hours);
        }
        if (c.tolerance > 0.05e18) revert InvalidParameter("tolerance", c.tolerance, 0, 0.05e18);
        _cfg = c;
        emit EstimatorConfigSet(c);
    }

    /// @dev w(dt) = 1 - 2^(-dt/halfLife) as a wad, rounded up (a larger weight is the larger move).
    function _weight(uint256 dt) internal view returns (uint256) {
        int256 x = -(LN2_WAD * int256(dt)) / int256(uint256(_cfg.halfLife));
        return WAD - uint256(FPM.expWad(x));
    }

    function _observe(uint256 id) internal {
        if (_idPlusOne[id] == 0) revert NotAdapted(id);
        VolState memory st = _state[id];
        if (st.lastTime != 0 && block.timestamp < uint256(st.lastTime) + _cfg.minInterval) {
            emit SampleSkipped(id, 1);
            return;
        }
        IOracleAdapter.Quote memory q = vault.oracle().update(vault.collateral(id).token);
        if (
            (q.status != IOracleAdapter.Status.Live && q.status != IOracleAdapter.Status.Secondary) || q.current == 0
                || q.current > type(uint128).max
        ) {
            emit SampleSkipped(id, 2);
            return;
        }
        int256 r;
        if (st.lastTime != 0) {
            uint256 dt = block.timestamp - st.lastTime;
            r = FPM.lnWad(int256(FPM.mulDiv(q.current, WAD, st.lastPrice)));
            uint256 r2 = FPM.mulDiv(uint256(r * r), 1, WAD); // [wad]
            uint256 v = FPM.mulDiv(r2, YEAR, dt);
            if (v > _cfg.varCap) v = _cfg.varCap;
            uint256 w = _weight(dt < _cfg.maxInterval ? dt : _cfg.maxInterval);
            uint256 var0 = st.variance;
            st.variance = v >= var0 ? uint88(var0 + FPM.mulDiv(w, v - var0, WAD)) : uint88(var0 - FPM.mulDiv(w, var0 - v, WAD));
        }
        st.lastPrice = uint128(q.current);
        st.lastTime = uint40(block.timestamp);
        _state[id] = st;
        emit VolatilitySampled(id, q.current, r, st.variance, FPM.sqrtWad(st.variance));
    }

    /// @dev Linear interpolation a + s (b - a), rounded up or down.
    function _lerp(uint256 a, uint256 b, uint256 s, bool up) internal pure returns (uint256) {
        if (b >= a) return a + (up ? FPM.mulDivUp(b - a, s, WAD) : FPM.mulDiv(b - a, s, WAD));
        return a - (up ? FPM.mulDiv(a - b, s, WAD) : FPM.mulDivUp(a - b, s, WAD));
    }

    function _effective(uint256 id, Band memory b) internal view returns (Effective memory e) {
        e.volatility = FPM.sqrtWad(_state[id].variance);
        if (e.volatility <= b.volLow) e.position = 0;
        else if (e.volatility >= b.volHigh) e.position = WAD;
        else e.position = FPM.mulDiv(e.volatility - b.volLow, WAD, uint256(b.volHigh) - b.volLow);
        uint256 s = e.position;
        e.maxLtv = _lerp(b.ltvAtLow, b.ltvAtHigh, s, false);
        e.threshold = _lerp(b.ltAtLow, b.ltAtHigh, s, false);
        e.buffer = _lerp(b.bufferAtLow, b.bufferAtHigh, s, true);
        e.duration = _lerp(b.durationAtLow, b.durationAtHigh, s, false);
        e.cut = _lerp(b.cutAtLow, b.cutAtHigh, s, false);
        e.chip = _lerp(b.chipAtLow, b.chipAtHigh, s, true);
    }

    /// @dev The engine-wide chip: the largest any adapted collateral asks for.
    function _engineChip() internal view returns (uint256 chip) {
        uint256 n = _ids.length;
        for (uint256 i; i < n; ++i) {
            uint256 id = _ids[i];
            uint256 c = _effective(id, _bands[id]).chip;
            if (c > chip) chip = c;
        }
    }

    /// @dev Whether `b` differs from `a` by more than `tolerance`, relative to the larger.
    function _differs(uint256 a, uint256 b) internal view returns (bool) {
        uint256 d = a > b ? a - b : b - a;
        if (d == 0) return false;
        return d * WAD > uint256(_cfg.tolerance) * (a > b ? a : b);
    }

    function _sync(uint256 id) internal {
        if (_idPlusOne[id] == 0) revert NotAdapted(id);
        Effective memory e = _effective(id, _bands[id]);
        e.chip = _engineChip();
        IVault.CollateralConfig memory c = vault.collateral(id);
        uint256 storedThreshold = _storedThreshold(id, c.liquidationThreshold);
        bool lowering = e.threshold < storedThreshold;
        // Order keeps maxLtv < threshold at every step: lower maxLtv before the threshold falls,
        // raise it after the threshold rose.
        if (lowering) _writeMaxLtv(id, c.maxLtv, e.maxLtv);
        _writeThreshold(id, c.liquidationThreshold, storedThreshold, e.threshold);
        if (!lowering) _writeMaxLtv(id, c.maxLtv, e.maxLtv);
        _writeAuction(id, e);
        _writeChip(id, e.chip);
        emit ParametersAdapted(id, e);
    }

    /// @dev The vault's target: the ramp's end value while one runs, else the current value.
    function _storedThreshold(uint256 id, uint256 current) internal view returns (uint256) {
        (, uint64 to,, uint40 end) = IVaultRamp(address(vault)).thresholdRamp(id);
        return end > block.timestamp ? to : current;
    }

    function _writeMaxLtv(uint256 id, uint256 have, uint256 want) internal {
        if (!_differs(have, want)) return;
        try vault.setMaxLtv(id, uint64(want)) {}
        catch (bytes memory reason) {
            emit AdaptationRefused(id, "maxLtv", reason);
        }
    }

    function _writeThreshold(uint256 id, uint256 current, uint256 stored, uint256 want) internal {
        if (!_differs(stored, want)) return;
        uint40 ramp;
        if (want < current) {
            (,,, uint40 end) = IVaultRamp(address(vault)).thresholdRamp(id);
            if (end > block.timestamp) return; // one ramp at a time: the descent is rate-limited
            uint256 minRamp = IVaultRamp(address(vault)).minRampDuration();
            uint256 bySpeed = FPM.divUp(current - want, _cfg.maxThresholdSpeed);
            ramp = uint40(bySpeed > minRamp ? bySpeed : minRamp);
        }
        try vault.setLiquidationThreshold(id, uint64(want), ramp) {}
        catch (bytes memory reason) {
            emit AdaptationRefused(id, "liquidationThreshold", reason);
        }
    }

    function _writeAuction(uint256 id, Effective memory e) internal {
        IDutchAuction.AuctionParams memory p = auction.params(id);
        bool change = _differs(p.buffer, e.buffer);
        if (p.curve == IDutchAuction.Curve.Linear) {
            change = change || _differs(p.duration, e.duration);
            p.duration = uint32(e.duration);
        } else {
            change = change || _differs(RAY - p.cut, RAY - e.cut); // compare speeds, not multipliers
            p.cut = uint96(e.cut);
        }
        if (!change) return;
        p.buffer = uint64(e.buffer);
        try auction.setParams(id, p) {}
        catch (bytes memory reason) {
            emit AdaptationRefused(id, "auction", reason);
        }
    }

    function _writeChip(uint256 id, uint256 want) internal {
        if (!_differs(engine.chip(), want)) return;
        try engine.setIncentive(engine.tip(), want) {}
        catch (bytes memory reason) {
            emit AdaptationRefused(id, "chip", reason);
        }
    }
}

/// @dev The vault's ramp views (public state of Vault, not part of IVault).
interface IVaultRamp {
    function thresholdRamp(uint256 id) external view returns (uint64 from, uint64 to, uint40 start, uint40 end);
    function minRampDuration() external view returns (uint40);
}
