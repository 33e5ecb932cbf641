// Holder actions with a Wallet Standard wallet: mint and redeem in kind (quoted from the
// balances on the index as the program will see it: burns synced, the management fee
// accrued, the mint and redeem fees taken off; a slippage bound on every leg) and
// single-asset (quoted by simulation, a minimum out); the holder's missing token accounts
// created first; the compute-unit limit from a simulation; the transaction's progress until
// confirmed or expired; the program's errors by their messages.
import { getWallets } from "@wallet-standard/app";
import type { Wallet, WalletAccount } from "@wallet-standard/base";
import {
  address,
  compileTransaction,
  createNoopSigner,
  getBase64Decoder,
  getTransactionDecoder,
  getTransactionEncoder,
  type Address,
  type Instruction,
  type Rpc,
  type Signature,
  type SolanaRpcApi,
} from "@solana/kit";
import * as aidx from "@aidx/client";
import { clockAndSupply, type Loaded } from "./data";
import { decimal, esc, shares } from "./format";

type Op = "mintInKind" | "redeemInKind" | "mintSingle" | "redeemSingle";
const PAUSE: Record<Op, number> = { mintInKind: 1, redeemInKind: 0, mintSingle: 2, redeemSingle: 4 };
const OPS: [Op, string][] = [
  ["mintInKind", "Mint in kind"],
  ["redeemInKind", "Redeem in kind"],
  ["mintSingle", "Mint with one token"],
  ["redeemSingle", "Redeem into one token"],
];

/** Where the page sends: the lookup tables transactions go through, and the Wallet Standard
 * chain the node is (from its genesis hash). */
export type Network = { tables: readonly Address[]; chain: string };

let wallet: Wallet | undefined;
let account: WalletAccount | undefined;
let unsubscribe: (() => void) | undefined;

function walletsWithSigning(): Wallet[] {
  return getWallets()
    .get()
    .filter((w) => "standard:connect" in w.features && "solana:signTransaction" in w.features);
}

/** The view: connect, choose, quote, send. */
export function tradeView(l: Loaded): string {
  const wallets = walletsWithSigning();
  const connect = account
    ? `<p>Connected: <code data-testid="account">${esc(account.address)}</code> (${esc(wallet!.name)}) <button type="button" data-action="disconnect">Disconnect</button></p>`
    : wallets.length
      ? `<p>${wallets.map((w, i) => `<button data-connect="${i}">Connect ${esc(w.name)}</button>`).join(" ")}</p>`
      : `<p data-testid="no-wallet">No Wallet Standard wallet with transaction signing was found.</p>`;
  const rows = l.rows.map((r) => `<option value="${r.row}">${esc(r.symbol)}</option>`).join("");
  return `<h2>Mint and redeem</h2>
${connect}
<p id="connect-error" class="fail" role="alert"></p>
<form id="trade" aria-label="Mint or redeem" ${account ? "" : "inert"}>
<fieldset>
<legend class="sr-only">The operation and its amount</legend>
<p><label>Operation <select name="op">${OPS.map(([v, n]) => `<option value="${v}">${n}</option>`).join("")}</select></label>
<label>Token <select name="row">${rows}</select></label></p>
<p><label>Amount <input name="amount" inputmode="decimal" value="1" size="12" aria-describedby="amount-help"></label>
<span id="amount-help" class="legend">shares (in kind, redeem) or whole tokens (mint with one token)</span></p>
<p><label>Slippage (basis points) <input name="bps" inputmode="numeric" value="50" size="6"></label></p>
</fieldset>
<p><button type="button" data-action="quote">Quote</button> <button type="button" data-action="send" disabled>Send</button></p>
</form>
<div id="quote" data-testid="quote" aria-live="polite"></div>
<div id="progress" data-testid="progress" role="status" aria-live="polite"></div>`;
}

