// Instructions as holders send them: the generated builders, given the index's own accounts,
// with the in-kind legs appended as remaining accounts in table order (the mint first for a
// row whose token program needs it, then the vault, then the holder's account).
import { AccountRole, type AccountMeta, type Address, type GetMultipleAccountsApi, type Instruction, type Rpc, type TransactionSigner } from "@solana/kit";
import { getCreateAssociatedTokenIdempotentInstructionAsync } from "@solana-program/token";
import type { LoadedIndex, Row } from "./accounts";
import { findAssociatedTokenAddress, holderTokenAddresses } from "./addresses";
import { CHECKED_LEG_ACCOUNTS, TOKEN_2022_PROGRAM_ADDRESS, TOKEN_PROGRAM_ADDRESS } from "./constants";
import {
  getMintInKindInstruction,
  getMintSingleInstruction,
  getRedeemInKindInstruction,
  getRedeemSingleInstruction,
  getRefreshPricesInstruction,
} from "./generated/instructions";

/** The in-kind legs of every row, table order. */
export function legMetas(rows: readonly Row[], holderAccounts: readonly Address[]): AccountMeta[] {
  if (holderAccounts.length !== rows.length) {
    throw new RangeError(`${holderAccounts.length} holder accounts for ${rows.length} rows`);
  }
  return rows.flatMap((c, i) => [
    ...(c.legAccounts === CHECKED_LEG_ACCOUNTS ? [{ address: c.mint, role: AccountRole.READONLY }] : []),
    { address: c.vault, role: AccountRole.WRITABLE },
    { address: holderAccounts[i]!, role: AccountRole.WRITABLE },
  ]);
}

function withRemaining<T extends Instruction>(ix: T, extra: readonly AccountMeta[]): T {
  return { ...ix, accounts: [...(ix.accounts ?? []), ...extra] };
}

/** `mint_in_kind` of `shares` for `holder`, paying at most `maxAmountsIn` of each row. */
export async function mintInKind(
  index: LoadedIndex,
  holder: TransactionSigner,
  args: { shares: bigint; maxAmountsIn: readonly bigint[]; minSharesOut: bigint },
): Promise<Instruction> {
  const { account, rows } = index;
  const ix = getMintInKindInstruction({
    holder,
    index: index.address,
    shareMint: account.shareMint,
    holderShares: await findAssociatedTokenAddress(holder.address, account.shareMint, TOKEN_PROGRAM_ADDRESS),
    deadShares: account.deadShares,
    tokenProgram: TOKEN_PROGRAM_ADDRESS,
    token2022Program: TOKEN_2022_PROGRAM_ADDRESS,
    feeShares: account.feeShares,
    shares: args.shares,
    maxAmountsIn: [...args.maxAmountsIn],
    minSharesOut: args.minSharesOut,
  });
  return withRemaining(ix, legMetas(rows, await holderTokenAddresses(rows, holder.address)));
}

/** `redeem_in_kind` of `shares` for `holder`, receiving at least `minAmountsOut` of each row
 * (`skipMask`: rows the holder leaves behind). */
export async function redeemInKind(
  index: LoadedIndex,
  holder: TransactionSigner,
  args: { shares: bigint; minAmountsOut: readonly bigint[]; skipMask?: number },
): Promise<Instruction> {
  const { account, rows } = index;
  const ix = getRedeemInKindInstruction({
    holder,
    index: index.address,
    shareMint: account.shareMint,
    holderShares: await findAssociatedTokenAddress(holder.address, account.shareMint, TOKEN_PROGRAM_ADDRESS),
    tokenProgram: TOKEN_PROGRAM_ADDRESS,
    token2022Program: TOKEN_2022_PROGRAM_ADDRESS,
    feeShares: account.feeShares,
    shares: args.shares,
    minAmountsOut: [...args.minAmountsOut],
    skipMask: args.skipMask ?? 0,
  });
  return withRemaining(ix, legMetas(rows, await holderTokenAddresses(rows, holder.address)));
}

async function singleAccounts(index: LoadedIndex, holder: TransactionSigner, row: number) {
  const c = index.rows[row];
  if (!c) throw new RangeError(`row ${row} of ${index.rows.length}`);
  const { account } = index;
  return {
    holder,
    index: index.address,
    shareMint: account.shareMint,
    holderShares: await findAssociatedTokenAddress(holder.address, account.shareMint, TOKEN_PROGRAM_ADDRESS),
    mint: c.mint,
    vault: c.vault,
    holderToken: await findAssociatedTokenAddress(holder.address, c.mint, c.tokenProgram),
    tokenProgram: c.tokenProgram,
    shareTokenProgram: TOKEN_PROGRAM_ADDRESS,
    feeShares: account.feeShares,
  };
}

/** `mint_single`: `amountIn` raw units of row `row` for at least `minSharesOut` shares. */
export async function mintSingle(
  index: LoadedIndex,
  holder: TransactionSigner,
  row: number,
  args: { amountIn: bigint; minSharesOut: bigint },
): Promise<Instruction> {
  return getMintSingleInstruction({ ...(await singleAccounts(index, holder, row)), ...args });
}

/** `redeem_single`: `shares` for at least `minAmountOut` raw units of row `row`. */
export async function redeemSingle(
  index: LoadedIndex,
  holder: TransactionSigner,
  row: number,
  args: { shares: bigint; minAmountOut: bigint },
): Promise<Instruction> {
  return getRedeemSingleInstruction({ ...(await singleAccounts(index, holder, row)), ...args });
}

/** `refresh_prices` from the given Pyth price accounts. */
export function refreshPrices(index: Address, priceAccounts: readonly Address[]): Instruction {
  return withRemaining(
    getRefreshPricesInstruction({ index }),
    priceAccounts.map((address) => ({ address, role: AccountRole.READONLY })),
  );
}

/** Account roles, named (kit's `AccountRole` values). */
export const AccountRoleWritable = AccountRole.WRITABLE;
export const AccountRoleSigner = AccountRole.READONLY_SIGNER;
export const AccountRoleWritableSigner = AccountRole.WRITABLE_SIGNER;

/** The holder's token accounts an operation needs that do not exist yet, created
 * idempotently (the associated token account program), paid by `payer`: the share account
 * and, for `rows` (every row for an in-kind redeem, the one row of a single-asset redeem),
 * the holder's account of each. The program refuses a leg or a share account that does not
 * exist; a first-time holder sends these first. */
export async function createMissingHolderAccounts(
  rpc: Rpc<GetMultipleAccountsApi>,
  index: LoadedIndex,
  payer: TransactionSigner,
  owner: Address,
  rows: readonly number[],
): Promise<Instruction[]> {
  const wanted: { mint: Address; tokenProgram: Address }[] = [
    { mint: index.account.shareMint, tokenProgram: TOKEN_PROGRAM_ADDRESS },
    ...rows.map((i) => ({ mint: index.rows[i]!.mint, tokenProgram: index.rows[i]!.tokenProgram })),
  ];
  const addresses = await Promise.all(wanted.map((w) => findAssociatedTokenAddress(owner, w.mint, w.tokenProgram)));
  const found = await rpc.getMultipleAccounts(addresses, { encoding: "base64", dataSlice: { offset: 0, length: 0 } }).send();
  const out: Instruction[] = [];
  for (const [i, w] of wanted.entries()) {
    if (found.value[i]) continue;
    out.push(await getCreateAssociatedTokenIdempotentInstructionAsync({ payer, owner, mint: w.mint, tokenProgram: w.tokenProgram }));
  }
  return out;
}
