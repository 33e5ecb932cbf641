//! Holder-facing commands: NAV, mint and redeem (in kind or single-asset) with slippage bounds.
//!
//! In-kind bounds come from the program's own share math on the current balances; single-asset
//! bounds from simulating the transaction (prices refreshed in the same transaction) and
//! taking `--max-slippage-bps` off what it would give.

use crate::chain::Chain;
use crate::client::{self, AidxEvent};
use crate::embedded::{Embedded, TxOutcome};
use crate::state::Book;
use crate::table::{pct, render, ui_amount, Align};
use crate::universe::parse_decimal;
use aidx::events::{NavReported, PricesRefreshed};
use aidx::instructions::{MintInKindArgs, MintSingleArgs, RedeemInKindArgs, RedeemSingleArgs};
use aidx::math::shares::{mint_deposit, redeem_payout, seed_deposit, DEAD_SHARES};
use aidx::math::{mul_div_u64, Rounding, BPS_SCALE, SHARE_DECIMALS};
use anyhow::{anyhow, bail, Result};
use serde::Serialize;
use solana_sdk::{
    instruction::Instruction, message::AddressLookupTableAccount, pubkey::Pubkey,
    signature::Keypair, signer::Signer,
};
use std::io::Write;
use std::str::FromStr;

/// The largest slippage bound accepted from the command line (50%).
pub const MAX_SLIPPAGE_BPS: u16 = 5_000;

/// `amount` less `bps`, rounded down: the least a holder accepts.
pub fn less_slippage(amount: u64, bps: u16) -> Result<u64> {
    Ok(mul_div_u64(
        amount,
        BPS_SCALE - bps as u64,
        BPS_SCALE,
        Rounding::Down,
    )?)
}

/// `amount` plus `bps`, rounded up: the most a holder pays.
pub fn plus_slippage(amount: u64, bps: u16) -> Result<u64> {
    Ok(mul_div_u64(
        amount,
        BPS_SCALE + bps as u64,
        BPS_SCALE,
        Rounding::Up,
    )?)
}

fn check_bps(bps: u16) -> Result<()> {
    if bps > MAX_SLIPPAGE_BPS {
        bail!("--max-slippage-bps {bps} is above {MAX_SLIPPAGE_BPS}");
    }
    Ok(())
}

/// Parses a whole-share amount ("12.5") into raw shares.
pub fn parse_shares(s: &str) -> Result<u64> {
    let v = parse_decimal(s, 10u128.pow(SHARE_DECIMALS as u32))?;
    u64::try_from(v).map_err(|_| anyhow!("{s} shares is too large"))
}

/// NAV as a holder sees it, read by simulating `refresh_prices` + `report_nav`.
#[derive(Serialize)]
pub struct NavView {
    pub index: String,
    pub share_supply: String,
    pub nav_usd: String,
    pub nav_low_usd: String,
    pub nav_high_usd: String,
    pub value_per_share_usd: String,
    pub constituents: Vec<ConstituentView>,
}

#[derive(Serialize)]
pub struct ConstituentView {
    pub symbol: String,
    pub balance: String,
    pub price_usd: String,
    pub conf_usd: String,
    pub publish_time: i64,
    pub weight: String,
    pub target: String,
}

fn usd(v: u128) -> String {
    ui_amount(v, 12, 4)
}

/// Reads NAV: refreshes prices from the push-feed accounts and reports NAV in one simulated
/// transaction (nothing is committed). With `stored`, NAV is computed here from the prices the
/// index already stores (no simulation: works against any RPC node, even one that cannot run
/// the program), the same math the program runs.
pub async fn nav<C: Chain>(chain: &mut C, book: &Book, stored: bool) -> Result<NavView> {
    let index_key = book.index_key()?;
    let index = chain.load_index(&index_key).await?;
    let (prices, report) = if stored {
        stored_report(&index_key, &index, chain.get_clock().await?.slot)?
    } else {
        simulated_report(chain, &index_key, &index).await?
    };
    let constituents = index
        .constituents()
        .iter()
        .enumerate()
        .map(|(i, c)| ConstituentView {
            symbol: book
                .symbols
                .get(i)
                .cloned()
                .unwrap_or_else(|| c.mint.to_string()),
            balance: ui_amount(c.balance as u128, c.decimals, c.decimals as usize),
            price_usd: usd(prices.prices[i] as u128),
            conf_usd: usd(prices.confs[i] as u128),
            publish_time: prices.publish_times[i],
            weight: pct(report.weights[i] as u128),
            target: pct(c.target_weight as u128),
        })
        .collect();
    Ok(NavView {
        index: index_key.to_string(),
        share_supply: ui_amount(
            report.share_supply as u128,
            SHARE_DECIMALS,
            SHARE_DECIMALS as usize,
        ),
        nav_usd: usd(report.nav_mid),
        nav_low_usd: usd(report.nav_low),
        nav_high_usd: usd(report.nav_high),
        value_per_share_usd: usd(report.value_per_share),
        constituents,
    })
}

