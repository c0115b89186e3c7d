// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {WeirdTokenBase} from "./WeirdTokenBase.sol";

/// @notice Like an ERC-777 token: every transfer calls a hook, here an arbitrary call armed by
///         anyone (`arm`), made after the balances move and before the transfer returns. Used to
///         re-enter the protocol from inside its own token transfers. The hook's revert bubbles
///         up, so the outer call fails with the protocol's own error.
contract HookToken is WeirdTokenBase {
    address public hookTarget;
    bytes public hookData;
    bool internal _inHook;
    uint256 public hookCalls;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) WeirdTokenBase(name_, symbol_, decimals_) {}

    function arm(address target, bytes calldata data) external {
        hookTarget = target;
        hookData = data;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        require(_tryMove(msg.sender, msg.sender, to, amount), "HookToken: transfer failed");
        _hook();
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        require(_tryMove(msg.sender, from, to, amount), "HookToken: transfer failed");
        _hook();
        return true;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function _hook() internal {
        if (hookTarget == address(0) || _inHook) return;
        _inHook = true;
        ++hookCalls;
        (bool ok, bytes memory ret) = hookTarget.call(hookData);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        _inHook = false;
    }
}
