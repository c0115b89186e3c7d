// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IOracleAdapter} from "../../../interfaces/IOracleAdapter.sol";

/// @title NaiveOracleBase
/// @notice TEST-ONLY. The common shape of the deliberately naive oracles the adversarial
///         scenarios install in place of Unwind's `OracleAdapter` (through `vault.setOracle`, via
///         governance) to show that each attack WORKS when the matching defence is missing. A
///         scenario that cannot fail proves nothing: these contracts are the "can fail" half.
///
///         They answer only what the vault and the liquidation engine call (`update`, `peek`,
///         `poke`) and serve ONE price for every purpose: borrowing, liquidation and the auction
///         start, with status Live and no guard. None of them has a delayed price, a sequencer
///         check, a jump breaker or a secondary source.
/// @dev NEVER deploy outside a local test chain. Configuration setters are owner-only.
abstract contract NaiveOracleBase {
    address public immutable owner;

    error NotOwner(address caller);

    constructor() {
        owner = msg.sender;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @notice The one price this oracle serves for `token` [wad, debt wei per whole token].
    function price(address token) public view virtual returns (uint256);

    function peek(address token) public view returns (IOracleAdapter.Quote memory q) {
        uint256 p = price(token);
        q.current = p;
        q.borrowPrice = p;
        q.liquidationPrice = p;
        q.auctionStartPrice = p;
        q.status = IOracleAdapter.Status.Live;
        q.guard = IOracleAdapter.Guard.None;
    }

    function update(address token) external returns (IOracleAdapter.Quote memory) {
        _record(token);
        return peek(token);
    }

    function poke(address token) external {
        _record(token);
    }

    function name() external pure virtual returns (string memory);

    /// @dev State an update writes (TWAP observations); nothing by default.
    function _record(address token) internal virtual {}
}
