// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOracleAdapter} from "./IOracleAdapter.sol";

/// @title Unwind vault
/// @notice The collateralised debt engine. Accounts deposit several ERC-20 collateral types and
///         borrow the debt token against their whole basket (cross-margined).
///
///         UNITS. Amounts of collateral are in the token's smallest units. Debt, values and
///         prices are WAD (1e18); prices follow IOracleAdapter's scale (debt wei per one whole
///         token). Ratios (LTV, liquidation threshold, penalty) are WAD (0.8e18 = 80%). The
///         stability-fee accumulator `rate` and the per-second fee are RAY (1e27).
///
///         DEBT. An account stores normalised debt `art` [wad]; its debt is
///         `ceil(art * rate / RAY)`. Borrowing x adds `ceil(x * RAY / rate)` to art, repaying x
///         removes `floor(x * RAY / rate)`: every rounding favours the protocol, and the exact
///         difference it makes to `totalDebt()` is minted to the buffer so the accounting identity
///         (see ILiquidityBuffer) holds to the wei.
///
///         HEALTH. `health = sum(value_i * liquidationThreshold_i) / debt` at the oracle's
///         liquidationPrice; an account is liquidatable when health < 1 (and debt > 0).
///         Borrowing and withdrawing must leave `sum(value_i * maxLtv_i) >= debt` at the oracle's
///         borrowPrice (min of current and delayed), with maxLtv 0 for frozen collateral and for
///         collateral whose borrow price is unavailable. maxLtv < liquidationThreshold always.
///
///         SAFETY RULES. No user operation can leave an account liquidatable: only prices, fee
///         accrual and governance changes can, and governance lowers a liquidation threshold only
///         along a ramp (Euler 2023). Repay and deposit are never blocked, not by a pause, a
///         shutdown or a broken oracle; withdrawing from an account without debt needs no price.
///         Debt is 0 or at least `dust`. Every external entry is non-reentrant.
///
///         TOKENS. Collateral must be a plain ERC-20: balances move only by transfers, and a
///         transfer delivers exactly what it says. Tokens without return values and tokens
///         that return false are handled (SafeERC20); a transfer hook cannot re-enter (every
///         entry is non-reentrant). A fee-on-transfer token is refused at deposit (it delivers
///         less than `amount`). What code cannot see before it happens, a rebasing balance, is
///         declared by governance before listing (`declareTokenBehaviour`): a token declared
///         REBASING or FEE_ON_TRANSFER is refused at listing (`UnsupportedToken`). A listed token
///         is thereby declared plain, and the vault enforces it: a deposit that finds the vault
///         holding less of the token than its accounting (a negative rebase) is refused
///         (`CollateralBalanceShort`), so no new collateral joins a short pool. Collateral seized
///         for auctions stays in the vault (`inAuction`) until sold or returned. Known pitfall: at
///         most 16 collateral types.
interface IVault {
    // --- Types ---

    struct CollateralConfig {
        address token;
        uint8 decimals;
        bool frozen; // no borrowing power; still counts at its threshold for liquidation
        uint64 maxLtv; // [wad] borrowing weight
        uint64 liquidationThreshold; // [wad] current value (moves along the ramp)
        uint64 penalty; // [wad] liquidation penalty, added to the debt an auction must raise
        uint128 supplyCap; // [token units] max total deposits
        uint128 totalSupplied; // [token units]
    }

    /// @notice A liquidation threshold change in progress: linear from `from` to `to`.
    struct ThresholdRamp {
        uint64 from; // [wad]
        uint64 to; // [wad]
        uint40 start; // [timestamp]
        uint40 end; // [timestamp]
    }

    /// @notice An account's collateral of one type, as the liquidation engine sees it.
    struct HeldCollateral {
        uint8 id;
        address token;
        uint8 decimals;
        uint256 amount; // [token units]
        uint64 liquidationThreshold; // [wad]
        uint64 penalty; // [wad]
    }

    // --- Errors ---

    error ZeroAmount();
    error ZeroAddress();
    error NotAuthorized(address caller, address account);
    error UnknownCollateral(uint256 id);
    error CollateralAlreadyListed(address token);
    error TooManyCollaterals();
    error SupplyCapExceeded(uint256 id, uint256 cap, uint256 wouldBe);
    error TransferAmountMismatch(address token, uint256 expected, uint256 received);
    error InsufficientCollateral(uint256 id, uint256 held, uint256 requested);
    error BorrowLimitExceeded(uint256 debt, uint256 limit);
    error DebtCeilingExceeded(uint256 ceiling, uint256 wouldBe);
    error DustDebt(uint256 debt, uint256 dust);
    error BorrowingPaused();
    error ShutdownActive();
    error InvalidParameter(string name, uint256 value, uint256 min, uint256 max);
    error RampTooFast(uint256 duration, uint256 minDuration);
    error UnsupportedToken(address token, uint8 behaviour);
    error CollateralBalanceShort(address token, uint256 balance, uint256 accounted);

