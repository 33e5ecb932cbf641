//! `aidx audit`: recompute NAV, value per share, weights, bands and caps from chain state alone
//! (index account, vaults, share mint, stored prices and methodology inputs), check the
//! invariants, and optionally replay the index's history from its events and compare.

use crate::address;
use crate::book::Book;
use crate::chain::Chain;
use crate::format::pct;
use crate::replay::replay;
use aidx::math::fees::management_fee_shares;
use aidx::math::nav::{band_excess, nav, weights, PriceSide};
use aidx::math::shares::DEAD_SHARES;
use aidx::math::{mul_div, Rounding, ONE_SHARE, WEIGHT_SCALE};
use aidx::state::{ConstituentStatus, Index, Quarantine, CONTROL_FREEZE, CONTROL_PAUSE};
use anchor_lang::prelude::Pubkey;
use anchor_spl::token::spl_token::state::{Account as TokenState, Mint as MintState};
use anchor_spl::token_2022::spl_token_2022;
use anyhow::Result;
use serde::Serialize;
use solana_sdk::program_pack::Pack;

/// A broken invariant.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Violation {
    /// Stable rule name.
    pub rule: &'static str,
    /// What is wrong, with the figures.
    pub detail: String,
}

/// One constituent as the audit recomputes it.
#[derive(Clone, Debug, Serialize)]
pub struct AuditRow {
    /// Symbol from the book, or the mint.
    pub symbol: String,
    /// `active` or `winding-down`.
    pub status: &'static str,
    /// Raw units the index accounts for.
    pub balance: u64,
    /// Raw units the vault holds.
    pub vault: u64,
    /// Raw units the vault holds beyond the balance (donations).
    pub surplus: u64,
    /// precision: USD_SCALE. The stored price.
    pub price: u64,
    /// When the stored price was published, unix seconds.
    pub publish_time: i64,
    /// precision: WEIGHT_SCALE. Weight at mid.
    pub weight: u64,
    /// precision: WEIGHT_SCALE.
    pub target: u64,
    /// precision: WEIGHT_SCALE.
    pub band_low: u64,
    /// precision: WEIGHT_SCALE.
    pub band_high: u64,
    /// precision: WEIGHT_SCALE. The per-constituent cap.
    pub cap: u64,
    /// Whether the weight is outside the band.
    pub out_of_band: bool,
    /// Who else can stop the row moving, as recorded at `add_constituent`: `freeze` (the mint
    /// has a freeze authority), `pause` (a Token-2022 pause authority).
    pub controls: Vec<&'static str>,
    /// Why the row cannot move now, if it cannot: `vault frozen`, `mint paused`. Not a broken
    /// invariant (nobody at the index can prevent it), but holders can only leave past it by
    /// skipping its leg.
    pub stopped: Option<&'static str>,
    /// Why the row is quarantined (`frozen vault`, `paused mint`, `by authority`), if it is:
    /// it is left out of deposits, NAV-priced operations, the cap and band checks and the
    /// auction clock.
    pub quarantine: Option<&'static str>,
    /// When it was quarantined, unix seconds.
    pub quarantined_at: Option<i64>,
}

/// What the audit found.
#[derive(Clone, Debug, Serialize)]
pub struct AuditReport {
    /// The index account.
    pub index: String,
    /// Raw shares.
    pub share_supply: u64,
    /// precision: USD_SCALE. NAV at mid.
    pub nav_mid: u128,
    /// precision: USD_SCALE. NAV at `price - conf`.
    pub nav_low: u128,
    /// precision: USD_SCALE. NAV at `price + conf`.
    pub nav_high: u128,
    /// precision: USD_SCALE. Per whole share, at mid.
    pub value_per_share: u128,
    /// Management fee due now and not yet accrued, raw shares.
    pub pending_management_fee: u64,
    /// Every constituent, table order.
    pub rows: Vec<AuditRow>,
    /// Every broken invariant; empty when the index is sound.
    pub violations: Vec<Violation>,
    /// Events replayed (with `--events`).
    pub events_replayed: Option<usize>,
    /// Rows written off, from the events (with `--events`).
    pub written_off: Vec<WrittenOffRow>,
}

