// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Unwind adaptive risk parameters
/// @notice Keeps an on-chain realised-volatility estimate per collateral and moves that
///         collateral's risk parameters between governance-set bounds as volatility changes.
///
/// @dev VOLATILITY ESTIMATE (per collateral id)
///   - Fed only by prices the oracle adapter ACCEPTED: `observe` calls `oracle.update(token)` and
///     uses `Quote.current` when the status is LIVE or SECONDARY. A FROZEN or unset token (a
///     rejected, stale, clamped or disputed feed) is never sampled.
///   - At most one sample per `minInterval` seconds. For a sample taken `dt` seconds after the
///     previous one, with log return `r = ln(p / p_prev)`:
///         observed   v = min(r^2 * YEAR / dt, varCap)                   [annualised variance, wad]
///         weight     w = 1 - 2^(-min(dt, maxInterval) / halfLife)
///         variance  <- variance + w * (v - variance)
///     An exponentially weighted moving average of squared log returns with half-life `halfLife`
///     (in time, not in samples), annualised with YEAR = 365 days. `volatility = sqrt(variance)`.
///   - WICK BOUND: one sample moves the variance by at most `w(maxInterval) * varCap`, so a
///     one-round wick (two samples: out and back) moves it by at most
///     `2 * (1 - 2^(-maxInterval/halfLife)) * varCap`, whatever the wick's size (`wickBound()`).
///
/// @dev EFFECTIVE PARAMETERS. With `s = clamp((vol - volLow) / (volHigh - volLow), 0, 1)`:
///     maxLtv      = ltvAtLow  - s * (ltvAtLow - ltvAtHigh)        rounded down
///     threshold   = ltAtLow   - s * (ltAtLow - ltAtHigh)          rounded down (target)
///     buffer      = bufferAtLow + s * (bufferAtHigh - bufferAtLow) rounded up
///     duration    = durationAtLow - s * (durationAtLow - durationAtHigh)  (linear curve)
///     cut         = cutAtLow - s * (cutAtLow - cutAtHigh)        (exponential, stair-step)
///     chip        = chipAtLow + s * (chipAtHigh - chipAtLow), engine-wide: the largest over
///                   the adapted collaterals
///   `sync` writes them through the modules' own bounded setters, so every module check still
///   applies. The liquidation threshold is the one parameter that can turn a healthy account
///   liquidatable: it is never lowered in a jump. A lower target starts the vault's linear ramp
///   over `max(vault.minRampDuration, drop / maxThresholdSpeed)` seconds, and no new ramp starts
///   while one runs. Raising it (and every other change) applies at once. Changes smaller than
///   `tolerance` (relative; for `cut`, relative in `1 - cut`) are not written.
interface IAdaptiveRisk {
    /// @notice Governance bounds for one collateral. Ratios and vols are wads; `cut` is a ray.
    struct Band {
        uint64 volLow; // [wad] annualised vol at and below which the "AtLow" values apply
        uint64 volHigh; // [wad] annualised vol at and above which the "AtHigh" values apply
        uint64 volInit; // [wad] the estimate before the first sample
        uint64 ltvAtLow; // [wad]
        uint64 ltvAtHigh; // [wad] <= ltvAtLow
        uint64 ltAtLow; // [wad]
        uint64 ltAtHigh; // [wad] <= ltAtLow
        uint64 bufferAtLow; // [wad] auction start buffer, >= 1
        uint64 bufferAtHigh; // [wad] >= bufferAtLow
        uint32 durationAtLow; // [seconds] linear curve duration
        uint32 durationAtHigh; // [seconds] <= durationAtLow: faster in volatile markets
        uint96 cutAtLow; // [ray] exponential / stair-step multiplier
        uint96 cutAtHigh; // [ray] <= cutAtLow: faster in volatile markets
        uint64 chipAtLow; // [wad] keeper incentive share of the tab
        uint64 chipAtHigh; // [wad] >= chipAtLow
    }

    /// @notice Estimator settings shared by every collateral.
    struct EstimatorConfig {
        uint32 halfLife; // [seconds] EWMA half-life, [1 hour, 30 days]
        uint32 minInterval; // [seconds] least time between samples, [12 s, 1 day]
        uint32 maxInterval; // [seconds] weight cap, [minInterval, 1 day]
        uint64 varCap; // [wad] cap on one sample's annualised variance, (0, 25]
        uint64 maxThresholdSpeed; // [wad per second] fastest threshold descent, > 0
        uint64 tolerance; // [wad] smallest change written, relative to the larger value, <= 5%
    }

    /// @notice The estimator's stored state for a collateral.
    struct VolState {
        uint128 lastPrice; // [wad price] last sampled accepted price
        uint40 lastTime; // [timestamp] when it was sampled (0: never)
        uint88 variance; // [wad] annualised variance estimate
    }

    /// @notice What the parameters are now and why.
    struct Effective {
        uint256 volatility; // [wad] annualised
        uint256 position; // [wad] s in [0, 1]
        uint256 maxLtv; // [wad]
        uint256 threshold; // [wad] target (the vault ramps down towards it)
        uint256 buffer; // [wad]
        uint256 duration; // [seconds]
        uint256 cut; // [ray]
        uint256 chip; // [wad]
    }

    error UnknownCollateral(uint256 id);
    error NotAdapted(uint256 id);
    error InvalidBand(string field);
    error InvalidParameter(string field, uint256 value, uint256 min, uint256 max);

    event BandSet(uint256 indexed id, Band band);
    event BandRemoved(uint256 indexed id);
    event EstimatorConfigSet(EstimatorConfig config);
    /// @notice A sample: the accepted price, its log return [signed wad] and the new estimate.
    event VolatilitySampled(uint256 indexed id, uint256 price, int256 logReturn, uint256 variance, uint256 volatility);
    /// @notice `observe` found no sample to take (1: too soon, 2: price not accepted).
    event SampleSkipped(uint256 indexed id, uint8 reason);
    /// @notice `sync` wrote parameters; `e` says which values and the volatility behind them.
    event ParametersAdapted(uint256 indexed id, Effective e);
    /// @notice A module refused a write (its own bound); nothing else was changed by that write.
    event AdaptationRefused(uint256 indexed id, string what, bytes reason);

    /// @notice Sample the collateral's accepted price (anyone; keepers call it every few blocks).
    function observe(uint256 id) external;

    /// @notice Write the effective parameters to the vault, auction and engine (anyone).
    function sync(uint256 id) external;

    /// @notice `observe` then `sync`.
    function update(uint256 id) external;

    function effective(uint256 id) external view returns (Effective memory);

    function volatility(uint256 id) external view returns (uint256);

    function volState(uint256 id) external view returns (VolState memory);

    function band(uint256 id) external view returns (Band memory);

    function adapted(uint256 id) external view returns (bool);

    function adaptedIds() external view returns (uint256[] memory);

    function config() external view returns (EstimatorConfig memory);

    /// @notice The most a one-round wick (two samples) can move the variance [wad].
    function wickBound() external view returns (uint256);

    function setBand(uint256 id, Band calldata b) external;

    function removeBand(uint256 id) external;

    function setEstimatorConfig(EstimatorConfig calldata c) external;
}
