// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Governed} from "../governance/Governed.sol";
import {IDebtToken} from "../../interfaces/IDebtToken.sol";
import {ILiquidityBuffer} from "../../interfaces/ILiquidityBuffer.sol";

/// @title LiquidityBuffer
/// @notice See ILiquidityBuffer: surplus in, shortfalls out, bad debt recorded.
contract LiquidityBuffer is ILiquidityBuffer, Governed, ReentrancyGuardTransient {
    /// @notice Granted to the auction (absorb, pay) and the engine (pay).
    bytes32 public constant MODULE_ROLE = keccak256("MODULE_ROLE");

    IDebtToken public immutable debtToken;

    // --- Storage ---
    uint256 public override badDebt; // [wad]
    uint256 public surplusFloor; // [wad]

    constructor(address admin, IDebtToken debtToken_) Governed(admin) {
        if (address(debtToken_) == address(0)) revert ZeroAddress();
        debtToken = debtToken_;
    }

    /// @inheritdoc ILiquidityBuffer
    function surplus() public view returns (uint256) {
        return debtToken.balanceOf(address(this));
    }

    /// @inheritdoc ILiquidityBuffer
    function absorb(uint256 auctionId, uint256 shortfall) external onlyRole(MODULE_ROLE) nonReentrant {
        uint256 held = surplus();
        uint256 covered = shortfall < held ? shortfall : held;
        if (covered > 0) debtToken.burn(address(this), covered);
        uint256 uncovered = shortfall - covered;
        if (uncovered > 0) badDebt += uncovered;
        emit ShortfallAbsorbed(auctionId, shortfall, covered, badDebt);
    }

    /// @inheritdoc ILiquidityBuffer
    function pay(address to, uint256 amount) external onlyRole(MODULE_ROLE) nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        uint256 held = surplus();
        uint256 fromSurplus = amount < held ? amount : held;
        if (fromSurplus > 0) SafeERC20.safeTransfer(debtToken, to, fromSurplus);
        uint256 minted = amount - fromSurplus;
        if (minted > 0) {
            debtToken.mint(to, minted);
            badDebt += minted;
        }
        emit IncentivePaid(to, amount, fromSurplus, badDebt);
    }

    /// @inheritdoc ILiquidityBuffer
    function heal() public nonReentrant returns (uint256 healed) {
        uint256 held = surplus();
        uint256 bad = badDebt;
        healed = held < bad ? held : bad;
        if (healed > 0) {
            badDebt = bad - healed;
            debtToken.burn(address(this), healed);
            emit Healed(healed);
        }
    }

    /// @inheritdoc ILiquidityBuffer
    function withdrawSurplus(address to, uint256 amount) external onlyRole(GOVERNOR_ROLE) nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        uint256 held = surplus();
        uint256 available = badDebt == 0 && held > surplusFloor ? held - surplusFloor : 0;
        if (amount > available) revert SurplusLocked(available, amount);
        SafeERC20.safeTransfer(debtToken, to, amount);
        emit SurplusWithdrawn(to, amount);
    }

    /// @inheritdoc ILiquidityBuffer
    function setSurplusFloor(uint256 floor) external onlyRole(GOVERNOR_ROLE) {
        surplusFloor = floor;
        emit SurplusFloorSet(floor);
    }
}
