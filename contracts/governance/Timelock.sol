// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title Timelock
/// @notice Holds GOVERNOR_ROLE and DEFAULT_ADMIN_ROLE on every module: each parameter change is
///         scheduled in public and executes only after `minDelay` seconds. OpenZeppelin's
///         TimelockController, unchanged; this contract only gives it a name in the project.
contract Timelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
