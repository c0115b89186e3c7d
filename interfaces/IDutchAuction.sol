// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOracleAdapter} from "./IOracleAdapter.sol";

/// @title Unwind Dutch auction
/// @notice Sells collateral seized by the liquidation engine for debt tokens, at a price that
///         starts high and falls over time, so keepers compete on price without an English
///         auction's bidding war (Black Thursday 2020: congested English auctions sold about
///         $8.3M of ETH for 0 DAI).
///
///         PRICE. An auction starts at `top = oracle.auctionStartPrice(token) * buffer` (the
///         larger of the current and the delayed price, so a depressed price never sets the start)
///         and falls by the collateral's curve: LINEAR to zero over `duration`, EXPONENTIAL by the
///         factor `cut` every second, or STAIRSTEP (`cut` every `step` seconds). Prices are WAD
///         debt wei per whole collateral token.
///
///         FLOOR. No collateral is ever sold below `reference * (1 - maxDiscount)`, where
///         `reference` is the oracle's max(current, delayed) price at the time of the take
///         (maxDiscount <= 25%; default 20%), so a single depressed round cannot lower the floor
///         before the delayed price confirms it (scenario 12). When the curve falls below that
///         floor, or the auction is older than `maxAge`, the auction needs a `redo`: anyone may
///         restart it from the current reference and earn the redo incentive (REDO INCENTIVE).
///         When the oracle has no accepted price, `getStatus` takes the floor as
///         `top / buffer * (1 - maxDiscount)`, the reference the auction started from (takes and
///         redo are refused then: PRICE GUARDS).
///
///         PRICE GUARDS. A take or a redo needs a price the oracle serves live. Both revert
///         `OracleGuarded(token, guard)` while the collateral's guard (IOracleAdapter.Guard, as
///         `peek`/`update` report it in that transaction) is:
///         - NoPrice or Frozen: the floor's reference would be the auction's own start or the last
///           good price, which can be far from the market (after an upward jump that froze the
///           adapter, an auction kept selling at the old floor, below the market);
///         - DelayedStopped: the guardian stopped the delayed feed because it suspects the price;
///         - SequencerDown: the L2's feeds stop updating (their last rounds may still look fresh)
///           and only transactions forced in through L1 could bid on the falling curve.
///         They are allowed with guard None and during the two grace periods (RecoveryGrace,
///         SequencerGrace): the price is live then, and the graces let borrowers act before
///         liquidations, which does not concern collateral already seized. The adapter reports
///         the guard of highest priority (NoPrice > Frozen > DelayedStopped > SequencerDown >
///         SequencerGrace > RecoveryGrace), so a refusing guard is never hidden behind a grace.
///         A refusal never ends or changes an auction: its curve goes on with time, and once the
///         guard lifts takes resume against the floor of that moment; an auction that fell below
///         it, or outlived maxAge, meanwhile is restarted by `redo`, which is allowed again then.
///         The stop levels still apply on top. Maker's Clipper refuses `kick` and `redo` on an
///         invalid price; here the floor of every take reads the oracle, so takes are refused too.
///         `getStatus` reports the curve, not the guard: read `oracle().peek(token).guard`.
///
///         REDO INCENTIVE. A redo pays `keeper` `redoTip + floor(tab * redoChip)` (the parameters
///         and the tab at that redo) from the buffer, which records bad debt beyond its surplus,
///         when the tab and the lot's value at the current price are both at least the vault's
///         dust floor (Maker's chost rule), and only for the first MAX_PAID_REDOS = 3 redos of an
///         auction that pay (a public constant of DutchAuction; `sales(id).paidRedos` counts
///         them). Later redos are allowed (an auction can always be restarted) and pay 0. So one
///         auction pays at most `MAX_PAID_REDOS * (redoTip + redoChip * tab)` in redo incentives
///         over its life (tab at the kick, the largest it has; parameters as in force at each
///         redo, so at their bounds 3 x (10,000 + 1% of tab) debt tokens).
///         Why a count: an auction whose floor stays above the market (a depegged LST, the debt
///         token above par) needs a redo every maxAge and would otherwise mint the incentive for
///         ever; "no incentive when the start price did not change" alone would not bound it,
///         since the reference moves a little between redos. An auction that can clear needs few
///         restarts, and a keeper that means to buy an auction can restart it itself.
///
///         TAKE. `take(id, amount, maxPrice, receiver, data)` buys up to `amount` collateral at the
///         current price if it is <= maxPrice. The taker pays `owe = ceil(slice * price)`. A take
///         never leaves a tab below the vault's dust floor: it is trimmed so the rest is 0 or at
///         least `dust`. When the tab is paid, the collateral left returns to its owner's vault
///         position; when the collateral runs out first, the buffer absorbs the shortfall (and
///         records bad debt beyond its surplus).
///
///         CIRCUIT BREAKER. `stopLevel`: 0 all on, 1 no new auctions, 2 no new auctions and no
///         redo, 3 nothing (no takes either).
///
///         IDS. Every kick returns a new id: unique, larger than every id before it, but not
///         consecutive (`id >> 32` is the kick's number, 1, 2, ...; the low 32 bits name the
///         storage slot of the sale, which a later kick reuses once the auction has ended). An
///         ended auction's id stays dead: `take` and `redo` revert `AuctionNotRunning`, `sales`
///         and `getStatus` return zeros.
///
///         CAPACITY. A sale lives in a pool of storage slots. A kick that finds no free slot pays
///         for fresh storage (~60k gas more than one that reuses a slot). `reserve(count)` lets
///         anyone pre-pay that storage in calm times, so the liquidations of a crash, when gas is
///         dearest and the number of running auctions peaks, reuse slots instead (the deploy script
///         reserves `liquidation.auction_reserve` of them). A reserved slot holds no auction.
///
///         ACCOUNTING. `totalDebt()` (sum of tabs) is the auction term of the identity in
///         ILiquidityBuffer; `debtOf(collateralId)` feeds the engine's caps.
interface IDutchAuction {
    // --- Types ---

