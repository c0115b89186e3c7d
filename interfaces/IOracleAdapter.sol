// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "./IAggregatorV3.sol";
import {IPriceOracle} from "./IPriceOracle.sol";

/// @title Unwind oracle adapter
/// @notice Turns Chainlink-style feeds into prices that cannot be moved cheaply. It never reads a
///         market's spot price. Every price it serves is in one scale:
///
///         PRICE SCALE: debt-token wei per ONE WHOLE collateral token, as a WAD (1e18 = one unit
///         of account per token). The value of `amount` (collateral smallest units, `d` decimals)
///         is `amount * price / 10**d` debt-token wei. 1 debt token = 1 unit of account (par).
///
/// @dev Per collateral token the adapter keeps a small state machine:
///
///   - A round is VALID when `answer > 0`, `roundId != 0`, `startedAt != 0`,
///     `0 < updatedAt <= block.timestamp`, `block.timestamp - updatedAt <= heartbeat`, and the
///     answer is strictly inside the configured `[minAnswer, maxAnswer]` bounds (an answer AT a
///     bound is a clamped feed: Venus/LUNA 2022). A feed that reverts or returns malformed data is
///     INVALID, never fresh. Each feed is read with a gas-capped try/catch.
///   - The primary's valid answer is ACCEPTED when it is within `maxJumpBps` of the last accepted
///     price (or of the delayed price: returning to the confirmed price is not a jump, so an
///     accepted one-round wick can be undone), or, when it jumps further, when the secondary (if
///     any) is valid and agrees with it within `maxDeviationBps`. When both feeds are valid but disagree by more than
///     `maxDeviationBps`, nothing is accepted: the adapter FREEZES (Liquity v1's rule).
///   - Status LIVE: primary accepted (and, with a secondary, confirmed by it).
///     Status SECONDARY: primary invalid or rejected, secondary valid and within `maxJumpBps`
///     of the last accepted (or the delayed) price: the secondary's answer is accepted.
///     Status FROZEN: nothing accepted; the last accepted price is kept (the "last good price")
///     but it is never used to open new debt or to liquidate.
///   - Returning to LIVE from any other status starts a recovery GRACE period (`recoveryGrace`
///     seconds) during which liquidations wait (Aave 3.1), so accounts can react first. The
///     return is seen from the rounds themselves too, whether or not anyone stored the outage:
///     when the primary round accepted is `k` rounds (by `roundId`) after the last primary round
///     the adapter accepted and more than `k * primaryHeartbeat` seconds newer, one interval was
///     longer than the heartbeat (an outage nobody poked), and the grace runs from that round's
///     `updatedAt`. `peek` shows it as an update would store it. Exact when no round was missed
///     (`k == 1`); missed rounds of a healthy feed never start a grace.
///   - DELAYED price (Maker's OSM): every `delay` seconds a poke moves the queued price to
///     `delayed` and queues the current accepted price. The guardian can `stop` a token's delayed
///     feed: while stopped, consumers get no liquidation price and no borrow price for it.
///   - L2 SEQUENCER: when an uptime feed is set, `answer != 0` means down; `startedAt == 0` is
///     treated as down. While down, and for `sequencerGrace` seconds after it comes back up, there
///     are no liquidations and no new debt.
///
///   Prices served (a zero means "not available for this purpose"):
///   - borrowPrice = min(current, delayed): values collateral for new debt and withdrawals.
///     Zero unless status is LIVE or SECONDARY, the delayed feed is running and the sequencer is up
///     past its grace period. A zero borrow price gives the asset no borrowing power; it does not
///     block repaying, depositing or closing.
///   - liquidationPrice = max(current, delayed): the CONFIRMED price that triggers liquidations. A
///     drop is confirmed once it has persisted through one full `delay` hop (both prices show it),
///     so a one-round wick never liquidates (scenario 17). Zero while any guard applies; `guard`
///     says which.
///   - auctionStartPrice = max(current, delayed): the reference an auction starts from (times
///     the auction's buffer), so an auction never starts from a depressed price (Black Thursday).
///   - current: the latest accepted price, the reference below which auctions may not sell beyond
///     the documented maximum discount.
///
///   Known pitfalls: a feed with more than 18 decimals is refused at configuration; prices are
///   capped to uint128; the adapter trusts the feed's `decimals()` read at configuration time.
interface IOracleAdapter is IPriceOracle {
    // --- Types ---

    enum Status {
        Unset, // no feed configured
        Live, // primary accepted
        Secondary, // primary failed, secondary accepted
        Frozen // nothing acceptable; last good price kept but unusable
    }

    /// @notice Why liquidations are not allowed right now (None when they are).
    enum Guard {
        None,
        NoPrice, // never had an accepted price
        Frozen, // feeds broken or disagreeing (see Status)
        RecoveryGrace, // back to Live less than `recoveryGrace` seconds ago
        DelayedStopped, // guardian stopped the delayed feed
        SequencerDown, // L2 sequencer reports down (or startedAt == 0)
        SequencerGrace // sequencer up for less than `sequencerGrace` seconds
    }

    struct FeedConfig {
        IAggregatorV3 primary;
        uint32 primaryHeartbeat; // [seconds] max age of a valid primary round
        IAggregatorV3 secondary; // zero address: no secondary
        uint32 secondaryHeartbeat; // [seconds]
        uint16 maxDeviationBps; // [bps] max disagreement between primary and secondary, <= 500
        uint16 maxJumpBps; // [bps] max move from the last accepted price in one update, <= 5000
        uint32 delay; // [seconds] OSM hop; 0 disables the delayed price (delayed == current)
        uint128 minAnswer; // [feed units] answers <= this are treated as clamped (invalid)
        uint128 maxAnswer; // [feed units] answers >= this are treated as clamped; 0: no upper bound
    }

