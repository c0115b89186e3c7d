// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib as FPM} from "solady/utils/FixedPointMathLib.sol";
import {Governed} from "../governance/Governed.sol";
import {IDirectLiquidator} from "../../interfaces/IDirectLiquidator.sol";
import {ILiquidationEngine} from "../../interfaces/ILiquidationEngine.sol";
import {IVault} from "../../interfaces/IVault.sol";
import {IDebtToken} from "../../interfaces/IDebtToken.sol";
import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";
import {IUnwindLiquidator} from "../../interfaces/IUnwindLiquidator.sol";

/// @title DirectLiquidator
/// @notice Direct liquidation at a discount, the one-step path beside the auctions. See
///         IDirectLiquidator for the rules; the engine's pause, grace and target health apply.
/// @dev Holds the vault's ENGINE_ROLE (liquidationSnapshot, seize) and the debt token's MINTER and
///      BURNER roles (the engine keeps MINTER only: it mints penalties, auctions burn).
contract DirectLiquidator is IDirectLiquidator, Governed, ReentrancyGuardTransient {
    uint256 internal constant WAD = 1e18;

    /// @dev An account as the plan sees it.
    struct Book {
        uint256 debt; // [wad]
        uint256 dust; // [wad] the vault's
        uint256 targetHealth; // [wad] the engine's
        IVault.HeldCollateral[] held;
        IOracleAdapter.Quote[] quotes;
    }

    IVault public immutable vault;
    IDebtToken public immutable debtToken;
    address public immutable buffer;
    ILiquidationEngine public immutable engine;

    mapping(uint256 id => DirectParams) internal _direct;

    constructor(address admin, IVault vault_, IDebtToken debtToken_, address buffer_, ILiquidationEngine engine_)
        Governed(admin)
    {
        if (
            address(vault_) == address(0) || address(debtToken_) == address(0) || buffer_ == address(0)
                || address(engine_) == address(0)
        ) revert ZeroAddress();
        vault = vault_;
        debtToken = debtToken_;
        buffer = buffer_;
        engine = engine_;
    }

    // --- Entry points ---

    /// @inheritdoc IDirectLiquidator
    function liquidateDirect(
        address account,
        uint256 collateralId,
        uint256 maxRepay,
        uint256 minSeized,
        address receiver,
        bytes calldata data
    ) external nonReentrant returns (uint256 repaid, uint256 seized) {
        if (receiver == address(0)) revert ZeroAddress();
        (DirectPreview memory d, uint256 art, address token) = _directSnapshot(account, collateralId, maxRepay);
        if (d.seized < minSeized) revert SeizedBelowMinimum(d.seized, minSeized);
        repaid = _directSettle(account, collateralId, d, art, receiver, token, data);
        seized = d.seized;
    }

    // --- Views ---

    /// @inheritdoc IDirectLiquidator
    function previewLiquidateDirect(address account, uint256 collateralId, uint256 maxRepay)
        external
        view
        returns (DirectPreview memory d)
    {
        Book memory b;
        IOracleAdapter oracle;
        (, oracle, b.dust) = vault.riskState();
        (,, b.targetHealth) = engine.liquidationGate();
        (b.debt, b.held) = (vault.debtOf(account), vault.heldCollateral(account));
        b.quotes = new IOracleAdapter.Quote[](b.held.length);
        for (uint256 i; i < b.held.length; ++i) {
            b.quotes[i] = oracle.peek(b.held[i].token);
        }
        (d,) = _directPlan(b, collateralId, maxRepay);
    }

    /// @inheritdoc IDirectLiquidator
    function directParams(uint256 id) external view returns (DirectParams memory) {
        return _direct[id];
    }

    // --- Governance ---

    /// @inheritdoc IDirectLiquidator
    function setDirectParams(uint256 id, DirectParams calldata p) external onlyRole(GOVERNOR_ROLE) {
        if (id >= vault.collateralCount()) revert InvalidParameter("collateralId", id, 0, vault.collateralCount());
        uint256 penalty = vault.collateral(id).penalty;
        if (p.maxDiscount > penalty) revert InvalidParameter("maxDiscount", p.maxDiscount, 0, penalty);
        if (p.minDiscount > p.maxDiscount) revert InvalidParameter("minDiscount", p.minDiscount, 0, p.maxDiscount);
        _direct[id] = p;
        emit DirectParamsSet(id, p.maxDebt, p.minDiscount, p.maxDiscount);
    }

    // --- Internal ---

    /// @dev Reverts unless liquidations may run now (the engine's pause and grace, the vault's
    ///      shutdown); the engine's target health and what the vault's risk state gives.
    function _checkOpen() internal view returns (uint256 targetHealth, IOracleAdapter oracle, uint256 dust) {
        bool paused;
        uint256 resumeAt;
        (paused, resumeAt, targetHealth) = engine.liquidationGate();
        if (paused) revert LiquidationsPaused();
        if (block.timestamp < resumeAt) revert LiquidationGrace(resumeAt);
        bool shutdown;
        (shutdown, oracle, dust) = vault.riskState();
        if (shutdown) revert ShutdownActive();
    }


    /// @dev The account's snapshot and its direct plan (reverting with the reason when refused);
    ///      the normalised debt to remove for it and the collateral's token.
    function _directSnapshot(address account, uint256 id, uint256 maxRepay)
        internal
        returns (DirectPreview memory d, uint256 art, address token)
    {
        Book memory b;
        IOracleAdapter oracle;
        (b.targetHealth, oracle, b.dust) = _checkOpen();
        (b.debt, art, b.held) = vault.liquidationSnapshot(account);
        b.quotes = new IOracleAdapter.Quote[](b.held.length);
        for (uint256 i; i < b.held.length; ++i) {
            b.quotes[i] = oracle.update(b.held[i].token);
        }
        uint256 j;
        (d, j) = _directPlan(b, id, maxRepay);
        if (!d.allowed) _refuse(d, account, id, b, j);
        token = b.held[j].token;
        // Remove debt in normalised units, rounded down: what remains is never below the plan.
        if (d.debtClosed != b.debt) art = FPM.mulDiv(art, d.debtClosed, b.debt);
    }

    /// @dev Seize and pay: the collateral to `receiver` (and its callback), the repay burned from
    ///      the caller, what it adds beyond the debt closed to the buffer (the identity stays exact).
    function _directSettle(
        address account,
        uint256 id,
        DirectPreview memory d,
        uint256 art,
        address receiver,
        address token,
        bytes calldata data
    ) internal returns (uint256 repaid) {
        uint256 closed = vault.seize(account, id, d.seized, art, receiver);
        repaid = closed > d.repay ? closed : d.repay;
        if (data.length > 0) {
            IUnwindLiquidator(receiver).onUnwindLiquidate(msg.sender, account, token, d.seized, repaid, data);
        }
        debtToken.burn(msg.sender, repaid);
        if (repaid > closed) debtToken.mint(buffer, repaid - closed);
        emit LiquidateDirect(account, msg.sender, id, repaid, d.seized, closed, d.discount, d.health);
    }

    /// @dev The direct liquidation of the account in `b` (its debt, holdings and quotes) with
    ///      collateral `id` (DIRECT LIQUIDATION), or why not: `d.refusal` is the error's selector,
    ///      `j` the held index of the collateral (held.length when the account holds none of it).
    ///      The vault's rounding of the debt it removes can exceed the plan by a wei or two: that
    ///      much of maxRepay is kept for it, so what is burned never exceeds maxRepay.
    function _directPlan(Book memory b, uint256 id, uint256 maxRepay)
        internal
        view
        returns (DirectPreview memory d, uint256 j)
    {
        d.health = type(uint256).max;
        j = _indexOf(b.held, id);
        if (b.debt == 0) return (_no(d, NotLiquidatable.selector), j);
        // Priced at the confirmed price throughout (trigger, close and seizure): no competition
        // follows a direct sale, so a wick of the current price must neither start nor cheapen it.
        // The engine's health rule (ILiquidationEngine, IVault): each holding at its liquidation
        // price, a guarded one at its last accepted price; the basket's value with it.
        uint256 weighted;
        uint256 basket;
        for (uint256 i; i < b.held.length; ++i) {
            IOracleAdapter.Quote memory q = b.quotes[i];
            uint256 value = FPM.fullMulDiv(
                b.held[i].amount, q.liquidationPrice != 0 ? q.liquidationPrice : q.current, 10 ** b.held[i].decimals
            );
            weighted += FPM.mulDiv(value, b.held[i].liquidationThreshold, WAD);
            basket += value;
        }
        d.health = FPM.fullMulDiv(weighted, WAD, b.debt);
        if (d.health >= WAD) return (_no(d, NotLiquidatable.selector), j);
        if (j == type(uint256).max) return (_no(d, NotHeld.selector), b.held.length);
        if (b.quotes[j].liquidationPrice == 0) return (_no(d, OracleGuarded.selector), j);
        IVault.HeldCollateral memory h = b.held[j];
        {
            // An account whose whole basket is worth less than its debt plus the penalty would be
            // liquidated in full: through the auctions, where a shortfall is recorded as bad debt
            // (a direct close could take the collateral and leave the debt with nothing behind it).
            if (basket < FPM.mulDivUp(b.debt, WAD + h.penalty, WAD)) {
                d.repay = basket; // for the refusal
                return (_no(d, DirectUnderwater.selector), j);
            }
        }
        {
            DirectParams memory dp = _direct[id];
            if (b.debt > dp.maxDebt) return (_no(d, DirectNotAllowed.selector), j);
            // The discount: 1 - health, within [minDiscount, maxDiscount], never above the penalty.
            uint256 lo = dp.minDiscount < h.penalty ? dp.minDiscount : h.penalty;
            uint256 hi = dp.maxDiscount < h.penalty ? dp.maxDiscount : h.penalty;
            uint256 disc = WAD - d.health;
            d.discount = disc < lo ? lo : disc > hi ? hi : disc;
        }
        uint256 v = WAD + h.penalty; // collateral value the account gives up per unit of debt closed
        uint256 price = b.quotes[j].liquidationPrice;
        uint256 whole = FPM.fullMulDiv(FPM.fullMulDiv(h.amount, price, 10 ** h.decimals), WAD, v); // the most it closes
        uint256 cap = whole;
        {
            uint256 byRepay = FPM.fullMulDiv(maxRepay > 2 ? maxRepay - 2 : 0, WAD + d.discount, v);
            if (byRepay < cap) cap = byRepay;
        }
        uint256 x = _directClose(b, weighted, FPM.mulDivUp(v, h.liquidationThreshold, WAD), cap);
        if (x == 0) {
            d.debtClosed = cap; // what maxRepay and the holding allow, for the refusal
            return (_no(d, DirectBelowDust.selector), j);
        }
        d.debtClosed = x;
        d.repay = FPM.mulDivUp(x, v, WAD + d.discount);
        uint256 seized =
            FPM.fullMulDiv(FPM.mulDiv(d.repay, WAD + d.discount, WAD), 10 ** h.decimals, price);
        if (x == whole && seized < h.amount) {
            // A close that uses the whole holding takes all of it (the roundings down above would
            // leave a unit or two behind, a crumb no later sale of it pays the gas of), and the
            // liquidator pays for all of it at the discount: never less per unit than the bound.
            uint256 all = FPM.mulDivUp(FPM.fullMulDivUp(h.amount, price, 10 ** h.decimals), WAD, WAD + d.discount);
            if (all + 2 <= maxRepay) (d.repay, seized) = (all > d.repay ? all : d.repay, h.amount);
        }
        d.toBuffer = d.repay - x;
        d.seized = seized < h.amount ? seized : h.amount;
        d.allowed = true;
    }

    /// @dev The debt a direct liquidation closes: the smallest that restores `target` (health
    ///      after = (weighted - x * w) / (debt - x), w = (1 + penalty) * threshold), at most `cap`;
    ///      at least min(debt, dust) and never leaving a debt between 0 and dust; 0 when those
    ///      rules cannot be met within `cap`.
    function _directClose(Book memory b, uint256 weighted, uint256 w, uint256 cap) internal pure returns (uint256 x) {
        (uint256 debt, uint256 dust, uint256 target) = (b.debt, b.dust, b.targetHealth);
        x = debt;
        if (target > w) {
            uint256 goal = FPM.mulDivUp(target, debt, WAD);
            uint256 need = goal > weighted ? FPM.mulDivUp(goal - weighted, WAD, target - w) : 0;
            if (need < x) x = need;
        }
        if (x > cap) x = cap;
        if (x < debt && debt - x < dust) x = debt <= cap ? debt : (debt > dust ? debt - dust : 0);
        uint256 minClose = dust < debt ? dust : debt;
        if (x < minClose) x = minClose <= cap && (minClose == debt || debt - minClose >= dust) ? minClose : 0;
    }

    function _no(DirectPreview memory d, bytes4 refusal) internal pure returns (DirectPreview memory) {
        d.refusal = refusal;
        return d;
    }

    /// @dev Revert with the error a refused direct plan names.
    function _refuse(DirectPreview memory d, address account, uint256 id, Book memory b, uint256 j) internal view {
        bytes4 r = d.refusal;
        if (r == NotLiquidatable.selector) revert NotLiquidatable(account, d.health);
        if (r == NotHeld.selector) revert NotHeld(account, id);
        if (r == OracleGuarded.selector) revert OracleGuarded(b.held[j].token, b.quotes[j].guard);
        if (r == DirectNotAllowed.selector) revert DirectNotAllowed(id, b.debt, _direct[id].maxDebt);
        if (r == DirectUnderwater.selector) revert DirectUnderwater(d.repay, b.debt);
        revert DirectBelowDust(d.debtClosed, b.debt < b.dust ? b.debt : b.dust);
    }

    // --- Internal: planning (arithmetic over a snapshot and the queue's room) ---

    function _indexOf(IVault.HeldCollateral[] memory held, uint256 id) internal pure returns (uint256) {
        for (uint256 i; i < held.length; ++i) {
            if (held[i].id == id) return i;
        }
        return type(uint256).max;
    }
}
