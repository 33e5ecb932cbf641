//! `aidx audit`: recompute NAV, value per share, weights, bands and caps from chain state alone
//! (index account, vaults, share mint, stored prices and methodology inputs), check the
//! invariants, and optionally replay the index's history from its events and compare.

use crate::chain::Chain;
use crate::client::{self, AidxEvent};
use crate::state::Book;
use crate::table::{pct, render, ui_amount, Align};
use aidx::math::fees::management_fee_shares;
use aidx::math::nav::{band_excess, nav, weights, PriceSide};
use aidx::math::shares::DEAD_SHARES;
use aidx::math::{mul_div, Rounding, ONE_SHARE, WEIGHT_SCALE};
use aidx::state::{ConstituentStatus, Index, IndexParams};
use anchor_lang::prelude::Pubkey;
use anchor_spl::token::spl_token::state::{Account as TokenState, Mint as MintState};
use anyhow::Result;
use serde::Serialize;
use solana_sdk::program_pack::Pack;
use std::io::Write;

/// A broken invariant.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Violation {
    /// Stable rule name.
    pub rule: &'static str,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct AuditRow {
    pub symbol: String,
    pub status: &'static str,
    /// Raw units: internal balance, vault amount, and what the vault holds beyond it.
    pub balance: u64,
    pub vault: u64,
    pub surplus: u64,
    /// precision: USD_SCALE.
    pub price: u64,
    pub publish_time: i64,
    /// precision: WEIGHT_SCALE.
    pub weight: u64,
    pub target: u64,
    pub band_low: u64,
    pub band_high: u64,
    pub cap: u64,
    pub out_of_band: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct AuditReport {
    pub index: String,
    pub share_supply: u64,
    /// precision: USD_SCALE.
    pub nav_mid: u128,
    pub nav_low: u128,
    pub nav_high: u128,
    pub value_per_share: u128,
    /// Management fee due now and not yet accrued, raw shares.
    pub pending_management_fee: u64,
    pub rows: Vec<AuditRow>,
    pub violations: Vec<Violation>,
    /// Events replayed (with `--events`).
    pub events_replayed: Option<usize>,
}

fn v(violations: &mut Vec<Violation>, rule: &'static str, detail: String) {
    violations.push(Violation { rule, detail });
}

fn symbol(book: &Book, row: usize, mint: &Pubkey) -> String {
    book.symbols
        .get(row)
        .cloned()
        .unwrap_or_else(|| mint.to_string())
}

