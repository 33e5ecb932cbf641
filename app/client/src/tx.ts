// Transactions for aidx instructions on @solana/kit: simulate (for quotes), send and confirm
// (over PubSub), and the program's events and errors from the result. Lookup tables are used
// when given (a full basket needs the index's and the holder's).
import {
  appendTransactionMessageInstructions,
  compileTransaction,
  compressTransactionMessageUsingAddressLookupTables,
  createNoopSigner,
  createTransactionMessage,
  fetchAddressesForLookupTables,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  type Address,
  type Commitment,
  type GetAccountInfoApi,
  type GetEpochInfoApi,
  type GetLatestBlockhashApi,
  type GetMultipleAccountsApi,
  type GetSignatureStatusesApi,
  type GetTransactionApi,
  type Instruction,
  type Rpc,
  type RpcSubscriptions,
  type SendTransactionApi,
  type Signature,
  type SignatureNotificationsApi,
  type SimulateTransactionApi,
  type SlotNotificationsApi,
  type TransactionSigner,
} from "@solana/kit";
import { getSetComputeUnitLimitInstruction } from "@solana-program/compute-budget";
import { explainTransactionError, preflightLogs, type NamedAidxError } from "./errors";
import { eventsFromLogs } from "./events";
import type { AidxEvent } from "./generated/events";

/** The RPC methods the client uses. */
export type AidxRpc = Rpc<
  GetAccountInfoApi &
    GetMultipleAccountsApi &
    GetLatestBlockhashApi &
    SimulateTransactionApi &
    SendTransactionApi &
    GetSignatureStatusesApi &
    GetTransactionApi &
    GetEpochInfoApi
>;
/** The PubSub notifications confirmation waits on. */
export type AidxRpcSubscriptions = RpcSubscriptions<SignatureNotificationsApi & SlotNotificationsApi>;

/** A transaction that failed: the runtime's error, the aidx error it names (if any) and the
 * logs. Its message is the program's error message when there is one. */
export class AidxTransactionError extends Error {
  constructor(
    readonly err: unknown,
    readonly logs: readonly string[],
    readonly aidx: NamedAidxError | undefined,
  ) {
    super(aidx ? `${aidx.name}: ${aidx.message}` : `transaction failed: ${JSON.stringify(err, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`);
    this.name = "AidxTransactionError";
  }
}

async function message(
  rpc: AidxRpc,
  feePayer: TransactionSigner,
  instructions: readonly Instruction[],
  lookupTables: readonly Address[],
) {
  return (await transactionMessage(rpc, feePayer, instructions, lookupTables)).message;
}

/** A v0 transaction message of `instructions` paid by `feePayer`, on the node's latest
 * blockhash, through `lookupTables` when given; with the last block height at which the
 * blockhash is valid (a transaction not seen by then never lands). */
export async function transactionMessage(
  rpc: AidxRpc,
  feePayer: TransactionSigner,
  instructions: readonly Instruction[],
  lookupTables: readonly Address[] = [],
) {
  const { value: blockhash } = await rpc.getLatestBlockhash({ commitment: "confirmed" }).send();
  return { message: await compose(rpc, feePayer, blockhash, instructions, lookupTables), lastValidBlockHeight: blockhash.lastValidBlockHeight };
}

async function compose(
  rpc: AidxRpc,
  feePayer: TransactionSigner,
  blockhash: Parameters<typeof setTransactionMessageLifetimeUsingBlockhash>[0],
  instructions: readonly Instruction[],
  lookupTables: readonly Address[],
) {
  const base = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(feePayer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  if (lookupTables.length === 0) return base;
  const tables = await fetchAddressesForLookupTables([...lookupTables], rpc);
  return compressTransactionMessageUsingAddressLookupTables(base, tables);
}

/** What a simulation gave: the program's events, or its error. */
export type Simulated = { events: AidxEvent[]; logs: string[]; unitsConsumed?: bigint };

/** Simulates `instructions` paid by `feePayer` (no signature needed); the events, or an
 * `AidxTransactionError`. */
export async function simulate(
  rpc: AidxRpc,
  feePayer: Address,
  instructions: readonly Instruction[],
  lookupTables: readonly Address[] = [],
): Promise<Simulated> {
  const m = await message(rpc, createNoopSigner(feePayer), instructions, lookupTables);
  const wire = getBase64EncodedWireTransaction(compileTransaction(m));
  const { value } = await rpc
    .simulateTransaction(wire, { encoding: "base64", sigVerify: false, replaceRecentBlockhash: true, commitment: "confirmed" })
    .send();
  const logs = [...(value.logs ?? [])];
  if (value.err) throw new AidxTransactionError(value.err, logs, explainTransactionError(value.err));
  return { events: eventsFromLogs(logs), logs, unitsConsumed: value.unitsConsumed ?? undefined };
}

/** What a confirmed transaction left behind. */
export type Sent = { signature: Signature; events: AidxEvent[]; logs: string[] };

/** Signs `instructions` with `signer` (the fee payer) and any signers they carry, sends them
 * (after the node's preflight), waits until `commitment` over PubSub, and reads the events
 * from the transaction's logs. A failure is an `AidxTransactionError` naming the program's
 * error. */
export async function sendAndConfirm(
  rpc: AidxRpc,
  rpcSubscriptions: AidxRpcSubscriptions,
  signer: TransactionSigner,
  instructions: readonly Instruction[],
  options: { lookupTables?: readonly Address[]; commitment?: Commitment } = {},
): Promise<Sent> {
  const commitment = options.commitment ?? "confirmed";
  const m = await message(rpc, signer, instructions, options.lookupTables ?? []);
  const tx = await signTransactionMessageWithSigners(m);
  const signature = getSignatureFromTransaction(tx);
  try {
    await sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions })(tx as Parameters<ReturnType<typeof sendAndConfirmTransactionFactory>>[0], {
      commitment,
    });
  } catch (e) {
    const logs = preflightLogs(e);
    if (logs) throw new AidxTransactionError(e, logs, explainTransactionError(e));
    throw e;
  }
  const got = await rpc
    .getTransaction(signature, { commitment, encoding: "json", maxSupportedTransactionVersion: 0 })
    .send();
  const logs = [...(got?.meta?.logMessages ?? [])];
  if (got?.meta?.err) throw new AidxTransactionError(got.meta.err, logs, explainTransactionError(got.meta.err));
  return { signature, events: eventsFromLogs(logs), logs };
}

/** The compute-unit limit for a transaction a simulation measured at `unitsConsumed`: the
 * measure plus a margin (a later state may take a few more units: a leg's account created,
 * a fee accrued), never above the 1.4M a transaction may ask for. */
export function computeUnitLimitFor(unitsConsumed: bigint): number {
  const margin = unitsConsumed / 10n + 5_000n;
  const units = unitsConsumed + margin;
  return Number(units > 1_400_000n ? 1_400_000n : units);
}

/** `instructions` preceded by a compute-unit limit (from a simulation, [`computeUnitLimitFor`]). */
export function withComputeUnitLimit(instructions: readonly Instruction[], units: number): Instruction[] {
  return [getSetComputeUnitLimitInstruction({ units }), ...instructions];
}
