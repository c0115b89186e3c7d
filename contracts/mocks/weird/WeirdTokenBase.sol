// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Shared storage and helpers for the misbehaving test tokens in this folder (solmate's
///         "weird ERC-20" list: missing return values, false returns, rebasing, transfer hooks).
///         Each token implements transfer/transferFrom/approve itself, with its own quirk.
/// @dev Test doubles only: open minting. Never deploy outside a local or test network.
abstract contract WeirdTokenBase {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    string public name;
    string public symbol;
    uint8 public immutable decimals;
    uint256 internal _supply;
    mapping(address => uint256) internal _balances;
    mapping(address => mapping(address => uint256)) public allowance;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }

    function totalSupply() public view virtual returns (uint256) {
        return _supply;
    }

    function balanceOf(address who) public view virtual returns (uint256) {
        return _balances[who];
    }

    function mint(address to, uint256 amount) external virtual {
        _balances[to] += amount;
        _supply += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @dev Moves `amount` if the balance (and, for a spender, the allowance) allows it.
    ///      Returns false instead of reverting; each token decides what to do with that.
    function _tryMove(address spender, address from, address to, uint256 amount) internal returns (bool) {
        if (_balances[from] < amount) return false;
        if (spender != from) {
            uint256 allowed = allowance[from][spender];
            if (allowed < amount) return false;
            if (allowed != type(uint256).max) allowance[from][spender] = allowed - amount;
        }
        _balances[from] -= amount;
        _balances[to] += amount;
        emit Transfer(from, to, amount);
        return true;
    }
}