    // --- Events ---

    event CollateralListed(uint256 indexed id, address indexed token, uint8 decimals);
    event Deposit(address indexed account, uint256 indexed id, address indexed payer, uint256 amount);
    event Withdraw(address indexed account, uint256 indexed id, address indexed receiver, uint256 amount);
    event Borrow(address indexed account, address indexed receiver, uint256 amount, uint256 normalisedDebt);
    event Repay(address indexed account, address indexed payer, uint256 amount, uint256 normalisedDebt);
    event Confiscate(address indexed account, uint256 normalisedDebt, uint256 debt);
    event CollateralConfiscated(address indexed account, uint256 indexed id, uint256 amount);
    event CollateralReturned(address indexed account, uint256 indexed id, uint256 amount);
    event OperatorSet(address indexed account, address indexed operator, bool authorized);
    event FeesAccrued(uint256 rate, uint256 fees);
    event ParameterSet(bytes32 indexed name, uint256 indexed id, uint256 value);
    event TokenBehaviourDeclared(address indexed token, uint8 behaviour);
    event ThresholdRampStarted(uint256 indexed id, uint64 from, uint64 to, uint40 start, uint40 end);
    event BorrowingPausedSet(bool paused);
    event ShutdownStarted();

    // --- User operations ---

    /// @notice Deposit `amount` of collateral `id` into `account`'s position; anyone may add
    ///         collateral to any account. Never blocked by pause or shutdown.
    function deposit(address account, uint256 id, uint256 amount) external;

    /// @notice Withdraw collateral to `receiver`. Caller: the account or its operator.
    function withdraw(address account, uint256 id, uint256 amount, address receiver) external;

    /// @notice Mint `amount` [wad] of debt tokens to `receiver` against `account`'s basket.
    ///         Caller: the account or its operator.
    function borrow(address account, uint256 amount, address receiver) external;

    /// @notice Burn `amount` [wad] of the caller's debt tokens against `account`'s debt; anyone
    ///         may repay for any account. `type(uint256).max` repays all. Returns what was repaid.
    function repay(address account, uint256 amount) external returns (uint256 repaid);

    /// @notice Let `operator` withdraw and borrow for the caller (or revoke it).
    function setOperator(address operator, bool authorized) external;

    /// @notice Bring the stability-fee accumulator up to date; anyone may call.
    function accrue() external returns (uint256 rate);

    // --- Views ---

    function debtOf(address account) external view returns (uint256); // [wad], fees accrued to now

    function normalisedDebtOf(address account) external view returns (uint256); // [wad]

    function collateralOf(address account, uint256 id) external view returns (uint256); // [token units]

    /// @notice Health at the oracle's liquidation prices [wad]; max uint for an account without debt.
    ///         A collateral whose liquidation price is unavailable counts at its last accepted price
    ///         here (a view for monitoring; liquidations themselves also need the guard lifted).
    function healthOf(address account) external view returns (uint256);

    /// @notice How much more `account` can borrow now [wad]. Exact at the current timestamp and
    ///         prices: borrowing it succeeds, one wei more fails (borrow limit or debt ceiling).
    ///         0 while borrowing is paused or shut down, and when even the largest borrow would
    ///         leave the debt below `dust`.
    function maxBorrow(address account) external view returns (uint256);

    /// @notice How much of collateral `id` `account` can withdraw now [token units]. Exact at the
    ///         current timestamp and prices: withdrawing it succeeds, one unit more fails.
    function maxWithdraw(address account, uint256 id) external view returns (uint256);

    function totalDebt() external view returns (uint256); // [wad] ceil(totalNormalisedDebt * rate / RAY)

    function totalNormalisedDebt() external view returns (uint256); // [wad]

    function rate() external view returns (uint256); // [ray] accumulator, at the last accrual

    function currentRate() external view returns (uint256); // [ray] accumulator as of now

    function collateralCount() external view returns (uint256);

    function collateral(uint256 id) external view returns (CollateralConfig memory);

    function collateralId(address token) external view returns (uint256 id); // reverts if unlisted

    function isOperator(address account, address operator) external view returns (bool);

    /// @notice The account's collateral, one entry per type it holds, in id order.
    function heldCollateral(address account) external view returns (HeldCollateral[] memory);

    function dust() external view returns (uint256); // [wad]

    function debtCeiling() external view returns (uint256); // [wad]

    function oracle() external view returns (IOracleAdapter);

