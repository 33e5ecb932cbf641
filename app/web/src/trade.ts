// Holder actions with a Wallet Standard wallet: mint and redeem in kind (quoted from the
// balances, a slippage bound on every leg) and single-asset (quoted by simulation, a minimum
// out), the transaction's progress until confirmed, the program's errors by their messages.
import { getWallets } from "@wallet-standard/app";
import type { Wallet, WalletAccount } from "@wallet-standard/base";
import {
  address,
  appendTransactionMessageInstructions,
  compileTransaction,
  createNoopSigner,
  createTransactionMessage,
  getBase64Decoder,
  getTransactionDecoder,
  getTransactionEncoder,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  type Address,
  type Instruction,
  type Rpc,
  type SolanaRpcApi,
} from "@solana/kit";
import * as aidx from "@aidx/client";
import type { Loaded } from "./data";
import { decimal, esc, shares } from "./format";

type Op = "mintInKind" | "redeemInKind" | "mintSingle" | "redeemSingle";
const PAUSE: Record<Op, number> = { mintInKind: 1, redeemInKind: 0, mintSingle: 2, redeemSingle: 4 };
const OPS: [Op, string][] = [
  ["mintInKind", "Mint in kind"],
  ["redeemInKind", "Redeem in kind"],
  ["mintSingle", "Mint with one token"],
  ["redeemSingle", "Redeem into one token"],
];

let wallet: Wallet | undefined;
let account: WalletAccount | undefined;

function walletsWithSigning(): Wallet[] {
  return getWallets()
    .get()
    .filter((w) => "standard:connect" in w.features && "solana:signTransaction" in w.features);
}

/** The view: connect, choose, quote, send. */
export function tradeView(l: Loaded): string {
  const wallets = walletsWithSigning();
  const connect = account
    ? `<p>Connected: <code data-testid="account">${account.address}</code> (${esc(wallet!.name)})</p>`
    : wallets.length
      ? `<p>${wallets.map((w, i) => `<button data-connect="${i}">Connect ${esc(w.name)}</button>`).join(" ")}</p>`
      : `<p data-testid="no-wallet">No Wallet Standard wallet with transaction signing was found.</p>`;
  const rows = l.rows.map((r) => `<option value="${r.row}">${esc(r.symbol)}</option>`).join("");
  return `<h2>Mint and redeem</h2>
${connect}
<form id="trade" aria-label="Mint or redeem" ${account ? "" : "inert"}>
<p><label>Operation <select name="op">${OPS.map(([v, n]) => `<option value="${v}">${n}</option>`).join("")}</select></label>
<label>Token <select name="row">${rows}</select></label></p>
<p><label>Amount <input name="amount" inputmode="decimal" value="1" size="12" aria-describedby="amount-help"></label>
<span id="amount-help" class="legend">shares (in kind, redeem) or whole tokens (mint with one token)</span></p>
<p><label>Slippage (basis points) <input name="bps" inputmode="numeric" value="50" size="6"></label></p>
<p><button type="button" data-action="quote">Quote</button> <button type="button" data-action="send" disabled>Send</button></p>
</form>
<div id="quote" data-testid="quote" aria-live="polite"></div>
<div id="progress" data-testid="progress" role="status" aria-live="polite"></div>`;
}

function parseUnits(s: string, decimals: number): bigint {
  const m = /^\s*(\d+)(?:\.(\d*))?\s*$/.exec(s);
  if (!m) throw new Error(`not an amount: ${s}`);
  const frac = (m[2] ?? "").slice(0, decimals).padEnd(decimals, "0");
  return BigInt(m[1]!) * 10n ** BigInt(decimals) + BigInt(frac || "0");
}