/// Audits the index named in `book`; with `replay`, also replays the chain's event log.
pub async fn audit<C: Chain>(chain: &mut C, book: &Book, replay: bool) -> Result<AuditReport> {
    let index_key = book.index_key()?;
    let index = chain.load_index(&index_key).await?;
    let now = chain.get_clock().await?.unix_timestamp;
    let mut violations = vec![];

    // Structure, as the program checks it at the end of every instruction.
    if let Err(e) = index.invariant() {
        v(
            &mut violations,
            "structure",
            format!("index invariant fails: {e}"),
        );
    }
    if index_key != client::index_address(&index.share_mint) {
        v(
            &mut violations,
            "index-address",
            "the index is not the PDA of its share mint".into(),
        );
    }

    // Share mint and supply.
    let mint_data = chain.data_of(&index.share_mint).await?;
    match MintState::unpack_from_slice(&mint_data[..MintState::LEN.min(mint_data.len())]) {
        Ok(m) => {
            if m.supply != index.share_supply {
                v(
                    &mut violations,
                    "share-supply",
                    format!(
                        "share mint supply {} but the index accounts for {}",
                        m.supply, index.share_supply
                    ),
                );
            }
            if m.mint_authority != Some(index_key).into()
                || m.freeze_authority != Some(index_key).into()
            {
                v(
                    &mut violations,
                    "share-mint-authority",
                    "the share mint's mint or freeze authority is not the index".into(),
                );
            }
        }
        Err(_) => v(
            &mut violations,
            "share-supply",
            "the share mint cannot be read".into(),
        ),
    }
    if index.is_seeded() {
        let dead = chain.balance_of(&index.dead_shares).await.unwrap_or(0);
        if dead < DEAD_SHARES {
            v(
                &mut violations,
                "dead-shares",
                format!("dead-share account holds {dead}, expected at least {DEAD_SHARES}"),
            );
        }
    }

    // Vaults: address, owner, mint, amount against internal balances.
    let mut rows = vec![];
    let h = index.holdings();
    let w = weights(&h)?;
    for (i, c) in index.constituents().iter().enumerate() {
        let sym = symbol(book, i, &c.mint);
        if c.vault != client::vault_address(&index_key, &c.mint) {
            v(
                &mut violations,
                "vault-address",
                format!("{sym}: vault is not the PDA of (index, mint)"),
            );
        }
        let vault_amount = match chain.get_account(&c.vault).await? {
            Some(acc) if acc.owner == c.token_program && acc.data.len() >= TokenState::LEN => {
                match TokenState::unpack_from_slice(&acc.data[..TokenState::LEN]) {
                    Ok(t) => {
                        if t.owner != index_key || t.mint != c.mint {
                            v(
                                &mut violations,
                                "vault-ownership",
                                format!("{sym}: vault not owned by the index or of another mint"),
                            );
                        }
                        t.amount
                    }
                    Err(_) => {
                        v(
                            &mut violations,
                            "vault-ownership",
                            format!("{sym}: vault is not a token account"),
                        );
                        0
                    }
                }
            }
            _ => {
                v(
                    &mut violations,
                    "vault-ownership",
                    format!("{sym}: vault missing or owned by another program"),
                );
                0
            }
        };
        if vault_amount < c.balance {
            v(
                &mut violations,
                "vault-balance",
                format!(
                    "{sym}: vault holds {vault_amount}, the index accounts for {}",
                    c.balance
                ),
            );
        }
        let half = u64::try_from(mul_div(
            c.target_weight as u128,
            index.params.band as u128,
            WEIGHT_SCALE as u128,
            Rounding::Down,
        )?)?;
        let out_of_band = band_excess(w[i], c.target_weight, index.params.band)? > 0;
        rows.push(AuditRow {
            symbol: sym,
            status: if c.status == ConstituentStatus::WindingDown as u8 {
                "winding-down"
            } else {
                "active"
            },
            balance: c.balance,
            vault: vault_amount,
            surplus: vault_amount.saturating_sub(c.balance),
            price: c.price,
            publish_time: c.publish_time,
            weight: w[i],
            target: c.target_weight,
            band_low: c.target_weight.saturating_sub(half),
            band_high: c.target_weight + half,
            cap: index.params.max_weight,
            out_of_band,
        });
    }

    // Targets and caps.
    let targets: u64 = index.constituents().iter().map(|c| c.target_weight).sum();
    if index.last_review_at > 0 {
        if targets != WEIGHT_SCALE {
            v(
                &mut violations,
                "targets-sum",
                format!("targets sum to {targets}, not {WEIGHT_SCALE}"),
            );
        }
        for r in rows.iter().filter(|r| r.target > r.cap) {
            v(
                &mut violations,
                "target-over-cap",
                format!(
                    "{}: target {} above the cap",
                    r.symbol,
                    pct(r.target as u128)
                ),
            );
        }
    } else if targets > WEIGHT_SCALE {
        v(
            &mut violations,
            "targets-sum",
            format!("stated targets sum to {targets}, above {WEIGHT_SCALE}"),
        );
    }
    let priced = index
        .constituents()
        .iter()
        .all(|c| c.price > 0 || c.balance == 0);
    if priced && index.imbalance_started_at == 0 {
        for r in rows.iter().filter(|r| r.weight > r.cap) {
            v(
                &mut violations,
                "weight-over-cap",
                format!(
                    "{}: weight {} above the cap and no rebalance open",
                    r.symbol,
                    pct(r.weight as u128)
                ),
            );
        }
    }

    // Fees.
    if index.last_fee_accrual_at > now {
        v(
            &mut violations,
            "fee-accrual",
            format!(
                "last accrual at {} is after now ({now})",
                index.last_fee_accrual_at
            ),
        );
    }
    let pending = if index.last_fee_accrual_at > 0 {
        management_fee_shares(
            index.share_supply,
            index.params.management_fee_bps,
            now - index.last_fee_accrual_at,
        )
        .unwrap_or(0)
    } else {
        0
    };

    let nav_mid = nav(&h, PriceSide::Mid, Rounding::Down)?;
    let mut events_replayed = None;
    if replay {
        let fee_balance = chain.balance_of(&index.fee_shares).await.unwrap_or(0);
        let log = chain.index_events(&index_key).await?;
        events_replayed = Some(log.len());
        for violation in replay_events(&log, &index_key, &index, fee_balance) {
            violations.push(violation);
        }
    }
    Ok(AuditReport {
        index: index_key.to_string(),
        share_supply: index.share_supply,
        nav_mid,
        nav_low: nav(&h, PriceSide::Low, Rounding::Down)?,
        nav_high: nav(&h, PriceSide::High, Rounding::Up)?,
        value_per_share: if index.share_supply > 0 {
            mul_div(
                nav_mid,
                ONE_SHARE as u128,
                index.share_supply as u128,
                Rounding::Down,
            )?
        } else {
            0
        },
        pending_management_fee: pending,
        rows,
        violations,
        events_replayed,
    })
}

