// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOracleAdapter} from "./IOracleAdapter.sol";

/// @title Unwind perpetual futures markets (first slice)
/// @notice Cross-margined perpetual futures on the oracle's assets, settled in the debt token
///         (uUSD) against a liquidity pool (IPerpPool) that takes the other side of every trade.
///
///         UNITS. Sizes are signed WAD amounts of WHOLE asset tokens (1e18 = one WETH or one WBTC,
///         whatever the token's decimals); positive is long. Prices are the oracle's WAD price
///         (debt-token wei per whole token). Money (margin, PnL, fees, funding) is debt-token wei.
///         Ratios are WAD. Funding rates are WAD per day.
///
///         PRICES. Trades execute at the oracle's `current` price (the latest accepted one) plus
///         the price impact below. For the initial-margin equity of a position the price is the
///         LESS favourable to the trader of `current` and the delayed price (long: min, short:
///         max): a gain only counts once it has survived a full OSM hop, so one oracle round cannot
///         create withdrawable margin or room for a bigger position (Mango Markets, Oct 2022), and
///         a loss counts in full at the more unfavourable of the two. Requirements are priced at
///         max(current, delayed) (initial) and `current` (maintenance).
///
///         MARGIN RATIOS (Synthetix Perps v3's size premium):
///           IMR(size) = minInitialMargin + |size| / skewScale x initialMarginScale
///           MMR(size) = IMR(size) x maintenanceFraction
///           initialRequirement = sum |size| x price x IMR(size), likewise maintenance with MMR.
///         A position's requirement depends on its OWN size only, never on the market's skew or
///         open interest, so no other account's trade can push an account toward liquidation; a
///         large position needs proportionally more margin because closing it moves the price
///         against it more (the same skewScale sets the price impact).
///
///         PRICE IMPACT. fill = price x (1 + (skewBefore + skewAfter) / 2 / skewScale): a trade
///         that increases |skew| pays a premium, one that reduces it gets a better price. A buy's
///         fill rounds up, a sell's down. Open-interest caps are at most skewScale and skewScale is
///         never set below either side's open interest, so the factor stays in [0, 2].
///
///         FUNDING. rate = maxFundingRate x clamp(skew / skewScale, -1, 1) per day: longs pay shorts
///         when skew > 0, and the pool, the counterparty of the net skew, receives the difference.
///         A cumulative index per unit of size grows by rate x price x dt / 1 day each time the
///         market is touched (price = `current` at that moment), rounded away from zero (the
///         paying side of the skew pays the pool's rounding). A position owes
///         size x (index - index at its last touch) / 1e36, rounded up when it pays and down when it
///         receives. The index is in units of 1e36 x debt-token wei per whole-token of size.
///
///         SETTLEMENT. Every touch settles the position's funding; the realised PnL of the part
///         reduced, the funding and the trading fee (tradingFee x notional, rounded up) are
///         applied to the account's margin balance. Gains are paid from the pool
///         (`IPerpPool.payOut`), losses and fees transferred to the pool, from the margin the
///         account has. A loss beyond the margin leaves the margin NEGATIVE: the account OWES that
///         amount (`_settleLoss`); a later deposit or gain repays it to the pool first. The vault
///         integration will turn the owed amount into vault debt.
///
///         SAFETY RULES. Opening, increasing or flipping a position and withdrawing margin must
///         leave `margin + gainsCredited - losses >= initialRequirement` (InitialMarginViolated);
///         they are refused on a market whose oracle quote is guarded or not LIVE (MarketGuarded),
///         and so is any of them while the account holds a position on such a market (its last
///         accepted price may be long gone: it backs no new exposure and no withdrawal).
///         Reducing and closing are always allowed, on a guarded market too (at the last accepted
///         price). Every state-changing entry is non-reentrant; every rounding favours the pool.
///
///         UNCONFIRMED GAINS. A reduction fills at the current price. When that price is more
///         favourable to the trader than the delayed one, the part of its realised gain beyond
///         the delayed side, |closed| x |current - min/max(current, delayed)|, is LOCKED for two
///         OSM hops: it stays margin (it covers losses) but backs no withdrawal (MarginLocked) and
///         no initial margin, so one oracle round cannot set a price a gain leaves the venue at
///         (Mango Markets, Oct 2022).
///
///         HEALTH (for the vault's unified formula, `accountTerms`):
///           health = (collateral terms + margin - losses + gainsCredited) / (debt + maintenanceRequirement)
///         where `gainsCredited` already carries the governed `gainsHaircut`. Both `gainsCredited`
///         and `losses` are at the price less favourable to the trader (the initial-margin view:
///         right for borrowing and withdrawing). A liquidation trigger that must not fire on a
///         one-round wick (the vault's confirmed-price rule) needs losses at the more favourable
///         price instead; `pnl` (at `current`) is given for that choice. Open for the integration.
interface IPerpMarkets {
    // --- Types ---

