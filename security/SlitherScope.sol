// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// What `make slither` analyses: every production contract, in one compilation unit (slither
// takes one target). Mocks, attack contracts and naive oracles are test doubles: not in scope.
// This file lives outside contracts/ so Ape never builds it.
import {Vault} from "../contracts/vault/Vault.sol";
import {DebtToken} from "../contracts/vault/DebtToken.sol";
import {LiquidationEngine} from "../contracts/liquidation/LiquidationEngine.sol";
import {DirectLiquidator} from "../contracts/liquidation/DirectLiquidator.sol";
import {DutchAuction} from "../contracts/auction/DutchAuction.sol";
import {LiquidityBuffer} from "../contracts/buffer/LiquidityBuffer.sol";
import {OracleAdapter} from "../contracts/oracle/OracleAdapter.sol";
import {Timelock} from "../contracts/governance/Timelock.sol";
import {FlashTaker} from "../contracts/keeper/FlashTaker.sol";
import {AdaptiveRisk} from "../contracts/risk/AdaptiveRisk.sol";
import {PerpMarkets} from "../contracts/perps/PerpMarkets.sol";
import {PerpPool} from "../contracts/perps/PerpPool.sol";