pub fn print_nav(v: &NavView, out: &mut impl Write) -> Result<()> {
    let rows: Vec<Vec<String>> = v
        .constituents
        .iter()
        .map(|c| {
            vec![
                c.symbol.clone(),
                c.balance.clone(),
                format!("${}", c.price_usd),
                format!("±{}", c.conf_usd),
                c.weight.clone(),
                c.target.clone(),
            ]
        })
        .collect();
    writeln!(out, "index {}", v.index)?;
    write!(
        out,
        "{}",
        render(
            &[
                ("token", Align::Left),
                ("balance", Align::Right),
                ("price", Align::Right),
                ("conf", Align::Right),
                ("weight", Align::Right),
                ("target", Align::Right),
            ],
            &rows
        )
    )?;
    writeln!(
        out,
        "share supply {}  NAV ${} (low ${}, high ${})  value per share ${}",
        v.share_supply, v.nav_usd, v.nav_low_usd, v.nav_high_usd, v.value_per_share_usd
    )?;
    Ok(())
}

/// NAV from the index's stored prices, as `report_nav` computes it.
fn stored_report(
    index_key: &Pubkey,
    index: &aidx::state::Index,
    slot: u64,
) -> Result<(PricesRefreshed, NavReported)> {
    use aidx::math::nav::{nav as nav_at, weights, PriceSide};
    use aidx::math::{mul_div, Rounding, ONE_SHARE};
    let cs = index.constituents();
    let h = index.holdings();
    let nav_mid = nav_at(&h, PriceSide::Mid, Rounding::Down)?;
    let prices = PricesRefreshed {
        index: *index_key,
        slot,
        unix_timestamp: 0,
        prices: cs.iter().map(|c| c.price).collect(),
        confs: cs.iter().map(|c| c.conf).collect(),
        publish_times: cs.iter().map(|c| c.publish_time).collect(),
    };
    let report = NavReported {
        index: *index_key,
        slot,
        nav_mid,
        nav_low: nav_at(&h, PriceSide::Low, Rounding::Down)?,
        nav_high: nav_at(&h, PriceSide::High, Rounding::Up)?,
        share_supply: index.share_supply,
        value_per_share: if index.share_supply == 0 {
            0
        } else {
            mul_div(
                nav_mid,
                ONE_SHARE as u128,
                index.share_supply as u128,
                Rounding::Down,
            )?
        },
        weights: weights(&h)?,
    };
    Ok((prices, report))
}

/// NAV from `refresh_prices` + `report_nav`, simulated.
async fn simulated_report<C: Chain>(
    chain: &mut C,
    index_key: &Pubkey,
    index: &aidx::state::Index,
) -> Result<(PricesRefreshed, NavReported)> {
    let feeds = client::price_feed_accounts(index);
    let sim = chain
        .simulate_ixs(
            &[
                client::refresh_prices(index_key, &feeds),
                client::report_nav(index_key),
            ],
            &[],
        )
        .await?
        .map_err(|f| anyhow!("reading NAV failed: {f}\n{}", f.logs.join("\n")))?;
    let prices = sim
        .events
        .iter()
        .find_map(|e| match e {
            AidxEvent::PricesRefreshed(p) => Some(p.clone()),
            _ => None,
        })
        .ok_or_else(|| anyhow!("no PricesRefreshed event"))?;
    let report = sim
        .events
        .iter()
        .find_map(|e| match e {
            AidxEvent::NavReported(n) => Some(n.clone()),
            _ => None,
        })
        .ok_or_else(|| anyhow!("no NavReported event"))?;
    Ok((prices, report))
}

/// What a holder asks for.
pub enum Request {
    MintInKind { shares: u64 },
    MintSingle { symbol: String, amount: String },
    RedeemInKind { shares: u64, skip: Vec<String> },
    RedeemSingle { symbol: String, shares: u64 },
}