/// A row written off, as its event recorded it: each share's claim was `balance / share_supply`
/// of the tokens the vault keeps.
#[derive(Clone, Debug, Serialize)]
pub struct WrittenOffRow {
    /// The row's mint.
    pub mint: String,
    /// The vault that keeps the tokens.
    pub vault: String,
    /// Raw units.
    pub balance: u64,
    /// Raw shares.
    pub share_supply: u64,
    /// Unix seconds.
    pub at: i64,
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

/// The share mint: supply equal to the index's, the index as mint and freeze authority; the
/// dead shares in place.
async fn check_share_mint<C: Chain>(
    chain: &mut C,
    index_key: &Pubkey,
    index: &Index,
    violations: &mut Vec<Violation>,
) -> Result<()> {
    let index_key = *index_key;
    let mint_data = chain.data_of(&index.share_mint).await?;
    match MintState::unpack_from_slice(&mint_data[..MintState::LEN.min(mint_data.len())]) {
        Ok(m) => {
            if m.supply != index.share_supply {
                v(
                    violations,
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
                    violations,
                    "share-mint-authority",
                    "the share mint's mint or freeze authority is not the index".into(),
                );
            }
        }
        Err(_) => v(
            violations,
            "share-supply",
            "the share mint cannot be read".into(),
        ),
    }
    if index.is_seeded() {
        let dead = chain.balance_of(&index.dead_shares).await.unwrap_or(0);
        if dead < DEAD_SHARES {
            v(
                violations,
                "dead-shares",
                format!("dead-share account holds {dead}, expected at least {DEAD_SHARES}"),
            );
        }
    }

    Ok(())
}

/// Every vault: its address, owner, mint and amount against the internal balance; and the
/// row the audit shows for it.
async fn check_vaults<C: Chain>(
    chain: &mut C,
    book: &Book,
    index_key: &Pubkey,
    index: &Index,
    w: &[u64],
    violations: &mut Vec<Violation>,
) -> Result<Vec<AuditRow>> {
    let index_key = *index_key;
    let mut rows = vec![];
    // Bands as the program measures them: a quarantined row left out, the others' targets
    // scaled up to keep their sum.
    let targets = index.band_targets().map_err(|e| anyhow::anyhow!("{e}"))?;
    let band_cap = index.band_cap().map_err(|e| anyhow::anyhow!("{e}"))?;
    for (i, c) in index.constituents().iter().enumerate() {
        let target = targets[i];
        let sym = symbol(book, i, &c.mint);
        if c.vault != address::vault_address(&index_key, &c.mint) {
            v(
                violations,
                "vault-address",
                format!("{sym}: vault is not the PDA of (index, mint)"),
            );
        }
        let mut stopped = None;
        let vault_amount = match chain.get_account(&c.vault).await? {
            Some(acc) if acc.owner == c.token_program && acc.data.len() >= TokenState::LEN => {
                match TokenState::unpack_from_slice(&acc.data[..TokenState::LEN]) {
                    Ok(t) => {
                        if t.state == anchor_spl::token::spl_token::state::AccountState::Frozen {
                            stopped = Some("vault frozen");
                        }
                        if t.owner != index_key || t.mint != c.mint {
                            v(
                                violations,
                                "vault-ownership",
                                format!("{sym}: vault not owned by the index or of another mint"),
                            );
                        }
                        t.amount
                    }
                    Err(_) => {
                        v(
                            violations,
                            "vault-ownership",
                            format!("{sym}: vault is not a token account"),
                        );
                        0
                    }
                }
            }
            _ => {
                v(
                    violations,
                    "vault-ownership",
                    format!("{sym}: vault missing or owned by another program"),
                );
                0
            }
        };
        if vault_amount < c.balance {
            v(
                violations,
                "vault-balance",
                format!(
                    "{sym}: vault holds {vault_amount}, the index accounts for {}",
                    c.balance
                ),
            );
        }
        let half = u64::try_from(mul_div(
            target as u128,
            index.params.band as u128,
            WEIGHT_SCALE as u128,
            Rounding::Down,
        )?)?;
        let out_of_band = !c.is_quarantined() && band_excess(w[i], target, index.params.band)? > 0;
        if stopped.is_none()
            && c.controls & CONTROL_PAUSE != 0
            && mint_paused(chain, &c.mint).await?
        {
            stopped = Some("mint paused");
        }
        let mut controls = vec![];
        if c.controls & CONTROL_FREEZE != 0 {
            controls.push("freeze");
        }
        if c.controls & CONTROL_PAUSE != 0 {
            controls.push("pause");
        }
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
            target,
            band_low: target.saturating_sub(half),
            band_high: target + half,
            cap: band_cap,
            out_of_band,
            controls,
            stopped,
            quarantine: Quarantine::from_u8(c.quarantine)
                .filter(|q| *q != Quarantine::None)
                .map(Quarantine::name),
            quarantined_at: c.is_quarantined().then_some(c.quarantined_at),
        });
    }

    Ok(rows)
}

