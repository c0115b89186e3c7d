// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice An ERC-20 that burns 1% of every transfer (mints and burns are exact), with open
///         minting: the kind of token the vault must refuse (a deposit would credit more than
///         the vault received).
/// @dev Test double only. Never deploy outside a local or test network.
contract FeeOnTransferToken is ERC20 {
    uint256 public constant FEE_BPS = 100; // [bps] 1% of each transfer is burned

    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 fee = value * FEE_BPS / 10_000;
        super._update(from, address(0), fee); // burn the fee from the sender
        super._update(from, to, value - fee);
    }
}
