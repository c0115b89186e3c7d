// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib as FPM} from "solady/utils/FixedPointMathLib.sol";
import {Governed} from "../governance/Governed.sol";
import {IVault} from "../../interfaces/IVault.sol";
import {IDebtToken} from "../../interfaces/IDebtToken.sol";
import {IOracleAdapter} from "../../interfaces/IOracleAdapter.sol";

/// @title Vault
/// @notice Collateral custody, debt and account health. See IVault for units and rules.
contract Vault is IVault, Governed, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // --- Constants ---
    uint256 internal constant WAD = 1e18;
    uint256 internal constant RAY = 1e27;
    uint256 internal constant MAX_COLLATERALS = 16;
    uint256 internal constant MAX_PENALTY = 0.25e18; // [wad]
    /// @dev 100% a year as a per-second rate: 2 ** (1 / 31_536_000) [ray].
    uint256 internal constant MAX_FEE_PER_SECOND = 1_000000021979553151239153027;
    uint256 internal constant MAX_DUST = 1_000_000e18; // [wad]
    uint40 internal constant MAX_RAMP = 90 days;
    uint8 internal constant REBASING = 1;
    uint8 internal constant FEE_ON_TRANSFER = 2;

    bytes32 public constant ENGINE_ROLE = keccak256("ENGINE_ROLE");
    bytes32 public constant AUCTION_ROLE = keccak256("AUCTION_ROLE");

    IDebtToken public immutable debtToken;
    address public immutable buffer;

    // --- Storage ---
    struct Position {
        uint128 art; // [wad] normalised debt
        uint16 mask; // bit i set: the account holds collateral i
    }

    /// @dev One slot read by nearly every operation: the fee accumulator and the number of
    ///      listed collaterals (the bound of every collateral id).
    struct Accumulator {
        uint192 rate; // [ray]
        uint40 lastAccrual; // [timestamp]
        uint8 collateralCount; // <= MAX_COLLATERALS
        uint16 rampMask; // bit i set: collateral i has a threshold ramp stored (maybe ended)
    }

    /// @dev A listed collateral as stored: IVault's CollateralConfig plus `inAuction`, which
    ///      shares the last slot with `totalSupplied` (a liquidation and a take write one slot).
    struct StoredCollateral {
        // slot 0
        address token;
        uint8 decimals;
        bool frozen;
        uint64 maxLtv; // [wad]
        // slot 1
        uint64 liquidationThreshold; // [wad]
        uint64 penalty; // [wad]
        uint128 supplyCap; // [token units]
        // slot 2
        uint128 totalSupplied; // [token units] in accounts' positions
        uint128 inAuction; // [token units] confiscated, kept here for the running auctions
    }

    /// @dev Ids 0..collateralCount-1 (a mapping: loops over an account's mask need no length read).
    mapping(uint256 id => StoredCollateral) internal _collaterals;
    mapping(uint256 id => ThresholdRamp) public thresholdRamp;
    mapping(address token => uint256) internal _idPlusOne;
    mapping(address account => Position) internal _positions;
    mapping(address account => mapping(uint256 id => uint256)) internal _collateralOf; // [token units]
    mapping(address account => mapping(address operator => bool)) public override isOperator;
    mapping(address token => uint8) public override tokenBehaviour;

    Accumulator internal _acc;
    /// @dev Read together by every fee accrual and debt change, one slot.
    struct Totals {
        uint160 normalisedDebt; // [wad] sum of every position's art (each a uint128)
        uint96 feePerSecond; // [ray] <= MAX_FEE_PER_SECOND < 2**91
    }

    Totals internal _totals;
    uint256 public override dust; // [wad]
    uint256 public override debtCeiling; // [wad]
    uint40 public minRampDuration; // [seconds]
    bool public override borrowingPaused;
    bool public override shutdown;
    IOracleAdapter public override oracle;

    constructor(address admin, IDebtToken debtToken_, address buffer_, IOracleAdapter oracle_) Governed(admin) {
        if (address(debtToken_) == address(0) || buffer_ == address(0) || address(oracle_) == address(0)) {
            revert ZeroAddress();
        }
        debtToken = debtToken_;
        buffer = buffer_;
        oracle = oracle_;
        _acc = Accumulator({rate: uint192(RAY), lastAccrual: uint40(block.timestamp), collateralCount: 0, rampMask: 0});
        _totals.feePerSecond = uint96(RAY);
        minRampDuration = 1 days;
    }

    // --- Modifiers ---

    modifier onlyAuthorized(address account) {
        if (msg.sender != account && !isOperator[account][msg.sender]) revert NotAuthorized(msg.sender, account);
        _;
    }

    // --- User operations ---

    /// @inheritdoc IVault
    function deposit(address account, uint256 id, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (account == address(0)) revert ZeroAddress();
        StoredCollateral storage c = _config(id);
        uint256 wouldBe = uint256(c.totalSupplied) + amount;
        if (wouldBe > c.supplyCap) revert SupplyCapExceeded(id, c.supplyCap, wouldBe);

        IERC20 token = IERC20(c.token);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 balance = token.balanceOf(address(this));
        uint256 received = balance - before;
        if (received != amount) revert TransferAmountMismatch(address(token), amount, received);
        // The vault also keeps the collateral of running auctions.
        uint256 accounted = wouldBe + c.inAuction;
        if (balance < accounted) revert CollateralBalanceShort(address(token), balance, accounted);

        c.totalSupplied = uint128(wouldBe);
        _collateralOf[account][id] += amount;
        _positions[account].mask |= uint16(1 << id);
        emit Deposit(account, id, msg.sender, amount);
    }

    /// @inheritdoc IVault
    function withdraw(address account, uint256 id, uint256 amount, address receiver)
        external
        nonReentrant
        onlyAuthorized(account)
    {
        if (amount == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        StoredCollateral storage c = _config(id);
        uint256 held = _collateralOf[account][id];
        if (held < amount) revert InsufficientCollateral(id, held, amount);

        Position storage pos = _positions[account];
        _collateralOf[account][id] = held - amount;
        c.totalSupplied -= uint128(amount);
        if (held == amount) pos.mask &= ~uint16(1 << id);

        uint256 art = pos.art;
        if (art > 0) {
            uint256 debt = FPM.mulDivUp(art, _accrue(), RAY);
            uint256 limit = _borrowLimit(account, pos.mask);
            if (limit < debt) revert BorrowLimitExceeded(debt, limit);
        }
        IERC20(c.token).safeTransfer(receiver, amount);
        emit Withdraw(account, id, receiver, amount);
    }

    /// @inheritdoc IVault
    function borrow(address account, uint256 amount, address receiver) external nonReentrant onlyAuthorized(account) {
        if (amount == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        if (shutdown) revert ShutdownActive();
        if (borrowingPaused) revert BorrowingPaused();

        uint256 r = _accrue();
        uint256 totalBefore = _totalDebt(_totals.normalisedDebt, r);
        uint256 dart = FPM.mulDivUp(amount, RAY, r); // round up: the account owes at least `amount`
        Position storage pos = _positions[account];
        uint256 art = pos.art + dart;
        uint256 totalArt = _totals.normalisedDebt + dart;
        pos.art = _toUint128(art);
        _totals.normalisedDebt = _toUint160(totalArt);

        uint256 totalAfter = _totalDebt(totalArt, r);
        if (totalAfter > debtCeiling) revert DebtCeilingExceeded(debtCeiling, totalAfter);
        uint256 debt = FPM.mulDivUp(art, r, RAY);
        if (debt < dust) revert DustDebt(debt, dust);
        uint256 limit = _borrowLimit(account, pos.mask);
        if (limit < debt) revert BorrowLimitExceeded(debt, limit);

        debtToken.mint(receiver, amount);
        // totalAfter - totalBefore >= amount; the rounding remainder belongs to the buffer.
        uint256 remainder = totalAfter - totalBefore - amount;
        if (remainder > 0) debtToken.mint(buffer, remainder);
        emit Borrow(account, receiver, amount, dart);
    }

    /// @inheritdoc IVault
    function repay(address account, uint256 amount) external nonReentrant returns (uint256 repaid) {
        if (amount == 0) revert ZeroAmount();
        uint256 r = _accrue();
        Position storage pos = _positions[account];
        uint256 art = pos.art;
        uint256 debt = FPM.mulDivUp(art, r, RAY);
        if (debt == 0) revert ZeroAmount();

        uint256 dart;
        if (amount >= debt) {
            repaid = debt;
            dart = art;
        } else {
            repaid = amount;
            dart = amount * RAY / r; // round down: the account's debt falls by at most `amount`
            uint256 remaining = FPM.mulDivUp(art - dart, r, RAY);
            if (remaining < dust) revert DustDebt(remaining, dust);
        }
        uint256 totalArt = _totals.normalisedDebt;
        uint256 totalBefore = _totalDebt(totalArt, r);
        totalArt -= dart;
        _totals.normalisedDebt = uint160(totalArt); // below the stored value
        pos.art = uint128(art - dart);

        debtToken.burn(msg.sender, repaid);
        // The debt removed from totalDebt() is at most `repaid`; the remainder goes to the buffer.
        uint256 remainder = repaid - (totalBefore - _totalDebt(totalArt, r));
        if (remainder > 0) debtToken.mint(buffer, remainder);
        emit Repay(account, msg.sender, repaid, dart);
    }

    /// @inheritdoc IVault
    function setOperator(address operator, bool authorized) external {
        if (operator == address(0)) revert ZeroAddress();
        isOperator[msg.sender][operator] = authorized;
        emit OperatorSet(msg.sender, operator, authorized);
    }

    /// @inheritdoc IVault
    function accrue() external nonReentrant returns (uint256) {
        return _accrue();
    }

    // --- Liquidation module ---

    /// @inheritdoc IVault
    function liquidationSnapshot(address account)
        external
        onlyRole(ENGINE_ROLE)
        nonReentrant
        returns (uint256 debt, uint256 art, HeldCollateral[] memory held)
    {
        uint256 r = _accrue();
        art = _positions[account].art;
        debt = FPM.mulDivUp(art, r, RAY);
        held = _heldCollateral(account);
    }

    /// @inheritdoc IVault
    function confiscate(address account, uint8[] calldata ids, uint256[] calldata collateralAmounts, uint256 art)
        external
        onlyRole(ENGINE_ROLE)
        nonReentrant
        returns (uint256 debtRemoved)
    {
        Position storage pos = _positions[account];
        debtRemoved = _removeDebt(account, pos, art);
        uint16 mask = pos.mask;
        for (uint256 i; i < ids.length; ++i) {
            mask = _removeCollateral(account, ids[i], collateralAmounts[i], mask, true);
        }
        pos.mask = mask;
    }

    /// @inheritdoc IVault
    function seize(address account, uint256 id, uint256 amount, uint256 art, address receiver)
        external
        onlyRole(ENGINE_ROLE)
        nonReentrant
        returns (uint256 debtRemoved)
    {
        Position storage pos = _positions[account];
        debtRemoved = _removeDebt(account, pos, art);
        pos.mask = _removeCollateral(account, id, amount, pos.mask, false);
        IERC20(_collaterals[id].token).safeTransfer(receiver, amount);
    }

    /// @inheritdoc IVault
    function releaseCollateral(uint256 id, address receiver, uint256 amount)
        external
        onlyRole(AUCTION_ROLE)
        nonReentrant
    {
        StoredCollateral storage c = _collaterals[id]; // an unlisted id has nothing in custody
        uint256 kept = c.inAuction;
        if (kept < amount) revert InsufficientCollateral(id, kept, amount);
        c.inAuction = uint128(kept - amount);
        IERC20(c.token).safeTransfer(receiver, amount);
    }

    /// @inheritdoc IVault
    function returnCollateral(address account, uint256 id, uint256 amount) external onlyRole(AUCTION_ROLE) nonReentrant {
        StoredCollateral storage c = _collaterals[id]; // an unlisted id has nothing in custody
        uint256 kept = c.inAuction;
        if (kept < amount) revert InsufficientCollateral(id, kept, amount);
        c.inAuction = uint128(kept - amount);
        c.totalSupplied += uint128(amount); // never refused by the cap: it was the owner's already
        _collateralOf[account][id] += amount;
        _positions[account].mask |= uint16(1 << id);
        emit CollateralReturned(account, id, amount);
    }

    // --- Views ---

    /// @inheritdoc IVault
    function heldCollateral(address account) external view returns (HeldCollateral[] memory) {
        return _heldCollateral(account);
    }

    /// @inheritdoc IVault
    function debtOf(address account) external view returns (uint256) {
        return FPM.mulDivUp(_positions[account].art, currentRate(), RAY);
    }

    /// @inheritdoc IVault
    function normalisedDebtOf(address account) external view returns (uint256) {
        return _positions[account].art;
    }

    /// @inheritdoc IVault
    function collateralOf(address account, uint256 id) external view returns (uint256) {
        return _collateralOf[account][id];
    }

    /// @inheritdoc IVault
    function healthOf(address account) external view returns (uint256) {
        Position memory pos = _positions[account];
        if (pos.art == 0) return type(uint256).max;
        uint256 debt = FPM.mulDivUp(pos.art, currentRate(), RAY);
        uint256 weighted;
        uint256 mask = pos.mask;
        for (uint256 id; mask != 0; ++id) {
            if (mask & 1 != 0) {
                StoredCollateral storage c = _collaterals[id];
                IOracleAdapter.Quote memory q = oracle.peek(c.token);
                uint256 price = q.liquidationPrice != 0 ? q.liquidationPrice : q.current;
                uint256 value = FPM.fullMulDiv(_collateralOf[account][id], price, 10 ** c.decimals);
                weighted += FPM.fullMulDiv(value, _currentThreshold(id, c), WAD);
            }
            mask >>= 1;
        }
        return FPM.fullMulDiv(weighted, WAD, debt);
    }

    /// @inheritdoc IVault
    /// @dev Exact: borrowing the result succeeds and borrowing one wei more fails (at the same
    ///      timestamp and prices). Both bounds are turned into normalised-debt room first, because
    ///      a borrow adds `ceil(x * RAY / rate)` to art and debt is `ceil(art * rate / RAY)`: with
    ///      rate > RAY, `limit - debt` can overshoot by a wei. Zero when even the largest borrow
    ///      would leave the debt below `dust`.
    function maxBorrow(address account) external view returns (uint256) {
        if (shutdown || borrowingPaused) return 0;
        Position memory pos = _positions[account];
        uint256 r = currentRate();
        uint256 dart = _artRoom(_borrowLimitView(account, pos.mask), r, pos.art);
        uint256 ceilingDart = _artRoom(debtCeiling, r, _totals.normalisedDebt);
        if (ceilingDart < dart) dart = ceilingDart;
        // The largest x with ceil(x * RAY / r) <= dart.
        uint256 amount = FPM.fullMulDiv(dart, r, RAY);
        if (amount == 0) return 0;
        if (FPM.mulDivUp(pos.art + FPM.mulDivUp(amount, RAY, r), r, RAY) < dust) return 0;
        return amount;
    }

    /// @inheritdoc IVault
    /// @dev Exact: withdrawing the result succeeds and one unit more fails (same timestamp and
    ///      prices). The collateral's own term of the limit, `floor(floor(x * p / 10**d) * ltv / WAD)`,
    ///      must stay >= term(held) - (limit - debt); the smallest such x is solved for directly.
    function maxWithdraw(address account, uint256 id) external view returns (uint256) {
        StoredCollateral storage c = _config(id);
        uint256 held = _collateralOf[account][id];
        Position memory pos = _positions[account];
        if (pos.art == 0 || held == 0) return held;
        uint256 debt = FPM.mulDivUp(pos.art, currentRate(), RAY);
        uint256 limit = _borrowLimitView(account, pos.mask);
        if (limit < debt) return 0; // withdraw requires limit >= debt afterwards: nothing may leave
        // No borrowing power (frozen, maxLtv 0, no borrow price): leaving changes nothing.
        if (c.frozen || c.maxLtv == 0) return held;
        uint256 price = oracle.peek(c.token).borrowPrice;
        if (price == 0) return held;
        uint256 unit = 10 ** c.decimals;
        uint256 term = FPM.fullMulDiv(FPM.fullMulDiv(held, price, unit), c.maxLtv, WAD);
        uint256 room = limit - debt;
        if (room >= term) return held;
        uint256 minValue = FPM.fullMulDivUp(term - room, WAD, c.maxLtv);
        uint256 minAmount = FPM.fullMulDivUp(minValue, unit, price);
        return minAmount < held ? held - minAmount : 0;
    }

    /// @inheritdoc IVault
    function totalDebt() external view returns (uint256) {
        return _totalDebt(_totals.normalisedDebt, _acc.rate);
    }

    /// @inheritdoc IVault
    function rate() external view returns (uint256) {
        return _acc.rate;
    }

    /// @inheritdoc IVault
    function currentRate() public view returns (uint256) {
        Accumulator memory acc = _acc;
        if (acc.lastAccrual >= block.timestamp) return acc.rate; // >=: an eth_call on a node mid-block may see a stale timestamp
        return FPM.mulDivUp(FPM.rpow(_totals.feePerSecond, block.timestamp - acc.lastAccrual, RAY), acc.rate, RAY);
    }

    /// @inheritdoc IVault
    function totalNormalisedDebt() external view returns (uint256) {
        return _totals.normalisedDebt;
    }

    /// @notice The stability fee: the accumulator's growth per second [ray].
    function feePerSecond() external view returns (uint256) {
        return _totals.feePerSecond;
    }

    /// @inheritdoc IVault
    function riskState() external view returns (bool, IOracleAdapter, uint256) {
        return (shutdown, oracle, dust);
    }

    /// @inheritdoc IVault
    function collateralCount() external view returns (uint256) {
        return _acc.collateralCount;
    }

    /// @inheritdoc IVault
    function collateral(uint256 id) external view returns (CollateralConfig memory) {
        StoredCollateral storage c = _config(id);
        return CollateralConfig({
            token: c.token,
            decimals: c.decimals,
            frozen: c.frozen,
            maxLtv: c.maxLtv,
            liquidationThreshold: _currentThreshold(id, c),
            penalty: c.penalty,
            supplyCap: c.supplyCap,
            totalSupplied: c.totalSupplied
        });
    }

    /// @inheritdoc IVault
    function inAuction(uint256 id) external view returns (uint256) {
        return _config(id).inAuction;
    }

    /// @inheritdoc IVault
    function collateralId(address token) external view returns (uint256) {
        uint256 idPlusOne = _idPlusOne[token];
        if (idPlusOne == 0) revert UnknownCollateral(type(uint256).max);
        return idPlusOne - 1;
    }

    // --- Governance ---

    /// @inheritdoc IVault
    function declareTokenBehaviour(address token, uint8 behaviour) external onlyRole(GOVERNOR_ROLE) {
        if (_idPlusOne[token] != 0) revert CollateralAlreadyListed(token);
        tokenBehaviour[token] = behaviour;
        emit TokenBehaviourDeclared(token, behaviour);
    }

    /// @inheritdoc IVault
    function listCollateral(address token, uint64 maxLtv, uint64 threshold, uint64 penalty, uint128 supplyCap)
        external
        onlyRole(GOVERNOR_ROLE)
        returns (uint256 id)
    {
        if (token == address(0)) revert ZeroAddress();
        if (_idPlusOne[token] != 0) revert CollateralAlreadyListed(token);
        uint8 behaviour = tokenBehaviour[token];
        if (behaviour & (REBASING | FEE_ON_TRANSFER) != 0) revert UnsupportedToken(token, behaviour);
        id = _acc.collateralCount;
        if (id >= MAX_COLLATERALS) revert TooManyCollaterals();
        uint8 decimals = IERC20Metadata(token).decimals();
        if (decimals > 18) revert InvalidParameter("decimals", decimals, 0, 18);
        _checkRisk(maxLtv, threshold, penalty);
        _collaterals[id] = (
            StoredCollateral({
                token: token,
                decimals: decimals,
                frozen: false,
                maxLtv: maxLtv,
                liquidationThreshold: threshold,
                penalty: penalty,
                supplyCap: supplyCap,
                totalSupplied: 0,
                inAuction: 0
            })
        );
        _acc.collateralCount = uint8(id + 1);
        _idPlusOne[token] = id + 1;
        emit CollateralListed(id, token, decimals);
        emit ParameterSet("maxLtv", id, maxLtv);
        emit ParameterSet("liquidationThreshold", id, threshold);
        emit ParameterSet("penalty", id, penalty);
        emit ParameterSet("supplyCap", id, supplyCap);
    }

    /// @inheritdoc IVault
    function setMaxLtv(uint256 id, uint64 maxLtv) external onlyGovernorOrRisk {
        StoredCollateral storage c = _config(id);
        uint64 threshold = _currentThreshold(id, c);
        ThresholdRamp memory ramp = thresholdRamp[id];
        uint64 lowest = ramp.end > block.timestamp && ramp.to < threshold ? ramp.to : threshold;
        if (maxLtv >= lowest) revert InvalidParameter("maxLtv", maxLtv, 0, lowest - 1);
        c.maxLtv = maxLtv;
        emit ParameterSet("maxLtv", id, maxLtv);
    }

    /// @inheritdoc IVault
    function setLiquidationThreshold(uint256 id, uint64 threshold, uint40 rampDuration) external onlyGovernorOrRisk {
        StoredCollateral storage c = _config(id);
        _checkRisk(c.maxLtv, threshold, c.penalty);
        uint64 current = _currentThreshold(id, c);
        if (threshold < current) {
            if (rampDuration < minRampDuration) revert RampTooFast(rampDuration, minRampDuration);
            if (rampDuration > MAX_RAMP) revert InvalidParameter("rampDuration", rampDuration, minRampDuration, MAX_RAMP);
            uint40 start = uint40(block.timestamp);
            thresholdRamp[id] = ThresholdRamp({from: current, to: threshold, start: start, end: start + rampDuration});
            _acc.rampMask |= uint16(1 << id);
            emit ThresholdRampStarted(id, current, threshold, start, start + rampDuration);
        } else {
            delete thresholdRamp[id]; // raising makes every account healthier: at once
            _acc.rampMask &= ~uint16(1 << id);
        }
        c.liquidationThreshold = threshold;
        emit ParameterSet("liquidationThreshold", id, threshold);
    }

    /// @inheritdoc IVault
    function setPenalty(uint256 id, uint64 penalty) external onlyRole(GOVERNOR_ROLE) {
        StoredCollateral storage c = _config(id);
        // Check against the threshold in force now: while it ramps down it is above the target,
        // and liquidations use it (threshold * (1 + penalty) < 1 must hold throughout).
        _checkRisk(c.maxLtv, _currentThreshold(id, c), penalty);
        c.penalty = penalty;
        emit ParameterSet("penalty", id, penalty);
    }

    /// @inheritdoc IVault
    function setSupplyCap(uint256 id, uint128 cap) external onlyRole(GOVERNOR_ROLE) {
        _config(id).supplyCap = cap;
        emit ParameterSet("supplyCap", id, cap);
    }

    /// @inheritdoc IVault
    function setFrozen(uint256 id, bool frozen) external onlyRole(GOVERNOR_ROLE) {
        _config(id).frozen = frozen;
        emit ParameterSet("frozen", id, frozen ? 1 : 0);
    }

    /// @inheritdoc IVault
    function setDust(uint256 dust_) external onlyRole(GOVERNOR_ROLE) {
        if (dust_ > MAX_DUST) revert InvalidParameter("dust", dust_, 0, MAX_DUST);
        dust = dust_;
        emit ParameterSet("dust", 0, dust_);
    }

    /// @inheritdoc IVault
    function setDebtCeiling(uint256 ceiling) external onlyRole(GOVERNOR_ROLE) {
        debtCeiling = ceiling;
        emit ParameterSet("debtCeiling", 0, ceiling);
    }

    /// @inheritdoc IVault
    function setStabilityFee(uint256 fee) external onlyRole(GOVERNOR_ROLE) {
        if (fee < RAY || fee > MAX_FEE_PER_SECOND) revert InvalidParameter("feePerSecond", fee, RAY, MAX_FEE_PER_SECOND);
        _accrue(); // fees up to now at the old rate
        _totals.feePerSecond = uint96(fee); // <= MAX_FEE_PER_SECOND
        emit ParameterSet("feePerSecond", 0, fee);
    }

    /// @inheritdoc IVault
    function setMinRampDuration(uint40 duration) external onlyRole(GOVERNOR_ROLE) {
        if (duration < 1 hours || duration > 30 days) revert InvalidParameter("minRampDuration", duration, 1 hours, 30 days);
        minRampDuration = duration;
        emit ParameterSet("minRampDuration", 0, duration);
    }

    /// @inheritdoc IVault
    function setOracle(IOracleAdapter oracle_) external onlyRole(GOVERNOR_ROLE) {
        if (address(oracle_) == address(0)) revert ZeroAddress();
        oracle = oracle_;
        emit ParameterSet("oracle", 0, uint256(uint160(address(oracle_))));
    }

    /// @inheritdoc IVault
    function pauseBorrowing() external onlyRole(GUARDIAN_ROLE) {
        borrowingPaused = true;
        emit BorrowingPausedSet(true);
    }

    /// @inheritdoc IVault
    function unpauseBorrowing() external onlyRole(GOVERNOR_ROLE) {
        borrowingPaused = false;
        emit BorrowingPausedSet(false);
    }

    /// @inheritdoc IVault
    function startShutdown() external onlyRole(GOVERNOR_ROLE) {
        shutdown = true;
        emit ShutdownStarted();
    }

    // --- Internal ---

    function _config(uint256 id) internal view returns (StoredCollateral storage) {
        if (id >= _acc.collateralCount) revert UnknownCollateral(id);
        return _collaterals[id];
    }

    function _checkRisk(uint64 maxLtv, uint64 threshold, uint64 penalty) internal pure {
        if (penalty > MAX_PENALTY) revert InvalidParameter("penalty", penalty, 0, MAX_PENALTY);
        if (threshold >= WAD) revert InvalidParameter("liquidationThreshold", threshold, uint256(maxLtv) + 1, WAD - 1);
        if (maxLtv >= threshold) revert InvalidParameter("maxLtv", maxLtv, 0, threshold - 1);
        // A liquidation must be able to improve health: seizing value v*(1+penalty) at threshold
        // weight must cost less weighted collateral than the debt it clears.
        uint256 seizedWeight = FPM.mulDivUp(threshold, WAD + penalty, WAD);
        if (seizedWeight >= WAD) {
            revert InvalidParameter("liquidationThreshold*(1+penalty)", seizedWeight, 0, WAD - 1);
        }
    }

    function _currentThreshold(uint256 id, StoredCollateral storage c) internal view returns (uint64) {
        if (_acc.rampMask & (1 << id) == 0) return c.liquidationThreshold; // never ramped since the last raise
        ThresholdRamp memory ramp = thresholdRamp[id];
        if (ramp.end <= block.timestamp) return c.liquidationThreshold;
        // Linear from `from` to `to`; while falling, round up (the account's favour: slower).
        uint256 elapsed = block.timestamp - ramp.start;
        uint256 span = ramp.end - ramp.start;
        uint256 drop = (uint256(ramp.from) - ramp.to) * elapsed / span;
        return uint64(ramp.from - drop);
    }

    /// @dev Accrue stability fees: rate *= feePerSecond ** dt (rounded up), and the exact growth
    ///      of totalDebt() is minted to the buffer.
    function _accrue() internal returns (uint256 r) {
        Accumulator memory acc = _acc;
        r = acc.rate;
        if (acc.lastAccrual >= block.timestamp) return r;
        uint256 fee = _totals.feePerSecond;
        uint256 newRate = fee == RAY ? r : FPM.mulDivUp(FPM.rpow(fee, block.timestamp - acc.lastAccrual, RAY), r, RAY);
        acc.rate = uint192(newRate);
        acc.lastAccrual = uint40(block.timestamp);
        _acc = acc;
        if (newRate != r) {
            uint256 totalArt = _totals.normalisedDebt;
            uint256 fees = _totalDebt(totalArt, newRate) - _totalDebt(totalArt, r);
            if (fees > 0) debtToken.mint(buffer, fees);
            emit FeesAccrued(newRate, fees);
        }
        r = newRate;
    }

    function _totalDebt(uint256 totalArt, uint256 r) internal pure returns (uint256) {
        return FPM.mulDivUp(totalArt, r, RAY);
    }

    /// @dev How much normalised debt can be added to `art` before ceil(art * r / RAY) > bound.
    function _artRoom(uint256 bound, uint256 r, uint256 art) internal pure returns (uint256) {
        uint256 maxArt = FPM.fullMulDiv(bound, RAY, r);
        return maxArt > art ? maxArt - art : 0;
    }

    /// @dev sum(value at borrowPrice * maxLtv) over the account's collateral, rounded down.
    function _borrowLimit(address account, uint256 mask) internal returns (uint256 limit) {
        IOracleAdapter o = oracle;
        for (uint256 id; mask != 0; ++id) {
            if (mask & 1 != 0) {
                StoredCollateral storage c = _collaterals[id];
                if (!c.frozen && c.maxLtv != 0) {
                    uint256 price = o.update(c.token).borrowPrice;
                    uint256 value = FPM.fullMulDiv(_collateralOf[account][id], price, 10 ** c.decimals);
                    limit += FPM.fullMulDiv(value, c.maxLtv, WAD);
                }
            }
            mask >>= 1;
        }
    }

    function _borrowLimitView(address account, uint256 mask) internal view returns (uint256 limit) {
        IOracleAdapter o = oracle;
        for (uint256 id; mask != 0; ++id) {
            if (mask & 1 != 0) {
                StoredCollateral storage c = _collaterals[id];
                if (!c.frozen && c.maxLtv != 0) {
                    uint256 price = o.peek(c.token).borrowPrice;
                    uint256 value = FPM.fullMulDiv(_collateralOf[account][id], price, 10 ** c.decimals);
                    limit += FPM.fullMulDiv(value, c.maxLtv, WAD);
                }
            }
            mask >>= 1;
        }
    }

    function _heldCollateral(address account) internal view returns (HeldCollateral[] memory held) {
        uint256 mask = _positions[account].mask;
        uint256 n;
        for (uint256 m = mask; m != 0; m &= m - 1) ++n;
        held = new HeldCollateral[](n);
        uint256 k;
        for (uint256 id; mask != 0; ++id) {
            if (mask & 1 != 0) {
                StoredCollateral storage c = _collaterals[id];
                held[k++] = HeldCollateral({
                    id: uint8(id),
                    token: c.token,
                    decimals: c.decimals,
                    amount: _collateralOf[account][id],
                    liquidationThreshold: _currentThreshold(id, c),
                    penalty: c.penalty
                });
            }
            mask >>= 1;
        }
    }

    /// @dev Move `amount` of collateral `id` from the account to the auctions' custody (no transfer).
    /// @dev Remove normalised debt `art` from the account and the total; the exact decrease of
    ///      totalDebt() (the total is rounded up, so the account's share can differ by a wei).
    function _removeDebt(address account, Position storage pos, uint256 art) internal returns (uint256 debtRemoved) {
        uint256 r = _accrue();
        uint256 totalArt = _totals.normalisedDebt;
        uint256 totalBefore = _totalDebt(totalArt, r);
        pos.art -= _toUint128(art);
        totalArt -= art;
        _totals.normalisedDebt = uint160(totalArt); // below the stored value
        debtRemoved = totalBefore - _totalDebt(totalArt, r);
        emit Confiscate(account, art, debtRemoved);
    }

    /// @dev Move `amount` of collateral `id` out of the account: into the auctions' custody, or
    ///      (`toAuction` false, a direct liquidation) out of the accounting, for the caller to send.
    function _removeCollateral(address account, uint256 id, uint256 amount, uint16 mask, bool toAuction)
        internal
        returns (uint16)
    {
        StoredCollateral storage c = _collaterals[id];
        uint256 held = _collateralOf[account][id];
        if (held < amount) revert InsufficientCollateral(id, held, amount);
        _collateralOf[account][id] = held - amount;
        // held <= totalSupplied; inAuction + totalSupplied never exceeds what deposits brought in.
        if (toAuction) (c.totalSupplied, c.inAuction) = (c.totalSupplied - uint128(amount), c.inAuction + uint128(amount));
        else c.totalSupplied -= uint128(amount);
        if (held == amount) mask &= ~uint16(1 << id);
        emit CollateralConfiscated(account, id, amount);
        return mask;
    }

    function _toUint160(uint256 x) internal pure returns (uint160) {
        if (x > type(uint160).max) revert InvalidParameter("uint160", x, 0, type(uint160).max);
        return uint160(x);
    }

    function _toUint128(uint256 x) internal pure returns (uint128) {
        if (x > type(uint128).max) revert InvalidParameter("uint128", x, 0, type(uint128).max);
        return uint128(x);
    }
}
