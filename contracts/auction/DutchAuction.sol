// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib as FPM} from "solady/utils/FixedPointMathLib.sol";
import {Governed} from "../governance/Governed.sol";
import {AuctionCurves} from "./AuctionCurves.sol";
import {IDutchAuction} from "../../interfaces/IDutchAuction.sol";
import {IUnwindTaker} from "../../interfaces/IUnwindTaker.sol";
import {IVault} from "../../interfaces/IVault.sol";
import {IDebtToken} from "../../interfaces/IDebtToken.sol";
import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {ILiquidityBuffer} from "../../interfaces/ILiquidityBuffer.sol";

/// @title DutchAuction
/// @notice Falling-price auctions of seized collateral. See IDutchAuction.
contract DutchAuction is IDutchAuction, Governed, ReentrancyGuardTransient {
    // --- Constants ---
    uint256 internal constant WAD = 1e18;
    uint256 internal constant RAY = 1e27;
    uint256 internal constant MAX_DISCOUNT = 0.25e18; // [wad]
    uint256 internal constant MAX_RESERVE = 256; // [sales] per `reserve` call (~70k gas each)
    /// @notice Redos of one auction that may pay an incentive (IDutchAuction REDO INCENTIVE).
    uint256 public constant MAX_PAID_REDOS = 3;
    /// @dev The oracle guards under which takes and redos revert `OracleGuarded` (IDutchAuction
    ///      PRICE GUARDS), as a bit set over IOracleAdapter.Guard: NoPrice (1), Frozen (2),
    ///      DelayedStopped (4), SequencerDown (5); None (0), RecoveryGrace (3) and SequencerGrace
    ///      (6) allow them. Tested inline, `(REFUSING_GUARDS >> guard) & 1`, at both places: an
    ///      internal function for it cost the take ~100 gas more (the optimizer's inlining).
    uint256 internal constant REFUSING_GUARDS = 1 << 1 | 1 << 2 | 1 << 4 | 1 << 5;
    bytes32 public constant ENGINE_ROLE = keccak256("ENGINE_ROLE");

    IVault public immutable vault;
    IDebtToken public immutable debtToken;
    ILiquidityBuffer public immutable buffer;

    // --- Storage ---
    /// @dev A sale in three slots (the interface's `Sale` without `token`, which is the
    ///      collateral's and kept once per collateral in `_collaterals`), stored in a pool of
    ///      storage slots that ended sales leave "dirty" for the next kick: writing a used slot
    ///      costs ~5k gas instead of ~22k for a fresh one. `lot == 0` marks a slot free (its other
    ///      fields are stale), and `id` names the auction that holds or last held it, so an ended
    ///      auction's id never reaches the sale that reuses its slot.
    struct StoredSale {
        // slot 0
        uint128 lot; // [token units]
        uint128 tab; // [wad]
        // slot 1
        address owner;
        uint40 startedAt; // [timestamp]
        uint8 collateralId;
        uint32 index; // position in the active list
        uint8 decimals;
        uint8 paidRedos; // redos that paid an incentive, <= MAX_PAID_REDOS
        // slot 2
        uint128 top; // [wad price]
        uint64 id; // kick number << 32 | pool slot
    }

    /// @dev Per collateral, one slot: its token, copied from the vault by `setParams` (a listing
    ///      never changes its token), and the sum of its auctions' tabs (`debtOf`; uint96 holds
    ///      79 billion debt tokens, and a kick checks it).
    struct Collateral {
        address token;
        uint96 debt; // [wad]
    }

    /// @dev What every kick, take and end reads and writes, one slot. `totalDebt` fits: the
    ///      engine kicks only within its global cap (at most type(uint128).max), and a kick checks it.
    struct Counters {
        uint128 totalDebt; // [wad] sum of tabs
        uint32 kicks; // auctions ever started
        uint32 active; // running auctions
        uint8 stopLevel;
        uint32 slots; // pool slots ever used or reserved: 0..slots-1
    }

    /// @dev The sale pool, by slot (see StoredSale).
    mapping(uint256 slot => StoredSale) internal _sales;
    /// @dev A permutation of the pool's slots as uint32, eight to a word: positions
    ///      0..active-1 hold the slots of the running auctions (the active list), positions
    ///      active..slots-1 the free slots, the next kick's first.
    mapping(uint256 word => uint256) internal _activeWords;
    Counters internal _counters;
    /// @dev AuctionParams as stored, two slots: slot 0 holds all a take reads (curve, age limit,
    ///      floor), slot 1 the rest (`buffer`: kick, redo and the no-price fallback; the redo
    ///      incentive). `maxAge` fits uint24: setParams bounds it by 7 days.
    struct TakeParams {
        Curve curve;
        uint32 duration; // [seconds]
        uint96 cut; // [ray]
        uint32 step; // [seconds]
        uint24 maxAge; // [seconds]
        uint64 maxDiscount; // [wad]
    }

    struct StoredParams {
        TakeParams take; // slot 0
        uint64 buffer; // [wad] slot 1
        uint96 redoTip; // [wad]
        uint64 redoChip; // [wad]
    }

    mapping(uint256 collateralId => StoredParams) internal _params;
    mapping(uint256 collateralId => Collateral) internal _collaterals;

    constructor(address admin, IVault vault_, IDebtToken debtToken_, ILiquidityBuffer buffer_)
        Governed(admin)
    {
        if (
            address(vault_) == address(0) || address(debtToken_) == address(0) || address(buffer_) == address(0)
        ) revert ZeroAddress();
        vault = vault_;
        debtToken = debtToken_;
        buffer = buffer_;
    }

    // --- Engine entry point ---

    /// @inheritdoc IDutchAuction
    function kick(
        uint256 collateralId,
        address token,
        uint8 decimals,
        uint256 lot,
        uint256 tab,
        uint256 referencePrice,
        address owner,
        address kicker
    ) external onlyRole(ENGINE_ROLE) nonReentrant returns (uint256 id) {
        uint256 top = _kickTop(collateralId, token, lot, tab, referencePrice);
        id = _open(collateralId, decimals, lot, tab, top, owner);
        Collateral storage c = _collaterals[collateralId];
        c.debt = _toUint96(uint256(c.debt) + tab);
        emit Kick(id, owner, collateralId, lot, tab, top, kicker);
    }

    // --- Capacity ---

    /// @inheritdoc IDutchAuction
    function reserve(uint256 count) external nonReentrant {
        if (count == 0 || count > MAX_RESERVE) revert InvalidParameter("count", count, 1, MAX_RESERVE);
        uint256 first = _counters.slots;
        uint256 end = first + count;
        if (end > type(uint32).max) revert InvalidParameter("count", count, 1, type(uint32).max - first);
        for (uint256 slot = first; slot < end; ++slot) {
            // A free slot (lot 0) with every word non-zero, so a kick pays a dirty write for each;
            // id 0 is no auction's (ids are >= 2**32). Positions past `slots` hold no slot yet:
            // the new free slots go there, in order, where `_open` finds them.
            _sales[slot] = StoredSale({
                lot: 0,
                tab: 1,
                owner: address(0),
                startedAt: 1,
                collateralId: 0,
                index: 0,
                decimals: 0,
                paidRedos: 0,
                top: 1,
                id: 0
            });
            _setActiveAt(slot, slot);
        }
        _counters.slots = uint32(end);
        emit Reserved(msg.sender, count, end);
    }

    // --- Keeper entry points ---

    /// @inheritdoc IDutchAuction
    function take(uint256 id, uint256 amount, uint256 maxPrice, address receiver, bytes calldata data)
        external
        nonReentrant
        returns (uint256 slice, uint256 owe)
    {
        {
            uint256 level = _counters.stopLevel;
            if (level >= 3) revert StopLevel(level);
        }
        if (receiver == address(0)) revert ZeroAddress();
        // Collateral sent to a protocol contract (the auction itself included) would be stranded:
        // none of them credits tokens it receives outside its own flows.
        if (
            receiver == address(vault) || receiver == address(debtToken) || receiver == address(buffer)
                || receiver == address(this)
        ) revert ForbiddenReceiver(receiver);
        (StoredSale storage s, StoredSale memory sale) = _running(id);
        address token = _collaterals[sale.collateralId].token;
        uint256 price = _takePrice(id, sale, token, maxPrice);
        (slice, owe) = _sizeTake(sale, amount, price);

        uint256 lot = sale.lot - slice;
        uint256 tab = sale.tab - owe;
        // One write: a sale that ends here frees its slot (lot 0), keeping a non-zero tab so the
        // slot stays dirty for the next kick; the leftover or shortfall is settled below.
        if (tab == 0 || lot == 0) (s.lot, s.tab) = (0, uint128(sale.tab));
        else (s.lot, s.tab) = (uint128(lot), uint128(tab));
        _counters.totalDebt -= uint128(owe); // owe <= tab <= totalDebt
        _collaterals[sale.collateralId].debt -= uint96(owe); // owe <= tab <= debt

        if (slice > 0) vault.releaseCollateral(sale.collateralId, receiver, slice); // the vault keeps the lot
        if (data.length > 0) {
            IUnwindTaker(receiver).onUnwindTake(msg.sender, token, slice, owe, data);
        }
        debtToken.burn(msg.sender, owe);
        emit Take(id, msg.sender, price, slice, owe, tab, lot);

        if (tab == 0) {
            if (lot > 0) vault.returnCollateral(sale.owner, sale.collateralId, lot);
            _end(id, sale, lot, 0);
        } else if (lot == 0) {
            _counters.totalDebt -= uint128(tab);
            _collaterals[sale.collateralId].debt -= uint96(tab);
            _end(id, sale, 0, tab);
            buffer.absorb(id, tab);
        }
    }

    /// @inheritdoc IDutchAuction
    function redo(uint256 id, address keeper) external nonReentrant {
        uint256 level = _counters.stopLevel;
        if (level >= 2) revert StopLevel(level);
        if (keeper == address(0)) revert ZeroAddress();
        (StoredSale storage s, StoredSale memory sale) = _running(id);
        address token = _collaterals[sale.collateralId].token;
        AuctionParams memory p = _allParams(sale.collateralId);
        // One oracle read: the update's quote is what a peek in this block returns, so the redo
        // check and the restart price come from the same evaluation.
        IOracleAdapter.Quote memory q = _oracle().update(token);
        // A price the auction may trade on (PRICE GUARDS): live, so auctionStartPrice > 0.
        if ((REFUSING_GUARDS >> uint8(q.guard)) & 1 != 0) revert OracleGuarded(token, q.guard);
        (bool needsRedo,) = _status(sale, p, q.auctionStartPrice);
        if (!needsRedo) revert AuctionDoesNotNeedRedo(id);

        // Pay for the restart only when the auction is worth restarting (Maker's chost rule), and
        // for at most MAX_PAID_REDOS restarts of one auction (an auction that cannot clear must
        // not mint an incentive every maxAge for ever).
        uint256 incentive;
        uint256 paid = sale.paidRedos;
        if (paid < MAX_PAID_REDOS) {
            uint256 dust = vault.dust();
            uint256 lotValue = FPM.fullMulDiv(sale.lot, q.current, 10 ** sale.decimals);
            if (sale.tab >= dust && lotValue >= dust) {
                incentive = p.redoTip + FPM.mulDiv(sale.tab, p.redoChip, WAD);
                if (incentive > 0) ++paid;
            }
        }
        uint256 top = FPM.mulDivUp(q.auctionStartPrice, p.buffer, WAD);
        s.top = _toUint128(top);
        (s.startedAt, s.paidRedos) = (uint40(block.timestamp), uint8(paid));
        if (incentive > 0) buffer.pay(keeper, incentive);
        emit Redo(id, keeper, top, incentive);
    }

    // --- Views ---

    /// @inheritdoc IDutchAuction
    function oracle() external view returns (IOracleAdapter) {
        return _oracle();
    }

    /// @inheritdoc IDutchAuction
    function list() external view returns (uint256[] memory ids) {
        uint256 n = _counters.active;
        ids = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = _sales[_activeAt(i)].id;
        }
    }

    /// @inheritdoc IDutchAuction
    function debtOf(uint256 collateralId) external view returns (uint256) {
        return _collaterals[collateralId].debt;
    }

    /// @inheritdoc IDutchAuction
    function totalDebt() external view returns (uint256) {
        return _counters.totalDebt;
    }

    /// @inheritdoc IDutchAuction
    function count() external view returns (uint256) {
        return _counters.active;
    }

    /// @inheritdoc IDutchAuction
    function poolSize() external view returns (uint256) {
        return _counters.slots;
    }

    /// @notice Auctions ever started (each id's kick number, `id >> 32`, is 1..kicks).
    function kicks() external view returns (uint256) {
        return _counters.kicks;
    }

    /// @inheritdoc IDutchAuction
    function stopLevel() external view returns (uint256) {
        return _counters.stopLevel;
    }

    /// @inheritdoc IDutchAuction
    function getStatus(uint256 id) external view returns (bool needsRedo, uint256 price, uint256 lot, uint256 tab) {
        StoredSale memory sale = _sales[uint32(id)];
        if (sale.lot == 0 || sale.id != id) return (false, 0, 0, 0);
        AuctionParams memory p = _takeParams(sale.collateralId);
        (needsRedo, price) =
            _status(sale, p, _oracle().peek(_collaterals[sale.collateralId].token).auctionStartPrice);
        return (needsRedo, price, sale.lot, sale.tab);
    }

    /// @inheritdoc IDutchAuction
    function sales(uint256 id) external view returns (Sale memory) {
        StoredSale memory s = _sales[uint32(id)];
        if (s.lot == 0 || s.id != id) return Sale(0, 0, address(0), 0, 0, 0, 0, address(0), 0, 0);
        return Sale({
            lot: s.lot,
            tab: s.tab,
            owner: s.owner,
            startedAt: s.startedAt,
            collateralId: s.collateralId,
            index: s.index,
            decimals: s.decimals,
            token: _collaterals[s.collateralId].token,
            top: s.top,
            paidRedos: s.paidRedos
        });
    }

    /// @inheritdoc IDutchAuction
    function params(uint256 collateralId) external view returns (AuctionParams memory) {
        return _allParams(collateralId);
    }

    // --- Governance ---

    /// @inheritdoc IDutchAuction
    function setParams(uint256 collateralId, AuctionParams calldata p) external onlyGovernorOrRisk {
        if (collateralId >= vault.collateralCount()) revert UnknownCollateral(collateralId);
        IVault.CollateralConfig memory c = vault.collateral(collateralId);
        if (p.buffer < WAD || p.buffer > 2 * WAD) revert InvalidParameter("buffer", p.buffer, WAD, 2 * WAD);
        if (p.curve == Curve.Linear) {
            if (p.duration < 60 || p.duration > 7 days) revert InvalidParameter("duration", p.duration, 60, 7 days);
        } else if (p.curve == Curve.Exponential) {
            if (p.cut < 0.99e27 || p.cut >= RAY) revert InvalidParameter("cut", p.cut, 0.99e27, RAY - 1);
        } else {
            if (p.cut < 0.5e27 || p.cut >= RAY) revert InvalidParameter("cut", p.cut, 0.5e27, RAY - 1);
            if (p.step == 0 || p.step > 1 hours) revert InvalidParameter("step", p.step, 1, 1 hours);
        }
        if (p.maxAge < 60 || p.maxAge > 7 days) revert InvalidParameter("maxAge", p.maxAge, 60, 7 days);
        if (p.maxDiscount == 0 || p.maxDiscount > MAX_DISCOUNT) {
            revert InvalidParameter("maxDiscount", p.maxDiscount, 1, MAX_DISCOUNT);
        }
        if (p.redoTip > 10_000e18) revert InvalidParameter("redoTip", p.redoTip, 0, 10_000e18);
        if (p.redoChip > 0.01e18) revert InvalidParameter("redoChip", p.redoChip, 0, 0.01e18);
        _params[collateralId] = StoredParams({
            take: TakeParams({
                curve: p.curve,
                duration: p.duration,
                cut: p.cut,
                step: p.step,
                maxAge: uint24(p.maxAge), // <= 7 days, checked above
                maxDiscount: p.maxDiscount
            }),
            buffer: p.buffer,
            redoTip: p.redoTip,
            redoChip: p.redoChip
        });
        _collaterals[collateralId].token = c.token;
        emit AuctionParamsSet(collateralId, p);
    }

    /// @inheritdoc IDutchAuction
    function setStopLevel(uint256 level) external {
        if (level > 3) revert InvalidParameter("stopLevel", level, 0, 3);
        bool governor = hasRole(GOVERNOR_ROLE, msg.sender);
        if (!governor) {
            // The guardian may only stop more, never resume.
            _checkRole(GUARDIAN_ROLE);
            uint256 current = _counters.stopLevel;
            if (level < current) revert InvalidParameter("stopLevel", level, current, 3);
        }
        _counters.stopLevel = uint8(level);
        emit StopLevelSet(level);
    }

    // --- Internal ---

    /// @dev Current curve price, and whether the auction must be restarted first: too old, or
    ///      priced below the floor `reference * (1 - maxDiscount)`. `ref` is the oracle's
    ///      auctionStartPrice now: max(current, delayed), so one depressed round cannot lower the
    ///      floor before it is confirmed. `p` may come from `_takeParams` (buffer 0): the
    ///      no-price fallback reads the buffer itself.
    function _status(StoredSale memory sale, AuctionParams memory p, uint256 ref)
        internal
        view
        returns (bool needsRedo, uint256 price)
    {
        uint256 elapsed = block.timestamp - sale.startedAt;
        price = AuctionCurves.price(p, sale.top, elapsed);
        if (ref == 0) ref = FPM.mulDiv(sale.top, WAD, _params[sale.collateralId].buffer);
        uint256 floor = FPM.mulDivUp(ref, WAD - p.maxDiscount, WAD);
        needsRedo = elapsed > p.maxAge || price < floor;
    }

    /// @dev The price a take pays now; reverts when the oracle guards the collateral
    ///      (REFUSING_GUARDS), the auction needs a redo or it costs more than `maxPrice`. One
    ///      oracle read serves the guard and the floor.
    function _takePrice(uint256 id, StoredSale memory sale, address token, uint256 maxPrice)
        internal
        view
        returns (uint256 price)
    {
        IOracleAdapter.Quote memory q = _oracle().peek(token);
        if ((REFUSING_GUARDS >> uint8(q.guard)) & 1 != 0) revert OracleGuarded(token, q.guard);
        bool needsRedo;
        (needsRedo, price) = _status(sale, _takeParams(sale.collateralId), q.auctionStartPrice);
        if (needsRedo) revert AuctionNeedsRedo(id);
        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);
    }

    /// @dev What a take reads of a collateral's parameters: TakeParams, one SLOAD, unpacked by
    ///      hand from Solidity's packing of the struct (members from the low-order bits up: curve
    ///      8, duration 32, cut 96, step 32, maxAge 24, maxDiscount 64 bits); the compiler's own
    ///      copy costs ~1.3k more. buffer, redoTip and redoChip are left 0.
    function _takeParams(uint256 collateralId) internal view returns (AuctionParams memory p) {
        TakeParams storage t = _params[collateralId].take;
        uint256 word;
        assembly ("memory-safe") {
            word := sload(t.slot)
        }
        p.curve = Curve(uint8(word));
        p.duration = uint32(word >> 8);
        p.cut = uint96(word >> 40);
        p.step = uint32(word >> 136);
        p.maxAge = uint24(word >> 168);
        p.maxDiscount = uint64(word >> 192);
    }

    function _allParams(uint256 collateralId) internal view returns (AuctionParams memory p) {
        p = _takeParams(collateralId);
        StoredParams storage s = _params[collateralId];
        (p.buffer, p.redoTip, p.redoChip) = (s.buffer, s.redoTip, s.redoChip);
    }

    function _oracle() internal view returns (IOracleAdapter) {
        return vault.oracle();
    }

    /// @dev How much collateral a take of up to `amount` buys at `price`, and what it costs.
    function _sizeTake(StoredSale memory sale, uint256 amount, uint256 price)
        internal
        view
        returns (uint256 slice, uint256 owe)
    {
        uint256 lot = sale.lot;
        uint256 tab = sale.tab;
        uint256 scale = 10 ** sale.decimals;
        slice = amount < lot ? amount : lot;
        if (slice == 0) revert ZeroAmount();
        owe = FPM.mulDivUp(slice, price, scale); // the taker pays at least the curve price
        if (owe >= tab) {
            // Buying more than the tab needs: sell only what covers it, rounded down. That is no
            // collateral at all when the tab is worth less than one unit at this price: the tab is
            // then paid off for nothing and the whole lot goes back to the owner, so an auction
            // whose tab fell below one unit's price (dust 0, coarse tokens) cannot get stuck.
            owe = tab;
            slice = FPM.fullMulDiv(tab, scale, price);
            if (slice > lot) slice = lot;
            return (slice, owe);
        } else if (slice < lot) {
            uint256 dust = vault.dust();
            if (tab - owe < dust) {
                // Never leave a tab too small to be worth taking: trim this take.
                if (tab <= dust) revert DustLeft(tab - owe, dust);
                slice = FPM.fullMulDiv(tab - dust, scale, price);
                owe = FPM.mulDivUp(slice, price, scale);
            }
        }
        if (slice == 0) revert ZeroAmount();
    }

    /// @dev Take a sale off the active list; its slot (already marked free by `lot == 0`) is
    ///      parked just past the list's new end, where the next kick takes it.
    function _end(uint256 id, StoredSale memory sale, uint256 leftover, uint256 shortfall) internal {
        uint256 lastIndex = _counters.active - 1;
        if (sale.index != lastIndex) {
            uint256 lastSlot = _activeAt(lastIndex);
            _setActiveAt(sale.index, lastSlot);
            _setActiveAt(lastIndex, uint32(id));
            _sales[lastSlot].index = sale.index;
        }
        _counters.active = uint32(lastIndex);
        emit AuctionEnded(id, leftover, shortfall);
    }

    /// @dev The running sale `id` (its slot is the id's low 32 bits); reverts when it has ended
    ///      or never existed.
    function _running(uint256 id) internal view returns (StoredSale storage s, StoredSale memory sale) {
        s = _sales[uint32(id)];
        sale = s;
        if (sale.lot == 0 || sale.id != id) revert AuctionNotRunning(id);
    }

    /// @dev The checks of a kick, in the interface's order; the auction's starting price.
    function _kickTop(
        uint256 collateralId,
        address token,
        uint256 lot,
        uint256 tab,
        uint256 referencePrice
    ) internal view returns (uint256) {
        uint256 level = _counters.stopLevel;
        if (level >= 1) revert StopLevel(level);
        if (lot == 0 || tab == 0) revert ZeroAmount();
        uint256 buf = _params[collateralId].buffer;
        if (buf == 0) revert UnknownCollateral(collateralId);
        if (_collaterals[collateralId].token != token) revert UnknownCollateral(collateralId);
        if (referencePrice == 0) revert NoPrice(token);
        return FPM.mulDivUp(referencePrice, buf, WAD);
    }

    /// @dev Store a new sale in a free slot of the pool (a fresh one when none is free) and
    ///      append it to the active list. Its id: the kick number << 32 | the slot.
    function _open(uint256 collateralId, uint8 decimals, uint256 lot, uint256 tab, uint256 top, address owner)
        internal
        returns (uint256 id)
    {
        Counters memory n = _counters;
        if (n.kicks == type(uint32).max) revert InvalidParameter("kicks", n.kicks, 0, type(uint32).max - 1);
        uint256 slot;
        if (n.active < n.slots) {
            slot = _activeAt(n.active); // a free slot, parked at the list's end by `_end`
            // Never overwrite a running sale (free for nothing: the read warms the slot the
            // write below then pays less for).
            assert(_sales[slot].lot == 0);
        } else {
            slot = n.slots; // all in use (active == slots <= kicks < 2**32): a fresh one
            _setActiveAt(n.active, slot);
            ++n.slots;
        }
        id = (uint256(n.kicks) + 1) << 32 | slot;
        _sales[slot] = StoredSale({
            lot: _toUint128(lot),
            tab: _toUint128(tab),
            owner: owner,
            startedAt: uint40(block.timestamp),
            collateralId: uint8(collateralId),
            index: n.active,
            decimals: decimals,
            paidRedos: 0,
            top: _toUint128(top),
            id: uint64(id)
        });
        _counters = Counters({
            totalDebt: _toUint128(uint256(n.totalDebt) + tab),
            kicks: n.kicks + 1,
            active: n.active + 1,
            stopLevel: n.stopLevel,
            slots: n.slots
        });
    }

    function _activeAt(uint256 i) internal view returns (uint256) {
        return uint32(_activeWords[i >> 3] >> ((i & 7) << 5));
    }

    function _setActiveAt(uint256 i, uint256 id) internal {
        uint256 shift = (i & 7) << 5;
        uint256 word = _activeWords[i >> 3];
        _activeWords[i >> 3] = (word & ~(uint256(type(uint32).max) << shift)) | (id << shift);
    }

    function _toUint96(uint256 x) internal pure returns (uint96) {
        if (x > type(uint96).max) revert InvalidParameter("uint96", x, 0, type(uint96).max);
        return uint96(x);
    }

    function _toUint128(uint256 x) internal pure returns (uint128) {
        if (x > type(uint128).max) revert InvalidParameter("uint128", x, 0, type(uint128).max);
        return uint128(x);
    }
}