    function borrowingPaused() external view returns (bool);

    function shutdown() external view returns (bool);

    /// @notice `shutdown()`, `oracle()` and `dust()` in one call (what the liquidation engine and
    ///         the auction read on every operation).
    function riskState() external view returns (bool shutdown, IOracleAdapter oracle, uint256 dust);

    // --- Liquidation module ---

    /// @notice Engine-only: accrue fees and return the account's debt and its collateral.
    function liquidationSnapshot(address account)
        external
        returns (uint256 debt, uint256 normalisedDebt, HeldCollateral[] memory held);

    /// @notice Engine-only: remove `collateralAmounts[i]` of `ids[i]` and `normalisedDebt` from
    ///         `account`. Returns the exact decrease of totalDebt() [wad]. The collateral does not
    ///         leave the vault: it moves from the account (and `totalSupplied`) to the auctions'
    ///         custody, `inAuction(id)`, until a take buys it (`releaseCollateral`) or the auction
    ///         hands the rest back (`returnCollateral`).
    function confiscate(
        address account,
        uint8[] calldata ids,
        uint256[] calldata collateralAmounts,
        uint256 normalisedDebt
    ) external returns (uint256 debtRemoved);

    /// @notice ENGINE_ROLE only (the DirectLiquidator): remove `normalisedDebt` and `amount` of collateral
    ///         `id` from `account` and send that collateral to `receiver` at once (no auction
    ///         custody). Returns the exact decrease of totalDebt() [wad]. Emits Confiscate and
    ///         CollateralConfiscated, as `confiscate` does, so indexers follow both paths alike.
    function seize(address account, uint256 id, uint256 amount, uint256 normalisedDebt, address receiver)
        external
        returns (uint256 debtRemoved);

    /// @notice Auction-only: send `amount` of collateral `id` from the auctions' custody to
    ///         `receiver` (a take's slice). Reverts `InsufficientCollateral` beyond `inAuction(id)`:
    ///         the auction can never reach the accounts' collateral.
    function releaseCollateral(uint256 id, address receiver, uint256 amount) external;

    /// @notice Auction-only: credit collateral an auction did not need back to its owner's
    ///         position, from the auctions' custody (no transfer; never refused by the supply
    ///         cap). Reverts `InsufficientCollateral` beyond `inAuction(id)`.
    function returnCollateral(address account, uint256 id, uint256 amount) external;

    /// @notice Collateral `id` the vault keeps for running auctions [token units]: confiscated,
    ///         not yet sold or returned. The vault's balance of the token is at least
    ///         `totalSupplied + inAuction` (checked at every deposit).
    function inAuction(uint256 id) external view returns (uint256);

    // --- Governance (GOVERNOR_ROLE, behind the timelock) ---

    /// @notice Declare how a token behaves before it is listed (bit flags: 1 REBASING, 2
    ///         FEE_ON_TRANSFER, 4 TRANSFER_HOOKS). Refused once the token is listed.
    function declareTokenBehaviour(address token, uint8 behaviour) external;

    /// @notice The declared behaviour flags of a token (0: plain).
    function tokenBehaviour(address token) external view returns (uint8);

    /// @notice List a collateral. Requires maxLtv < liquidationThreshold < 1 and penalty <= 25%,
    ///         and a token not declared REBASING or FEE_ON_TRANSFER (`UnsupportedToken`).
    function listCollateral(
        address token,
        uint64 maxLtv,
        uint64 liquidationThreshold,
        uint64 penalty,
        uint128 supplyCap
    ) external returns (uint256 id);

    function setMaxLtv(uint256 id, uint64 maxLtv) external;

    /// @notice Raise at once, or lower along a ramp of at least `minRampDuration` seconds.
    function setLiquidationThreshold(uint256 id, uint64 threshold, uint40 rampDuration) external;

    function setPenalty(uint256 id, uint64 penalty) external;

    function setSupplyCap(uint256 id, uint128 cap) external;

    function setFrozen(uint256 id, bool frozen) external;

    function setDust(uint256 dust) external;

    function setDebtCeiling(uint256 ceiling) external;

    /// @notice Per-second stability fee [ray], at most 100% a year.
    function setStabilityFee(uint256 feePerSecond) external;

    function setMinRampDuration(uint40 duration) external;

    function setOracle(IOracleAdapter oracle) external;

    // --- Guardian (GUARDIAN_ROLE, acts at once, only safer) ---

    function pauseBorrowing() external;

    /// @notice Governance only: lift the guardian's pause.
    function unpauseBorrowing() external;

    /// @notice Governance only, irreversible: no new debt; repay, deposit and withdraw go on.
    function startShutdown() external;
}