/** Wires the view's controls; `reload` reloads the index and re-renders. */
export function bindTrade(root: HTMLElement, l: Loaded, rpc: Rpc<SolanaRpcApi>, reload: () => Promise<void>): void {
  root.querySelectorAll<HTMLButtonElement>("[data-connect]").forEach((b) =>
    b.addEventListener("click", async () => {
      const w = walletsWithSigning()[Number(b.dataset.connect)]!;
      const connect = w.features["standard:connect"] as { connect(): Promise<{ accounts: readonly WalletAccount[] }> };
      const { accounts } = await connect.connect();
      wallet = w;
      account = accounts[0];
      await reload();
    }),
  );
  const form = root.querySelector<HTMLFormElement>("#trade");
  if (!form || !account) return;
  const quoteEl = root.querySelector<HTMLElement>("#quote")!;
  const progress = root.querySelector<HTMLElement>("#progress")!;
  const send = form.querySelector<HTMLButtonElement>('[data-action="send"]')!;
  const holder = createNoopSigner(address(account.address));
  let planned: Instruction[] | undefined;

  const op = () => form.op.value as Op;
  const paused = () => (l.index.account.paused & PAUSE[op()]) !== 0;
  const update = () => {
    planned = undefined;
    send.disabled = true;
    quoteEl.innerHTML = paused() ? `<p class="fail" data-testid="paused-reason">${OPS.find(([v]) => v === op())![1]} is paused on this index.</p>` : "";
  };
  form.addEventListener("change", update);
  update();

  form.querySelector('[data-action="quote"]')!.addEventListener("click", async () => {
    if (paused()) return;
    progress.textContent = "";
    try {
      const index = await aidx.fetchIndex(rpc, l.index.address);
      const bps = Number(form.bps.value);
      const row = Number(form.row.value);
      const refresh = aidx.refreshPrices(index.address, await aidx.refreshFeedAddresses(index.rows));
      if (op() === "mintInKind" || op() === "redeemInKind") {
        const n = parseUnits(form.amount.value, 9);
        const mint = op() === "mintInKind";
        const amounts = mint ? aidx.mintInKindDeposits(index, n) : aidx.redeemInKindPayouts(index, n);
        if (mint) {
          const atas = await aidx.holderTokenAddresses(index.rows, holder.address);
          for (const [i, a] of atas.entries()) {
            const have = await tokenBalance(rpc, a);
            if (have < amounts[i]!) throw new Error(`the wallet holds ${decimal(have, index.rows[i]!.decimals, 4)} ${l.rows[i]!.symbol}, the mint needs ${decimal(amounts[i]!, index.rows[i]!.decimals, 4)}`);
          }
        }
        planned = [
          mint
            ? await aidx.mintInKind(index, holder, { shares: n, maxAmountsIn: aidx.maxAmountsIn(amounts, bps), minSharesOut: n })
            : await aidx.redeemInKind(index, holder, { shares: n, minAmountsOut: aidx.minAmountsOut(amounts, bps) }),
        ];
        quoteEl.innerHTML = `<p>${mint ? "Deposits" : "Receives"} for ${shares(n)} shares (bound ${bps} bps):</p><ul>${amounts
          .map((a, i) => `<li>${l.rows[i]!.symbol}: <span data-testid="leg-${i}">${decimal(a, index.rows[i]!.decimals, 4)}</span></li>`)
          .join("")}</ul>`;
      } else if (op() === "mintSingle") {
        const amountIn = parseUnits(form.amount.value, index.rows[row]!.decimals);
        const q = await aidx.quoteMintSingle(rpc, index, holder, row, amountIn, bps);
        planned = [refresh, await aidx.mintSingle(index, holder, row, { amountIn, minSharesOut: q.bound })];
        quoteEl.innerHTML = `<p>Mints <span data-testid="quoted">${shares(q.quoted, 6)}</span> shares (at least ${shares(q.bound, 6)}).</p>`;
      } else {
        const n = parseUnits(form.amount.value, 9);
        const q = await aidx.quoteRedeemSingle(rpc, index, holder, row, n, bps);
        planned = [refresh, await aidx.redeemSingle(index, holder, row, { shares: n, minAmountOut: q.bound })];
        const d = index.rows[row]!.decimals;
        quoteEl.innerHTML = `<p>Receives <span data-testid="quoted">${decimal(q.quoted, d, 6)}</span> ${esc(l.rows[row]!.symbol)} (at least ${decimal(q.bound, d, 6)}).</p>`;
      }
      send.disabled = false;
    } catch (e) {
      quoteEl.innerHTML = `<p class="fail" data-testid="error">${esc(message(e))}</p>`;
    }
  });

  send.addEventListener("click", async () => {
    if (!planned) return;
    send.disabled = true;
    try {
      progress.textContent = "Signing in the wallet…";
      const { value: blockhash } = await rpc.getLatestBlockhash({ commitment: "confirmed" }).send();
      const tx = compileTransaction(
        pipe(
          createTransactionMessage({ version: 0 }),
          (m) => setTransactionMessageFeePayerSigner(holder, m),
          (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
          (m) => appendTransactionMessageInstructions(planned!, m),
        ),
      );
      const sign = wallet!.features["solana:signTransaction"] as {
        signTransaction(...i: { transaction: Uint8Array; account: WalletAccount; chain?: string }[]): Promise<{ signedTransaction: Uint8Array }[]>;
      };
      const [signed] = await sign.signTransaction({ transaction: Uint8Array.from(getTransactionEncoder().encode(tx)), account: account!, chain: "solana:localnet" });
      const decoded = getTransactionDecoder().decode(signed!.signedTransaction);
      progress.textContent = "Sending…";
      const wire = getBase64Decoder().decode(getTransactionEncoder().encode(decoded));
      const signature = await rpc.sendTransaction(wire as never, { encoding: "base64", preflightCommitment: "confirmed" }).send();
      progress.textContent = "Confirming…";
      for (let i = 0; i < 60; i++) {
        const { value } = await rpc.getSignatureStatuses([signature]).send();
        const s = value[0];
        if (s?.err) throw new aidx.AidxTransactionError(s.err, [], aidx.explainTransactionError(s.err));
        if (s && (s.confirmationStatus === "confirmed" || s.confirmationStatus === "finalized")) break;
        await new Promise((r) => setTimeout(r, 400));
      }
      const got = await rpc.getTransaction(signature, { encoding: "json", commitment: "confirmed", maxSupportedTransactionVersion: 0 }).send();
      const events = aidx.eventsFromLogs(got?.meta?.logMessages ?? []);
      await reload();
      const p = document.querySelector<HTMLElement>("#progress");
      if (p) p.innerHTML = `Confirmed: <code data-testid="signature">${signature}</code>; events: <span data-testid="events">${events.map((e) => e.name).join(", ")}</span>`;
    } catch (e) {
      progress.innerHTML = `<span class="fail" data-testid="error">${esc(message(e))}</span>`;
    }
  });
}

/** An error as a person reads it: the program's by name and message. */
function message(e: unknown): string {
  const named = aidx.explainTransactionError(e) ?? (e instanceof aidx.AidxTransactionError ? e.aidx : undefined);
  if (named) return `${named.name}: ${named.message}`;
  return e instanceof Error ? e.message : String(e);
}

async function tokenBalance(rpc: Rpc<SolanaRpcApi>, a: Address): Promise<bigint> {
  try {
    const { value } = await rpc.getTokenAccountBalance(a, { commitment: "confirmed" }).send();
    return BigInt(value.amount);
  } catch {
    return 0n;
  }
}

/** The connected account's share balance, if any. */
export async function shareBalance(rpc: Rpc<SolanaRpcApi>, l: Loaded): Promise<bigint | undefined> {
  if (!account) return undefined;
  const ata = await aidx.findAssociatedTokenAddress(address(account.address), l.index.account.shareMint, aidx.TOKEN_PROGRAM_ADDRESS);
  return tokenBalance(rpc, ata);
}
