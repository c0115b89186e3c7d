// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IVault} from "../../interfaces/IVault.sol";
import {ILiquidationEngine} from "../../interfaces/ILiquidationEngine.sol";
import {IDutchAuction} from "../../interfaces/IDutchAuction.sol";
import {IUnwindTaker} from "../../interfaces/IUnwindTaker.sol";
import {ConstantProductMarket} from "./ConstantProductMarket.sol";
import {FlashLender, IFlashBorrower} from "./FlashLender.sol";

/// @title OracleAttacker
/// @notice The attacker's contract in the adversarial oracle scenarios: atomic attacks that need
///         one transaction (flash loan, swap, act on Unwind, swap back) and flash-takes of auctions
///         paid by selling the collateral in a market. It is its own vault account. Everything it
///         holds belongs to `owner`, and the scenarios count it in the attacker's profit and loss.
///
///         - `spotBorrow`: bZx/Harvest 2020. Flash-borrow debt tokens, buy the collateral (the
///           market's spot price jumps), borrow as much as the vault allows against the collateral
///           this contract already deposited, sell the collateral back, repay the loan. The borrow
///           capacity before and during the pump is recorded.
///         - `spotLiquidate`: flash-borrow collateral, dump it (spot falls), try to liquidate
///           `victim` (recorded, never reverts the attack), buy the collateral back, repay.
///         - `takeAndSell`: take an auction with the flash callback, sell what it receives in the
///           market, keep the difference.
///         - `execute`: any other call, so the owner can deposit, borrow, approve, withdraw.
/// @dev Attack tooling for a local chain only. Every entry point is owner-only; callbacks accept
///      only the lender or auction this contract is calling at that moment.
contract OracleAttacker is IFlashBorrower, IUnwindTaker {
    using SafeERC20 for IERC20;

    uint8 internal constant MODE_BORROW = 1;
    uint8 internal constant MODE_LIQUIDATE = 2;

    address public immutable owner;

    // What the last attack saw (read by the scenario after the transaction).
    uint256 public capacityBefore; // [wad] vault.maxBorrow(this) before the pump
    uint256 public capacityDuring; // [wad] vault.maxBorrow(this) with the market moved
    uint256 public borrowed; // [wad] debt tokens borrowed during the attack
    bool public liquidated; // the liquidation inside `spotLiquidate` went through
    bytes public liquidationError; // its revert data otherwise
    uint256 public lastProceeds; // [wad] what `takeAndSell`'s sale fetched

    address private _expectedCaller; // lender or auction during a callback

    error NotOwner(address caller);
    error UnexpectedCallback(address caller);
    error CallFailed(bytes data);

    constructor() {
        owner = msg.sender;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    // --- Attacks ---

    /// @notice Pump `market`'s spot price with `flashAmount` flash-borrowed debt tokens, borrow
    ///         all the vault allows, dump, repay the lender.
    function spotBorrow(FlashLender lender, ConstantProductMarket market, IVault vault, uint256 flashAmount)
        external
        onlyOwner
    {
        _expectedCaller = address(lender);
        lender.flashLoan(this, address(market.quote()), flashAmount, abi.encode(MODE_BORROW, market, vault, address(0)));
        _expectedCaller = address(0);
    }

    /// @notice Dump `flashAmount` flash-borrowed collateral into `market`, try to liquidate
    ///         `victim`, buy the collateral back (topping up from this contract's debt tokens), repay.
    function spotLiquidate(
        FlashLender lender,
        ConstantProductMarket market,
        ILiquidationEngine engine,
        address victim,
        uint256 flashAmount
    ) external onlyOwner {
        _expectedCaller = address(lender);
        lender.flashLoan(this, address(market.base()), flashAmount, abi.encode(MODE_LIQUIDATE, market, engine, victim));
        _expectedCaller = address(0);
    }

    /// @notice Take `amount` of auction `id` at up to `maxPrice`, paying with the proceeds of
    ///         selling the collateral in `market` inside the take callback.
    function takeAndSell(
        IDutchAuction auction,
        uint256 id,
        uint256 amount,
        uint256 maxPrice,
        ConstantProductMarket market
    ) external onlyOwner returns (uint256 slice, uint256 owe) {
        _expectedCaller = address(auction);
        (slice, owe) = auction.take(id, amount, maxPrice, address(this), abi.encode(market));
        _expectedCaller = address(0);
    }

    /// @notice Any call from this contract (deposit, borrow, approve, withdraw...).
    function execute(address target, bytes calldata data) external onlyOwner returns (bytes memory result) {
        bool ok;
        (ok, result) = target.call(data);
        if (!ok) revert CallFailed(result);
    }

    /// @notice Send this contract's whole balance of `token` to the owner.
    function sweep(IERC20 token) external onlyOwner {
        token.safeTransfer(owner, token.balanceOf(address(this)));
    }

    // --- Callbacks ---

    /// @inheritdoc IFlashBorrower
    function onFlashLoan(address initiator, address token, uint256 amount, uint256 fee, bytes calldata data)
        external
        returns (bytes32)
    {
        if (msg.sender != _expectedCaller || initiator != address(this)) revert UnexpectedCallback(msg.sender);
        (uint8 mode, ConstantProductMarket market, address target, address victim) =
            abi.decode(data, (uint8, ConstantProductMarket, address, address));
        IERC20 base = market.base();
        IERC20 quote = market.quote();
        if (mode == MODE_BORROW) {
            IVault vault = IVault(target);
            capacityBefore = vault.maxBorrow(address(this));
            quote.forceApprove(address(market), amount);
            uint256 bought = market.swap(address(quote), amount, 0, address(this));
            capacityDuring = vault.maxBorrow(address(this));
            borrowed = 0;
            if (capacityDuring > 0) {
                vault.borrow(address(this), capacityDuring, address(this));
                borrowed = capacityDuring;
            }
            base.forceApprove(address(market), bought);
            market.swap(address(base), bought, 0, address(this));
        } else {
            base.forceApprove(address(market), amount);
            market.swap(address(base), amount, 0, address(this));
            liquidated = false;
            delete liquidationError;
            try ILiquidationEngine(target).liquidate(victim, address(this)) {
                liquidated = true;
            } catch (bytes memory err) {
                liquidationError = err;
            }
            uint256 need = amount + fee;
            uint256 cost = market.getAmountIn(address(quote), need);
            quote.forceApprove(address(market), cost);
            market.swap(address(quote), cost, need, address(this));
        }
        IERC20(token).forceApprove(msg.sender, amount + fee);
        return CALLBACK_SUCCESS;
    }

    bytes32 internal constant CALLBACK_SUCCESS = keccak256("ERC3156FlashBorrower.onFlashLoan");

    /// @inheritdoc IUnwindTaker
    function onUnwindTake(address taker, address collateral, uint256 amount, uint256, bytes calldata data) external {
        if (msg.sender != _expectedCaller || taker != address(this)) revert UnexpectedCallback(msg.sender);
        ConstantProductMarket market = abi.decode(data, (ConstantProductMarket));
        IERC20(collateral).forceApprove(address(market), amount);
        lastProceeds = market.swap(collateral, amount, 0, address(this));
        // The auction burns `owe` from this contract when the callback returns.
    }
}
