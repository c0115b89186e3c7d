// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title Governed
/// @notice The roles every Unwind module shares.
///         - DEFAULT_ADMIN_ROLE grants and revokes roles; after deployment it is held by the
///           timelock only.
///         - GOVERNOR_ROLE calls the bounded parameter setters; held by the timelock
///           (OpenZeppelin TimelockController), so every parameter change waits its delay.
///         - GUARDIAN_ROLE acts at once but can only make the system safer: stop new debt,
///           stop new auctions, stop a delayed price. It can never block repaying, depositing,
///           or withdrawing from a closed position.
///         - RISK_ROLE may call only the few setters marked `onlyGovernorOrRisk` (max LTV,
///           liquidation threshold, auction parameters, keeper incentive); it is held by the
///           AdaptiveRisk contract, whose writes pass the same bounds as governance's.
///         - Module roles (engine, auction, vault) are granted between the contracts at wiring.
abstract contract Governed is AccessControl {
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant RISK_ROLE = keccak256("RISK_ROLE");

    /// @dev The governor, or the adaptive-risk module for the setters it may move.
    modifier onlyGovernorOrRisk() {
        if (!hasRole(GOVERNOR_ROLE, msg.sender) && !hasRole(RISK_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, GOVERNOR_ROLE);
        }
        _;
    }

    /// @param admin receives every role; the deploy script hands them to the timelock and the
    ///        guardian and then renounces them.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, admin);
        _grantRole(GUARDIAN_ROLE, admin);
    }
}