    /// @notice What a consumer gets for one token, after the adapter brought its state up to date.
    struct Quote {
        uint256 current; // [wad price] latest accepted price (0 if none ever)
        uint256 borrowPrice; // [wad price] min(current, delayed), 0 if new debt may not use it
        uint256 liquidationPrice; // [wad price] max(current, delayed), 0 if liquidations are guarded
        uint256 auctionStartPrice; // [wad price] max(current, delayed), 0 if none ever
        Status status;
        Guard guard;
    }

    // --- Errors ---

    error UnknownToken(address token);
    error InvalidFeedConfig(string field);
    error FeedRejectedAtActivation(address feed, string reason);
    error ZeroAddress();
    /// @notice `getQuote`/`getQuotes`: the token has no usable price (status FROZEN, or never priced).
    error PriceUnavailable(address token, Status status);
    /// @notice A grace period above the bound (`setSequencerFeed`, `setRecoveryGrace`: 1 day).
    error InvalidGrace(uint32 grace);
    /// @notice The call did not carry enough gas to give a feed read its full gas cap. Refused so
    ///         that a caller cannot starve a feed read on purpose to make a healthy feed look
    ///         INVALID (and switch the token to its secondary or freeze it).
    error InsufficientGasForFeed();

    // --- Events ---

    event FeedConfigured(address indexed token, address indexed primary, address indexed secondary, FeedConfig config);
    event PriceAccepted(address indexed token, uint256 price, Status status);
    event StatusChanged(address indexed token, Status from, Status to);
    event DelayedPriceUpdated(address indexed token, uint256 delayed, uint256 queued);
    event DelayedFeedStopped(address indexed token, bool stopped);
    event SequencerFeedSet(address indexed feed, uint32 grace);
    event RecoveryGraceSet(uint32 grace);

    // --- State-advancing entry points (anyone) ---

    /// @notice Reads the feeds, runs the state machine and advances the delayed price if a hop has
    ///         passed. Anyone may call it; keepers call it every block for the tokens they watch.
    function poke(address token) external;

    /// @notice `poke` then return the token's quote. The vault and the liquidation engine call this.
    function update(address token) external returns (Quote memory);

    // --- Views ---

    /// @notice The quote `update` would return now, without writing state.
    function peek(address token) external view returns (Quote memory);

    function status(address token) external view returns (Status);

    function feedConfig(address token) external view returns (FeedConfig memory);

    /// @notice The debt token: the `quote` (or `base`) of `getQuote` for collateral tokens.
    function debtToken() external view returns (address);

    /// @notice Seconds liquidations wait after a token returns to LIVE from SECONDARY or FROZEN, or
    ///         after a primary round that ends a gap of more than the heartbeat since the last one
    ///         accepted (an outage nobody stored).
    function recoveryGrace() external view returns (uint32);

    /// @notice The L2 sequencer uptime feed (zero: none) and its grace period [seconds].
    function sequencer() external view returns (IAggregatorV3 feed, uint32 grace);

    /// @notice Stored delayed-price (OSM) state as of the token's last update: `delayed` and
    ///         `queued` [wad price], `lastHop` [unix seconds] and whether the guardian stopped it.
    function delayedState(address token)
        external
        view
        returns (uint256 delayed, uint256 queued, uint256 lastHop, bool stopped);

    /// @notice When the token's last recovery grace started [unix seconds]; 0 if never: the time of
    ///         the last stored return to LIVE from another status, or the `updatedAt` of a primary
    ///         round that ended an unstored outage (see the recovery grace above). As of the last
    ///         update, like `status`.
    function recoveryStartedAt(address token) external view returns (uint256);

    /// @notice The collateral token's decimals, read from the token at `setFeed` (0 if unknown).
    function tokenDecimals(address token) external view returns (uint8);

    // --- Governance ---

    /// @notice Sets or replaces a token's feeds. On activation the primary must already be valid
    ///         and, if the token already had an accepted price, within `maxJumpBps` of it (a feed
    ///         that returns a ratio as a USD price is refused: Moonwell cbETH 2026), unless a
    ///         configured secondary, valid and agreeing within `maxDeviationBps`, confirms the move
    ///         (the same rule as for updates; the way back for a token frozen by a genuine crash).
    ///         The stored `minAnswer`/`maxAnswer` are the TIGHTER of the configured bounds and the
    ///         primary's own clamp, read from its `minAnswer()`/`maxAnswer()` (or those of its
    ///         `aggregator()`) when it exposes them, so a forgotten floor still reads as clamped
    ///         (Venus/LUNA 2022). A secondary's own clamp tightens them the same way (converted to
    ///         the primary's units; bounds apply to both feeds as prices), so a secondary pinned at
    ///         its floor or ceiling is never a fallback price. `feedConfig` returns the stored bounds.
    function setFeed(address token, FeedConfig calldata config) external;

    function setSequencerFeed(IAggregatorV3 feed, uint32 grace) external;

    function setRecoveryGrace(uint32 grace) external;

    /// @notice Guardian: stop or restart a token's delayed feed (Maker's OSM stop).
    function setDelayedStopped(address token, bool stopped) external;
}