/// The index as its events describe it.
#[derive(Debug, Default, PartialEq)]
pub struct Replayed {
    pub mints: Vec<Pubkey>,
    pub balances: Vec<u64>,
    pub targets: Vec<u64>,
    pub share_supply: u64,
    pub params: Option<IndexParams>,
    pub paused: u8,
    /// Fee shares paid in, less claimed.
    pub fee_shares: u64,
}

/// Folds the event log of `index_key` into the state it describes.
pub fn replay(log: &[Vec<u8>], index_key: &Pubkey) -> Replayed {
    let mut r = Replayed::default();
    for raw in log {
        let Some(e) = AidxEvent::decode(raw) else {
            continue;
        };
        match e {
            AidxEvent::IndexInitialized(x) if x.index == *index_key => r.params = Some(x.params),
            AidxEvent::ConstituentAdded(x) if x.index == *index_key => {
                r.mints.push(x.mint);
                r.balances.push(0);
                r.targets.push(x.target_weight);
            }
            AidxEvent::MintedInKind(x) if x.index == *index_key => {
                r.balances = x.balances_after;
                r.share_supply = x.share_supply_after;
                r.fee_shares += x.fee_shares;
            }
            AidxEvent::RedeemedInKind(x) if x.index == *index_key => {
                r.balances = x.balances_after;
                r.share_supply = x.share_supply_after;
                r.fee_shares += x.fee_shares;
            }
            AidxEvent::MintedSingle(x) if x.index == *index_key => {
                if let Some(i) = r.mints.iter().position(|m| *m == x.mint) {
                    r.balances[i] = x.balance_after;
                }
                r.share_supply = x.share_supply_after;
                r.fee_shares += x.fee_shares;
            }
            AidxEvent::RedeemedSingle(x) if x.index == *index_key => {
                if let Some(i) = r.mints.iter().position(|m| *m == x.mint) {
                    r.balances[i] = x.balance_after;
                }
                r.share_supply = x.share_supply_after;
                r.fee_shares += x.fee_shares;
            }
            AidxEvent::RebalanceSwapped(x) if x.index == *index_key => {
                r.balances[x.row_in as usize] += x.amount_in;
                r.balances[x.row_out as usize] -= x.amount_out;
            }
            AidxEvent::FeesAccrued(x) if x.index == *index_key => {
                r.share_supply = x.share_supply_after;
                r.fee_shares += x.fee_shares;
            }
            AidxEvent::FeesClaimed(x) if x.index == *index_key => r.fee_shares -= x.shares,
            AidxEvent::ShareSupplySynced(x) if x.index == *index_key => r.share_supply = x.new,
            AidxEvent::TargetsRecomputed(x) if x.index == *index_key => r.targets = x.targets,
            AidxEvent::ConstituentWindingDown(x) if x.index == *index_key => {
                r.targets[x.row as usize] = 0
            }
            AidxEvent::ConstituentRemoved(x) if x.index == *index_key => {
                let i = x.row as usize;
                r.mints.remove(i);
                r.balances.remove(i);
                r.targets.remove(i);
            }
            AidxEvent::ParamsUpdated(x) if x.index == *index_key => r.params = Some(x.new),
            AidxEvent::PauseSet(x) if x.index == *index_key => r.paused = x.new,
            _ => {}
        }
    }
    r
}

