// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
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
    using SafeERC20 for IERC20;

    // --- Constants ---
    uint256 internal constant WAD = 1e18;
    uint256 internal constant RAY = 1e27;
    uint256 internal constant MAX_DISCOUNT = 0.25e18; // [wad]
    bytes32 public constant ENGINE_ROLE = keccak256("ENGINE_ROLE");

    IVault public immutable vault;
    IDebtToken public immutable debtToken;
    ILiquidityBuffer public immutable buffer;

    // --- Storage ---
    mapping(uint256 id => Sale) internal _sales;
    uint256[] internal _active;
    uint256 public kicks; // ids are 1..kicks
    uint256 public override totalDebt; // [wad] sum of tabs
    mapping(uint256 collateralId => uint256) public override debtOf; // [wad]
    mapping(uint256 collateralId => AuctionParams) internal _params;
    uint256 public override stopLevel;

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
        if (stopLevel >= 1) revert StopLevel(stopLevel);
        if (lot == 0 || tab == 0) revert ZeroAmount();
        AuctionParams memory p = _params[collateralId];
        if (p.buffer == 0) revert UnknownCollateral(collateralId);
        if (referencePrice == 0) revert NoPrice(token);

        id = ++kicks;
        uint256 top = FPM.mulDivUp(referencePrice, p.buffer, WAD);
        _sales[id] = Sale({
            lot: uint128(lot),
            tab: uint128(tab),
            owner: owner,
            startedAt: uint40(block.timestamp),
            collateralId: uint8(collateralId),
            index: uint32(_active.length),
            decimals: decimals,
            token: token,
            top: uint128(top)
        });
        _active.push(id);
        totalDebt += tab;
        debtOf[collateralId] += tab;
        emit Kick(id, owner, collateralId, lot, tab, top, kicker);
    }

    // --- Keeper entry points ---

    /// @inheritdoc IDutchAuction
    function take(uint256 id, uint256 amount, uint256 maxPrice, address receiver, bytes calldata data)
        external
        nonReentrant
        returns (uint256 slice, uint256 owe)
    {
        if (stopLevel >= 3) revert StopLevel(stopLevel);
        if (receiver == address(0)) revert ZeroAddress();
        // Collateral sent to a protocol contract (the auction itself included) would be stranded:
        // none of them credits tokens it receives outside its own flows.
        if (
            receiver == address(vault) || receiver == address(debtToken) || receiver == address(buffer)
                || receiver == address(this)
        ) revert ForbiddenReceiver(receiver);
        Sale storage s = _sales[id];
        Sale memory sale = s;
        if (sale.lot == 0) revert AuctionNotRunning(id);

        (bool needsRedo, uint256 price) = _status(sale);
        if (needsRedo) revert AuctionNeedsRedo(id);
        if (price > maxPrice) revert PriceAboveMax(price, maxPrice);
        (slice, owe) = _sizeTake(sale, amount, price);

        uint256 lot = sale.lot - slice;
        uint256 tab = sale.tab - owe;
        s.lot = uint128(lot);
        s.tab = uint128(tab);
        totalDebt -= owe;
        debtOf[sale.collateralId] -= owe;

        IERC20(sale.token).safeTransfer(receiver, slice);
        if (data.length > 0) {
            IUnwindTaker(receiver).onUnwindTake(msg.sender, sale.token, slice, owe, data);
        }
        debtToken.burn(msg.sender, owe);
        emit Take(id, msg.sender, price, slice, owe, tab, lot);

        if (tab == 0) {
            if (lot > 0) {
                IERC20(sale.token).safeTransfer(address(vault), lot);
                vault.returnCollateral(sale.owner, sale.collateralId, lot);
            }
            _end(id, sale, lot, 0);
        } else if (lot == 0) {
            totalDebt -= tab;
            debtOf[sale.collateralId] -= tab;
            _end(id, sale, 0, tab);
            buffer.absorb(id, tab);
        }
    }

    /// @inheritdoc IDutchAuction
    function redo(uint256 id, address keeper) external nonReentrant {
        if (stopLevel >= 2) revert StopLevel(stopLevel);
        if (keeper == address(0)) revert ZeroAddress();
        Sale storage s = _sales[id];
        Sale memory sale = s;
        if (sale.lot == 0) revert AuctionNotRunning(id);
        (bool needsRedo,) = _status(sale);
        if (!needsRedo) revert AuctionDoesNotNeedRedo(id);

        IOracleAdapter.Quote memory q = vault.oracle().update(sale.token);
        if (q.status == IOracleAdapter.Status.Frozen || q.auctionStartPrice == 0) revert NoPrice(sale.token);
        AuctionParams memory p = _params[sale.collateralId];
        uint256 top = FPM.mulDivUp(q.auctionStartPrice, p.buffer, WAD);
        s.top = uint128(top);
        s.startedAt = uint40(block.timestamp);

        // Pay for the restart only when the auction is worth restarting (Maker's chost rule).
        uint256 incentive;
        uint256 dust = vault.dust();
        uint256 lotValue = FPM.fullMulDiv(sale.lot, q.current, 10 ** sale.decimals);
        if (sale.tab >= dust && lotValue >= dust) {
            incentive = p.redoTip + FPM.mulDiv(sale.tab, p.redoChip, WAD);
            if (incentive > 0) buffer.pay(keeper, incentive);
        }
        emit Redo(id, keeper, top, incentive);
    }

    // --- Views ---

    /// @inheritdoc IDutchAuction
    function oracle() external view returns (IOracleAdapter) {
        return vault.oracle();
    }

    /// @inheritdoc IDutchAuction
    function list() external view returns (uint256[] memory) {
        return _active;
    }

    /// @inheritdoc IDutchAuction
    function count() external view returns (uint256) {
        return _active.length;
    }

    /// @inheritdoc IDutchAuction
    function getStatus(uint256 id) external view returns (bool needsRedo, uint256 price, uint256 lot, uint256 tab) {
        Sale memory sale = _sales[id];
        if (sale.lot == 0) return (false, 0, 0, 0);
        (needsRedo, price) = _status(sale);
        return (needsRedo, price, sale.lot, sale.tab);
    }

    /// @inheritdoc IDutchAuction
    function sales(uint256 id) external view returns (Sale memory) {
        return _sales[id];
    }

    /// @inheritdoc IDutchAuction
    function params(uint256 collateralId) external view returns (AuctionParams memory) {
        return _params[collateralId];
    }

    // --- Governance ---

    /// @inheritdoc IDutchAuction
    function setParams(uint256 collateralId, AuctionParams calldata p) external onlyGovernorOrRisk {
        if (collateralId >= vault.collateralCount()) revert UnknownCollateral(collateralId);
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
        _params[collateralId] = p;
        emit AuctionParamsSet(collateralId, p);
    }

    /// @inheritdoc IDutchAuction
    function setStopLevel(uint256 level) external {
        if (level > 3) revert InvalidParameter("stopLevel", level, 0, 3);
        bool governor = hasRole(GOVERNOR_ROLE, msg.sender);
        if (!governor) {
            // The guardian may only stop more, never resume.
            _checkRole(GUARDIAN_ROLE);
            if (level < stopLevel) revert InvalidParameter("stopLevel", level, stopLevel, 3);
        }
        stopLevel = level;
        emit StopLevelSet(level);
    }

    // --- Internal ---

    /// @dev Current curve price, and whether the auction must be restarted first: too old, or
    ///      priced below the floor `reference * (1 - maxDiscount)`.
    function _status(Sale memory sale) internal view returns (bool needsRedo, uint256 price) {
        AuctionParams memory p = _params[sale.collateralId];
        uint256 elapsed = block.timestamp - sale.startedAt;
        price = AuctionCurves.price(p, sale.top, elapsed);
        // max(current, delayed): one depressed round cannot lower the floor before it is confirmed.
        uint256 ref = vault.oracle().peek(sale.token).auctionStartPrice;
        if (ref == 0) ref = FPM.mulDiv(sale.top, WAD, p.buffer);
        uint256 floor = FPM.mulDivUp(ref, WAD - p.maxDiscount, WAD);
        needsRedo = elapsed > p.maxAge || price < floor;
    }

    /// @dev How much collateral a take of up to `amount` buys at `price`, and what it costs.
    function _sizeTake(Sale memory sale, uint256 amount, uint256 price)
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
            // Buying more than the tab needs: sell only what covers it, rounded down.
            owe = tab;
            slice = FPM.fullMulDiv(tab, scale, price);
            if (slice > lot) slice = lot;
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

    function _end(uint256 id, Sale memory sale, uint256 leftover, uint256 shortfall) internal {
        uint256 last = _active[_active.length - 1];
        if (last != id) {
            _active[sale.index] = last;
            _sales[last].index = sale.index;
        }
        _active.pop();
        delete _sales[id];
        emit AuctionEnded(id, leftover, shortfall);
    }
}
