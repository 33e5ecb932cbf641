// The program's errors by name and message, from whatever a client sees: a simulation's or a
// sent transaction's `InstructionError: [i, { Custom: code }]`, or a kit SolanaError.
import {
  isSolanaError,
  SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
} from "@solana/kit";
import { AIDX_ERROR__INVALID_MAX_WEIGHT, type AidxError } from "./generated/errors";
import { AIDX_ERROR_TABLE } from "./generated/errorTable";

/** A program error: its code, its name as the Rust enum spells it, its message. */
export type NamedAidxError = { code: AidxError; name: string; message: string; instruction?: number };

/** The aidx error with `code`, if it is one (messages included in production bundles too). */
export function aidxError(code: number, instruction?: number): NamedAidxError | undefined {
  const e = AIDX_ERROR_TABLE.get(code);
  return e && { code: code as AidxError, name: e.name, message: e.message, instruction };
}

/** The custom error code in a transaction error (`{ InstructionError: [i, { Custom: n }] }`). */
export function customCode(err: unknown): { code: number; instruction: number } | undefined {
  if (err && typeof err === "object" && "InstructionError" in err) {
    const [instruction, inner] = (err as { InstructionError: [number | bigint, unknown] }).InstructionError;
    if (inner && typeof inner === "object" && "Custom" in inner) {
      return { code: Number((inner as { Custom: number | bigint }).Custom), instruction: Number(instruction) };
    }
  }
  return undefined;
}

/** The aidx error a transaction error names, if any: a raw `{ InstructionError: ... }` (a
 * simulation's or a transaction's status) or a kit `SolanaError` (and its causes). */
export function explainTransactionError(err: unknown): NamedAidxError | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 8; depth++) {
    if (isSolanaError(e, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM)) {
      return aidxError(e.context.code, e.context.index);
    }
    const c = customCode(e);
    if (c) return aidxError(c.code, c.instruction);
    e = (e as { cause?: unknown } | null)?.cause;
  }
  return undefined;
}

/** The logs of a failed preflight (a kit `SolanaError` from `sendTransaction`), if it is one. */
export function preflightLogs(err: unknown): string[] | undefined {
  if (!isSolanaError(err, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE)) return undefined;
  return [...(err.context.logs ?? [])];
}

/** The first and lowest aidx error code (errors are numbered from it). */
export const FIRST_AIDX_ERROR = AIDX_ERROR__INVALID_MAX_WEIGHT;