    /// @notice A market's governed parameters.
    struct MarketParams {
        address token; // oracle asset (set once)
        uint64 minInitialMargin; // [wad] IMR of a tiny position, e.g. 0.05e18 (20x)
        uint64 maintenanceFraction; // [wad] MMR = IMR x this, e.g. 0.5e18
        uint64 initialMarginScale; // [wad] IMR added per skewScale of size
        uint64 tradingFee; // [wad of notional] to the pool
        uint64 maxFundingRate; // [wad per day] at |skew| >= skewScale
        uint128 skewScale; // [wad asset units] e.g. 100_000e18 WETH
        uint128 maxLong; // [wad asset units] open-interest cap of the long side, <= skewScale
        uint128 maxShort; // [wad asset units] open-interest cap of the short side, <= skewScale
    }

    /// @notice A market's state, funding brought up to date at the current price.
    struct MarketView {
        int256 skew; // [wad asset units] longOI - shortOI
        uint256 longOI; // [wad asset units]
        uint256 shortOI; // [wad asset units]
        int256 fundingIndex; // [1e36 x debt wei per whole-token of size] cumulative, as of now
        int256 fundingRate; // [wad per day] current rate (positive: longs pay)
        uint256 lastFundingTime; // [unix seconds] of the stored index
        int256 totalCost; // [debt wei] sum of the positions' cost bases
    }

    /// @notice One position, valued at the oracle's current price.
    struct PositionView {
        int256 size; // [wad asset units]
        int256 cost; // [debt wei] signed cost basis (size x entry price)
        uint256 entryPrice; // [wad price] |cost| / |size|, 0 without a position
        int256 unrealisedPnl; // [debt wei] size x price - cost - fundingOwed
        int256 fundingOwed; // [debt wei] unsettled funding, positive: the trader pays
        int256 lastFundingIndex; // index at the last touch
    }

    /// @notice The perps terms of an account for the vault's health formula (see the header).
    struct AccountTerms {
        int256 margin; // [debt wei] margin balance incl. settled PnL; negative: owed
        int256 pnl; // [debt wei] unrealised PnL incl. unsettled funding, at `current`
        uint256 gainsCredited; // [debt wei] gains at the less favourable price, x gainsHaircut
        uint256 losses; // [debt wei] losses at the more unfavourable price, in full
        uint256 maintenanceRequirement; // [debt wei] sum |size| x current x MMR(size)
        uint256 initialRequirement; // [debt wei] sum |size| x max(current, delayed) x IMR(size)
        bool hasPositions;
    }

    // --- Errors ---

    error ZeroAddress();
    error ZeroAmount();
    /// @notice `modifyPosition` with sizeDelta 0.
    error ZeroSize();
    error NotAuthorized(address caller, address account);
    error UnknownMarket(uint8 id);
    error InvalidParameter(string name, uint256 value, uint256 min, uint256 max);
    /// @notice `setMarket` may not change a listed market's token.
    error TokenChange(uint8 id, address token, address requested);
    /// @notice Opening or increasing on a market whose quote is guarded or not LIVE.
    error MarketGuarded(uint8 id, IOracleAdapter.Guard guard, IOracleAdapter.Status status);
    /// @notice The trade would take a side's open interest over its cap.
    error OpenInterestCapExceeded(uint8 id, bool long, uint256 cap, uint256 wouldBe);
    /// @notice Buys: fill > acceptablePrice; sells: fill < acceptablePrice.
    error SlippageExceeded(uint256 fillPrice, uint256 acceptablePrice);
    /// @notice margin + gainsCredited - losses would be below the initial requirement.
    error InitialMarginViolated(int256 equity, uint256 required);
    /// @notice `withdrawMargin` of more than the account's (positive) margin balance.
    error MarginBalanceShort(int256 margin, uint256 requested);
    /// @notice The withdrawal would take margin that holds a realised gain not yet confirmed by the
    ///         delayed price (`locked`, until `until`): see UNCONFIRMED GAINS.
    error MarginLocked(uint256 locked, uint256 until);

    // --- Events ---