/** A decimal amount in raw units; more decimals than the token has is an error, not a cut. */
export function parseUnits(s: string, decimals: number): bigint {
  const m = /^\s*(\d+)(?:\.(\d*))?\s*$/.exec(s);
  if (!m) throw new Error(`not an amount: ${s.trim() || "(empty)"}`);
  const frac = m[2] ?? "";
  if (frac.length > decimals) throw new Error(`${s.trim()} has more than ${decimals} decimals`);
  return BigInt(m[1]!) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0");
}

/** Slippage in basis points, 0 to 5,000; an empty field is an error, not 0. */
export function parseBps(s: string): number {
  if (!/^\s*\d+\s*$/.test(s)) throw new Error(`slippage must be a whole number of basis points: ${s.trim() || "(empty)"}`);
  const bps = Number(s);
  if (bps > aidx.MAX_SLIPPAGE_BPS) throw new Error(`slippage ${bps} bps: at most ${aidx.MAX_SLIPPAGE_BPS}`);
  return bps;
}

/** What Send sends: accounts to create first (if any), then the operation; for the inputs
 * it was quoted for. */
type Plan = { inputs: string; setup: Instruction[]; main: Instruction[] };

/** Wires the view's controls; `reload` reloads the index and re-renders. */
export function bindTrade(root: HTMLElement, l: Loaded, rpc: Rpc<SolanaRpcApi>, net: Network, reload: () => Promise<void>): void {
  root.querySelectorAll<HTMLButtonElement>("[data-connect]").forEach((b) =>
    b.addEventListener("click", async () => {
      const w = walletsWithSigning()[Number(b.dataset.connect)]!;
      const connect = w.features["standard:connect"] as { connect(): Promise<{ accounts: readonly WalletAccount[] }> };
      try {
        const { accounts } = await connect.connect();
        if (!accounts[0]) throw new Error(`${w.name} gave no account`);
        wallet = w;
        account = accounts[0];
        // The wallet's account changes (another account chosen, or none) re-render the view.
        const events = w.features["standard:events"] as
          | { on(e: "change", f: (p: { accounts?: readonly WalletAccount[] }) => void): () => void }
          | undefined;
        unsubscribe?.();
        unsubscribe = events?.on("change", ({ accounts: now }) => {
          if (now === undefined || wallet !== w) return;
          account = now[0];
          if (!account) wallet = undefined;
          void reload();
        });
        await reload();
      } catch (e) {
        const el = root.querySelector<HTMLElement>("#connect-error");
        if (el) el.textContent = `Could not connect ${w.name}: ${message(e)}`;
      }
    }),
  );
  root.querySelector<HTMLButtonElement>('[data-action="disconnect"]')?.addEventListener("click", async () => {
    const w = wallet;
    unsubscribe?.();
    unsubscribe = undefined;
    wallet = undefined;
    account = undefined;
    const disconnect = w?.features["standard:disconnect"] as { disconnect(): Promise<void> } | undefined;
    await disconnect?.disconnect().catch(() => undefined);
    await reload();
  });
  const form = root.querySelector<HTMLFormElement>("#trade");
  if (!form || !account || !wallet) return;
  const fields = form.querySelector("fieldset")!;
  const quoteEl = root.querySelector<HTMLElement>("#quote")!;
  const progress = root.querySelector<HTMLElement>("#progress")!;
  const quoteButton = form.querySelector<HTMLButtonElement>('[data-action="quote"]')!;
  const send = form.querySelector<HTMLButtonElement>('[data-action="send"]')!;
  const signerAccount = account;
  const signerWallet = wallet;
  const holder = createNoopSigner(address(signerAccount.address));
  let planned: Plan | undefined;
  // Every change of the inputs and every quote takes a new number: a quote answers only if
  // nothing changed while it ran.
  let seq = 0;
  let busy = false;

  const op = () => form.op.value as Op;
  const inputs = () => JSON.stringify([form.op.value, form.row.value, form.amount.value, form.bps.value]);
  const paused = () => (l.index.account.paused & PAUSE[op()]) !== 0;
  const lock = (on: boolean) => {
    busy = on;
    fields.disabled = on;
    quoteButton.disabled = on;
    send.disabled = on || !planned || planned.inputs !== inputs();
  };
  const update = () => {
    seq++;
    planned = undefined;
    send.disabled = true;
    quoteEl.innerHTML = paused() ? `<p class="fail" data-testid="paused-reason">${OPS.find(([v]) => v === op())![1]} is paused on this index.</p>` : "";
  };
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();

  quoteButton.addEventListener("click", async () => {
    if (paused() || busy) return;
    const mine = ++seq;
    planned = undefined;
    progress.textContent = "";
    quoteEl.textContent = "Quoting…";
    lock(true);
    try {
      const plan = await quote(rpc, l, holder, net, op(), Number(form.row.value), form.amount.value, form.bps.value, holder.address);
      if (mine !== seq) return;
      planned = { inputs: inputs(), setup: plan.setup, main: plan.main };
      quoteEl.innerHTML = plan.html;
    } catch (e) {
      if (mine === seq) quoteEl.innerHTML = `<p class="fail" data-testid="error">${esc(message(e))}</p>`;
    } finally {
      lock(false);
    }
  });

  send.addEventListener("click", async () => {
    const plan = planned;
    if (!plan || busy || plan.inputs !== inputs()) return;
    planned = undefined;
    lock(true);
    let signature: Signature | undefined;
    try {
      if (plan.setup.length) {
        progress.textContent = "Creating your token accounts: signing in the wallet…";
        await signSendConfirm(rpc, net, signerWallet, signerAccount, holder.address, plan.setup, (s) => (progress.textContent = `Creating your token accounts: ${s}`));
      }
      progress.textContent = "Signing in the wallet…";
      signature = await signSendConfirm(rpc, net, signerWallet, signerAccount, holder.address, plan.main, (s) => (progress.textContent = s));
    } catch (e) {
      progress.innerHTML = `<span class="fail" data-testid="error">${esc(message(e))}</span>`;
      lock(false);
      return;
    }
    // Landed: say so before anything else can fail, then read the result.
    progress.innerHTML = `Confirmed: <code data-testid="signature">${esc(signature)}</code>`;
    try {
      const got = await rpc.getTransaction(signature, { encoding: "json", commitment: "confirmed", maxSupportedTransactionVersion: 0 }).send();
      const events = aidx.eventsFromLogs(got?.meta?.logMessages ?? []);
      await reload();
      const p = document.querySelector<HTMLElement>("#progress");
      if (p) p.innerHTML = `Confirmed: <code data-testid="signature">${esc(signature)}</code>; events: <span data-testid="events">${esc(events.map((e) => e.name).join(", "))}</span>`;
    } catch (e) {
      progress.innerHTML = `Confirmed: <code data-testid="signature">${esc(signature)}</code>. The page could not be refreshed: ${esc(message(e))}`;
      lock(false);
    }
  });
}