fn tables(
    book: &Book,
    chain_tables: &[(String, Vec<Pubkey>)],
    holder: &str,
) -> Result<Vec<AddressLookupTableAccount>> {
    let mut out = vec![];
    for name in ["index", holder] {
        if let Some(key) = book.lookup_tables.get(name) {
            let key = Pubkey::from_str(key)?;
            if let Some((_, addresses)) = chain_tables.iter().find(|(n, _)| n == name) {
                out.push(AddressLookupTableAccount {
                    key,
                    addresses: addresses.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// Reads the addresses of the lookup tables named in the book.
async fn load_tables<C: Chain>(chain: &mut C, book: &Book) -> Result<Vec<(String, Vec<Pubkey>)>> {
    let mut out = vec![];
    for (name, key) in &book.lookup_tables {
        let key = Pubkey::from_str(key)?;
        let data = chain.data_of(&key).await?;
        let table =
            solana_address_lookup_table_interface::state::AddressLookupTable::deserialize(&data)
                .map_err(|e| anyhow!("lookup table {key}: {e:?}"))?;
        out.push((name.clone(), table.addresses.to_vec()));
    }
    Ok(out)
}

async fn send<C: Chain>(
    chain: &mut C,
    ixs: &[Instruction],
    signer: &Keypair,
    tables: &[AddressLookupTableAccount],
    dry_run: bool,
) -> Result<TxOutcome> {
    let r = match (dry_run, tables.is_empty()) {
        (true, _) => chain.simulate_ixs_v0(ixs, &[signer], tables).await?,
        (false, true) => chain.send_ixs(ixs, &[signer]).await?,
        (false, false) => chain.send_ixs_v0(ixs, &[signer], tables).await?,
    };
    r.map_err(|f| anyhow!("{f}\n{}", f.logs.join("\n")))
}

/// Simulates `ixs` with no slippage bound and picks the quoted figure out of its events.
async fn quote<C: Chain>(
    chain: &mut C,
    ixs: &[Instruction],
    signer: &Keypair,
    pick: impl Fn(&AidxEvent) -> Option<u64>,
) -> Result<u64> {
    let sim = chain
        .simulate_ixs(ixs, &[signer])
        .await?
        .map_err(|f| anyhow!("simulation failed: {f}\n{}", f.logs.join("\n")))?;
    sim.events
        .iter()
        .find_map(pick)
        .ok_or_else(|| anyhow!("the simulation emitted no quote"))
}

/// Builds, bounds and sends a holder's request; returns the events.
pub async fn execute<C: Chain>(
    chain: &mut C,
    book: &Book,
    holder_name: &str,
    request: Request,
    max_slippage_bps: u16,
) -> Result<Vec<AidxEvent>> {
    execute_with(chain, book, holder_name, request, max_slippage_bps, false).await
}

/// [`execute`]; with `dry_run` the final transaction is simulated, not sent.
pub async fn execute_with<C: Chain>(
    chain: &mut C,
    book: &Book,
    holder_name: &str,
    request: Request,
    max_slippage_bps: u16,
    dry_run: bool,
) -> Result<Vec<AidxEvent>> {
    check_bps(max_slippage_bps)?;
    let holder = book.wallet(holder_name)?;
    let index_key = book.index_key()?;
    let index = chain.load_index(&index_key).await?;
    let accounts = client::holder_atas(&index, &holder.pubkey());
    let chain_tables = load_tables(chain, book).await?;
    let luts = tables(book, &chain_tables, holder_name)?;
    let feeds = client::price_feed_accounts(&index);
    let refresh = client::refresh_prices(&index_key, &feeds);
    let outcome = match request {
        Request::MintInKind { shares } => {
            let max_amounts_in = index
                .constituents()
                .iter()
                .map(|c| {
                    let need = if index.is_seeded() {
                        mint_deposit(shares, c.balance, index.share_supply)?
                    } else {
                        seed_deposit(shares + DEAD_SHARES, c.initial_units_per_share)?
                    };
                    plus_slippage(need, max_slippage_bps)
                })
                .collect::<Result<Vec<_>>>()?;
            let args = MintInKindArgs {
                shares,
                max_amounts_in,
                min_shares_out: shares,
            };
            let ix = client::mint_in_kind(&index_key, &index, &holder.pubkey(), &accounts, args);
            send(chain, &[ix], &holder, &luts, dry_run).await?
        }
        Request::RedeemInKind { shares, skip } => {
            let mut skip_mask = 0u32;
            for s in &skip {
                skip_mask |= 1 << book.row_of(s)?;
            }
            let min_amounts_out = index
                .constituents()
                .iter()
                .map(|c| {
                    less_slippage(
                        redeem_payout(shares, c.balance, index.share_supply)?,
                        max_slippage_bps,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            let args = RedeemInKindArgs {
                shares,
                min_amounts_out,
                skip_mask,
            };
            let ix = client::redeem_in_kind(&index_key, &index, &holder.pubkey(), &accounts, args);
            send(chain, &[ix], &holder, &luts, dry_run).await?
        }
        Request::MintSingle { symbol, amount } => {
            let row = book.row_of(&symbol)?;
            let c = &index.constituents()[row];
            let amount_in = u64::try_from(parse_decimal(&amount, 10u128.pow(c.decimals as u32))?)?;
            let build = |min_shares_out| {
                client::mint_single(
                    &index_key,
                    &index,
                    &holder.pubkey(),
                    row,
                    MintSingleArgs {
                        amount_in,
                        min_shares_out,
                    },
                )
            };
            let quoted = quote(chain, &[refresh.clone(), build(0)], &holder, |e| match e {
                AidxEvent::MintedSingle(m) => Some(m.shares),
                _ => None,
            })
            .await?;
            let ix = build(less_slippage(quoted, max_slippage_bps)?);
            send(chain, &[refresh, ix], &holder, &[], dry_run).await?
        }
        Request::RedeemSingle { symbol, shares } => {
            let row = book.row_of(&symbol)?;
            let build = |min_amount_out| {
                client::redeem_single(
                    &index_key,
                    &index,
                    &holder.pubkey(),
                    row,
                    RedeemSingleArgs {
                        shares,
                        min_amount_out,
                    },
                )
            };
            let quoted = quote(chain, &[refresh.clone(), build(0)], &holder, |e| match e {
                AidxEvent::RedeemedSingle(r) => Some(r.amount_out),
                _ => None,
            })
            .await?;
            let ix = build(less_slippage(quoted, max_slippage_bps)?);
            send(chain, &[refresh, ix], &holder, &[], dry_run).await?
        }
    };
    Ok(outcome.events)
}

/// One line per event of a holder operation.
pub fn describe(events: &[AidxEvent], out: &mut impl Write) -> Result<()> {
    for e in events {
        match e {
            AidxEvent::MintedInKind(m) => writeln!(
                out,
                "minted {} shares in kind; supply {}",
                ui_amount(m.shares as u128, SHARE_DECIMALS, 9),
                ui_amount(m.share_supply_after as u128, SHARE_DECIMALS, 9)
            )?,
            AidxEvent::RedeemedInKind(r) => writeln!(
                out,
                "redeemed {} shares in kind; supply {}",
                ui_amount(r.shares as u128, SHARE_DECIMALS, 9),
                ui_amount(r.share_supply_after as u128, SHARE_DECIMALS, 9)
            )?,
            AidxEvent::MintedSingle(m) => writeln!(
                out,
                "minted {} shares for {} raw units (fee {} shares); supply {}",
                ui_amount(m.shares as u128, SHARE_DECIMALS, 9),
                m.amount_in,
                ui_amount(m.fee_shares as u128, SHARE_DECIMALS, 9),
                ui_amount(m.share_supply_after as u128, SHARE_DECIMALS, 9)
            )?,
            AidxEvent::RedeemedSingle(r) => writeln!(
                out,
                "redeemed {} shares for {} raw units (fee {} shares); supply {}",
                ui_amount(r.shares as u128, SHARE_DECIMALS, 9),
                r.amount_out,
                ui_amount(r.fee_shares as u128, SHARE_DECIMALS, 9),
                ui_amount(r.share_supply_after as u128, SHARE_DECIMALS, 9)
            )?,
            _ => {}
        }
    }
    Ok(())
}

/// Publishes Pyth price updates for every constituent, published now: the stored prices, with
/// `overrides` (symbol, USD decimal) replacing some. The embedded runtime's stand-in for Pyth.
pub async fn post_prices(
    chain: &mut Embedded,
    book: &Book,
    overrides: &[(String, String)],
    conf_bps: u64,
) -> Result<()> {
    let index_key = book.index_key()?;
    let index = chain.index(&index_key).await?;
    let now = chain.clock().await?.unix_timestamp;
    let mut prices: Vec<u128> = index
        .constituents()
        .iter()
        .map(|c| c.price as u128)
        .collect();
    for (symbol, usd) in overrides {
        prices[book.row_of(symbol)?] = parse_decimal(usd, aidx::math::USD_SCALE)?;
    }
    for (c, p) in index.constituents().iter().zip(prices) {
        if p == 0 {
            bail!("no price for {}: give one with --set", c.mint);
        }
        let key = client::push_feed_address(0, &c.feed_id);
        chain.post_price(
            &key,
            c.feed_id,
            crate::pyth::PythPrice::from_usd_scaled(p, conf_bps, now),
        );
    }
    Ok(())
}
