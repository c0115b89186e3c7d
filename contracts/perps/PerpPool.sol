// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib as FPM} from "solady/utils/FixedPointMathLib.sol";
import {Governed} from "../governance/Governed.sol";
import {IPerpPool} from "../../interfaces/IPerpPool.sol";
import {IPerpMarkets} from "../../interfaces/IPerpMarkets.sol";

/// @title PerpPool
/// @notice The LP side of Unwind perps: an ERC-4626 vault on the debt token. See IPerpPool.
contract PerpPool is IPerpPool, ERC4626, Governed, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // --- Constants ---
    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_BUFFER = 1e18; // [wad]
    uint8 internal constant DECIMALS_OFFSET = 6;

    bytes32 public constant MARKETS_ROLE = keccak256("MARKETS_ROLE");

    // --- Storage ---
    /// @inheritdoc IPerpPool
    address public override markets;
    /// @inheritdoc IPerpPool
    uint256 public override withdrawalBuffer; // [wad]

    /// @param admin receives every role (Governed).
    /// @param debtToken_ the debt token (uUSD), the pool's asset.
    constructor(address admin, IERC20 debtToken_)
        ERC20("Unwind Perps LP", "uPLP")
        ERC4626(debtToken_)
        Governed(admin)
    {
        if (address(debtToken_) == address(0)) revert ZeroAddress();
        withdrawalBuffer = 0.1e18;
    }

    // --- Markets ---

    /// @inheritdoc IPerpPool
    function payOut(address to, uint256 amount) external nonReentrant onlyRole(MARKETS_ROLE) {
        uint256 balance = IERC20(asset()).balanceOf(address(this));
        if (amount > balance) revert PoolBalanceShort(amount, balance);
        IERC20(asset()).safeTransfer(to, amount);
        emit PaidOut(to, amount);
    }

    // --- ERC-4626 ---

    /// @notice max(0, balance - liabilities): traders' unrealised losses are not assets (IPerpPool).
    function totalAssets() public view override returns (uint256) {
        uint256 balance = IERC20(asset()).balanceOf(address(this));
        uint256 owed = liabilities();
        return balance > owed ? balance - owed : 0;
    }

    /// @notice Deposits buy in at `entryAssets()`, which counts traders' unrealised losses (review
    ///         finding: priced at `totalAssets`, which does not, a deposit between a hedged pair's two
    ///         closes, winner first, bought shares cheap and took most of the loser's payment from
    ///         the LPs already in). Rounded down: the depositor gets no share more than it pays for.
    function previewDeposit(uint256 assets) public view override returns (uint256) {
        return Math.mulDiv(assets, totalSupply() + 10 ** DECIMALS_OFFSET, entryAssets() + 1, Math.Rounding.Floor);
    }

    /// @notice The assets a mint of `shares` costs at `entryAssets()`, rounded up (see previewDeposit).
    function previewMint(uint256 shares) public view override returns (uint256) {
        return Math.mulDiv(shares, entryAssets() + 1, totalSupply() + 10 ** DECIMALS_OFFSET, Math.Rounding.Ceil);
    }

    /// @notice 0 while the pool is insolvent (shares outstanding, totalAssets 0: it owes traders at
    ///         least what it holds): a deposit would only pay the existing liabilities.
    function maxDeposit(address) public view override returns (uint256) {
        return _insolvent() ? 0 : type(uint256).max;
    }

    /// @notice 0 while the pool is insolvent (see maxDeposit).
    function maxMint(address) public view override returns (uint256) {
        return _insolvent() ? 0 : type(uint256).max;
    }

    /// @notice The owner's assets, capped by what the withdrawal limit lets leave the pool.
    function maxWithdraw(address owner) public view override returns (uint256) {
        return FPM.min(_convertToAssets(balanceOf(owner), Math.Rounding.Floor), withdrawable());
    }

    /// @notice The largest `shares` whose redemption pays at most `withdrawable()`: assets paid are
    ///         floor(shares x A / S) (A = totalAssets + 1, S = totalSupply + 10**6), so the bound is
    ///         ceil((withdrawable + 1) x S / A) - 1.
    function maxRedeem(address owner) public view override returns (uint256) {
        uint256 shares = balanceOf(owner);
        uint256 cap = FPM.fullMulDivUp(withdrawable() + 1, totalSupply() + 10 ** DECIMALS_OFFSET, totalAssets() + 1) - 1;
        return FPM.min(shares, cap);
    }

    function deposit(uint256 assets, address receiver) public override nonReentrant returns (uint256) {
        return super.deposit(assets, receiver);
    }

    function mint(uint256 shares, address receiver) public override nonReentrant returns (uint256) {
        return super.mint(shares, receiver);
    }

    function withdraw(uint256 assets, address receiver, address owner) public override nonReentrant returns (uint256) {
        return super.withdraw(assets, receiver, owner);
    }

    function redeem(uint256 shares, address receiver, address owner) public override nonReentrant returns (uint256) {
        return super.redeem(shares, receiver, owner);
    }

    function _insolvent() internal view returns (bool) {
        return totalSupply() != 0 && totalAssets() == 0;
    }

    /// @dev MARKETS_ROLE follows `markets` only (review finding: the admin could grant it to any
    ///      address, which could then drain the pool through payOut, or revoke it from the markets
    ///      contract, which made every close that realises a gain revert).
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (role == MARKETS_ROLE && account != markets) revert MarketsRoleFixed(account);
        return super._grantRole(role, account);
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool) {
        if (role == MARKETS_ROLE) revert MarketsRoleFixed(account);
        return super._revokeRole(role, account);
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return DECIMALS_OFFSET;
    }

    // --- Views ---

    /// @inheritdoc IPerpPool
    function liabilities() public view returns (uint256) {
        address m = markets;
        return m == address(0) ? 0 : IPerpMarkets(m).unrealisedLiabilities();
    }

    /// @inheritdoc IPerpPool
    function entryAssets() public view returns (uint256) {
        uint256 balance = IERC20(asset()).balanceOf(address(this));
        address m = markets;
        int256 net = m == address(0) ? int256(0) : IPerpMarkets(m).unrealisedNetForEntry();
        if (net <= 0) return balance + uint256(-net);
        return balance > uint256(net) ? balance - uint256(net) : 0;
    }

    /// @inheritdoc IPerpPool
    function requiredReserve() public view returns (uint256) {
        uint256 owed = liabilities();
        return owed + FPM.mulDivUp(owed, withdrawalBuffer, WAD);
    }

    /// @inheritdoc IPerpPool
    function withdrawable() public view returns (uint256) {
        uint256 balance = IERC20(asset()).balanceOf(address(this));
        uint256 required = requiredReserve();
        return balance > required ? balance - required : 0;
    }

    // --- Governance ---

    /// @inheritdoc IPerpPool
    function setMarkets(address markets_) external nonReentrant onlyRole(GOVERNOR_ROLE) {
        if (markets_ == address(0)) revert ZeroAddress();
        if (markets != address(0)) revert MarketsAlreadySet(markets);
        markets = markets_;
        _grantRole(MARKETS_ROLE, markets_);
        emit MarketsSet(markets_);
    }

    /// @inheritdoc IPerpPool
    function setWithdrawalBuffer(uint256 buffer) external nonReentrant onlyRole(GOVERNOR_ROLE) {
        if (buffer > MAX_BUFFER) revert InvalidParameter("withdrawalBuffer", buffer, 0, MAX_BUFFER);
        withdrawalBuffer = buffer;
        emit WithdrawalBufferSet(buffer);
    }
}
