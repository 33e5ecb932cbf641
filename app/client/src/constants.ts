// Fixed numbers of the aidx program, as named in programs/aidx/src/math/mod.rs.
import { address, type Address } from "@solana/kit";

export { AIDX_PROGRAM_ADDRESS } from "./generated/programs";

/** Decimals of an index share. */
export const SHARE_DECIMALS = 9;
/** Raw units of one whole share. */
export const ONE_SHARE = 1_000_000_000n;
/** Weights: 1.0 = WEIGHT_SCALE. */
export const WEIGHT_SCALE = 1_000_000_000n;
/** Basis points: 1.0 = BPS_SCALE. */
export const BPS_SCALE = 10_000n;
/** Dollars: $1 = USD_SCALE. */
export const USD_SCALE = 1_000_000_000_000n;
/** Shares locked forever at the first mint. */
export const DEAD_SHARES = 1_000n;
/** The most slippage a quote accepts, basis points (the Rust client's bound). */
export const MAX_SLIPPAGE_BPS = 5_000;
/** A row whose token program needs the mint in each leg has three accounts per leg. */
export const CHECKED_LEG_ACCOUNTS = 3;

export const TOKEN_PROGRAM_ADDRESS: Address = address("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
export const TOKEN_2022_PROGRAM_ADDRESS: Address = address("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
export const ASSOCIATED_TOKEN_PROGRAM_ADDRESS: Address = address("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
/** Pyth's push oracle (mainnet-beta): the price feed accounts operators read. */
export const PYTH_PUSH_ORACLE_ADDRESS: Address = address("pythWSnswVUd12oZpeFP8e9CVaEqJg25g1Vtc2biRsT");

/** How a row stands: `Constituent.quarantine`. */
export const Quarantine = { None: 0, FrozenVault: 1, PausedMint: 2, Authority: 3 } as const;
