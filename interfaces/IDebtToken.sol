// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Unwind debt token
/// @notice The protocol's stablecoin: 18 decimals, valued at par (1 token = 1 unit of account)
///         everywhere inside the protocol, whatever a market says (scenario 10).
/// @dev Only protocol modules mint and burn. Burning never needs an allowance because a module
///      burns only from the caller of the operation that pays (repay, take), who asked for it.
interface IDebtToken is IERC20 {
    /// @notice Module-only: create `amount` [wad] for `to`.
    function mint(address to, uint256 amount) external;

    /// @notice Module-only: destroy `amount` [wad] held by `from`.
    function burn(address from, uint256 amount) external;
}
