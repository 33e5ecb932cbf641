// The five views, as HTML strings (every number carries a data-testid the browser tests read).
import { hierarchy, treemap, treemapSquarify } from "d3-hierarchy";
import { WEIGHT_SCALE } from "@aidx/client";
import { PAUSES, SUB_SECTORS, type HistoryItem, type Loaded, type RowView } from "./data";
import { age, decimal, esc, pct, shares, usd, when } from "./format";

/** A table whose cells carry their column's name, so that a phone shows each row as a card. */
function table(headers: [string, "left" | "right"][], rows: string[][], rowIds: (string | undefined)[] = [], caption = ""): string {
  const head = headers.map(([h, a]) => `<th class="${a}" scope="col">${h}</th>`).join("");
  const body = rows
    .map(
      (cells, i) =>
        `<tr${rowIds[i] ? ` data-testid="${rowIds[i]}"` : ""}>${cells
          .map((c, j) => {
            const [h, a] = headers[j]!;
            return c.startsWith("<td") ? c.replace("<td", `<td data-label="${h}"`) : `<td class="${a}" data-label="${h}">${c}</td>`;
          })
          .join("")}</tr>`,
    )
    .join("\n");
  return `<div class="table-wrap"><table class="cards-on-phone">${caption ? `<caption class="legend">${caption}</caption>` : ""}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

const card = (label: string, value: string, id: string) =>
  `<div class="card"><div class="label">${esc(label)}</div><div class="value" data-testid="${id}">${value}</div></div>`;

const stale = (l: Loaded, r: RowView) => r.ageSecs > l.index.account.params.oracleMaxAgeSecs;

/** NAV, value per share, supply, fees, pauses, reviews, the audit verdict. */
export function overview(l: Loaded): string {
  const a = l.index.account;
  const paused = PAUSES.filter(([bit]) => (a.paused & bit) !== 0).map(([, n]) => n);
  const failed = l.checks.filter((c) => !c.ok).length;
  const staleRows = l.rows.filter((r) => stale(l, r));
  const next = a.lastReviewAt > 0n ? a.lastReviewAt + BigInt(a.params.reviewPeriodSecs) : 0n;
  const empty =
    l.rows.length === 0
      ? `<p data-testid="empty">This index has no constituents yet: the admin adds them, then opens it to its first mint.</p>`
      : a.shareSupply === 0n
        ? `<p data-testid="empty">No shares yet: the first mint in kind seeds the basket at its stated composition.</p>`
        : "";
  return `<h2>Overview</h2>
${empty}
<div class="cards">
${card("NAV (mid)", usd(l.nav.navMid), "nav-mid")}
${card("NAV low (price − conf)", usd(l.nav.navLow), "nav-low")}
${card("NAV high (price + conf)", usd(l.nav.navHigh), "nav-high")}
${card("Value per share", usd(l.nav.valuePerShare, 4), "value-per-share")}
${card("Share supply", shares(a.shareSupply, 6), "share-supply")}
${card("Fees accrued (fee shares)", shares(l.feeShares, 6), "fee-shares")}
${card("Constituents", String(l.rows.length), "constituents")}
${card("Paused", paused.length ? paused.map((p) => `<span class="badge paused">${p}</span>`).join(" ") : "nothing", "paused")}
${card("Last review", when(a.lastReviewAt), "last-review")}
${card("Next review", next > 0n ? when(next) : "after the first review", "next-review")}
${card("Prices", staleRows.length ? `<span class="badge stale" data-testid="stale-badge">${staleRows.length} stale, oldest ${age(Math.max(...staleRows.map((r) => r.ageSecs)))}</span>` : "fresh", "prices")}
${card("Audit", failed === 0 ? `<span class="pass">${l.checks.length} checks passed</span>` : `<span class="fail">${failed} failed</span>`, "audit-verdict")}
</div>
<dl class="identity">
<dt>Index</dt><dd><code data-testid="index-address">${esc(l.index.address)}</code></dd>
<dt>Share mint</dt><dd><code>${esc(a.shareMint)}</code></dd>
<dt>Admin</dt><dd><code>${esc(a.admin)}</code></dd>
<dt>Read from</dt><dd><code data-testid="rpc-url">${esc(l.rpcUrl)}</code></dd>
</dl>`;
}

/** One bar per row: weight, target, band and cap. */
function weightChart(l: Loaded): string {
  const cap = l.index.account.params.maxWeight;
  const top = Number(((cap * 12n) / 10n) * 1000n / WEIGHT_SCALE) / 1000;
  // Laid out for the screen's width, so its labels stay readable on a phone.
  const narrow = typeof window !== "undefined" && window.innerWidth < 600;
  const w = narrow ? 380 : 720, rowH = 22, left = narrow ? 58 : 70, h = l.rows.length * rowH + 30;
  const x = (v: bigint) => left + (Number((v * 100000n) / WEIGHT_SCALE) / 100000 / top) * (w - left - 10);
  const bars = l.rows
    .map((r, i) => {
      const y = 10 + i * rowH;
      return `<text x="${left - 6}" y="${y + 14}" text-anchor="end" font-size="12">${esc(r.symbol)}</text>
<rect x="${x(r.band.low)}" y="${y + 2}" width="${Math.max(1, x(r.band.high) - x(r.band.low))}" height="16" fill="#d8e8f8"><title>band ${pct(r.band.low)}–${pct(r.band.high)}</title></rect>
<rect x="${left}" y="${y + 6}" width="${Math.max(1, x(r.weight) - left)}" height="8" fill="${r.weight > r.band.high || r.weight < r.band.low ? "#a40e26" : "#0b5cad"}"><title>weight ${pct(r.weight)}</title></rect>
<line x1="${x(r.c.targetWeight)}" x2="${x(r.c.targetWeight)}" y1="${y + 1}" y2="${y + 19}" stroke="#1b1f24" stroke-width="2"><title>target ${pct(r.c.targetWeight)}</title></line>`;
    })
    .join("\n");
  return `<svg viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="Weight of each constituent against its target, band and cap">
${bars}
<line x1="${x(cap)}" x2="${x(cap)}" y1="4" y2="${h - 20}" stroke="#a40e26" stroke-dasharray="4 3"/><text x="${x(cap)}" y="${h - 6}" font-size="11" text-anchor="middle">cap ${pct(cap, 0)}</text>
</svg>
<p class="legend">Bar: weight (red when out of band). Shaded: band. Black tick: target. Dashed: cap.</p>`;
}

/** Per constituent: sub-sector, bucket, program, balance, price, value, weight, target, band. */
export function basket(l: Loaded): string {
  const rows = l.rows.map((r) => [
    `${esc(r.symbol)}<br><code class="legend" title="${esc(r.c.mint)}" data-testid="mint-${r.row}">${esc(r.c.mint.slice(0, 4))}…${esc(r.c.mint.slice(-4))}</code>`,
    r.sector,
    r.bucket,
    r.program,
    `<td data-testid="balance-${r.row}">${decimal(r.c.balance, r.c.decimals, 4)}</td>`,
    `<td data-testid="price-${r.row}"><span>${usd(r.c.price, 4)} <span class="conf">± ${usd(r.c.conf, 4)}</span> ${stale(l, r) ? `<span class="badge stale">${age(r.ageSecs)} old</span>` : `<span class="legend">${age(r.ageSecs)}</span>`}</span></td>`,
    `<td data-testid="value-${r.row}">${usd(r.value)}</td>`,
    `<td data-testid="weight-${r.row}">${pct(r.weight)}</td>`,
    `<td data-testid="target-${r.row}">${pct(r.c.targetWeight)}</td>`,
    `${pct(r.band.low)}–${pct(r.band.high)}`,
  ]);
  if (l.rows.length === 0) return `<h2>Basket</h2><p data-testid="empty">This index has no constituents yet.</p>`;
  return `<h2>Basket</h2>
${weightChart(l)}
${table(
  [["Token", "left"], ["Sub-sector", "left"], ["Bucket", "left"], ["Program", "left"], ["Balance", "right"], ["Price", "right"], ["Value", "right"], ["Weight", "right"], ["Target", "right"], ["Band", "right"]],
  rows,
  l.rows.map((r) => `row-${r.row}`),
  "Balances in whole tokens; prices with confidence and publish age; value at mid prices. Token names are labels the page's address gives (?symbols=); the mint under each is read from the chain.",
)}`;
}

/** Drift from target, relative, as a colour: blue in band, amber near its edge, red out. */
function driftColour(r: RowView): string {
  if (r.weight > r.band.high || r.weight < r.band.low) return "#c4314b";
  const half = r.band.high - r.c.targetWeight;
  const d = r.weight > r.c.targetWeight ? r.weight - r.c.targetWeight : r.c.targetWeight - r.weight;
  return half > 0n && d * 2n > half ? "#d99a00" : "#2f7ed8";
}

/** The index as a token map: sectors and constituents sized by weight, coloured by drift. */
export function sectorMap(l: Loaded): string {
  if (l.rows.length === 0) return `<h2>Sector map</h2><p data-testid="empty">This index has no constituents yet.</p>`;
  type Node = { name: string; weight?: number; r?: RowView; children?: Node[] };
  const sectors: Node[] = SUB_SECTORS.map((s) => ({
    name: s,
    children: l.rows.filter((r) => r.sector === s).map((r) => ({ name: r.symbol, weight: Number(r.weight), r })),
  })).filter((s) => s.children!.length > 0);
  const W = 960, H = 520;
  const root = treemap<Node>().tile(treemapSquarify).size([W, H]).paddingInner(2).paddingTop(18).round(true)(
    hierarchy<Node>({ name: "aidx", children: sectors }).sum((d) => d.weight ?? 0).sort((a, b) => (b.value ?? 0) - (a.value ?? 0)),
  );
  const groups = (root.children ?? [])
    .map(
      (s) => `<g><rect x="${s.x0}" y="${s.y0}" width="${s.x1 - s.x0}" height="${s.y1 - s.y0}" fill="#eef2f6" stroke="#d0d7de"/>
<text x="${s.x0 + 4}" y="${s.y0 + 13}" font-size="12" font-weight="600">${esc(s.data.name)}</text>
${(s.children ?? [])
  .map((c) => {
    const r = c.data.r!;
    const w = c.x1 - c.x0, h = c.y1 - c.y0;
    const label = w > 44 && h > 28 ? `<text x="${c.x0 + 4}" y="${c.y0 + 15}" font-size="12" fill="#fff" font-weight="600">${esc(r.symbol)}</text><text x="${c.x0 + 4}" y="${c.y0 + 29}" font-size="11" fill="#fff">${pct(r.weight, 1)}</text>` : "";
    return `<rect data-testid="tile-${r.row}" x="${c.x0}" y="${c.y0}" width="${w}" height="${h}" fill="${driftColour(r)}"><title>${esc(r.symbol)} (${r.sector}): weight ${pct(r.weight)}, target ${pct(r.c.targetWeight)}</title></rect>${label}`;
  })
  .join("")}</g>`,
    )
    .join("\n");
  const bySector = SUB_SECTORS.flatMap((s) => {
    const rs = l.rows.filter((r) => r.sector === s);
    const w = rs.reduce((a, r) => a + r.weight, 0n);
    const t = rs.reduce((a, r) => a + r.c.targetWeight, 0n);
    return rs.length ? [[s, String(rs.length), `<td data-testid="sector-weight-${s}">${pct(w)}</td>`, pct(t)]] : [];
  });
  return `<h2>Sector map</h2>
<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Treemap of the index by sub-sector and constituent, sized by weight, coloured by drift from target">${groups}</svg>
<p class="legend">Size: weight. Colour: blue in band, amber in the outer half of the band, red out of band.</p>
<h2>Sectors against their targets</h2>
${table([["Sub-sector", "left"], ["Constituents", "right"], ["Weight", "right"], ["Target", "right"]], bySector)}`;
}

/** How an event reads: amounts in whole tokens of their row. */
function describe(e: HistoryItem["event"], rows: RowView[]): string {
  const d = e.data as Record<string, unknown>;
  const byMint = (m: unknown) => rows.find((r) => r.c.mint === m);
  const amount = (r: RowView | undefined, v: unknown) => (r ? `${decimal(v as bigint, r.c.decimals, 4)} ${r.symbol}` : `${String(v)} raw units`);
  switch (e.name) {
    case "MintedInKind":
    case "RedeemedInKind":
      return `${shares(d.shares as bigint)} shares; supply ${shares(d.shareSupplyAfter as bigint)}`;
    case "MintedSingle":
      return `${shares(d.shares as bigint)} shares for ${amount(byMint(d.mint), d.amountIn)}`;
    case "RedeemedSingle":
      return `${shares(d.shares as bigint)} shares for ${amount(byMint(d.mint), d.amountOut)}`;
    case "RebalanceSwapped":
      return `${amount(rows[Number(d.rowIn)], d.amountIn)} in, ${amount(rows[Number(d.rowOut)], d.amountOut)} out`;
    case "NavReported":
      return `NAV ${usd(d.navMid as bigint)}`;
    default:
      return "";
  }
}

/** Events from transaction logs, newest first, with signature and time. */
export function historyView(items: HistoryItem[], page: number, more: boolean, index: RowView[]): string {
  const rows = items.map((h) => [
    `<td class="left" data-testid="event-name">${esc(h.event.name)}</td>`,
    esc(describe(h.event, index)),
    h.blockTime ? when(h.blockTime) : "–",
    `<code title="${esc(h.signature)}">${esc(h.signature.slice(0, 12))}…</code>`,
  ]);
  return `<h2>History</h2>
${rows.length ? table([["Event", "left"], ["Detail", "left"], ["Time", "left"], ["Signature", "left"]], rows) : "<p>No events.</p>"}
<div class="pager"><button data-page="prev" ${page === 0 ? "disabled" : ""}>Newer</button><span>page ${page + 1}</span><button data-page="next" ${more ? "" : "disabled"}>Older</button></div>`;
}

/** Every check, passed or failed, by name. */
export function auditView(l: Loaded): string {
  const rows = l.checks.map((c) => [
    `<code>${c.rule}</code>`,
    esc(c.what),
    `<td class="${c.ok ? "pass" : "fail"}" data-testid="check-${c.ok ? "pass" : "fail"}">${c.ok ? "passed" : "failed"}</td>`,
  ]);
  const failed = l.checks.filter((c) => !c.ok).length;
  return `<h2>Audit</h2>
<p data-testid="audit-summary">${failed === 0 ? `<span class="pass">All ${l.checks.length} checks passed</span>` : `<span class="fail">${failed} of ${l.checks.length} checks failed</span>`}, computed in this browser from chain state.</p>
${table([["Rule", "left"], ["What", "left"], ["Result", "right"]], rows)}`;
}