/** Quotes `op` and builds what Send sends, with the quote as HTML (every string escaped). */
async function quote(
  rpc: Rpc<SolanaRpcApi>,
  l: Loaded,
  holder: ReturnType<typeof createNoopSigner>,
  net: Network,
  op: Op,
  row: number,
  amountText: string,
  bpsText: string,
  owner: Address,
): Promise<{ setup: Instruction[]; main: Instruction[]; html: string }> {
  const bps = parseBps(bpsText);
  const index = await aidx.fetchIndex(rpc, l.index.address);
  // Labels by mint, not by position: a row removed since the page loaded shifts the table.
  const label = (i: number) => l.rows.find((r) => r.c.mint === index.rows[i]!.mint)?.symbol ?? index.rows[i]!.mint;
  const sym = (i: number) => esc(label(i));
  const refresh = aidx.refreshPrices(index.address, await aidx.refreshFeedAddresses(index.rows));
  if (op === "mintInKind" || op === "redeemInKind") {
    const n = parseUnits(amountText, aidx.SHARE_DECIMALS);
    const mint = op === "mintInKind";
    const quarantined = index.rows.findIndex((c) => c.quarantine !== aidx.Quarantine.None);
    if (mint && quarantined >= 0) {
      throw new Error(
        `${label(quarantined)} is quarantined: an in-kind mint pays for its slice in the other tokens at fresh trade prices, which this page does not quote. Mint with one token, or use aidx mint, which quotes by simulation.`,
      );
    }
    // The index as the program will see it: burns synced, the management fee accrued.
    const { now, mintSupply } = await clockAndSupply(rpc, index.account.shareMint);
    const at = aidx.asOf(index, mintSupply, now);
    const amounts = mint ? aidx.mintInKindDeposits(at, n) : aidx.redeemInKindPayouts(at, n);
    if (mint) {
      const atas = await aidx.holderTokenAddresses(index.rows, owner);
      for (const [i, a] of atas.entries()) {
        const have = await tokenBalance(rpc, a);
        if (have < amounts[i]!) throw new Error(`the wallet holds ${decimal(have, index.rows[i]!.decimals, 4)} ${label(i)}, the mint needs ${decimal(amounts[i]!, index.rows[i]!.decimals, 4)}`);
      }
    }
    const setup = await aidx.createMissingHolderAccounts(rpc, index, holder, owner, mint ? [] : index.rows.map((_, i) => i));
    const netShares = mint ? aidx.mintInKindNetShares(at, n) : n - aidx.feeOn(n, at.account.params.redeemFeeBps);
    const main = [
      mint
        ? await aidx.mintInKind(index, holder, { shares: n, maxAmountsIn: aidx.maxAmountsIn(amounts, bps), minSharesOut: netShares })
        : await aidx.redeemInKind(index, holder, { shares: n, minAmountsOut: aidx.minAmountsOut(amounts, bps) }),
    ];
    const feeBps = mint ? at.account.params.mintFeeBps : at.account.params.redeemFeeBps;
    const fee = feeBps
      ? ` The ${mint ? "mint" : "redeem"} fee is ${feeBps} bps: ${mint ? `you receive <span data-testid="net-shares">${shares(netShares)}</span> shares` : `${shares(netShares)} shares are paid out`}.`
      : "";
    const html = `<p>${mint ? "Deposits" : "Receives"} for ${shares(n)} shares (bound ${bps} bps):${fee}</p><ul>${amounts
      .map((a, i) => `<li>${sym(i)}: <span data-testid="leg-${i}">${decimal(a, index.rows[i]!.decimals, 4)}</span></li>`)
      .join("")}</ul>${creates(setup)}`;
    return { setup, main, html };
  }
  if (row < 0 || row >= index.rows.length) throw new Error("choose a token");
  if (op === "mintSingle") {
    const amountIn = parseUnits(amountText, index.rows[row]!.decimals);
    const setup = await aidx.createMissingHolderAccounts(rpc, index, holder, owner, []);
    const q = await aidx.quoteMintSingle(rpc, index, holder, row, amountIn, bps, net.tables, setup);
    const main = [refresh, await aidx.mintSingle(index, holder, row, { amountIn, minSharesOut: q.bound })];
    return { setup, main, html: `<p>Mints <span data-testid="quoted">${shares(q.quoted, 6)}</span> shares (at least ${shares(q.bound, 6)}).</p>${creates(setup)}` };
  }
  const n = parseUnits(amountText, aidx.SHARE_DECIMALS);
  const setup = await aidx.createMissingHolderAccounts(rpc, index, holder, owner, [row]);
  const q = await aidx.quoteRedeemSingle(rpc, index, holder, row, n, bps, net.tables, setup);
  const main = [refresh, await aidx.redeemSingle(index, holder, row, { shares: n, minAmountOut: q.bound })];
  const d = index.rows[row]!.decimals;
  return { setup, main, html: `<p>Receives <span data-testid="quoted">${decimal(q.quoted, d, 6)}</span> ${sym(row)} (at least ${decimal(q.bound, d, 6)}).</p>${creates(setup)}` };
}