    enum Curve {
        Linear,
        Exponential,
        Stairstep
    }

    struct AuctionParams {
        Curve curve;
        uint64 buffer; // [wad] start price over the reference, >= 1
        uint32 duration; // [seconds] Linear: time to fall to zero
        uint96 cut; // [ray] Exponential/Stairstep: price multiplier per second/step, < 1
        uint32 step; // [seconds] Stairstep: length of a step
        uint32 maxAge; // [seconds] older auctions need a redo
        uint64 maxDiscount; // [wad] floor below the current reference price, <= 0.25
        uint96 redoTip; // [wad] flat redo incentive
        uint64 redoChip; // [wad] redo incentive as a share of the tab
    }

    /// @notice One running auction.
    struct Sale {
        uint128 lot; // [token units] collateral left to sell
        uint128 tab; // [wad] debt tokens left to raise (principal + penalty)
        address owner; // the liquidated account: leftovers go back to it
        uint40 startedAt; // [timestamp] start or last redo
        uint8 collateralId;
        uint32 index; // position in the active list
        uint8 decimals; // of the collateral token
        address token;
        uint128 top; // [wad price] starting price
        uint8 paidRedos; // redos that paid an incentive, <= MAX_PAID_REDOS (REDO INCENTIVE)
    }

    // --- Errors ---

    error AuctionNotRunning(uint256 id);
    error AuctionNeedsRedo(uint256 id);
    error AuctionDoesNotNeedRedo(uint256 id);
    error PriceAboveMax(uint256 price, uint256 maxPrice);
    error StopLevel(uint256 level);
    error InvalidParameter(string name, uint256 value, uint256 min, uint256 max);
    error UnknownCollateral(uint256 id);
    error ZeroAddress();
    error ZeroAmount();
    error NoPrice(address token);
    error ForbiddenReceiver(address receiver);
    error DustLeft(uint256 remainingTab, uint256 dust);
    /// @notice `take`/`redo`: the oracle guards `token` (PRICE GUARDS). The same error, selector
    ///         included, as ILiquidationEngine's.
    error OracleGuarded(address token, IOracleAdapter.Guard guard);

    // --- Events ---

