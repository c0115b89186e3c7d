// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib as FPM} from "solady/utils/FixedPointMathLib.sol";
import {Governed} from "../governance/Governed.sol";
import {IPerpMarkets} from "../../interfaces/IPerpMarkets.sol";
import {IPerpPool} from "../../interfaces/IPerpPool.sol";
import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";

/// @title PerpMarkets
/// @notice Perpetual futures markets, margin accounts and settlement against the PerpPool. See
///         IPerpMarkets for units, formulas and rules.
contract PerpMarkets is IPerpMarkets, Governed, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    // --- Constants ---
    uint256 internal constant WAD = 1e18;
    uint256 internal constant WAD2 = 1e36; // funding index scale
    uint256 internal constant DAY = 1 days;
    uint256 internal constant MAX_MARKETS = 16;
    uint256 internal constant MIN_INITIAL_MARGIN = 0.001e18; // [wad] 1,000x at most
    uint256 internal constant MIN_MAINTENANCE_FRACTION = 0.01e18; // [wad]
    uint256 internal constant MAX_INITIAL_MARGIN_SCALE = 10e18; // [wad]
    uint256 internal constant MIN_SKEW_SCALE = 1e18; // [wad asset units]
    uint256 internal constant MAX_SKEW_SCALE = 1e30; // [wad asset units]
    uint256 internal constant MAX_TRADING_FEE = 0.05e18; // [wad]
    uint256 internal constant MAX_FUNDING_RATE = 1e18; // [wad per day]

    /// @inheritdoc IPerpMarkets
    IOracleAdapter public immutable override oracle;
    /// @inheritdoc IPerpMarkets
    address public immutable override debtToken;
    /// @inheritdoc IPerpMarkets
    address public immutable override pool;

    // --- Storage ---
    struct MarketState {
        int256 skew; // [wad asset units]
        uint256 longOI; // [wad asset units]
        uint256 shortOI; // [wad asset units]
        int256 fundingIndex; // [1e36 x debt wei per whole token of size]
        uint256 lastFundingTime; // [unix seconds]
        int256 totalCost; // [debt wei] sum of cost bases
        int256 sumSizeIndex; // sum of size x index at last touch (aggregate unsettled funding)
    }

    struct Position {
        int256 size; // [wad asset units]
        int256 cost; // [debt wei] signed cost basis
        int256 lastIndex; // funding index at the last touch
    }

    struct Account {
        int256 margin; // [debt wei] negative: owed
        uint256 mask; // bit i set: a position on market i
        uint128 locked; // [debt wei] realised gains not yet confirmed by the delayed price
        uint40 lockedUntil; // [timestamp]
    }

    /// @dev Prices of one asset: `current`, and min/max of current and delayed.
    struct Prices {
        uint256 current;
        uint256 lo;
        uint256 hi;
    }

    /// @dev One trade's numbers (memory: keeps modifyPosition's stack small).
    struct Trade {
        int256 s0;
        int256 s1;
        uint256 fill;
        int256 realised;
        int256 funding;
        uint256 fee;
        bool increases;
    }

    mapping(uint8 id => MarketParams) internal _params;
    mapping(uint8 id => MarketState) internal _state;
    mapping(address account => Account) internal _accounts;
    mapping(address account => mapping(uint8 id => Position)) internal _positions;
    /// @inheritdoc IPerpMarkets
    mapping(address account => mapping(address operator => bool)) public override isOperator;
    /// @inheritdoc IPerpMarkets
    uint256 public override listedMarkets;
    /// @inheritdoc IPerpMarkets
    uint256 public override gainsHaircut; // [wad]
    /// @inheritdoc IPerpMarkets
    uint256 public override totalMargin; // [debt wei]
    /// @inheritdoc IPerpMarkets
    uint256 public override totalOwed; // [debt wei]

    /// @param admin receives every role (Governed).
    /// @param oracle_ the system's OracleAdapter.
    /// @param pool_ the PerpPool (its asset is the debt token); the pool must grant this contract
    ///        MARKETS_ROLE (`IPerpPool.setMarkets`).
    constructor(address admin, IOracleAdapter oracle_, IPerpPool pool_) Governed(admin) {
        if (address(oracle_) == address(0) || address(pool_) == address(0)) revert ZeroAddress();
        oracle = oracle_;
        pool = address(pool_);
        debtToken = oracle_.debtToken();
        gainsHaircut = WAD;
    }

    // --- Modifiers ---

    modifier onlyAuthorized(address account) {
        if (msg.sender != account && !isOperator[account][msg.sender]) revert NotAuthorized(msg.sender, account);
        _;
    }

    // --- User operations ---

    /// @inheritdoc IPerpMarkets
    function depositMargin(address account, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (account == address(0)) revert ZeroAddress();
        IERC20(debtToken).safeTransferFrom(msg.sender, address(this), amount);
        Account storage a = _accounts[account];
        int256 m0 = a.margin;
        a.margin = m0 + amount.toInt256();
        uint256 repaid = FPM.min(_neg(m0), amount);
        totalOwed -= repaid;
        totalMargin += amount - repaid;
        if (repaid != 0) IERC20(debtToken).safeTransfer(pool, repaid);
        emit MarginDeposited(account, msg.sender, amount, repaid);
    }

    /// @inheritdoc IPerpMarkets
    function withdrawMargin(address account, uint256 amount, address receiver)
        external
        nonReentrant
        onlyAuthorized(account)
    {
        if (amount == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        Account storage a = _accounts[account];
        int256 m0 = a.margin;
        if (m0 < 0 || uint256(m0) < amount) revert MarginBalanceShort(m0, amount);
        uint256 locked = _lockedOf(a);
        if (locked > 0 && uint256(m0) - amount < locked) revert MarginLocked(locked, a.lockedUntil);
        a.margin = m0 - int256(amount);
        totalMargin -= amount;
        if (a.mask != 0) _checkInitial(account);
        IERC20(debtToken).safeTransfer(receiver, amount);
        emit MarginWithdrawn(account, receiver, amount);
    }

    /// @inheritdoc IPerpMarkets
    function modifyPosition(address account, uint8 id, int256 sizeDelta, uint256 acceptablePrice)
        external
        nonReentrant
        onlyAuthorized(account)
        returns (uint256)
    {
        if (sizeDelta == 0) revert ZeroSize();
        MarketParams memory m = _market(id);
        // A listed token always has a price: the adapter refuses an unknown token (UnknownToken)
        // and keeps the last accepted price forever once it had one.
        IOracleAdapter.Quote memory q = oracle.update(m.token);
        MarketState storage st = _accrue(id, m, q.current);
        Position storage p = _positions[account][id];

        Trade memory t;
        t.s0 = p.size;
        t.s1 = t.s0 + sizeDelta;
        // Opening, increasing and flipping add exposure; reducing and closing never do.
        t.increases = t.s0 == 0 || (t.s0 > 0) == (sizeDelta > 0) || (t.s1 != 0 && (t.s1 > 0) != (t.s0 > 0));
        if (t.increases && (q.guard != IOracleAdapter.Guard.None || q.status != IOracleAdapter.Status.Live)) {
            revert MarketGuarded(id, q.guard, q.status);
        }
        t.fill = _fillPrice(m, st.skew, sizeDelta, q.current);
        if (sizeDelta > 0 ? t.fill > acceptablePrice : t.fill < acceptablePrice) {
            revert SlippageExceeded(t.fill, acceptablePrice);
        }
        _openInterest(id, m, st, t.s0, t.s1);
        _trade(st, p, t, sizeDelta, m.tradingFee);
        Account storage a = _accounts[account];
        if (t.s1 == 0) a.mask &= ~(uint256(1) << id);
        else a.mask |= uint256(1) << id;
        _applyMargin(account, t.realised - t.funding - int256(t.fee));
        if (t.realised > 0) _lockUnconfirmed(account, m.token, q.current, t.s0, sizeDelta, uint256(t.realised));
        if (t.increases) _checkInitial(account);
        emit PositionModified(account, id, sizeDelta, t.fill, t.s1, t.realised, t.funding, t.fee);
        return t.fill;
    }

    /// @inheritdoc IPerpMarkets
    function setOperator(address operator, bool approved) external nonReentrant {
        isOperator[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
    }

    /// @inheritdoc IPerpMarkets
    function settleFunding(uint8 id) external nonReentrant {
        MarketParams memory m = _market(id);
        _accrue(id, m, oracle.update(m.token).current);
    }

    // --- Views ---

    /// @inheritdoc IPerpMarkets
    function marketParams(uint8 id) external view returns (MarketParams memory) {
        return _market(id);
    }

    /// @inheritdoc IPerpMarkets
    function marketState(uint8 id) external view returns (MarketView memory v) {
        MarketParams memory m = _market(id);
        MarketState storage st = _state[id];
        v.skew = st.skew;
        v.longOI = st.longOI;
        v.shortOI = st.shortOI;
        v.fundingIndex = _indexNow(m, st, oracle.peek(m.token).current);
        v.fundingRate = _rate(m, st.skew);
        v.lastFundingTime = st.lastFundingTime;
        v.totalCost = st.totalCost;
    }

    /// @inheritdoc IPerpMarkets
    function fundingRate(uint8 id) external view returns (int256) {
        return _rate(_market(id), _state[id].skew);
    }

    /// @inheritdoc IPerpMarkets
    function previewFillPrice(uint8 id, int256 sizeDelta) external view returns (uint256) {
        MarketParams memory m = _market(id);
        return _fillPrice(m, _state[id].skew, sizeDelta, oracle.peek(m.token).current);
    }

    /// @inheritdoc IPerpMarkets
    function marginRatios(uint8 id, int256 size) external view returns (uint256 imr, uint256 mmr) {
        return _ratios(_market(id), _abs(size));
    }

    /// @inheritdoc IPerpMarkets
    function position(address account, uint8 id) external view returns (PositionView memory v) {
        MarketParams memory m = _market(id);
        Position storage p = _positions[account][id];
        v.size = p.size;
        v.cost = p.cost;
        v.lastFundingIndex = p.lastIndex;
        if (v.size == 0) return v;
        uint256 price = oracle.peek(m.token).current;
        v.entryPrice = FPM.mulDiv(_abs(v.cost), WAD, _abs(v.size));
        v.fundingOwed = _funding(v.size, _indexNow(m, _state[id], price) - v.lastFundingIndex);
        v.unrealisedPnl = _mulSigned(v.size, price, WAD, false) - v.cost - v.fundingOwed;
    }

    /// @inheritdoc IPerpMarkets
    function margin(address account) external view returns (int256) {
        return _accounts[account].margin;
    }

    /// @inheritdoc IPerpMarkets
    function accountTerms(address account) external view returns (AccountTerms memory) {
        return _terms(account);
    }

    /// @inheritdoc IPerpMarkets
    function unrealisedLiabilities() external view returns (uint256 total) {
        uint256 mask = listedMarkets;
        for (uint256 i; i < MAX_MARKETS; ++i) {
            if (mask & (uint256(1) << i) == 0) continue;
            int256 net = _marketNet(uint8(i), false);
            if (net > 0) total += uint256(net);
        }
    }

    /// @inheritdoc IPerpMarkets
    function unrealisedNetForEntry() external view returns (int256 total) {
        uint256 mask = listedMarkets;
        for (uint256 i; i < MAX_MARKETS; ++i) {
            if (mask & (uint256(1) << i) == 0) continue;
            total += _marketNet(uint8(i), true);
        }
    }

    /// @dev Traders' net unrealised PnL on market `id`, unsettled funding included: at the price
    ///      less favourable to the pool and rounded up (`forEntry` false: its liability), or at
    ///      the price more favourable to the pool and rounded down (`forEntry` true).
    function _marketNet(uint8 id, bool forEntry) internal view returns (int256) {
        MarketState storage st = _state[id];
        if (st.longOI == 0 && st.shortOI == 0) return 0;
        MarketParams memory m = _params[id];
        Prices memory px = _prices(m.token);
        int256 skew = st.skew;
        // Funding the traders owe the pool, rounded against the pool's side of the figure.
        int256 funding = _mulSigned(skew * _indexNow(m, st, px.current) - st.sumSizeIndex, 1, WAD2, forEntry);
        uint256 price = (skew > 0) != forEntry ? px.hi : px.lo;
        return _mulSigned(skew, price, WAD, !forEntry) - st.totalCost - funding;
    }

    // --- Governance ---

    /// @inheritdoc IPerpMarkets
    function setMarket(uint8 id, MarketParams calldata p) external nonReentrant onlyRole(GOVERNOR_ROLE) {
        if (id >= MAX_MARKETS) revert InvalidParameter("id", id, 0, MAX_MARKETS - 1);
        if (p.token == address(0)) revert ZeroAddress();
        bool listed = listedMarkets & (uint256(1) << id) != 0;
        MarketParams memory old = _params[id];
        if (listed && old.token != p.token) revert TokenChange(id, old.token, p.token);
        _bound("minInitialMargin", p.minInitialMargin, MIN_INITIAL_MARGIN, WAD);
        _bound("maintenanceFraction", p.maintenanceFraction, MIN_MAINTENANCE_FRACTION, WAD);
        _bound("initialMarginScale", p.initialMarginScale, 0, MAX_INITIAL_MARGIN_SCALE);
        _bound("tradingFee", p.tradingFee, 0, MAX_TRADING_FEE);
        _bound("maxFundingRate", p.maxFundingRate, 0, MAX_FUNDING_RATE);
        {
            // Never below open interest: fills stay within the documented factor [0, 2] (review).
            MarketState storage st = _state[id];
            uint256 oi = st.longOI > st.shortOI ? st.longOI : st.shortOI;
            _bound("skewScale", p.skewScale, oi > MIN_SKEW_SCALE ? oi : MIN_SKEW_SCALE, MAX_SKEW_SCALE);
        }
        _bound("maxLong", p.maxLong, 0, p.skewScale);
        _bound("maxShort", p.maxShort, 0, p.skewScale);
        uint256 price = oracle.peek(p.token).current; // reverts UnknownToken if the oracle has no feed
        // Funding up to now runs under the old parameters.
        if (listed) _accrue(id, old, price);
        else _state[id].lastFundingTime = block.timestamp;
        _params[id] = p;
        listedMarkets |= uint256(1) << id;
        emit MarketSet(id, p.token, p);
    }

    /// @inheritdoc IPerpMarkets
    function setGainsHaircut(uint256 haircut) external nonReentrant onlyRole(GOVERNOR_ROLE) {
        _bound("gainsHaircut", haircut, 0, WAD);
        gainsHaircut = haircut;
        emit GainsHaircutSet(haircut);
    }

    // --- Internal: settlement ---

    /// @dev Funding, realised PnL, fee and the new cost basis of a trade; writes the position and
    ///      the market's aggregates. Rounding: added cost rounds up, the value of the part closed
    ///      down, the cost it removes up (toward +inf, signed), so realised PnL rounds against
    ///      the trader; the fee rounds up.
    function _trade(MarketState storage st, Position storage p, Trade memory t, int256 d, uint256 feeRate)
        internal
    {
        int256 index = st.fundingIndex;
        int256 c0 = p.cost;
        int256 c1;
        t.funding = _funding(t.s0, index - p.lastIndex);
        if (t.s0 == 0 || (t.s0 > 0) == (d > 0)) {
            c1 = c0 + _mulSigned(d, t.fill, WAD, true);
        } else {
            uint256 abs0 = _abs(t.s0);
            uint256 closed = FPM.min(_abs(d), abs0);
            int256 removed = closed == abs0 ? c0 : _mulSigned(c0, closed, abs0, true);
            int256 q = t.s0 > 0 ? int256(closed) : -int256(closed);
            t.realised = _mulSigned(q, t.fill, WAD, false) - removed;
            c1 = c0 - removed;
            if (t.s1 != 0 && (t.s1 > 0) != (t.s0 > 0)) c1 = _mulSigned(t.s1, t.fill, WAD, true);
        }
        t.fee = FPM.mulDivUp(FPM.mulDivUp(_abs(d), t.fill, WAD), feeRate, WAD);
        st.totalCost += c1 - c0;
        st.sumSizeIndex += t.s1 * index - t.s0 * p.lastIndex;
        p.size = t.s1;
        p.cost = c1;
        p.lastIndex = index;
    }

    /// @dev Open interest and skew after a position goes from s0 to s1; a side that grows must stay
    ///      within its cap.
    function _openInterest(uint8 id, MarketParams memory m, MarketState storage st, int256 s0, int256 s1) internal {
        (uint256 long0, uint256 short0) = (_pos(s0), _neg(s0));
        (uint256 long1, uint256 short1) = (_pos(s1), _neg(s1));
        uint256 longOI = st.longOI - long0 + long1;
        uint256 shortOI = st.shortOI - short0 + short1;
        if (long1 > long0 && longOI > m.maxLong) revert OpenInterestCapExceeded(id, true, m.maxLong, longOI);
        if (short1 > short0 && shortOI > m.maxShort) revert OpenInterestCapExceeded(id, false, m.maxShort, shortOI);
        st.longOI = longOI;
        st.shortOI = shortOI;
        st.skew += s1 - s0;
    }

    /// @dev Apply a settlement of `delta` to the margin: this contract holds the positive margins,
    ///      so the pool pays in (gains) or is paid (losses, fees) exactly the change in
    ///      max(margin, 0); a change in max(-margin, 0) is owed (or repaid).
    function _applyMargin(address account, int256 delta) internal {
        Account storage a = _accounts[account];
        int256 m0 = a.margin;
        int256 m1 = m0 + delta;
        a.margin = m1;
        (uint256 h0, uint256 h1) = (_pos(m0), _pos(m1));
        (uint256 o0, uint256 o1) = (_neg(m0), _neg(m1));
        if (o1 > o0) {
            totalOwed += o1 - o0;
            _settleLoss(account, o1 - o0, m1);
        } else {
            totalOwed -= o0 - o1;
        }
        if (h1 > h0) {
            totalMargin += h1 - h0;
            IPerpPool(pool).payOut(address(this), h1 - h0);
        } else if (h0 > h1) {
            totalMargin -= h0 - h1;
            IERC20(debtToken).safeTransfer(pool, h0 - h1);
        }
    }

    /// @dev A reduction realised a gain at a fill from `current` while `current` is more favourable
    ///      to the trader than the delayed price (review finding: one oracle round could set the
    ///      price a gain was paid at, and the gain could leave at once, the Mango path). The part of
    ///      the gain beyond the delayed side, |closed| x |current - confirmed|, stays locked for two
    ///      OSM hops: it is margin (it covers losses), but no withdrawal and no initial margin.
    function _lockUnconfirmed(address account, address token, uint256 current, int256 s0, int256 d, uint256 gain)
        internal
    {
        Prices memory px = _prices(token);
        uint256 edge = s0 > 0 ? (current > px.lo ? current - px.lo : 0) : (px.hi > current ? px.hi - current : 0);
        if (edge == 0) return;
        uint256 lock = FPM.mulDivUp(FPM.min(_abs(d), _abs(s0)), edge, WAD);
        if (lock > gain) lock = gain;
        Account storage a = _accounts[account];
        uint256 held = block.timestamp < a.lockedUntil ? a.locked : 0;
        uint256 until = block.timestamp + 2 * uint256(oracle.feedConfig(token).delay);
        a.locked = uint128(held + lock);
        a.lockedUntil = uint40(until);
        emit GainLocked(account, held + lock, until);
    }

    /// @dev Realised gains still locked (see _lockUnconfirmed).
    function _lockedOf(Account storage a) internal view returns (uint256) {
        return block.timestamp < a.lockedUntil ? a.locked : 0;
    }

    /// @dev A settlement left `account` owing `amount` more than its margin covered (its margin is
    ///      now `marginAfter` < 0). The pool did not receive that amount. In this slice the
    ///      negative margin balance is the record of it (repaid first by later deposits and gains);
    ///      the vault integration will override this hook to turn the owed amount into vault debt
    ///      of the account (and pay the pool), so a perp loss is collected from the account's
    ///      collateral like any other debt.
    function _settleLoss(address account, uint256 amount, int256 marginAfter) internal virtual {
        emit LossOwed(account, amount, marginAfter);
    }

    // --- Internal: margin ---

    function _checkInitial(address account) internal view {
        // A position on a guarded market is worth its last accepted price, which may be long gone:
        // it backs no new exposure and no withdrawal (review finding) until the guard lifts.
        uint256 mask = _accounts[account].mask;
        for (uint256 i; mask >> i != 0; ++i) {
            if (mask & (uint256(1) << i) == 0) continue;
            IOracleAdapter.Quote memory q = oracle.peek(_params[uint8(i)].token);
            if (q.guard != IOracleAdapter.Guard.None || q.status != IOracleAdapter.Status.Live) {
                revert MarketGuarded(uint8(i), q.guard, q.status);
            }
        }
        AccountTerms memory t = _terms(account);
        int256 equity = t.margin - int256(_lockedOf(_accounts[account])) + int256(t.gainsCredited) - int256(t.losses);
        if (equity < 0 || uint256(equity) < t.initialRequirement) {
            revert InitialMarginViolated(equity, t.initialRequirement);
        }
    }

    function _terms(address account) internal view returns (AccountTerms memory t) {
        Account storage a = _accounts[account];
        t.margin = a.margin;
        uint256 mask = a.mask;
        t.hasPositions = mask != 0;
        uint256 gains;
        for (uint256 i; i < MAX_MARKETS; ++i) {
            if (mask & (uint256(1) << i) == 0) continue;
            gains += _positionTerms(t, _positions[account][uint8(i)], uint8(i));
        }
        t.gainsCredited = FPM.mulDiv(gains, gainsHaircut, WAD);
    }

    /// @dev Adds one position's PnL, losses and requirements to `t`; returns its gain (before the
    ///      haircut) at the price less favourable to the trader.
    function _positionTerms(AccountTerms memory t, Position storage p, uint8 id) internal view returns (uint256 gain) {
        MarketParams memory m = _params[id];
        Prices memory px = _prices(m.token);
        int256 size = p.size;
        int256 fixedPart = p.cost + _funding(size, _indexNow(m, _state[id], px.current) - p.lastIndex);
        t.pnl += _mulSigned(size, px.current, WAD, false) - fixedPart;
        int256 pnlIm = _mulSigned(size, size > 0 ? px.lo : px.hi, WAD, false) - fixedPart;
        if (pnlIm > 0) gain = uint256(pnlIm);
        else t.losses += uint256(-pnlIm);
        uint256 absSize = _abs(size);
        (uint256 imr, uint256 mmr) = _ratios(m, absSize);
        t.initialRequirement += FPM.mulDivUp(FPM.mulDivUp(absSize, px.hi, WAD), imr, WAD);
        t.maintenanceRequirement += FPM.mulDivUp(FPM.mulDivUp(absSize, px.current, WAD), mmr, WAD);
    }

    function _ratios(MarketParams memory m, uint256 absSize) internal pure returns (uint256 imr, uint256 mmr) {
        imr = m.minInitialMargin + FPM.mulDivUp(absSize, m.initialMarginScale, m.skewScale);
        mmr = FPM.mulDivUp(imr, m.maintenanceFraction, WAD);
    }

    // --- Internal: prices and funding ---

    /// @dev `current`, and the low and high of current and delayed. The borrow price is the low
    ///      when the oracle serves it; under a guard the low is read from the stored delayed price.
    function _prices(address token) internal view returns (Prices memory px) {
        IOracleAdapter.Quote memory q = oracle.peek(token);
        px.current = q.current;
        px.hi = q.auctionStartPrice;
        if (q.borrowPrice != 0) {
            px.lo = q.borrowPrice;
        } else if (px.hi > px.current) {
            px.lo = px.current;
        } else {
            (uint256 delayed,,,) = oracle.delayedState(token);
            px.lo = delayed != 0 && delayed < px.current ? delayed : px.current;
        }
    }

    function _fillPrice(MarketParams memory m, int256 skew, int256 d, uint256 price) internal pure returns (uint256) {
        // price x (skewBefore + skewAfter) / (2 skewScale): a buy rounds up, a sell down.
        int256 fill = int256(price) + _mulSigned(2 * skew + d, price, 2 * uint256(m.skewScale), d > 0);
        return fill > 0 ? uint256(fill) : 0;
    }

    function _rate(MarketParams memory m, int256 skew) internal pure returns (int256) {
        int256 r = int256(FPM.mulDiv(m.maxFundingRate, FPM.min(_abs(skew), m.skewScale), m.skewScale));
        return skew < 0 ? -r : r;
    }

    /// @dev The funding index as of now: + maxFundingRate x clamp(skew / skewScale) x price x dt / 1 day
    ///      [x 1e36], rounded away from zero.
    function _indexNow(MarketParams memory m, MarketState storage st, uint256 price) internal view returns (int256) {
        int256 index = st.fundingIndex;
        int256 skew = st.skew;
        uint256 dt = block.timestamp - st.lastFundingTime;
        if (dt == 0 || skew == 0 || m.maxFundingRate == 0) return index;
        uint256 c = FPM.min(_abs(skew), m.skewScale);
        uint256 d = FPM.fullMulDivUp(uint256(m.maxFundingRate) * c, price * dt, uint256(m.skewScale) * DAY);
        return skew > 0 ? index + int256(d) : index - int256(d);
    }

    function _accrue(uint8 id, MarketParams memory m, uint256 price) internal returns (MarketState storage st) {
        st = _state[id];
        if (st.lastFundingTime == block.timestamp) return st;
        int256 index = _indexNow(m, st, price);
        st.fundingIndex = index;
        st.lastFundingTime = block.timestamp;
        emit FundingAccrued(id, index, price);
    }

    /// @dev Funding `size` owes over an index move (positive: the trader pays), / 1e36, rounded up
    ///      when the trader pays and down when it receives.
    function _funding(int256 size, int256 dIndex) internal pure returns (int256) {
        if (size == 0 || dIndex == 0) return 0;
        bool pays = (size > 0) == (dIndex > 0);
        uint256 mag = pays
            ? FPM.fullMulDivUp(_abs(size), _abs(dIndex), WAD2)
            : FPM.fullMulDiv(_abs(size), _abs(dIndex), WAD2);
        return pays ? int256(mag) : -int256(mag);
    }

    // --- Internal: helpers ---

    function _market(uint8 id) internal view returns (MarketParams memory m) {
        if (id >= MAX_MARKETS || listedMarkets & (uint256(1) << id) == 0) revert UnknownMarket(id);
        m = _params[id];
    }

    function _bound(string memory name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert InvalidParameter(name, value, min, max);
    }

    /// @dev a x b / d, signed, rounded toward +inf (`up`) or -inf.
    function _mulSigned(int256 a, uint256 b, uint256 d, bool up) internal pure returns (int256) {
        uint256 mag = _abs(a);
        if (a >= 0) return int256(up ? FPM.fullMulDivUp(mag, b, d) : FPM.fullMulDiv(mag, b, d));
        return -int256(up ? FPM.fullMulDiv(mag, b, d) : FPM.fullMulDivUp(mag, b, d));
    }

    function _abs(int256 x) internal pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }

    function _pos(int256 x) internal pure returns (uint256) {
        return x > 0 ? uint256(x) : 0;
    }

    function _neg(int256 x) internal pure returns (uint256) {
        return x < 0 ? uint256(-x) : 0;
    }
}
