// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib as FPM} from "solady/utils/FixedPointMathLib.sol";
import {Governed} from "../governance/Governed.sol";
import {ILiquidationEngine} from "../../interfaces/ILiquidationEngine.sol";
import {IVault} from "../../interfaces/IVault.sol";
import {IDutchAuction} from "../../interfaces/IDutchAuction.sol";
import {IDebtToken} from "../../interfaces/IDebtToken.sol";
import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";

/// @title LiquidationEngine
/// @notice Partial, dust-safe, capped liquidations that hand collateral to Dutch auctions.
///         See ILiquidationEngine for the rules.
contract LiquidationEngine is ILiquidationEngine, Governed, ReentrancyGuardTransient {
    // --- Constants ---
    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_TARGET_HEALTH = 2e18; // [wad]
    uint256 internal constant MAX_LOT_MARGIN = 0.25e18; // [wad]
    uint256 internal constant MAX_UNPAUSE_GRACE = 1 days;

    /// @dev Why a planned liquidation cannot go ahead (batch skips these instead of reverting).
    enum Block {
        None,
        Healthy,
        Guarded,
        Cap
    }

    /// @dev An account as the planner sees it, and the queue's room as the plan takes it up.
    struct Book {
        uint256 debt; // [wad]
        uint256 dust; // [wad] the vault's
        IVault.HeldCollateral[] held;
        uint256[] values; // [wad] value of each held collateral at its sizing price (_sizingPrice), 0 if guarded
        IOracleAdapter.Quote[] quotes;
        Config c;
        uint256 guardedValue; // [wad] guarded holdings at their last accepted price (never seized)
        uint256 globalRoom; // [wad] tabs the global cap still takes
        uint256 capId; // 1 + the first collateral id whose room bound the plan; 0 when none did
        bool capped; // planning within the caps (the plan without them did not fit)
        bool full; // the plan without the caps is a full liquidation (_seizeAll)
    }

    IVault public immutable vault;
    IDutchAuction public immutable auction;
    IDebtToken public immutable debtToken;
    address public immutable buffer;

    /// @dev The parameters every liquidation reads, in two slots (bounds: see the setters).
    struct Config {
        // slot 0
        uint64 targetHealth; // [wad] <= 2e18
        uint64 lotMargin; // [wad] <= 0.25e18
        uint64 chip; // [wad] <= the smallest penalty <= 0.25e18
        uint40 resumeAt; // [timestamp]
        bool paused;
        // slot 1
        uint128 tip; // [wad] <= smallest penalty * dust <= 0.25 * 1e6 wad
        uint128 globalCap; // [wad]
    }

    // --- Storage ---
    Config internal _config;
    mapping(uint256 id => uint256) public override collateralCap; // [wad]
    uint256 public override unpauseGrace; // [seconds]

    constructor(address admin, IVault vault_, IDutchAuction auction_, IDebtToken debtToken_, address buffer_)
        Governed(admin)
    {
        if (
            address(vault_) == address(0) || address(auction_) == address(0) || address(debtToken_) == address(0)
                || buffer_ == address(0)
        ) revert ZeroAddress();
        vault = vault_;
        auction = auction_;
        debtToken = debtToken_;
        buffer = buffer_;
        _config.targetHealth = 1.25e18;
        _config.lotMargin = 0.05e18;
        unpauseGrace = 30 minutes;
    }

    // --- Entry points ---

    /// @inheritdoc ILiquidationEngine
    function liquidate(address account, address keeper)
        external
        nonReentrant
        returns (uint256 debtClosed, uint256[] memory auctionIds)
    {
        (Config memory c, IOracleAdapter oracle, uint256 dust) = _checkOpen();
        if (keeper == address(0)) revert ZeroAddress();
        uint256 penalty;
        uint256 incentive;
        (debtClosed, penalty, incentive, auctionIds) = _liquidate(account, keeper, true, oracle, dust, c);
        _payOut(keeper, penalty, incentive);
    }

    /// @inheritdoc ILiquidationEngine
    function liquidateBatch(address[] calldata accounts, address keeper)
        external
        nonReentrant
        returns (uint256 liquidated)
    {
        (Config memory c, IOracleAdapter oracle, uint256 dust) = _checkOpen();
        if (keeper == address(0)) revert ZeroAddress();
        uint256 penalties;
        uint256 incentives;
        for (uint256 i; i < accounts.length; ++i) {
            (uint256 closed, uint256 penalty, uint256 incentive,) =
                _liquidate(accounts[i], keeper, false, oracle, dust, c);
            if (closed > 0) {
                ++liquidated;
                penalties += penalty;
                incentives += incentive;
            }
        }
        _payOut(keeper, penalties, incentives);
    }

    // --- Views ---

    /// @inheritdoc ILiquidationEngine
    function liquidationGate() external view returns (bool, uint256, uint256) {
        Config memory c = _config;
        return (c.paused, c.resumeAt, c.targetHealth);
    }

    /// @inheritdoc ILiquidationEngine
    function previewLiquidate(address account) external view returns (Preview memory p) {
        Book memory b = _peekBook(account);
        (p,,) = _plan(b.debt, b.held, b.quotes, b.dust, b.c);
    }

    /// @dev The account as a preview sees it: debt, holdings and quotes without updating anything.
    function _peekBook(address account) internal view returns (Book memory b) {
        IOracleAdapter oracle;
        (, oracle, b.dust) = vault.riskState();
        (b.c, b.debt, b.held) = (_config, vault.debtOf(account), vault.heldCollateral(account));
        b.quotes = new IOracleAdapter.Quote[](b.held.length);
        for (uint256 i; i < b.held.length; ++i) {
            b.quotes[i] = oracle.peek(b.held[i].token);
        }
    }

    /// @inheritdoc ILiquidationEngine
    function targetHealth() external view returns (uint256) {
        return _config.targetHealth;
    }

    /// @inheritdoc ILiquidationEngine
    function lotMargin() external view returns (uint256) {
        return _config.lotMargin;
    }

    /// @inheritdoc ILiquidationEngine
    function tip() external view returns (uint256) {
        return _config.tip;
    }

    /// @inheritdoc ILiquidationEngine
    function chip() external view returns (uint256) {
        return _config.chip;
    }

    /// @inheritdoc ILiquidationEngine
    function globalCap() external view returns (uint256) {
        return _config.globalCap;
    }

    /// @inheritdoc ILiquidationEngine
    function paused() external view returns (bool) {
        return _config.paused;
    }

    /// @inheritdoc ILiquidationEngine
    function resumeAt() external view returns (uint256) {
        return _config.resumeAt;
    }

    // --- Governance ---

    /// @inheritdoc ILiquidationEngine
    function setTargetHealth(uint256 target) external onlyRole(GOVERNOR_ROLE) {
        if (target <= WAD || target > MAX_TARGET_HEALTH) {
            revert InvalidParameter("targetHealth", target, WAD + 1, MAX_TARGET_HEALTH);
        }
        _config.targetHealth = uint64(target);
        emit ParameterSet("targetHealth", 0, target);
    }

    /// @inheritdoc ILiquidationEngine
    function setLotMargin(uint256 margin) external onlyRole(GOVERNOR_ROLE) {
        if (margin > MAX_LOT_MARGIN) revert InvalidParameter("lotMargin", margin, 0, MAX_LOT_MARGIN);
        _config.lotMargin = uint64(margin);
        emit ParameterSet("lotMargin", 0, margin);
    }

    /// @inheritdoc ILiquidationEngine
    function setIncentive(uint256 tip_, uint256 chip_) external onlyGovernorOrRisk {
        uint256 dust = vault.dust();
        uint256 n = vault.collateralCount();
        uint256 minPenalty = type(uint256).max;
        for (uint256 i; i < n; ++i) {
            uint256 pen = vault.collateral(i).penalty;
            if (pen < minPenalty) minPenalty = pen;
        }
        if (n == 0) minPenalty = 0;
        // On a dust-sized liquidation the incentive must not exceed the penalty.
        uint256 maxAtDust = FPM.mulDiv(minPenalty, dust, WAD);
        if (chip_ > minPenalty) revert InvalidParameter("chip", chip_, 0, minPenalty);
        uint256 atDust = tip_ + FPM.mulDivUp(chip_, dust, WAD);
        if (atDust > maxAtDust) revert InvalidParameter("tip+chip*dust", atDust, 0, maxAtDust);
        // Both fit: chip_ <= minPenalty <= MAX_PENALTY (0.25e18) and tip_ <= minPenalty * dust.
        _config.tip = uint128(tip_);
        _config.chip = uint64(chip_);
        emit ParameterSet("tip", 0, tip_);
        emit ParameterSet("chip", 0, chip_);
    }

    /// @inheritdoc ILiquidationEngine
    function setGlobalCap(uint256 cap) external onlyRole(GOVERNOR_ROLE) {
        if (cap > type(uint128).max) revert InvalidParameter("globalCap", cap, 0, type(uint128).max);
        _config.globalCap = uint128(cap);
        emit ParameterSet("globalCap", 0, cap);
    }

    /// @inheritdoc ILiquidationEngine
    function setCollateralCap(uint256 id, uint256 cap) external onlyRole(GOVERNOR_ROLE) {
        if (id >= vault.collateralCount()) revert InvalidParameter("collateralId", id, 0, vault.collateralCount());
        collateralCap[id] = cap;
        emit ParameterSet("collateralCap", id, cap);
    }

    /// @inheritdoc ILiquidationEngine
    function setUnpauseGrace(uint256 grace) external onlyRole(GOVERNOR_ROLE) {
        if (grace > MAX_UNPAUSE_GRACE) revert InvalidParameter("unpauseGrace", grace, 0, MAX_UNPAUSE_GRACE);
        unpauseGrace = grace;
        emit ParameterSet("unpauseGrace", 0, grace);
    }

    /// @inheritdoc ILiquidationEngine
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _config.paused = true;
        emit LiquidationsPausedSet(true, 0);
    }

    /// @inheritdoc ILiquidationEngine
    function unpause() external onlyRole(GOVERNOR_ROLE) {
        uint256 at = block.timestamp + unpauseGrace;
        _config.paused = false;
        _config.resumeAt = uint40(at);
        emit LiquidationsPausedSet(false, at);
    }

    // --- Internal: execution ---

    /// @dev Reverts unless liquidations may run now; the parameters (read once: nothing a
    ///      liquidation calls can change them) and the vault's state they need (one call).
    function _checkOpen() internal view returns (Config memory c, IOracleAdapter oracle, uint256 dust) {
        c = _config;
        if (c.paused) revert LiquidationsPaused();
        if (block.timestamp < c.resumeAt) revert LiquidationGrace(c.resumeAt);
        bool shutdown;
        (shutdown, oracle, dust) = vault.riskState();
        if (shutdown) revert ShutdownActive();
    }

    function _liquidate(
        address account,
        address keeper,
        bool strict,
        IOracleAdapter oracle,
        uint256 dust,
        Config memory c
    )
        internal
        returns (uint256 debtClosed, uint256 penalty, uint256 incentive, uint256[] memory auctionIds)
    {
        (uint256 artToRemove, IVault.HeldCollateral[] memory held, Preview memory p, bool go) =
            _snapshotAndPlan(account, strict, oracle, dust, c);
        if (!go) return (0, 0, 0, auctionIds);
        debtClosed = _confiscate(account, p.seizures, artToRemove);
        (penalty, auctionIds) = _kickAll(account, keeper, p, held, debtClosed);
        incentive = c.tip + FPM.mulDiv(c.chip, debtClosed, WAD);
        if (incentive > penalty) incentive = penalty;
        emit Liquidate(account, keeper, debtClosed, penalty, incentive, p.health);
    }

    /// @dev The account's snapshot, its plan and the normalised debt to remove for it; `go` false
    ///      when it cannot be liquidated now (reverts instead when `strict`).
    function _snapshotAndPlan(address account, bool strict, IOracleAdapter oracle, uint256 dust, Config memory c)
        internal
        returns (uint256 artToRemove, IVault.HeldCollateral[] memory held, Preview memory p, bool go)
    {
        uint256 debt;
        (debt, artToRemove, held) = vault.liquidationSnapshot(account);
        Block blocked;
        uint256 detail;
        (p, blocked, detail) = _plan(debt, held, _quotes(held, oracle), dust, c);
        if (blocked != Block.None) {
            if (!strict) return (0, held, p, false);
            if (blocked == Block.Healthy) revert NotLiquidatable(account, p.health);
            if (blocked == Block.Guarded) revert OracleGuarded(held[detail].token, p.guard);
            revert LiquidationCapReached(detail, _room(detail));
        }
        // Remove debt in normalised units, rounded down: what remains is never below the plan.
        if (p.debtToClose != debt) artToRemove = FPM.mulDiv(artToRemove, p.debtToClose, debt);
        go = true;
    }

    function _quotes(IVault.HeldCollateral[] memory held, IOracleAdapter oracle)
        internal
        returns (IOracleAdapter.Quote[] memory quotes)
    {
        uint256[] memory slots = new uint256[](held.length);
        assembly {
            quotes := slots // every element is set below: no zeroed Quote is allocated for it
        }
        for (uint256 i; i < held.length; ++i) {
            quotes[i] = oracle.update(held[i].token);
        }
    }

    function _confiscate(address account, Seizure[] memory seizures, uint256 artToRemove)
        internal
        returns (uint256 debtRemoved)
    {
        // vault.confiscate(account, ids, lots, artToRemove), its calldata written straight from the
        // seizures (ids and lots are their collateralId and lot fields) in unallocated memory.
        bytes4 selector = IVault.confiscate.selector;
        IVault v = vault;
        assembly ("memory-safe") {
            let n := mload(seizures)
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), and(account, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(ptr, 0x24), 0x80) // offset of ids
            mstore(add(ptr, 0x44), add(0xa0, shl(5, n))) // offset of lots
            mstore(add(ptr, 0x64), artToRemove)
            let ids := add(ptr, 0x84)
            let lots := add(ids, add(0x20, shl(5, n)))
            mstore(ids, n)
            mstore(lots, n)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let o := shl(5, add(i, 1))
                let s := mload(add(seizures, o))
                mstore(add(ids, o), mload(s)) // collateralId
                mstore(add(lots, o), mload(add(s, 0x60))) // lot
            }
            if iszero(call(gas(), v, 0, ptr, add(0xc4, shl(6, n)), 0x00, 0x20)) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
            if lt(returndatasize(), 0x20) { revert(0, 0) }
            debtRemoved := mload(0x00)
        }
    }

    /// @dev One auction per seized collateral, each for its planned debt plus its penalty
    ///      (rounded up). The vault's exact debt change differs from the plan by its rounding (a
    ///      few wei either way): the seizure with the largest debt takes the difference, so every
    ///      tab stays at least the planned debt of its seizure (at least 1: no kick for nothing).
    function _kickAll(
        address account,
        address keeper,
        Preview memory p,
        IVault.HeldCollateral[] memory held,
        uint256 debtClosed
    ) internal returns (uint256 penalty, uint256[] memory auctionIds) {
        uint256 n = p.seizures.length;
        auctionIds = new uint256[](n);
        uint256 largest;
        for (uint256 i = 1; i < n; ++i) {
            if (p.seizures[i].debt > p.seizures[largest].debt) largest = i;
        }
        uint256 j; // held index of seizure i: seizures follow the held order (ids are unique)
        for (uint256 i; i < n; ++i) {
            Seizure memory s = p.seizures[i];
            uint256 tab = i == largest ? s.debt + debtClosed - p.debtToClose : s.debt;
            while (held[j].id != s.collateralId) ++j;
            {
                uint256 pen = FPM.mulDivUp(tab, held[j].penalty, WAD);
                penalty += pen;
                tab += pen;
            }
            auctionIds[i] = _kick(s, tab, account, keeper);
        }
    }

    /// @dev auction.kick(s.collateralId, s.token, s.decimals, s.lot, tab, s.startPrice, account, keeper),
    ///      its calldata written straight from the seizure in unallocated memory.
    function _kick(Seizure memory s, uint256 tab, address account, address keeper) internal returns (uint256 id) {
        bytes4 selector = IDutchAuction.kick.selector;
        IDutchAuction a = auction;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let mask := 0xffffffffffffffffffffffffffffffffffffffff
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), mload(s)) // collateralId
            mstore(add(ptr, 0x24), mload(add(s, 0x20))) // token
            mstore(add(ptr, 0x44), mload(add(s, 0x40))) // decimals
            mstore(add(ptr, 0x64), mload(add(s, 0x60))) // lot
            mstore(add(ptr, 0x84), tab)
            mstore(add(ptr, 0xa4), mload(add(s, 0xc0))) // startPrice
            mstore(add(ptr, 0xc4), and(account, mask))
            mstore(add(ptr, 0xe4), and(keeper, mask))
            if iszero(call(gas(), a, 0, ptr, 0x104, 0x00, 0x20)) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
            if lt(returndatasize(), 0x20) { revert(0, 0) }
            id := mload(0x00)
        }
    }

    /// @dev The penalty is minted now (the auction's tab will burn it back): the keeper's share
    ///      to the keeper, the rest to the buffer.
    function _payOut(address keeper, uint256 penalty, uint256 incentive) internal {
        if (incentive > 0) debtToken.mint(keeper, incentive);
        if (penalty > incentive) debtToken.mint(buffer, penalty - incentive);
    }

    // --- Internal: planning (arithmetic over a snapshot and the queue's room) ---

    /// @dev Work out the liquidation of an account with `debt` and `held` collateral at `quotes`.
    ///      Returns the plan, or why it cannot go ahead (`detail`: the held index for Guarded,
    ///      the collateral id for Cap).
    function _plan(
        uint256 debt,
        IVault.HeldCollateral[] memory held,
        IOracleAdapter.Quote[] memory quotes,
        uint256 dust,
        Config memory c
    )
        internal
        view
        returns (Preview memory p, Block blocked, uint256 detail)
    {
        p.debt = debt;
        p.health = type(uint256).max;
        if (debt == 0) return (p, Block.Healthy, 0);

        Book memory b;
        (b.debt, b.dust, b.held, b.quotes, b.c) = (debt, dust, held, quotes, c);
        (uint256 weighted, uint256 sized, uint256 guarded) = _value(b);
        p.health = FPM.fullMulDiv(weighted, WAD, debt);
        if (p.health >= WAD) return (p, Block.Healthy, 0);

        // The plan without the queue's caps; when it does not fit them, the plan again within them
        // (a full liquidation cut to its rooms, or the partial close re-planned against what fits).
        // Each seizure comes with its tab (debt + penalty rounded up, as the kick charges it).
        b.globalRoom = type(uint256).max;
        p.seizures = _seizures(b, sized);
        uint256 queued = auction.totalDebt();
        b.globalRoom = c.globalCap > queued ? c.globalCap - queued : 0;
        if (!_fitsRoom(p.seizures, b.globalRoom)) {
            b.capped = true;
            p.seizures = b.full ? _seizeAll(b) : _seizures(b, sized);
        }
        if (p.seizures.length == 0) {
            if (b.capId != 0) return (p, Block.Cap, b.capId - 1);
            if (guarded != type(uint256).max) {
                // Nothing priced to seize: wait for the guard to lift.
                p.guard = quotes[guarded].guard;
                return (p, Block.Guarded, guarded);
            }
        }
        p.liquidatable = true;
        for (uint256 i; i < p.seizures.length; ++i) {
            Seizure memory s = p.seizures[i];
            p.debtToClose += s.debt;
            p.penalty += s.tab - s.debt;
        }
        p.incentive = c.tip + FPM.mulDiv(c.chip, p.debtToClose, WAD);
        if (p.incentive > p.penalty) p.incentive = p.penalty;
    }

    /// @dev Value every holding twice: at its liquidation price for the health check (`weighted`),
    ///      and at its sizing price for the close (`sized`, and `b.values`, only used once the
    ///      account is liquidatable). `guarded`: the held index of the first guarded holding.
    function _value(Book memory b) internal pure returns (uint256 weighted, uint256 sized, uint256 guarded) {
        IVault.HeldCollateral[] memory held = b.held;
        b.values = new uint256[](held.length);
        guarded = type(uint256).max;
        for (uint256 i; i < held.length; ++i) {
            IVault.HeldCollateral memory h = held[i];
            IOracleAdapter.Quote memory q = b.quotes[i];
            uint256 scale = 10 ** h.decimals;
            uint256 price = q.liquidationPrice;
            if (price == 0) {
                // Guarded (frozen, recovery grace, sequencer, delayed feed stopped): valued at the
                // last accepted price, for the trigger and the sizing alike, and never seized (its
                // sizing value stays 0). It does not stop the liquidation of the priced collateral:
                // anyone may deposit for anyone, so holding it must not shield an unsafe account
                // (scenario 18). Its share of a full liquidation's debt stays with it (_seizeAll).
                uint256 lastValue = FPM.fullMulDiv(h.amount, q.current, scale);
                if (guarded == type(uint256).max) guarded = i;
                b.guardedValue += lastValue;
                uint256 lw = FPM.mulDiv(lastValue, h.liquidationThreshold, WAD);
                weighted += lw;
                sized += lw;
                continue;
            }
            uint256 value = FPM.fullMulDiv(h.amount, price, scale);
            uint256 w = FPM.mulDiv(value, h.liquidationThreshold, WAD);
            weighted += w;
            // Sizing: the trigger uses the confirmed (higher) price; the close, its target health
            // and the lots are sized at the lower of it and the current accepted price, so in a
            // falling market the auction gets enough collateral at today's price rather than a
            // stale one.
            uint256 size = _sizingPrice(q);
            if (size != price) {
                value = FPM.fullMulDiv(h.amount, size, scale);
                w = FPM.mulDiv(value, h.liquidationThreshold, WAD);
            }
            b.values[i] = value;
            sized += w;
        }
    }

    /// @dev The smallest close that restores `targetHealth`, seizing in id order within the queue's
    ///      room; else everything (_seizeAll). A partial close never seizes a holding worth less
    ///      than the dust floor, and a collateral whose room is short is seized as far as it fits
    ///      while the close goes on with the next ones (a full cap or a planted holding of a capped
    ///      collateral cannot block the others).
    function _seizures(Book memory b, uint256 weighted) internal view returns (Seizure[] memory out) {
        out = _newSeizures(b.held.length);
        uint256 n;
        uint256 closed;
        bool restored;
        for (uint256 i; i < b.held.length; ++i) {
            if (b.values[i] == 0 || b.values[i] < b.dust) continue;
            (Seizure memory s, bool done, uint256 gone) = _seizeFrom(b, i, b.debt - closed, weighted);
            if (s.debt > 0) {
                out[n++] = s;
                closed += s.debt;
            }
            if (done) {
                restored = true;
                break;
            }
            weighted = weighted > gone ? weighted - gone : 0;
        }
        assembly {
            mstore(out, n)
        }
        return _applyDust(b, out, closed, restored);
    }

    /// @dev One step of the partial close against held collateral `i`: its seizure (debt 0 when
    ///      nothing fits), whether the target is reached, and the weight that leaves the account
    ///      when it is not (the holding taken whole, or as far as its room allows).
    function _seizeFrom(Book memory b, uint256 i, uint256 remainingDebt, uint256 weighted)
        internal
        view
        returns (Seizure memory s, bool done, uint256 gone)
    {
        IVault.HeldCollateral memory h = b.held[i];
        uint256 x;
        uint256 k;
        (x, done, k) = _closeAgainst(h, b.values[i], remainingDebt, weighted, b.c);
        uint256 fit = _fit(b, h);
        if (x > fit) {
            (x, done) = (fit, false);
            if (b.capId == 0) b.capId = h.id + 1;
            gone = FPM.mulDivUp(x, FPM.mulDivUp(k, h.liquidationThreshold, WAD), WAD);
        } else {
            gone = FPM.mulDiv(b.values[i], h.liquidationThreshold, WAD);
        }
        if (x > 0) {
            s = _seizure(h, b.quotes[i], x, k);
            b.globalRoom -= s.tab;
        }
    }

    /// @dev Value moved to the auction per unit of debt closed: (1 + penalty) / (1 - margin).
    function _k(uint256 penalty, uint256 lotMargin_) internal pure returns (uint256) {
        return FPM.mulDivUp(WAD + penalty, WAD, WAD - lotMargin_);
    }

    /// @dev Debt to close against one collateral to reach the target, or its whole capacity.
    function _closeAgainst(
        IVault.HeldCollateral memory h,
        uint256 value,
        uint256 remainingDebt,
        uint256 weighted,
        Config memory c
    )
        internal
        pure
        returns (uint256 x, bool done, uint256 k)
    {
        k = _k(h.penalty, c.lotMargin);
        x = FPM.fullMulDiv(value, WAD, k); // the most debt this collateral can close
        uint256 w = FPM.mulDivUp(k, h.liquidationThreshold, WAD);
        uint256 target = c.targetHealth;
        if (target > w) {
            // (weighted - x*w) / (remainingDebt - x) = target  =>  x = (target*D - weighted) / (target - w)
            uint256 goal = FPM.mulDivUp(target, remainingDebt, WAD);
            uint256 need = goal > weighted ? FPM.mulDivUp(goal - weighted, WAD, target - w) : 0;
            if (need <= x) {
                x = need;
                done = true;
            }
        }
        if (x >= remainingDebt) {
            x = remainingDebt;
            done = true;
        }
    }

    /// @dev Close at least min(debt, dust) and leave 0 or at least dust; otherwise seize all. A
    ///      close below the dust floor grows the seizure that restored health (the last one, the
    ///      only one taken in part).
    function _applyDust(Book memory b, Seizure[] memory out, uint256 closed, bool restored)
        internal
        view
        returns (Seizure[] memory)
    {
        if (b.capId != 0) return _fitDust(b, out, closed);
        uint256 dust = b.dust;
        uint256 debt = b.debt;
        if (!restored || out.length == 0 || (closed < debt && debt - closed < dust)) return _seizeAll(b);
        if (closed < dust && closed < debt) {
            uint256 minClose = dust < debt ? dust : debt;
            if (minClose < debt && debt - minClose < dust) return _seizeAll(b);
            return _bump(b, out, closed, minClose);
        }
        return out;
    }

    /// @dev Grow the close from `closed` to `minClose` on the seizure that restored health (the
    ///      last one, the only one taken in part); everything when that would take it whole, what
    ///      fits (_fitDust) when its room is short.
    function _bump(Book memory b, Seizure[] memory out, uint256 closed, uint256 minClose)
        internal
        view
        returns (Seizure[] memory)
    {
        uint256 last = out.length - 1;
        Seizure memory s = out[last];
        uint256 j = _indexOf(b.held, s.collateralId);
        IVault.HeldCollateral memory h = b.held[j];
        Seizure memory bumped = _seizure(h, b.quotes[j], s.debt + minClose - closed, _k(h.penalty, b.c.lotMargin));
        if (bumped.lot >= h.amount) return _seizeAll(b);
        b.globalRoom += s.tab; // the room this seizure took, to fit the bumped one in
        if (bumped.debt > _fit(b, h)) {
            b.capId = h.id + 1;
            b.globalRoom -= s.tab;
            return _fitDust(b, out, closed);
        }
        b.globalRoom -= bumped.tab;
        out[last] = bumped;
        return out;
    }

    /// @dev The price a liquidation is sized at: min(current, liquidationPrice). Only called for a
    ///      seizable holding, whose liquidationPrice is non-zero and whose current price is the last
    ///      accepted one (non-zero once a token is priced).
    function _sizingPrice(IOracleAdapter.Quote memory q) internal pure returns (uint256) {
        uint256 cur = q.current;
        return cur != 0 && cur < q.liquidationPrice ? cur : q.liquidationPrice;
    }

    /// @dev Seize debt `x` against one collateral: the lot covers `x * k` of value, capped at all of it.
    function _seizure(IVault.HeldCollateral memory h, IOracleAdapter.Quote memory q, uint256 x, uint256 k)
        internal
        pure
        returns (Seizure memory)
    {
        uint256 lot = FPM.fullMulDivUp(FPM.mulDivUp(x, k, WAD), 10 ** h.decimals, _sizingPrice(q));
        return Seizure({
            collateralId: h.id,
            token: h.token,
            decimals: h.decimals,
            lot: lot < h.amount ? lot : h.amount,
            debt: x,
            tab: _tab(x, h.penalty),
            startPrice: q.auctionStartPrice
        });
    }

    /// @dev What an auction must raise for `debt`: the debt plus its penalty, rounded up.
    function _tab(uint256 debt, uint256 penalty) internal pure returns (uint256) {
        return debt + FPM.mulDivUp(debt, penalty, WAD);
    }

    /// @dev Full liquidation: every priced collateral, the debt split by collateral value. A
    ///      holding whose share rounds to no debt at all (worth a few wei) stays with the owner like
    ///      a worthless one: an auction with nothing to raise cannot be started, and planting such
    ///      a holding in an account must not shield it. Guarded holdings keep their share of the
    ///      debt (at their last accepted price) when it is at least the dust floor; the last seized
    ///      holding takes the rest of what is split (at least its own share, so never 0). A seizure
    ///      that does not fit its room is cut to it, or skipped, and the others go on (_fitDust).
    function _seizeAll(Book memory b) internal view returns (Seizure[] memory out) {
        b.full = true;
        uint256 totalValue;
        uint256 n;
        for (uint256 i; i < b.held.length; ++i) {
            totalValue += b.values[i];
            if (b.held[i].amount > 0 && b.values[i] > 0) ++n;
        }
        uint256 toSplit = b.debt;
        if (b.guardedValue > 0) {
            uint256 kept = FPM.fullMulDiv(b.debt, b.guardedValue, totalValue + b.guardedValue);
            if (kept >= b.dust) toSplit -= kept;
        }
        out = _newSeizures(n);
        uint256 assigned;
        uint256 seen; // seizable holdings passed
        uint256 k; // seizures made
        uint256 closed;
        for (uint256 i; i < b.held.length; ++i) {
            IVault.HeldCollateral memory h = b.held[i];
            if (h.amount == 0 || b.values[i] == 0) continue; // worthless or unseizable: left to the owner
            uint256 x = ++seen == n ? toSplit - assigned : FPM.fullMulDiv(toSplit, b.values[i], totalValue);
            if (x == 0) continue; // a share of nothing: left to the owner (see above)
            assigned += x;
            Seizure memory s = Seizure({
                collateralId: h.id,
                token: h.token,
                decimals: h.decimals,
                lot: h.amount,
                debt: x,
                tab: _tab(x, h.penalty),
                startPrice: b.quotes[i].auctionStartPrice
            });
            uint256 fit = _fit(b, h);
            if (x > fit) {
                if (b.capId == 0) b.capId = h.id + 1;
                if (fit == 0) continue;
                s.lot = FPM.mulDivUp(h.amount, fit, x);
                s.debt = fit;
                s.tab = _tab(fit, h.penalty);
            }
            b.globalRoom -= s.tab;
            closed += s.debt;
            out[k++] = s;
        }
        assembly {
            mstore(out, k)
        }
        if (b.capId != 0) return _fitDust(b, out, closed);
        // With a guarded share kept, a close below the dust floor waits for the guard to lift.
        if (toSplit != b.debt && closed < b.dust) return _newSeizures(0);
    }

    /// @dev The queue's caps bound the plan: close what fits, at least min(debt, dust) (else
    ///      nothing: the liquidation reverts LiquidationCapReached), and never leave a debt between
    ///      0 and dust: the last seizures shrink (keeping their proportions, so their tabs only fall).
    function _fitDust(Book memory b, Seizure[] memory out, uint256 closed)
        internal
        view
        returns (Seizure[] memory)
    {
        uint256 debt = b.debt;
        uint256 dust = b.dust;
        uint256 total = closed;
        // A remainder below the dust floor first goes to seizures of whole holdings that still have
        // room (the small share of a holding the caps skipped, a planted wei's); only then do the
        // seizures shrink to leave the dust floor.
        for (uint256 i = out.length; i > 0 && total < debt && debt - total < dust; --i) {
            uint256 added = _grow(b, out[i - 1], debt - total);
            (total, closed) = (total + added, closed + added);
        }
        if (total < debt && debt - total < dust) total = debt > dust ? debt - dust : 0;
        if (total == 0 || total < (dust < debt ? dust : debt)) return _newSeizures(0);
        uint256 n = out.length;
        // Drop the last seizures while what they close is all excess, then shrink the next one.
        while (closed > total && out[n - 1].debt <= closed - total) {
            closed -= out[--n].debt;
        }
        if (closed > total) {
            Seizure memory s = out[n - 1];
            uint256 part = s.debt - (closed - total);
            s.lot = FPM.mulDivUp(s.lot, part, s.debt);
            s.debt = part;
            s.tab = _tab(part, b.held[_indexOf(b.held, s.collateralId)].penalty);
        }
        assembly {
            mstore(out, n)
        }
        return out;
    }

    /// @dev Add up to `more` debt to seizure `s` when it takes a whole holding and its collateral's
    ///      room (and the global room) still fits the larger tab; the debt added.
    function _grow(Book memory b, Seizure memory s, uint256 more) internal view returns (uint256 added) {
        IVault.HeldCollateral memory h = b.held[_indexOf(b.held, s.collateralId)];
        if (s.lot != h.amount) return 0;
        uint256 room = _collateralRoom(h.id);
        room = room > s.tab ? room - s.tab : 0; // this plan's own tab is not in the queue yet
        if (b.globalRoom < room) room = b.globalRoom;
        uint256 grown = FPM.mulDiv(s.tab + room, WAD, WAD + h.penalty);
        if (grown > 0 && _tab(grown, h.penalty) > s.tab + room) --grown;
        if (grown <= s.debt) return 0;
        added = grown - s.debt < more ? grown - s.debt : more;
        uint256 tab = _tab(s.debt + added, h.penalty);
        b.globalRoom -= tab - s.tab;
        (s.debt, s.tab) = (s.debt + added, tab);
    }

    /// @dev The most debt a seizure of `h` may close: its tab (debt + penalty, rounded up) within
    ///      the room left under the collateral's cap and the global cap (both <= 2^128 here).
    function _fit(Book memory b, IVault.HeldCollateral memory h) internal view returns (uint256 x) {
        if (!b.capped) return type(uint256).max;
        uint256 room = _collateralRoom(h.id);
        if (b.globalRoom < room) room = b.globalRoom;
        x = FPM.mulDiv(room, WAD, WAD + h.penalty);
        if (x > 0 && _tab(x, h.penalty) > room) --x;
    }

    /// @dev Whether every seizure's tab fits its collateral's room and, together, the global room.
    function _fitsRoom(Seizure[] memory seizures, uint256 globalRoom) internal view returns (bool) {
        for (uint256 i; i < seizures.length; ++i) {
            Seizure memory s = seizures[i];
            uint256 room = _collateralRoom(s.collateralId);
            if (globalRoom < room) room = globalRoom;
            if (s.tab > room) return false;
            globalRoom -= s.tab;
        }
        return true;
    }

    function _collateralRoom(uint256 id) internal view returns (uint256) {
        uint256 used = auction.debtOf(id);
        uint256 cap = collateralCap[id];
        return cap > used ? cap - used : 0;
    }

    function _room(uint256 id) internal view returns (uint256 room) {
        uint256 total = auction.totalDebt();
        uint256 used = auction.debtOf(id);
        uint256 cap = collateralCap[id];
        room = cap > used ? cap - used : 0;
        uint256 global = _config.globalCap;
        uint256 globalRoom = global > total ? global - total : 0;
        if (globalRoom < room) room = globalRoom;
    }

    /// @dev A Seizure array of length `n` whose elements are not allocated: the caller sets every
    ///      element it keeps (and trims the length to those) before anything reads it.
    function _newSeizures(uint256 n) internal pure returns (Seizure[] memory out) {
        uint256[] memory slots = new uint256[](n);
        assembly {
            out := slots
        }
    }

    function _indexOf(IVault.HeldCollateral[] memory held, uint256 id) internal pure returns (uint256) {
        for (uint256 i; i < held.length; ++i) {
            if (held[i].id == id) return i;
        }
        return type(uint256).max;
    }
}
