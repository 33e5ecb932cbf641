// Single-asset quotes by simulation, as the Rust client quotes them: the prices refreshed and
// the instruction run with no minimum, its event read for what the program pays; the bound is
// that less the slippage.
import type { Address, Instruction, TransactionSigner } from "@solana/kit";
import type { LoadedIndex } from "./accounts";
import { refreshFeedAddresses } from "./addresses";
import { mintSingle, redeemSingle, refreshPrices } from "./builders";
import { eventsNamed } from "./events";
import { lessSlippage } from "./math";
import { simulate, type AidxRpc } from "./tx";

/** A single-asset quote: what the program pays, and the bound a sent instruction carries. */
export type SingleQuote = { quoted: bigint; bound: bigint };

/** Shares `amountIn` raw units of row `row` mint now, less `slippageBps`. `setup` runs first
 * in the simulation (the holder's accounts a first-time holder creates before sending). */
export async function quoteMintSingle(
  rpc: AidxRpc,
  index: LoadedIndex,
  holder: TransactionSigner,
  row: number,
  amountIn: bigint,
  slippageBps: number,
  lookupTables: readonly Address[] = [],
  setup: readonly Instruction[] = [],
): Promise<SingleQuote> {
  const refresh = refreshPrices(index.address, await refreshFeedAddresses(index.rows));
  const ix = await mintSingle(index, holder, row, { amountIn, minSharesOut: 0n });
  const sim = await simulate(rpc, holder.address, [...setup, refresh, ix], lookupTables);
  const [m] = eventsNamed(sim.events, "MintedSingle");
  if (!m) throw new Error("the simulation emitted no MintedSingle");
  return { quoted: m.shares, bound: lessSlippage(m.shares, slippageBps) };
}

/** Raw units of row `row` redeeming `shares` pays now, less `slippageBps`. */
export async function quoteRedeemSingle(
  rpc: AidxRpc,
  index: LoadedIndex,
  holder: TransactionSigner,
  row: number,
  shares: bigint,
  slippageBps: number,
  lookupTables: readonly Address[] = [],
  setup: readonly Instruction[] = [],
): Promise<SingleQuote> {
  const refresh = refreshPrices(index.address, await refreshFeedAddresses(index.rows));
  const ix = await redeemSingle(index, holder, row, { shares, minAmountOut: 0n });
  const sim = await simulate(rpc, holder.address, [...setup, refresh, ix], lookupTables);
  const [r] = eventsNamed(sim.events, "RedeemedSingle");
  if (!r) throw new Error("the simulation emitted no RedeemedSingle");
  return { quoted: r.amountOut, bound: lessSlippage(r.amountOut, slippageBps) };
}