fn replay_events(
    log: &[Vec<u8>],
    index_key: &Pubkey,
    index: &Index,
    fee_balance: u64,
) -> Vec<Violation> {
    let r = replay(log, index_key);
    let mut out = vec![];
    let cs = index.constituents();
    let mints: Vec<Pubkey> = cs.iter().map(|c| c.mint).collect();
    if r.mints != mints {
        v(
            &mut out,
            "replay-constituents",
            format!(
                "events describe {} constituents, the index has {}",
                r.mints.len(),
                mints.len()
            ),
        );
        return out;
    }
    let balances: Vec<u64> = cs.iter().map(|c| c.balance).collect();
    if r.balances != balances {
        v(
            &mut out,
            "replay-balances",
            "balances replayed from events differ from the index's".into(),
        );
    }
    let targets: Vec<u64> = cs.iter().map(|c| c.target_weight).collect();
    if r.targets != targets {
        v(
            &mut out,
            "replay-targets",
            "targets replayed from events differ from the index's".into(),
        );
    }
    if r.share_supply != index.share_supply {
        v(
            &mut out,
            "replay-supply",
            format!(
                "supply replayed {} but the index has {}",
                r.share_supply, index.share_supply
            ),
        );
    }
    if r.params != Some(index.params) {
        v(
            &mut out,
            "replay-params",
            "parameters replayed from events differ from the index's".into(),
        );
    }
    if r.paused != index.paused {
        v(
            &mut out,
            "replay-paused",
            format!(
                "pause flags replayed {} but the index has {}",
                r.paused, index.paused
            ),
        );
    }
    if r.fee_shares != fee_balance {
        v(
            &mut out,
            "fee-accounting",
            format!(
                "fees paid in less claimed {} but the fee-share account holds {fee_balance}",
                r.fee_shares
            ),
        );
    }
    out
}

