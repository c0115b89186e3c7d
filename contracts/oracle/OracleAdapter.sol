// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";
import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {IPriceOracle} from "../../interfaces/IPriceOracle.sol";
import {Governed} from "../governance/Governed.sol";

/// @title Unwind oracle adapter
/// @notice Implements `IOracleAdapter`; the interface is the specification. The notes below record
///         the choices this implementation makes where the interface leaves room.
/// @dev Choices:
///   1. Bounds. `minAnswer`/`maxAnswer` are in the PRIMARY's units. They apply to both feeds as
///      prices: a secondary answer is compared with `minAnswer * 10**(18 - primaryDecimals)` in
///      wad, so "at or beyond the bound" means the same price whichever feed reports it.
///   2. Price cap. An answer whose wad price does not fit in uint128 is INVALID (never truncated).
///   3. Jump: `|p - last| * 10_000 <= maxJumpBps * last` (relative to the last accepted price).
///      Deviation: `(hi - lo) * 10_000 <= maxDeviationBps * lo` (relative to the lower of the two
///      answers, Liquity v1's rule). Both bounds are inclusive: exactly at the limit is accepted.
///   4. State machine, evaluated on every read:
///      - both feeds valid and disagreeing -> FROZEN (checked first);
///      - primary valid and (within the jump bound (choice 16), or confirmed by a valid
///        secondary) -> LIVE.
///        A secondary that is configured but INVALID does not block LIVE: the secondary is a
///        fallback and a cross-check, not a second point of failure. A valid secondary always has
///        to agree (first rule);
///      - else secondary valid and within the jump bound -> SECONDARY (its answer is accepted);
///      - else FROZEN, with the last accepted price kept.
///   5. Recovery grace starts on every move to LIVE from SECONDARY or FROZEN (not on the first
///      activation: that is not a return). The guard lasts while `now < since + recoveryGrace`,
///      using the current `recoveryGrace`, so a governance change applies to a grace in progress.
///      It also starts when nobody stored the outage (found in review: a keeper only peeks, and
///      reads inside reverting liquidations store nothing). The adapter keeps the `updatedAt`
///      and the low 24 bits of the `roundId` of the last primary round it accepted (`Meta.round`,
///      written with every newly accepted round). A primary round accepted with the
///      stored status LIVE that is `k` rounds after that one (by `roundId`, modulo 2**24) and
///      more than `k * primaryHeartbeat` seconds after it in `updatedAt` proves an outage: one
///      of the `k` intervals was longer than the heartbeat, so a read then would have found no
///      fresh round (the token was de facto not LIVE). The grace then starts, with `since` =
///      that round's `updatedAt`, not the time of the read: `peek` shows it before anyone
///      stores it, with the end an update would store, and a first read long after the return
///      adds no grace the accounts already had. The round read is never older than the return,
///      so the grace is at least as long as a watched one for a push feed (whose `updatedAt` is
///      its publication). With `k == 1` (no round missed: the token is read, or the outage is
///      followed by one round) this is exact. With missed rounds it never starts a grace a
///      healthy feed did not earn (every interval within the heartbeat keeps the sum within
///      `k` heartbeats), so liquidations are never held up by a quiet token or a sequencer
///      grace; but an outage followed by several rounds before any update stores one is seen
///      only while its length keeps the sum above `k` heartbeats (`since` is then the latest
///      round), and a feed whose ids do not count rounds is read by what they say (an id that
///      does not move proves nothing). The rounds' history (`getRoundData`) is not read: the
///      adapter reads only `latestRoundData`. Only staleness is seen this way; an unwatched
///      interval of clamped, jumping or disagreeing rounds is not. On `setFeed`, a stored LIVE
///      token counts as not LIVE when the same primary's round proves an outage as above, or a
///      new primary's round is more than the old `primaryHeartbeat` after the stored one (its ids
///      say nothing of the old feed's rounds) (choice 8). Cost: the state word is rewritten on
///      the first update after each new primary round.
///   6. Delayed price (OSM). A hop happens on a read when `now >= lastHop + delay`: `delayed`
///      takes `queued`, `queued` takes the price accepted by this same read, `lastHop = now` (not
///      aligned to a grid, so every queued price waits at least `delay` seconds before it becomes
///      `delayed`, which is the guardian's reaction window). After a long gap there is still only
///      one hop (Maker's OSM). No hop happens while the token is FROZEN (nothing fresh to queue)
///      or while the guardian has stopped the delayed feed. With `delay == 0` the delayed and
///      queued prices mirror `current`.
///   7. Guardian stop. Stopping only sets the flag (it does not poke first, so a suspicious price
///      in the queue cannot hop into `delayed` on the way). Restarting brings the token up to
///      date and then re-seeds the delayed feed at the current accepted price
///      (`delayed == queued == current`, `lastHop = now`), like an activation: the queue that was
///      stopped is discarded (Maker's `void`).
///   8. Re-configuring a priced token keeps its delayed-price state (OSM continuity: the new
///      feed's price goes through the queue like any other) and accepts the new primary's answer
///      as `current`, status LIVE; if the token was not LIVE, the recovery grace starts.
///      At every activation a configured secondary must be valid and agree with the primary.
///   9. Guard priority when several apply: NoPrice > Frozen > DelayedStopped > SequencerDown >
///      SequencerGrace > RecoveryGrace. `borrowPrice` is not affected by the recovery grace (the
///      interface lists only status, the delayed feed and the sequencer for it).
///  10. Sequencer: an uptime feed that reverts, returns malformed data, has `startedAt == 0` or
///      `startedAt` in the future reads as DOWN. The grace lasts while `now < startedAt + grace`.
///  11. Feed reads: a low-level `staticcall` capped at `FEED_GAS`, copying at most 5 words; any
///      outcome but success with exactly 5 words, `roundId` and `answeredInRound` fitting uint80,
///      is INVALID. A call made with too little gas to give the feed its full cap reverts
///      (`InsufficientGasForFeed`), so nobody can starve a healthy feed into looking broken.
///      Callers therefore need about `FEED_GAS * 64 / 63 + 5_000` gas left at each feed read
///      (the reads are sequential: the gas a read does not use is returned).
///  12. `status(token)` returns the STORED status (as of the last update, `Unset` for an unknown
///      token); `peek(token).status` is the status an update would store now.
///  13. Events: `PriceAccepted` when the accepted price changes value, `StatusChanged` when the
///      status changes, `DelayedPriceUpdated` when `delayed` or `queued` changes.
///  14. Feed-reported bounds (scenario 5, Venus/LUNA 2022). `setFeed` also reads the primary's own
///      clamp, `minAnswer()`/`maxAnswer()` (from the feed, or from `aggregator()` behind a
///      Chainlink proxy), and stores the TIGHTER of those and the configured bounds, so a
///      configuration that forgot the aggregator's floor (`minAnswer = 0`) still treats an answer
///      pinned at that floor as clamped. A bound the feed does not expose (or reports as 0 or
///      above uint128) is ignored. Bounds are read once, at configuration: a phase change of the
///      proxy to an aggregator with other bounds needs a new `setFeed`. `feedConfig` returns the
///      stored (effective) bounds. The secondary's own clamp is read the same way and tightens
///      the same stored bounds (converted to the primary's units), so a secondary pinned at its
///      floor or ceiling is never accepted as a fallback price (found in review).
///  15. Activation across the jump bound (scenario 6). As in `_decide`, a configured secondary
///      that is valid and agrees with the primary confirms a move beyond `maxJumpBps` from the
///      last accepted price; without a secondary such a primary is refused ("jump", Moonwell
///      2026). This is how governance brings a token frozen by a genuine crash of more than
///      `maxJumpBps` back: configure a second, independent feed that confirms the new level.
///  16. The delayed price is a jump anchor too (scenarios 13, 17). A price is "within the jump
///      bound" when it is within `maxJumpBps` of the last accepted price OR of the stored delayed
///      price. Without this, an accepted drop larger than `maxJumpBps / (1 + maxJumpBps)` (33% for
///      the 50% default) could never be undone: a one-round wick to -40% is accepted (inside
///      50%), but the return to the old price is +67% from it, so the token froze at the wick
///      price for good (no secondary) and the guardian's restart even re-seeded the OSM at it.
///      The delayed price is a price this adapter accepted at least one hop ago, so returning to
///      it is not a jump from the confirmed state; it moves the accepted price no faster than
///      `maxJumpBps` per read from a price the adapter has accepted.
contract OracleAdapter is IOracleAdapter, Governed {
    using FixedPointMathLib for uint256;

    // --- Constants ---

    uint256 internal constant BPS = 10_000; // [bps] 100%
    uint256 public constant MAX_DEVIATION_BPS = 500; // [bps]
    uint256 public constant MAX_JUMP_BPS = 5_000; // [bps]
    uint32 public constant MAX_GRACE = 1 days; // [seconds]
    uint32 public constant DEFAULT_RECOVERY_GRACE = 30 minutes; // [seconds]
    uint8 internal constant MAX_DECIMALS = 18;
    /// @notice Gas given to each feed call.
    uint256 public constant FEED_GAS = 100_000; // [gas]
    /// @dev Gas needed before a feed call so that the callee surely gets `FEED_GAS` after the
    ///      63/64 rule (EIP-150), plus the call's own cost (cold account access, memory).
    uint256 internal constant MIN_GAS_FOR_FEED = (FEED_GAS * 64) / 63 + 5_000; // [gas]

    // Optional getters of a Chainlink aggregator (choice 14).
    bytes4 internal constant BOUND_MIN_SELECTOR = bytes4(keccak256("minAnswer()"));
    bytes4 internal constant BOUND_MAX_SELECTOR = bytes4(keccak256("maxAnswer()"));
    bytes4 internal constant AGGREGATOR_SELECTOR = bytes4(keccak256("aggregator()"));

    // Outcome of reading one feed (the reason strings of `FeedRejectedAtActivation`).
    uint8 internal constant ROUND_OK = 0;
    uint8 internal constant ROUND_CALL_FAILED = 1; // reverted, no code, out of gas, not 5 words
    uint8 internal constant ROUND_MALFORMED = 2; // roundId, startedAt or updatedAt 0; updatedAt in the future
    uint8 internal constant ROUND_NOT_POSITIVE = 3; // answer <= 0
    uint8 internal constant ROUND_STALE = 4; // older than the heartbeat
    uint8 internal constant ROUND_CLAMPED = 5; // at or beyond minAnswer / maxAnswer
    uint8 internal constant ROUND_TOO_LARGE = 6; // wad price does not fit in uint128

    // Sequencer states.
    uint8 internal constant SEQ_UP = 0;
    uint8 internal constant SEQ_DOWN = 1;
    uint8 internal constant SEQ_GRACE = 2;

    // --- Types ---

    /// @dev Feed configuration as the adapter works with it (in memory). Stored as `StoredFeeds`;
    ///      `primaryScale` is computed from `Meta.primaryDecimals` (`_loadFeeds`).
    struct Feeds {
        // slot 0
        IAggregatorV3 primary;
        uint32 primaryHeartbeat; // [seconds]
        uint16 maxDeviationBps; // [bps]
        uint16 maxJumpBps; // [bps]
        uint32 delay; // [seconds]
        // slot 1
        IAggregatorV3 secondary;
        uint32 secondaryHeartbeat; // [seconds]
        uint64 primaryScale; // [wad / primary unit] 10**(18 - primaryDecimals)
        // slot 2
        uint128 minAnswer; // [primary units]
        uint128 maxAnswer; // [primary units] 0: no upper bound
    }

    /// @dev Feed configuration in storage, three slots. Slot 1 is read only when the token has a
    ///      secondary (`Meta.secondaryScale != 0`): everything a single-feed read needs is in
    ///      slots 0 and 2 and the meta slot.
    struct StoredFeeds {
        // slot 0
        IAggregatorV3 primary;
        uint32 primaryHeartbeat; // [seconds]
        uint16 maxDeviationBps; // [bps]
        uint16 maxJumpBps; // [bps]
        uint32 delay; // [seconds]
        // slot 1
        IAggregatorV3 secondary;
        uint32 secondaryHeartbeat; // [seconds]
        // slot 2
        uint128 minAnswer; // [primary units]
        uint128 maxAnswer; // [primary units] 0: no upper bound
    }

    /// @dev Per-token state and the remaining configuration bytes, packed in one slot (248 bits).
    ///      The primary's scale is not stored (room for `round`): `10**(18 - primaryDecimals)`.
    struct Meta {
        uint64 secondaryScale; // [wad / secondary unit] 10**(18 - secondaryDecimals); 0: no secondary
        uint8 tokenDecimals;
        uint8 primaryDecimals;
        uint8 secondaryDecimals;
        Status status;
        bool stopped; // guardian stopped the delayed feed
        uint40 lastHop; // [unix seconds] last delayed-price hop
        uint40 recoverySince; // [unix seconds] start of the last recovery grace (choice 5)
        uint64 round; // the last accepted primary round (choice 5), packed as `_readPrice` returns it
    }

    /// @dev Prices read on every update, one slot.
    struct Prices {
        uint128 current; // [wad price] last accepted price
        uint128 delayed; // [wad price] OSM output
    }

    struct TokenData {
        StoredFeeds feeds; // slots 0-2
        Meta meta; // slot 3
        Prices prices; // slot 4
        uint128 queued; // [wad price] slot 5, read only when a hop is due
    }

    /// @dev The outcome of evaluating a token: the new state and what changed.
    struct Next {
        Meta meta;
        Prices prices;
        uint128 queued;
        Status oldStatus;
        uint128 oldCurrent;
        bool metaChanged;
        bool pricesChanged;
        bool delayedChanged; // delayed or queued changed
    }

    /// @dev Global settings, one slot.
    struct Globals {
        IAggregatorV3 sequencerFeed;
        uint32 sequencerGrace; // [seconds]
        uint32 recoveryGrace; // [seconds]
    }

    // --- Storage ---

    /// @inheritdoc IOracleAdapter
    address public immutable debtToken;

    mapping(address token => TokenData) internal _tokens;
    Globals internal _globals;

    // --- Constructor ---

    /// @param admin receives every role (see `Governed`).
    /// @param debtToken_ the debt token (18 decimals; checked when it already has code).
    constructor(address admin, address debtToken_) Governed(admin) {
        if (admin == address(0) || debtToken_ == address(0)) revert ZeroAddress();
        if (debtToken_.code.length != 0) {
            (bool ok, uint256 d) = _decimalsOf(debtToken_);
            if (!ok || d != 18) revert InvalidFeedConfig("debtToken");
        }
        debtToken = debtToken_;
        _globals.recoveryGrace = DEFAULT_RECOVERY_GRACE;
        emit RecoveryGraceSet(DEFAULT_RECOVERY_GRACE);
    }

    // --- State-advancing entry points ---

    /// @inheritdoc IOracleAdapter
    function poke(address token) external {
        _update(token);
    }

    /// @inheritdoc IOracleAdapter
    function update(address token) external returns (Quote memory) {
        return _update(token);
    }

    // --- Views ---

    /// @inheritdoc IOracleAdapter
    function peek(address token) external view returns (Quote memory q) {
        (, q) = _evaluate(token);
    }

    /// @inheritdoc IPriceOracle
    function name() external pure returns (string memory) {
        return "Unwind OracleAdapter";
    }

    /// @inheritdoc IPriceOracle
    /// @dev Uses `current` as `peek` computes it now. Reverts `PriceUnavailable` when the token is
    ///      FROZEN or was never priced; SECONDARY prices are served. Guards other than those
    ///      (sequencer, delayed stop, recovery grace) do not affect `getQuote`.
    function getQuote(uint256 inAmount, address base, address quote) external view returns (uint256) {
        return _getQuote(inAmount, base, quote);
    }

    /// @inheritdoc IPriceOracle
    function getQuotes(uint256 inAmount, address base, address quote) external view returns (uint256, uint256) {
        uint256 out = _getQuote(inAmount, base, quote);
        return (out, out);
    }

    /// @inheritdoc IOracleAdapter
    /// @dev The stored status as of the token's last update; `Unset` for an unknown token.
    function status(address token) external view returns (Status) {
        return _tokens[token].meta.status;
    }

    /// @inheritdoc IOracleAdapter
    /// @dev As stored: without a secondary, `secondaryHeartbeat` reads 0.
    function feedConfig(address token) external view returns (FeedConfig memory) {
        TokenData storage t = _tokens[token];
        return _toConfig(_loadFeeds(t, t.meta));
    }

    /// @inheritdoc IOracleAdapter
    function recoveryGrace() external view returns (uint32) {
        return _globals.recoveryGrace;
    }

    /// @inheritdoc IOracleAdapter
    function sequencer() external view returns (IAggregatorV3 feed, uint32 grace) {
        return (_globals.sequencerFeed, _globals.sequencerGrace);
    }

    /// @inheritdoc IOracleAdapter
    function delayedState(address token)
        external
        view
        returns (uint256 delayed, uint256 queued, uint256 lastHop, bool stopped)
    {
        TokenData storage t = _tokens[token];
        return (t.prices.delayed, t.queued, t.meta.lastHop, t.meta.stopped);
    }

    /// @inheritdoc IOracleAdapter
    function recoveryStartedAt(address token) external view returns (uint256) {
        return _tokens[token].meta.recoverySince;
    }

    /// @inheritdoc IOracleAdapter
    function tokenDecimals(address token) external view returns (uint8) {
        return _tokens[token].meta.tokenDecimals;
    }

    // --- Governance ---

    /// @inheritdoc IOracleAdapter
    /// @dev Validation, in order: `ZeroAddress` (token), `InvalidFeedConfig` with the field name
    ///      ("token" for the debt token, "primary", "primaryHeartbeat", "secondary" (same as the
    ///      primary), "secondaryHeartbeat", "maxDeviationBps", "maxJumpBps", "maxAnswer" (no answer
    ///      strictly between the bounds), "tokenDecimals", "primaryDecimals", "secondaryDecimals"),
    ///      then `FeedRejectedAtActivation(feed, reason)` with reason "call failed",
    ///      "malformed round", "non-positive answer", "stale", "clamped", "price overflow",
    ///      "jump" (primary vs the last accepted price) or "deviation" (secondary vs primary).
    function setFeed(address token, FeedConfig calldata config) external onlyRole(GOVERNOR_ROLE) {
        (Feeds memory f, Meta memory shape) = _validatedConfig(token, config);
        (uint256 price, uint256 round) = _activationPrice(token, f, shape.secondaryScale);
        _activate(token, f, shape, price, round);
        emit FeedConfigured(token, address(f.primary), address(f.secondary), _toConfig(f));
    }

    /// @inheritdoc IOracleAdapter
    /// @dev `feed` may be zero (no sequencer check). A non-zero feed must answer `latestRoundData`
    ///      with a well-formed round now (`InvalidFeedConfig("sequencerFeed")`); its status may be
    ///      down. `grace` is bounded by `MAX_GRACE` (`InvalidGrace`).
    function setSequencerFeed(IAggregatorV3 feed, uint32 grace) external onlyRole(GOVERNOR_ROLE) {
        if (grace > MAX_GRACE) revert InvalidGrace(grace);
        if (address(feed) != address(0)) {
            (bool ok,,,,) = _latestRound(feed);
            if (!ok) revert InvalidFeedConfig("sequencerFeed");
        }
        _globals.sequencerFeed = feed;
        _globals.sequencerGrace = grace;
        emit SequencerFeedSet(address(feed), grace);
    }

    /// @inheritdoc IOracleAdapter
    /// @dev Bounded by `MAX_GRACE` (`InvalidGrace`). Applies to a grace already running.
    function setRecoveryGrace(uint32 grace) external onlyRole(GOVERNOR_ROLE) {
        if (grace > MAX_GRACE) revert InvalidGrace(grace);
        _globals.recoveryGrace = grace;
        emit RecoveryGraceSet(grace);
    }

    /// @inheritdoc IOracleAdapter
    /// @dev Stopping only sets the flag. Restarting updates the token, then re-seeds its delayed
    ///      feed at the current accepted price (`delayed == queued == current`, `lastHop = now`),
    ///      discarding the stopped queue. Setting the flag it already has does nothing.
    function setDelayedStopped(address token, bool stopped) external onlyRole(GUARDIAN_ROLE) {
        TokenData storage t = _tokens[token];
        if (t.meta.status == Status.Unset) revert UnknownToken(token);
        if (t.meta.stopped == stopped) return;
        if (stopped) {
            t.meta.stopped = true;
            emit DelayedFeedStopped(token, true);
            return;
        }
        _update(token); // while still stopped: no hop
        uint128 current = t.prices.current;
        t.meta.stopped = false;
        t.meta.lastHop = uint40(block.timestamp);
        t.prices.delayed = current;
        t.queued = current;
        emit DelayedFeedStopped(token, false);
        emit DelayedPriceUpdated(token, current, current);
    }

    // --- Internal: configuration ---

    /// @dev The interface's view of a stored configuration.
    function _toConfig(Feeds memory f) internal pure returns (FeedConfig memory config) {
        config = FeedConfig({
            primary: f.primary,
            primaryHeartbeat: f.primaryHeartbeat,
            secondary: f.secondary,
            secondaryHeartbeat: f.secondaryHeartbeat,
            maxDeviationBps: f.maxDeviationBps,
            maxJumpBps: f.maxJumpBps,
            delay: f.delay,
            minAnswer: f.minAnswer,
            maxAnswer: f.maxAnswer
        });
    }

    /// @dev Checks a configuration and reads the decimals; `shape` carries the decimals and scales.
    function _validatedConfig(address token, FeedConfig calldata config)
        internal
        view
        returns (Feeds memory f, Meta memory shape)
    {
        if (token == address(0)) revert ZeroAddress();
        if (token == debtToken) revert InvalidFeedConfig("token");
        if (address(config.primary) == address(0)) revert InvalidFeedConfig("primary");
        if (config.primaryHeartbeat == 0) revert InvalidFeedConfig("primaryHeartbeat");
        bool hasSecondary = address(config.secondary) != address(0);
        if (hasSecondary) {
            if (config.secondary == config.primary) revert InvalidFeedConfig("secondary");
            if (config.secondaryHeartbeat == 0) revert InvalidFeedConfig("secondaryHeartbeat");
        }
        if (config.maxDeviationBps > MAX_DEVIATION_BPS) revert InvalidFeedConfig("maxDeviationBps");
        if (config.maxJumpBps == 0 || config.maxJumpBps > MAX_JUMP_BPS) revert InvalidFeedConfig("maxJumpBps");
        if (config.maxAnswer != 0 && uint256(config.maxAnswer) <= uint256(config.minAnswer) + 1) {
            revert InvalidFeedConfig("maxAnswer");
        }

        (bool ok, uint256 d) = _decimalsOf(token);
        if (!ok) revert InvalidFeedConfig("tokenDecimals");
        shape.tokenDecimals = uint8(d);
        (ok, d) = _decimalsOf(address(config.primary));
        if (!ok) revert InvalidFeedConfig("primaryDecimals");
        shape.primaryDecimals = uint8(d);
        f.primaryScale = uint64(10 ** (MAX_DECIMALS - d));
        if (hasSecondary) {
            (ok, d) = _decimalsOf(address(config.secondary));
            if (!ok) revert InvalidFeedConfig("secondaryDecimals");
            shape.secondaryDecimals = uint8(d);
            shape.secondaryScale = uint64(10 ** (MAX_DECIMALS - d));
            f.secondary = config.secondary;
            f.secondaryHeartbeat = config.secondaryHeartbeat;
        }
        f.primary = config.primary;
        f.primaryHeartbeat = config.primaryHeartbeat;
        f.maxDeviationBps = config.maxDeviationBps;
        f.maxJumpBps = config.maxJumpBps;
        f.delay = config.delay;
        // Choice 14: the tighter of the configured bounds and the primary's own clamp.
        (uint256 feedMin, uint256 feedMax) = _feedBounds(address(config.primary));
        f.minAnswer = feedMin > config.minAnswer ? uint128(feedMin) : config.minAnswer;
        f.maxAnswer = config.maxAnswer;
        if (feedMax != 0 && (config.maxAnswer == 0 || feedMax < config.maxAnswer)) f.maxAnswer = uint128(feedMax);
        if (hasSecondary) {
            // The secondary's own clamp too, as a price in the primary's units (the floor rounded
            // up, the ceiling down: an answer pinned at either is then "at the bound"). Bounds
            // apply to both feeds as prices (choice 1), so the tighter of all of them is stored.
            (feedMin, feedMax) = _feedBounds(address(config.secondary));
            uint256 ps = f.primaryScale;
            uint256 ss = shape.secondaryScale;
            if (feedMin != 0) {
                uint256 lo = (feedMin * ss + ps - 1) / ps;
                if (lo > type(uint128).max) revert InvalidFeedConfig("secondaryBounds");
                if (lo > f.minAnswer) f.minAnswer = uint128(lo);
            }
            if (feedMax != 0) {
                uint256 hi = feedMax * ss / ps;
                if (hi != 0 && hi <= type(uint128).max && (f.maxAnswer == 0 || hi < f.maxAnswer)) {
                    f.maxAnswer = uint128(hi);
                }
            }
        }
    }

    /// @dev The answer bounds the primary itself clamps to (choice 14): `minAnswer()`/`maxAnswer()`
    ///      read from the feed, or from `aggregator()` behind a proxy. 0 for a bound the feed does
    ///      not expose, does not report as a positive number, or reports above uint128.
    function _feedBounds(address feed) internal view returns (uint256 lo, uint256 hi) {
        lo = _readBound(feed, BOUND_MIN_SELECTOR);
        hi = _readBound(feed, BOUND_MAX_SELECTOR);
        if (lo == 0 && hi == 0) {
            (bool success, bytes memory data) = feed.staticcall{gas: FEED_GAS}(abi.encodeWithSelector(AGGREGATOR_SELECTOR));
            if (success && data.length == 32) {
                uint256 word = abi.decode(data, (uint256));
                if (word >> 160 == 0 && word != 0 && word != uint256(uint160(feed))) {
                    address inner = address(uint160(word));
                    lo = _readBound(inner, BOUND_MIN_SELECTOR);
                    hi = _readBound(inner, BOUND_MAX_SELECTOR);
                }
            }
        }
    }

    function _readBound(address target, bytes4 selector) internal view returns (uint256) {
        if (target.code.length == 0) return 0;
        (bool success, bytes memory data) = target.staticcall{gas: FEED_GAS}(abi.encodeWithSelector(selector));
        if (!success || data.length != 32) return 0;
        int256 bound = abi.decode(data, (int256));
        if (bound <= 0 || uint256(bound) > type(uint128).max) return 0;
        return uint256(bound);
    }

    /// @dev The price a configuration activates with: the primary's valid answer, within the jump
    ///      bound of the token's accepted price if it has one, agreed by a configured secondary;
    ///      and the primary's round as `_readPrice` packs it.
    function _activationPrice(address token, Feeds memory f, uint256 secondaryScale)
        internal
        view
        returns (uint256 price, uint256 round)
    {
        (uint256 minWad, uint256 maxWad) = _boundsWad(f);
        uint8 outcome;
        (price, outcome, round) = _readPrice(f.primary, f.primaryHeartbeat, f.primaryScale, minWad, maxWad);
        if (outcome != ROUND_OK) revert FeedRejectedAtActivation(address(f.primary), _reason(outcome));
        bool confirmed;
        if (address(f.secondary) != address(0)) {
            uint256 sPrice;
            (sPrice, outcome,) = _readPrice(f.secondary, f.secondaryHeartbeat, secondaryScale, minWad, maxWad);
            if (outcome != ROUND_OK) revert FeedRejectedAtActivation(address(f.secondary), _reason(outcome));
            if (!_agree(price, sPrice, f.maxDeviationBps)) {
                revert FeedRejectedAtActivation(address(f.secondary), "deviation");
            }
            confirmed = true;
        }
        // Choice 15: like `_decide`, a move beyond the jump bound needs the secondary's confirmation.
        Prices memory stored = _tokens[token].prices;
        if (stored.current != 0 && !confirmed && !_near(price, stored.current, stored.delayed, f.maxJumpBps)) {
            revert FeedRejectedAtActivation(address(f.primary), "jump");
        }
    }

    /// @dev Stores a validated configuration and its activation price (choice 8). `round` is the
    ///      primary round that price comes from, packed as `_readPrice` returns it.
    function _activate(address token, Feeds memory f, Meta memory shape, uint256 price, uint256 round) internal {
        TokenData storage t = _tokens[token];
        Meta memory m = t.meta;
        // Choice 5: a stored LIVE that was not LIVE in fact. The same primary's rounds are counted
        // as in `_evaluate`; a new primary's ids say nothing about the old one's rounds, so then
        // its round must simply come within the old heartbeat of the last accepted one.
        bool wasLive = m.status == Status.Live
            && !(
                t.feeds.primary == f.primary
                    ? _gap(m.round, round, t.feeds.primaryHeartbeat)
                    : uint40(round) > uint256(uint40(m.round)) + t.feeds.primaryHeartbeat
            );
        Prices memory p = t.prices;
        Status oldStatus = m.status;
        uint128 oldCurrent = p.current;
        uint128 oldDelayed = p.delayed;
        uint128 oldQueued = t.queued;
        uint128 queued = oldQueued;

        m.secondaryScale = shape.secondaryScale;
        m.tokenDecimals = shape.tokenDecimals;
        m.primaryDecimals = shape.primaryDecimals;
        m.secondaryDecimals = shape.secondaryDecimals;
        m.status = Status.Live;
        m.round = uint64(round);
        p.current = uint128(price);
        if (oldStatus == Status.Unset) {
            // First activation: the delayed feed starts at the accepted price.
            p.delayed = uint128(price);
            queued = uint128(price);
            m.lastHop = uint40(block.timestamp);
        } else {
            if (!wasLive) m.recoverySince = uint40(block.timestamp);
            if (f.delay == 0) {
                p.delayed = uint128(price);
                queued = uint128(price);
                if (price != oldCurrent) m.lastHop = uint40(block.timestamp);
            }
        }

        t.feeds = StoredFeeds({
            primary: f.primary,
            primaryHeartbeat: f.primaryHeartbeat,
            maxDeviationBps: f.maxDeviationBps,
            maxJumpBps: f.maxJumpBps,
            delay: f.delay,
            secondary: f.secondary,
            secondaryHeartbeat: f.secondaryHeartbeat,
            minAnswer: f.minAnswer,
            maxAnswer: f.maxAnswer
        });
        t.meta = m;
        t.prices = p;
        if (queued != oldQueued) t.queued = queued;

        if (oldStatus != Status.Live) emit StatusChanged(token, oldStatus, Status.Live);
        if (price != oldCurrent) emit PriceAccepted(token, price, Status.Live);
        if (p.delayed != oldDelayed || queued != oldQueued) emit DelayedPriceUpdated(token, p.delayed, queued);
    }

    // --- Internal: update ---

    /// @dev Evaluates the token and stores only the slots that changed.
    function _update(address token) internal returns (Quote memory q) {
        Next memory n;
        (n, q) = _evaluate(token);
        if (!n.metaChanged && !n.pricesChanged && !n.delayedChanged) return q; // common path: no write
        TokenData storage t = _tokens[token];
        if (n.metaChanged) {
            // Only these four fields move in an update (the rest is configuration).
            Meta storage sm = t.meta;
            (sm.status, sm.lastHop, sm.recoverySince, sm.round) =
                (n.meta.status, n.meta.lastHop, n.meta.recoverySince, n.meta.round);
        }
        if (n.pricesChanged) t.prices = n.prices;
        if (n.delayedChanged) t.queued = n.queued;
        Status st = n.meta.status;
        if (st != n.oldStatus) emit StatusChanged(token, n.oldStatus, st);
        if (n.prices.current != n.oldCurrent) emit PriceAccepted(token, n.prices.current, st);
        if (n.delayedChanged) emit DelayedPriceUpdated(token, n.prices.delayed, n.queued);
    }

    /// @dev The single implementation of the state machine: what an update would store and return
    ///      now. `peek` returns its quote; `_update` stores its state.
    function _evaluate(address token) internal view returns (Next memory n, Quote memory q) {
        TokenData storage t = _tokens[token];
        Meta memory m = t.meta;
        if (m.status == Status.Unset) revert UnknownToken(token);
        Feeds memory f = _loadFeeds(t, m);
        Prices memory p = t.prices;
        n.oldStatus = m.status;
        n.oldCurrent = p.current;
        uint40 oldLastHop = m.lastHop;
        uint40 oldRecovery = m.recoverySince;
        uint128 oldDelayed = p.delayed;

        // 1-2. Read the feeds and run the state machine.
        (Status st, uint256 accepted, uint256 round) = _observe(f, m.secondaryScale, p.current, p.delayed);
        // Choice 5: a return to LIVE starts the grace now; a new primary round that proves an
        // outage since the last accepted one (nobody stored it) starts it at its updatedAt.
        bool newRound = st == Status.Live && round != m.round;
        if (newRound) {
            if (n.oldStatus == Status.Live && _gap(m.round, round, f.primaryHeartbeat)) {
                m.recoverySince = uint40(round);
            }
            m.round = uint64(round);
        }
        if (st == Status.Live && n.oldStatus != Status.Live) m.recoverySince = uint40(block.timestamp);
        m.status = st;
        p.current = uint128(accepted);

        // 3. Advance the delayed price.
        if (f.delay == 0) {
            p.delayed = p.current;
            if (p.current != n.oldCurrent) {
                n.queued = p.current;
                m.lastHop = uint40(block.timestamp);
                n.delayedChanged = true;
            }
        } else if (!m.stopped && st != Status.Frozen && block.timestamp >= uint256(m.lastHop) + f.delay) {
            uint128 oldQueued = t.queued;
            p.delayed = oldQueued;
            n.queued = p.current;
            m.lastHop = uint40(block.timestamp);
            n.delayedChanged = p.delayed != oldDelayed || n.queued != oldQueued;
        }

        n.metaChanged = newRound || st != n.oldStatus || m.lastHop != oldLastHop || m.recoverySince != oldRecovery;
        n.pricesChanged = p.current != n.oldCurrent || p.delayed != oldDelayed;
        n.meta = m;
        n.prices = p;

        // 4. Build the quote.
        q = _quote(m, p);
    }

    /// @dev Reads the token's feeds and decides its status and accepted price; `round` is the
    ///      primary's round as `_readPrice` packs it (meaningful when the status is LIVE).
    function _observe(Feeds memory f, uint256 secondaryScale, uint256 last, uint256 anchor)
        internal
        view
        returns (Status st, uint256 accepted, uint256 round)
    {
        // A price of 0 stands for an INVALID read: a valid price is > minWad >= 0.
        uint256 pPrice;
        uint256 sPrice;
        {
            (uint256 minWad, uint256 maxWad) = _boundsWad(f);
            (pPrice,, round) = _readPrice(f.primary, f.primaryHeartbeat, f.primaryScale, minWad, maxWad);
            if (address(f.secondary) != address(0)) {
                (sPrice,,) = _readPrice(f.secondary, f.secondaryHeartbeat, secondaryScale, minWad, maxWad);
            }
        }
        (st, accepted) = _decide(pPrice, sPrice, last, anchor, f.maxJumpBps, f.maxDeviationBps);
    }

    /// @dev Status and accepted price from this read's feeds (choice 4 in the contract NatSpec).
    ///      `pPrice`/`sPrice` are 0 when that feed is INVALID (or, for the secondary, not set).
    ///      `anchor` is the stored delayed price (choice 16): a price within the jump bound of it is
    ///      not a jump either.
    function _decide(
        uint256 pPrice,
        uint256 sPrice,
        uint256 last,
        uint256 anchor,
        uint256 maxJumpBps,
        uint256 maxDeviationBps
    ) internal pure returns (Status, uint256) {
        bool pValid = pPrice != 0;
        bool sValid = sPrice != 0;
        if (pValid && sValid && !_agree(pPrice, sPrice, maxDeviationBps)) return (Status.Frozen, last);
        if (pValid && (sValid || last == 0 || _near(pPrice, last, anchor, maxJumpBps))) return (Status.Live, pPrice);
        if (sValid && (last == 0 || _near(sPrice, last, anchor, maxJumpBps))) return (Status.Secondary, sPrice);
        return (Status.Frozen, last);
    }

    /// @dev Within the jump bound of the last accepted price or of the delayed price (choice 16).
    function _near(uint256 price, uint256 last, uint256 anchor, uint256 bps) internal pure returns (bool) {
        return _within(price, last, bps) || (anchor != 0 && anchor != last && _within(price, anchor, bps));
    }

    /// @dev The consumer's view of a token's (new) state: prices and the guard in force.
    function _quote(Meta memory m, Prices memory p) internal view returns (Quote memory q) {
        uint256 cur = p.current;
        uint256 del = p.delayed;
        Status st = m.status;
        (uint256 lo, uint256 hi) = cur < del ? (cur, del) : (del, cur);
        q.current = cur;
        q.auctionStartPrice = hi;
        q.status = st;

        uint8 seq = _sequencerState();
        Guard g;
        if (cur == 0) g = Guard.NoPrice;
        else if (st == Status.Frozen) g = Guard.Frozen;
        else if (m.stopped) g = Guard.DelayedStopped;
        else if (seq == SEQ_DOWN) g = Guard.SequencerDown;
        else if (seq == SEQ_GRACE) g = Guard.SequencerGrace;
        else if (st == Status.Live && block.timestamp < uint256(m.recoverySince) + _globals.recoveryGrace) {
            g = Guard.RecoveryGrace;
        }
        q.guard = g;
        if (g == Guard.None) q.liquidationPrice = hi;
        // Borrowing needs a LIVE/SECONDARY price, a running delayed feed and an up sequencer; the
        // recovery grace does not apply (choice 9).
        if (g == Guard.None || g == Guard.RecoveryGrace) q.borrowPrice = lo;
    }

    // --- Internal: quotes ---

    function _getQuote(uint256 inAmount, address base, address quote) internal view returns (uint256) {
        if (base == quote) return inAmount;
        address token;
        bool toDebt;
        if (quote == debtToken) {
            (token, toDebt) = (base, true);
        } else if (base == debtToken) {
            token = quote;
        } else {
            revert UnknownToken(_tokens[base].meta.status == Status.Unset ? base : quote);
        }
        (Next memory n, Quote memory q) = _evaluate(token);
        if (q.status == Status.Frozen || q.current == 0) revert PriceUnavailable(token, q.status);
        uint256 unit = 10 ** uint256(n.meta.tokenDecimals);
        return toDebt ? inAmount.fullMulDiv(q.current, unit) : inAmount.fullMulDiv(unit, q.current);
    }

    // --- Internal: feeds ---

    /// @dev Reads a price feed and checks the round (choice 11 and the interface's VALID rules).
    /// @return price [wad price] 0 unless the outcome is ROUND_OK
    /// @return outcome ROUND_OK or why the round is INVALID
    /// @return round the round's `updatedAt` [unix seconds] in bits 0-39 and the low 24 bits of its
    ///         `roundId` in bits 40-63; 0 unless the outcome is ROUND_OK
    function _readPrice(IAggregatorV3 feed, uint256 heartbeat, uint256 scale, uint256 minWad, uint256 maxWad)
        internal
        view
        returns (uint256 price, uint8 outcome, uint256 round)
    {
        (bool ok, uint256 roundId, int256 answer, uint256 startedAt, uint256 updatedAt) = _latestRound(feed);
        if (!ok) return (0, ROUND_CALL_FAILED, 0);
        if (roundId == 0 || startedAt == 0 || updatedAt == 0 || updatedAt > block.timestamp) {
            return (0, ROUND_MALFORMED, 0);
        }
        if (answer <= 0) return (0, ROUND_NOT_POSITIVE, 0);
        if (block.timestamp - updatedAt > heartbeat) return (0, ROUND_STALE, 0);
        if (uint256(answer) > type(uint128).max) return (0, ROUND_TOO_LARGE, 0);
        price = uint256(answer) * scale; // < 2**128 * 10**18: no overflow
        if (price <= minWad || (maxWad != 0 && price >= maxWad)) return (0, ROUND_CLAMPED, 0);
        if (price > type(uint128).max) return (0, ROUND_TOO_LARGE, 0);
        // updatedAt <= block.timestamp < 2**40
        return (price, ROUND_OK, updatedAt | (uint256(uint24(roundId)) << 40));
    }

    /// @dev `latestRoundData` through a gas-capped staticcall that copies at most five words.
    ///      `ok` is false unless the call succeeded and returned exactly five words whose uint80
    ///      fields fit in uint80. Never reverts on the feed's behaviour.
    function _latestRound(IAggregatorV3 feed)
        internal
        view
        returns (bool ok, uint256 roundId, int256 answer, uint256 startedAt, uint256 updatedAt)
    {
        if (gasleft() < MIN_GAS_FOR_FEED) revert InsufficientGasForFeed();
        bytes4 selector = IAggregatorV3.latestRoundData.selector;
        uint256 gasCap = FEED_GAS;
        assembly ("memory-safe") {
            let ptr := mload(0x40) // scratch past the free memory pointer, not kept
            mstore(ptr, selector)
            let success := staticcall(gasCap, feed, ptr, 0x04, ptr, 0xa0)
            if and(success, eq(returndatasize(), 0xa0)) {
                roundId := mload(ptr)
                answer := mload(add(ptr, 0x20))
                startedAt := mload(add(ptr, 0x40))
                updatedAt := mload(add(ptr, 0x60))
                ok := iszero(or(shr(80, roundId), shr(80, mload(add(ptr, 0x80)))))
            }
        }
    }

    /// @dev Sequencer state from the uptime feed (choice 10).
    function _sequencerState() internal view returns (uint8) {
        Globals memory g = _globals;
        if (address(g.sequencerFeed) == address(0)) return SEQ_UP;
        (bool ok,, int256 answer, uint256 startedAt,) = _latestRound(g.sequencerFeed);
        if (!ok || answer != 0 || startedAt == 0 || startedAt > block.timestamp) return SEQ_DOWN;
        if (block.timestamp < startedAt + g.sequencerGrace) return SEQ_GRACE;
        return SEQ_UP;
    }

    /// @dev `decimals()` of a token or feed, gas-capped; `ok` false if it fails, is malformed or > 18.
    function _decimalsOf(address target) internal view returns (bool ok, uint256 decimals) {
        if (target.code.length == 0) return (false, 0);
        (bool success, bytes memory data) =
            target.staticcall{gas: FEED_GAS}(abi.encodeCall(IERC20Metadata.decimals, ()));
        if (!success || data.length != 32) return (false, 0);
        decimals = abi.decode(data, (uint256));
        ok = decimals <= MAX_DECIMALS;
    }

    /// @dev A token's feed configuration; the secondary's slot only when it has one.
    function _loadFeeds(TokenData storage t, Meta memory m) internal view returns (Feeds memory f) {
        StoredFeeds storage s = t.feeds;
        (f.primary, f.primaryHeartbeat, f.maxDeviationBps, f.maxJumpBps, f.delay) =
            (s.primary, s.primaryHeartbeat, s.maxDeviationBps, s.maxJumpBps, s.delay);
        if (m.secondaryScale != 0) (f.secondary, f.secondaryHeartbeat) = (s.secondary, s.secondaryHeartbeat);
        (f.minAnswer, f.maxAnswer) = (s.minAnswer, s.maxAnswer);
        unchecked {
            f.primaryScale = uint64(10 ** (MAX_DECIMALS - uint256(m.primaryDecimals))); // decimals <= 18 (setFeed)
        }
    }

    /// @dev Choice 5: the primary round `round` proves that at some moment since the `stored` one
    ///      (both packed as `_readPrice` returns them) there was no fresh round: `k` rounds apart by
    ///      their ids and more than `k` heartbeats apart in time, so one of the `k` intervals was
    ///      longer than the heartbeat. Exact when `k == 1` (no round was missed).
    function _gap(uint256 stored, uint256 round, uint256 heartbeat) internal pure returns (bool) {
        unchecked {
            uint256 k = uint24((round >> 40) - (stored >> 40)); // mod 2**24
            return k != 0 && uint40(round) > uint40(stored) + k * heartbeat; // < 2**57: no overflow
        }
    }

    /// @dev The configured answer bounds as wad prices (maxWad 0: no upper bound).
    function _boundsWad(Feeds memory f) internal pure returns (uint256 minWad, uint256 maxWad) {
        minWad = uint256(f.minAnswer) * f.primaryScale;
        maxWad = uint256(f.maxAnswer) * f.primaryScale;
    }

    // --- Internal: math ---

    /// @dev `price` is within `bps` of `ref`: |price - ref| * 10_000 <= bps * ref.
    function _within(uint256 price, uint256 ref, uint256 bps) internal pure returns (bool) {
        uint256 diff = price > ref ? price - ref : ref - price;
        return diff * BPS <= ref * bps;
    }

    /// @dev Two answers agree: (hi - lo) * 10_000 <= bps * lo.
    function _agree(uint256 a, uint256 b, uint256 bps) internal pure returns (bool) {
        (uint256 lo, uint256 hi) = a < b ? (a, b) : (b, a);
        return (hi - lo) * BPS <= lo * bps;
    }

    function _reason(uint8 outcome) internal pure returns (string memory) {
        if (outcome == ROUND_CALL_FAILED) return "call failed";
        if (outcome == ROUND_MALFORMED) return "malformed round";
        if (outcome == ROUND_NOT_POSITIVE) return "non-positive answer";
        if (outcome == ROUND_STALE) return "stale";
        if (outcome == ROUND_CLAMPED) return "clamped";
        return "price overflow";
    }
}
