// The page: reads `?rpc=` (the local node by default), `?index=` (the node's only index by
// default), `?symbols=` (labels, by table position) and `?tables=` (lookup tables to send
// through), loads the index, and shows the view the hash names.
import { address, createSolanaRpc, type Address } from "@solana/kit";
import { findIndex, history, load, walletChain, type HistoryItem, type Loaded } from "./data";
import { auditView, basket, historyView, overview, sectorMap } from "./views";
import { bindTrade, shareBalance, tradeView, type Network } from "./trade";
import { esc, shares } from "./format";
import { getWallets } from "@wallet-standard/app";

const params = new URLSearchParams(location.search);
const rpcUrl = params.get("rpc") ?? "http://127.0.0.1:8899";
const rpc = createSolanaRpc(rpcUrl);
const symbols = (params.get("symbols") ?? "").split(",").filter(Boolean);
const view = document.getElementById("view")!;
const banner = document.getElementById("banner")!;
const PAGE = 10;

let loaded: Loaded | undefined;
let indexAddress: Address | undefined;
let network: Network = { tables: [], chain: "solana:localnet" };
const pages: (string | undefined)[] = [undefined];
let page = 0;
// Each render takes a number; a slower earlier one that finishes later draws nothing.
let renders = 0;

function current(): string {
  const v = location.hash.slice(1);
  return ["overview", "basket", "map", "history", "audit", "trade"].includes(v) ? v : "overview";
}

function failed(e: unknown): void {
  view.setAttribute("aria-busy", "false");
  banner.innerHTML = `The node could not be read: ${esc(String((e as Error)?.message ?? e))} <button id="retry">Retry</button>`;
  document.getElementById("retry")?.addEventListener("click", () => void start());
}

async function render(): Promise<void> {
  const mine = ++renders;
  const v = current();
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === `#${v}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!loaded || !indexAddress) return;
  const l = loaded;
  view.setAttribute("aria-busy", "true");
  delete document.body.dataset.ready;
  try {
    if (v === "history") {
      view.innerHTML = `<p class="loading">Reading the history…</p>`;
      const { items, last, more } = await history(rpc, indexAddress, PAGE, pages[page]);
      if (mine !== renders) return;
      pages[page + 1] = last;
      view.innerHTML = historyView(items as HistoryItem[], page, more, l.rows);
      view.querySelector('[data-page="prev"]')?.addEventListener("click", () => { page = Math.max(0, page - 1); void render(); });
      view.querySelector('[data-page="next"]')?.addEventListener("click", () => { page += 1; void render(); });
    } else if (v === "trade") {
      const held = await shareBalance(rpc, l);
      if (mine !== renders) return;
      view.innerHTML =
        tradeView(l) +
        (held === undefined ? "" : `<p>Shares held: <span data-testid="shares-held" data-raw="${held}">${shares(held, 6)}</span></p>`);
      bindTrade(view, l, rpc, network, async () => {
        loaded = await load(rpc, indexAddress!, symbols, rpcUrl);
        await render();
      });
    } else {
      view.innerHTML = { overview, basket, map: sectorMap, audit: auditView }[v as "overview"](l);
    }
    banner.innerHTML = "";
    view.setAttribute("aria-busy", "false");
    document.body.dataset.ready = v;
  } catch (e) {
    if (mine === renders) failed(e);
  }
}

async function start(): Promise<void> {
  banner.innerHTML = "";
  view.setAttribute("aria-busy", "true");
  try {
    indexAddress = params.get("index") ? address(params.get("index")!) : await findIndex(rpc);
    const tables = (params.get("tables") ?? "").split(",").filter(Boolean).map((t) => address(t));
    network = { tables, chain: await walletChain(rpc) };
    loaded = await load(rpc, indexAddress, symbols, rpcUrl);
    await render();
  } catch (e) {
    failed(e);
    view.innerHTML = "";
  }
}

window.addEventListener("hashchange", () => void render());
// A wallet that registers after the page loaded (extensions often do) shows up in the trade view.
getWallets().on("register", () => {
  if (current() === "trade") void render();
});
void start();