pub fn print(r: &AuditReport, out: &mut impl Write) -> Result<()> {
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|x| {
            vec![
                x.symbol.clone(),
                x.status.into(),
                x.balance.to_string(),
                if x.surplus > 0 {
                    format!("+{}", x.surplus)
                } else {
                    String::new()
                },
                format!("${}", ui_amount(x.price as u128, 12, 4)),
                pct(x.weight as u128),
                pct(x.target as u128),
                format!("{}-{}", pct(x.band_low as u128), pct(x.band_high as u128)),
                if x.out_of_band { "out" } else { "" }.into(),
            ]
        })
        .collect();
    writeln!(out, "index {}", r.index)?;
    write!(
        out,
        "{}",
        render(
            &[
                ("token", Align::Left),
                ("status", Align::Left),
                ("balance", Align::Right),
                ("donated", Align::Right),
                ("price", Align::Right),
                ("weight", Align::Right),
                ("target", Align::Right),
                ("band", Align::Right),
                ("", Align::Left),
            ],
            &rows
        )
    )?;
    writeln!(
        out,
        "supply {}  NAV ${} (low ${}, high ${})  value per share ${}  management fee due {} shares",
        ui_amount(r.share_supply as u128, 9, 9),
        ui_amount(r.nav_mid, 12, 2),
        ui_amount(r.nav_low, 12, 2),
        ui_amount(r.nav_high, 12, 2),
        ui_amount(r.value_per_share, 12, 4),
        ui_amount(r.pending_management_fee as u128, 9, 9)
    )?;
    if let Some(n) = r.events_replayed {
        writeln!(out, "replayed {n} events")?;
    }
    if r.violations.is_empty() {
        writeln!(out, "all invariants hold")?;
    } else {
        for x in &r.violations {
            writeln!(out, "VIOLATION {}: {}", x.rule, x.detail)?;
        }
    }
    Ok(())
}

/// An SVG chart: per constituent, the band as a grey range, the target as a tick, the cap as a
/// dashed line, and the weight as a bar (red when out of band).
pub fn chart(r: &AuditReport) -> String {
    let (w, row_h, left, top) = (900.0f64, 26.0f64, 90.0f64, 60.0f64);
    let plot_w = w - left - 40.0;
    let max = r
        .rows
        .iter()
        .map(|x| x.weight.max(x.band_high).max(x.cap))
        .max()
        .unwrap_or(WEIGHT_SCALE / 10) as f64
        * 1.1;
    let x = |v: u64| left + plot_w * v as f64 / max;
    let h = top + row_h * r.rows.len() as f64 + 50.0;
    let mut s = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{left}" y="24" font-size="16" font-weight="bold">aidx audit: weight, target and band per constituent</text>
<text x="{left}" y="42" fill="#555">grey: band, black tick: target, bar: weight (red when out of band), dashed: cap</text>
"##
    );
    let cap_x = x(r.rows.first().map(|x| x.cap).unwrap_or(0));
    for (i, row) in r.rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let color = if row.out_of_band {
            "#d62728"
        } else {
            "#1f77b4"
        };
        s += &format!(
            r##"<text x="{}" y="{}" text-anchor="end">{}</text>
<rect x="{}" y="{}" width="{}" height="{}" fill="#ddd"/>
<rect x="{left}" y="{}" width="{}" height="{}" fill="{color}"/>
<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="black" stroke-width="2"/>
<text x="{}" y="{}" fill="#333">{}</text>
"##,
            left - 8.0,
            y + 16.0,
            row.symbol,
            x(row.band_low),
            y + 3.0,
            (x(row.band_high) - x(row.band_low)).max(1.0),
            row_h - 6.0,
            y + 8.0,
            x(row.weight) - left,
            row_h - 16.0,
            x(row.target),
            y + 2.0,
            x(row.target),
            y + row_h - 2.0,
            x(row.weight.max(row.band_high)) + 6.0,
            y + 16.0,
            pct(row.weight as u128),
        );
    }
    let bottom = top + row_h * r.rows.len() as f64;
    s += &format!(
        r##"<line x1="{cap_x}" y1="{top}" x2="{cap_x}" y2="{bottom}" stroke="#999" stroke-dasharray="4 3"/>
<text x="{cap_x}" y="{}" text-anchor="middle" fill="#555">cap</text>
<line x1="{left}" y1="{bottom}" x2="{}" y2="{bottom}" stroke="black"/>
"##,
        bottom + 14.0,
        left + plot_w
    );
    for t in 0..=4 {
        let v = (max / 4.0 * t as f64) as u64;
        s += &format!(
            r##"<text x="{}" y="{}" text-anchor="middle">{}</text>
"##,
            x(v),
            bottom + 30.0,
            pct(v as u128)
        );
    }
    s + "</svg>\n"
}