    event MarketSet(uint8 indexed id, address indexed token, MarketParams params);
    event GainsHaircutSet(uint256 haircut);
    event OperatorSet(address indexed account, address indexed operator, bool approved);
    event MarginDeposited(address indexed account, address indexed payer, uint256 amount, uint256 repaid);
    event MarginWithdrawn(address indexed account, address indexed receiver, uint256 amount);
    event FundingAccrued(uint8 indexed id, int256 index, uint256 price);
    event PositionModified(
        address indexed account,
        uint8 indexed id,
        int256 sizeDelta,
        uint256 fillPrice,
        int256 newSize,
        int256 realisedPnl,
        int256 funding,
        uint256 fee
    );
    /// @notice A settlement left the account owing `amount` more (its margin went below zero).
    event LossOwed(address indexed account, uint256 amount, int256 margin);
    /// @notice `locked` of the account's margin is an unconfirmed realised gain until `until`.
    event GainLocked(address indexed account, uint256 locked, uint256 until);

    // --- User operations ---

    /// @notice Add `amount` debt tokens (from msg.sender) to `account`'s margin; anyone may. If the
    ///         account owes (negative margin), the deposit repays the pool first.
    function depositMargin(address account, uint256 amount) external;

    /// @notice The account or its operator: send `amount` of the margin balance to `receiver`.
    ///         Needs margin >= amount and, after it, equity at initial >= initialRequirement.
    function withdrawMargin(address account, uint256 amount, address receiver) external;

    /// @notice The account or its operator: trade `sizeDelta` [wad asset units] on market `id`.
    ///         Opens, increases, reduces, flips or closes. `acceptablePrice` [wad price] is the
    ///         highest fill a buy accepts and the lowest a sell accepts. Returns the fill price.
    function modifyPosition(address account, uint8 id, int256 sizeDelta, uint256 acceptablePrice)
        external
        returns (uint256 fillPrice);

    /// @notice Let `operator` withdraw margin and trade for msg.sender (or stop it).
    function setOperator(address operator, bool approved) external;

    /// @notice Anyone: bring the market's funding index up to date at the oracle's current price.
    function settleFunding(uint8 id) external;

    // --- Views ---

    function pool() external view returns (address);

    function oracle() external view returns (IOracleAdapter);

    function debtToken() external view returns (address);

    /// @notice [wad] share of unrealised gains credited as initial-margin equity (1e18: all).
    function gainsHaircut() external view returns (uint256);

    /// @notice Bit i set: market i is listed.
    function listedMarkets() external view returns (uint256);

    function isOperator(address account, address operator) external view returns (bool);

    function marketParams(uint8 id) external view returns (MarketParams memory);

    function marketState(uint8 id) external view returns (MarketView memory);

    /// @notice [wad per day] maxFundingRate x clamp(skew / skewScale, -1, 1), rounded toward zero.
    function fundingRate(uint8 id) external view returns (int256);

    /// @notice The fill price a trade of `sizeDelta` would get now (no guard or margin checks).
    function previewFillPrice(uint8 id, int256 sizeDelta) external view returns (uint256);

    /// @notice [wad] IMR and MMR of a position of `size` on market `id`.
    function marginRatios(uint8 id, int256 size) external view returns (uint256 imr, uint256 mmr);

    function position(address account, uint8 id) external view returns (PositionView memory);

    /// @notice [debt wei] the account's margin balance (negative: owed).
    function margin(address account) external view returns (int256);

    function accountTerms(address account) external view returns (AccountTerms memory);

    /// @notice [debt wei] sum over markets of max(0, traders' net unrealised PnL incl. unsettled
    ///         funding) at the price less favourable to the pool (skew > 0: max(current, delayed),
    ///         skew < 0: min). What IPerpPool carries as liabilities.
    function unrealisedLiabilities() external view returns (uint256);

    /// @notice [debt wei] traders' net unrealised PnL over all markets, losses counted (signed),
    ///         at the price more favourable to the pool (skew > 0: min(current, delayed), skew < 0:
    ///         max), rounded down: what IPerpPool prices deposits at (its entryAssets).
    function unrealisedNetForEntry() external view returns (int256);

    /// @notice [debt wei] sum of positive margin balances: the debt tokens this contract holds.
    function totalMargin() external view returns (uint256);

    /// @notice [debt wei] sum of what accounts owe (negative margin balances).
    function totalOwed() external view returns (uint256);

    // --- Governance ---

    /// @notice List market `id` (< 16) or change its parameters (not its token); bounds in
    ///         InvalidParameter. Funding is settled first under the old parameters.
    function setMarket(uint8 id, MarketParams calldata params) external;

    /// @notice [wad] <= 1e18.
    function setGainsHaircut(uint256 haircut) external;
}