/** What the quote says of the holder's accounts created first. */
function creates(setup: readonly Instruction[]): string {
  return setup.length ? `<p>${setup.length} token account(s) of yours are created first, in a transaction of their own.</p>` : "";
}

/** Measures `ixs` by simulation (a compute-unit limit from it), has the wallet sign, sends,
 * and waits until confirmed, or until the blockhash expired (then nothing was applied). */
async function signSendConfirm(
  rpc: Rpc<SolanaRpcApi>,
  net: Network,
  w: Wallet,
  acct: WalletAccount,
  payer: Address,
  ixs: readonly Instruction[],
  say: (s: string) => void,
): Promise<Signature> {
  const sim = await aidx.simulate(rpc, payer, ixs, net.tables);
  const withLimit = aidx.withComputeUnitLimit(ixs, aidx.computeUnitLimitFor(sim.unitsConsumed ?? 200_000n));
  const { message: m, lastValidBlockHeight } = await aidx.transactionMessage(rpc, createNoopSigner(payer), withLimit, net.tables);
  const tx = compileTransaction(m);
  const sign = w.features["solana:signTransaction"] as {
    signTransaction(...i: { transaction: Uint8Array; account: WalletAccount; chain?: string }[]): Promise<{ signedTransaction: Uint8Array }[]>;
  };
  const [signed] = await sign.signTransaction({ transaction: Uint8Array.from(getTransactionEncoder().encode(tx)), account: acct, chain: net.chain });
  const decoded = getTransactionDecoder().decode(signed!.signedTransaction);
  say("Sending…");
  const wire = getBase64Decoder().decode(getTransactionEncoder().encode(decoded));
  const signature = await rpc.sendTransaction(wire as never, { encoding: "base64", preflightCommitment: "confirmed" }).send();
  say("Confirming…");
  for (;;) {
    const { value } = await rpc.getSignatureStatuses([signature]).send();
    const s = value[0];
    if (s?.err) throw new aidx.AidxTransactionError(s.err, [], aidx.explainTransactionError(s.err));
    if (s && (s.confirmationStatus === "confirmed" || s.confirmationStatus === "finalized")) return signature;
    const height = await rpc.getBlockHeight({ commitment: "confirmed" }).send();
    if (height > lastValidBlockHeight) {
      // One last look: it may have landed in the block that ended the wait.
      const { value: last } = await rpc.getSignatureStatuses([signature], { searchTransactionHistory: true }).send();
      if (last[0] && !last[0].err) return signature;
      throw new Error(`the transaction ${signature} expired before it landed: nothing was applied; quote again`);
    }
    await new Promise((r) => setTimeout(r, 400));
  }
}