    event Kick(
        uint256 indexed id,
        address indexed owner,
        uint256 indexed collateralId,
        uint256 lot,
        uint256 tab,
        uint256 top,
        address kicker
    );
    event Take(
        uint256 indexed id, address indexed taker, uint256 price, uint256 slice, uint256 owe, uint256 tab, uint256 lot
    );
    event Redo(uint256 indexed id, address indexed keeper, uint256 top, uint256 incentive);
    event AuctionEnded(uint256 indexed id, uint256 leftover, uint256 shortfall);
    event AuctionParamsSet(uint256 indexed collateralId, AuctionParams params);
    event StopLevelSet(uint256 level);
    event Reserved(address indexed payer, uint256 count, uint256 poolSize);

    // --- Keeper entry points ---

    /// @notice Buy up to `amount` of auction `id`'s collateral at the current price, if it is at
    ///         most `maxPrice`. Collateral goes to `receiver`; with non-empty `data`,
    ///         `receiver.onUnwindTake` is called before payment is collected from the caller.
    ///         A take that covers the tab buys what the tab pays for, rounded down: when the tab
    ///         is worth less than one unit of collateral at the current price that is nothing, the
    ///         taker pays the tab, gets no collateral, and the whole lot returns to the owner (an
    ///         auction can always be ended). A take the dust rule trims to no collateral reverts
    ///         `ZeroAmount`: take the whole lot instead. Reverts `OracleGuarded` while the oracle
    ///         guards the collateral (PRICE GUARDS).
    /// @return slice collateral bought [token units]
    /// @return owe debt tokens paid [wad]
    function take(uint256 id, uint256 amount, uint256 maxPrice, address receiver, bytes calldata data)
        external
        returns (uint256 slice, uint256 owe);

    /// @notice Restart an auction that is older than maxAge or whose price fell below the floor,
    ///         from the current reference price; pays `keeper` the redo incentive from the buffer
    ///         when the auction is not dust and has not paid MAX_PAID_REDOS of them yet (REDO
    ///         INCENTIVE). Reverts `OracleGuarded` while the oracle guards the collateral (PRICE
    ///         GUARDS), before checking that the auction needs a redo.
    function redo(uint256 id, address keeper) external;

    /// @notice Anyone: pre-pay the storage of `count` more sales (1..256 per call), so that
    ///         many more auctions can run at once before a kick pays for fresh storage. Changes
    ///         no auction, price or balance; reverts `InvalidParameter("count", ...)` out of range.
    function reserve(uint256 count) external;

    // --- Engine entry point ---

    /// @notice Engine-only: start an auction for `lot` of collateral `collateralId` (already
    ///         confiscated: the vault keeps it in its auction custody and sends each take's slice
    ///         straight to the taker's receiver) to raise `tab` for `owner`, starting at `referencePrice * buffer`
    ///         (the engine passes the oracle's auctionStartPrice). Returns the auction id.
    function kick(
        uint256 collateralId,
        address token,
        uint8 decimals,
        uint256 lot,
        uint256 tab,
        uint256 referencePrice,
        address owner,
        address kicker
    ) external returns (uint256 id);

    // --- Views ---

    /// @notice Ids of running auctions (keeper view).
    function list() external view returns (uint256[] memory);

    /// @notice Number of running auctions.
    function count() external view returns (uint256);

    /// @notice Status of auction `id`: whether it needs a redo, its current price, lot and tab.
    function getStatus(uint256 id) external view returns (bool needsRedo, uint256 price, uint256 lot, uint256 tab);

    function sales(uint256 id) external view returns (Sale memory);

    /// @notice Sum of the tabs of running auctions [wad].
    function totalDebt() external view returns (uint256);

    /// @notice Sum of the tabs of running auctions of one collateral [wad].
    function debtOf(uint256 collateralId) external view returns (uint256);

    function params(uint256 collateralId) external view returns (AuctionParams memory);

    function stopLevel() external view returns (uint256);

    /// @notice Sales the pool can hold without a kick paying for fresh storage: slots ever used
    ///         or reserved (running auctions included).
    function poolSize() external view returns (uint256);

    /// @notice The vault's oracle: one pointer for the whole system, so `vault.setOracle` moves the
    ///         auction's floor and restart prices too.
    function oracle() external view returns (IOracleAdapter);

    // --- Governance ---

    function setParams(uint256 collateralId, AuctionParams calldata p) external;

    /// @notice Guardian: raise the stop level at once. Governance: set any level.
    function setStopLevel(uint256 level) external;
}
