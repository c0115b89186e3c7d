// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IVault} from "../../interfaces/IVault.sol";

/// @title Bulk account opener for benchmarks (local chains only)
/// @notice Opens many vault accounts in one transaction through the vault's own functions: each
///         account is a fresh `BenchAccount` contract whose constructor has the seeder deposit its
///         collateral (`vault.deposit`, paid from the seeder's own token balance) and then borrows
///         for itself (`vault.borrow`, so msg.sender is the account). Nothing writes vault storage
///         directly, so a keeper indexes the same Deposit and Borrow events real users emit.
///         The account contracts keep no runtime code: they exist only to be distinct borrowers.
contract Seeder {
    using SafeERC20 for IERC20;

    IVault public immutable vault;
    bool private _opening; // true only while `open` creates accounts

    error NotOpening();
    error LengthMismatch(uint256 amounts, uint256 debts);

    constructor(IVault vault_) {
        vault = vault_;
    }

    /// @notice Open one account per entry: `amounts[i]` of collateral `id` [token units] and a
    ///         debt of `debts[i]` [wad] minted to `receiver`. The seeder must hold the collateral.
    function open(uint256 id, uint256[] calldata amounts, uint256[] calldata debts, address receiver)
        external
        returns (address[] memory accounts)
    {
        if (amounts.length != debts.length) revert LengthMismatch(amounts.length, debts.length);
        IERC20 token = IERC20(vault.collateral(id).token);
        if (token.allowance(address(this), address(vault)) < type(uint128).max) {
            token.forceApprove(address(vault), type(uint256).max);
        }
        accounts = new address[](amounts.length);
        _opening = true;
        for (uint256 i; i < amounts.length; ++i) {
            accounts[i] = address(new BenchAccount(vault, id, amounts[i], debts[i], receiver));
        }
        _opening = false;
    }

    /// @notice Called by a BenchAccount from its constructor: deposit its collateral for it.
    function depositFor(address account, uint256 id, uint256 amount) external {
        if (!_opening) revert NotOpening();
        vault.deposit(account, id, amount);
    }
}

/// @notice One benchmark borrower: deposits (through the seeder) and borrows in its constructor.
contract BenchAccount {
    constructor(IVault vault, uint256 id, uint256 amount, uint256 debt, address receiver) {
        Seeder(msg.sender).depositFor(address(this), id, amount);
        vault.borrow(address(this), debt, receiver);
        assembly {
            return(0, 0) // no runtime code: cheaper to create, and nothing to call
        }
    }
}