/** An error as a person reads it: the program's by name and message. */
function message(e: unknown): string {
  const named = aidx.explainTransactionError(e) ?? (e instanceof aidx.AidxTransactionError ? e.aidx : undefined);
  if (named) return `${named.name}: ${named.message}`;
  return e instanceof Error ? e.message : String(e);
}

/** A token account's balance; an account that does not exist holds 0 (an RPC failure is an
 * error, never 0). */
async function tokenBalance(rpc: Rpc<SolanaRpcApi>, a: Address): Promise<bigint> {
  const { value } = await rpc.getAccountInfo(a, { encoding: "base64", commitment: "confirmed", dataSlice: { offset: 64, length: 8 } }).send();
  if (!value) return 0n;
  const raw = Uint8Array.from(atob(value.data[0]), (c) => c.charCodeAt(0));
  return new DataView(raw.buffer).getBigUint64(0, true);
}

/** The connected account's share balance, if any. */
export async function shareBalance(rpc: Rpc<SolanaRpcApi>, l: Loaded): Promise<bigint | undefined> {
  if (!account) return undefined;
  const ata = await aidx.findAssociatedTokenAddress(address(account.address), l.index.account.shareMint, aidx.TOKEN_PROGRAM_ADDRESS);
  return tokenBalance(rpc, ata);
}