/// Whether a Token-2022 mint with the pausable extension is paused now.
pub async fn mint_paused<C: Chain>(chain: &mut C, mint: &Pubkey) -> Result<bool> {
    use spl_token_2022::extension::{
        pausable::PausableConfig, BaseStateWithExtensions, StateWithExtensions,
    };
    let data = chain.data_of(mint).await?;
    let state = StateWithExtensions::<spl_token_2022::state::Mint>::unpack(&data)
        .map_err(|e| anyhow::anyhow!("mint {mint}: {e}"))?;
    Ok(state
        .get_extension::<PausableConfig>()
        .is_ok_and(|p| bool::from(p.paused)))
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
    if index_key != address::index_address(&index.share_mint) {
        v(
            &mut violations,
            "index-address",
            "the index is not the PDA of its share mint".into(),
        );
    }

    check_share_mint(chain, &index_key, &index, &mut violations).await?;

    // Vaults: address, owner, mint, amount against internal balances.
    let h = index.holdings();
    let rows = check_vaults(
        chain,
        book,
        &index_key,
        &index,
        &weights(&index.band_holdings())?,
        &mut violations,
    )
    .await?;

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
    // The program forces a trade only outside the band: a weight above the cap but inside its
    // band (a 15% target's band reaches 18%) waits for the next review, as the methodology's
    // buffer intends.
    if priced && index.imbalance_started_at == 0 {
        for r in rows.iter().filter(|r| r.weight > r.cap && r.out_of_band) {
            v(
                &mut violations,
                "weight-over-cap",
                format!(
                    "{}: weight {} above the cap and outside its band, no rebalance open",
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
    let mut written_off = vec![];
    if replay {
        let fee_balance = chain.balance_of(&index.fee_shares).await.unwrap_or(0);
        let log = chain.index_events(&index_key).await?;
        events_replayed = Some(log.len());
        let (found, off) = replay_events(&log, &index_key, &index, fee_balance);
        violations.extend(found);
        written_off = off;
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
        written_off,
    })
}

/// Posted ranks against market caps at the review's prices: a row ranked above another with a
/// circulating market cap more than [`RANK_ORDER_SLACK_PCT`]% smaller is named (prices move
/// between the observation the ranks were taken at and the review; beyond that the ranks are
/// not the universe's).
pub fn rank_order(e: &aidx::events::TargetsRecomputed) -> Vec<Violation> {
    let cap =
        |i: usize| (e.prices[i] as u128).saturating_mul(e.inputs[i].circulating_supply as u128);
    let ranked: Vec<usize> = (0..e.inputs.len().min(e.prices.len()))
        .filter(|i| e.inputs[*i].rank > 0)
        .collect();
    let mut out = vec![];
    for &a in &ranked {
        for &b in &ranked {
            if e.inputs[a].rank < e.inputs[b].rank
                && cap(a).saturating_mul(100 + RANK_ORDER_SLACK_PCT) < cap(b).saturating_mul(100)
            {
                v(
                    &mut out,
                    "rank-order",
                    format!(
                        "row {a} is ranked {} above row {b} (ranked {}) with a market cap {:.0}% \
                         smaller at the review's prices",
                        e.inputs[a].rank,
                        e.inputs[b].rank,
                        100.0 - cap(a) as f64 * 100.0 / cap(b).max(1) as f64
                    ),
                );
            }
        }
    }
    out
}

/// How much smaller (percent) a better-ranked row's market cap may be at the review's prices.
pub const RANK_ORDER_SLACK_PCT: u128 = 10;

fn replay_events(
    log: &[Vec<u8>],
    index_key: &Pubkey,
    index: &Index,
    fee_balance: u64,
) -> (Vec<Violation>, Vec<WrittenOffRow>) {
    let mut out = vec![];
    let r = match replay(log, index_key) {
        Ok(r) => r,
        Err(e) => {
            v(&mut out, "replay-events", e.to_string());
            return (out, vec![]);
        }
    };
    let written_off = r
        .written_off
        .iter()
        .map(|w| WrittenOffRow {
            mint: w.mint.to_string(),
            vault: w.vault.to_string(),
            balance: w.balance,
            share_supply: w.share_supply,
            at: w.at,
        })
        .collect();
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
        return (out, written_off);
    }
    let quarantined: Vec<bool> = cs.iter().map(|c| c.is_quarantined()).collect();
    if r.quarantined != quarantined {
        v(
            &mut out,
            "replay-quarantine",
            "quarantined rows replayed from events differ from the index's".into(),
        );
    }
    let balances: Vec<u64> = cs.iter().map(|c| c.balance).collect();
    if r.balances != balances {
        v(
            &mut out,
            "replay-balances",
            "balances replayed from events differ from the index's".into(),
        );
    }
    let members: Vec<bool> = cs.iter().map(|c| c.member == 1).collect();
    if r.members != members {
        v(
            &mut out,
            "replay-membership",
            "members replayed from the reviews differ from the index's".into(),
        );
    }
    let winding: Vec<bool> = cs
        .iter()
        .map(|c| c.status == aidx::state::ConstituentStatus::WindingDown as u8)
        .collect();
    if r.winding_down != winding {
        v(
            &mut out,
            "replay-status",
            "rows winding down replayed from events differ from the index's".into(),
        );
    }
    if let Some(e) = &r.last_review {
        out.extend(rank_order(e));
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
    (out, written_off)
}
