//! Holder-facing commands: NAV, mint and redeem (in kind or single-asset) with slippage bounds.
//!
//! In-kind bounds come from the program's own share math on the current balances; single-asset
//! bounds from simulating the transaction (prices refreshed in the same transaction) and
//! taking `--max-slippage-bps` off what it would give.

use crate::book::Book;
use crate::chain::Chain;
use crate::events::{events_of, AidxEvent};
use crate::format::{parse_decimal, pct, ui_amount, ui_amount_exact, USD_SCALE_DECIMALS};
use crate::tx::{Footprint, Shape};
use crate::{address, instructions as ix, lookup};
use aidx::events::{NavReported, PricesRefreshed};
use aidx::instructions::{MintInKindArgs, MintSingleArgs, RedeemInKindArgs, RedeemSingleArgs};
use aidx::math::{mul_div_u64, Rounding, BPS_SCALE, SHARE_DECIMALS};
use aidx::state::Index;
use anyhow::{anyhow, bail, Result};
use serde::Serialize;
use solana_sdk::{
    clock::Clock, instruction::Instruction, pubkey::Pubkey, signature::Keypair, signer::Signer,
};

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
    /// The index account.
    pub index: String,
    /// Whole shares.
    pub share_supply: String,
    /// USD at mid prices.
    pub nav_usd: String,
    /// USD at `price - conf`.
    pub nav_low_usd: String,
    /// USD at `price + conf`.
    pub nav_high_usd: String,
    /// USD per whole share, at mid.
    pub value_per_share_usd: String,
    /// Every constituent, table order.
    pub constituents: Vec<ConstituentView>,
}

/// One constituent in a [`NavView`].
#[derive(Serialize)]
pub struct ConstituentView {
    /// Its symbol, or its mint when the book has none.
    pub symbol: String,
    /// Whole tokens the index accounts for.
    pub balance: String,
    /// USD per whole token.
    pub price_usd: String,
    /// Confidence, USD per whole token.
    pub conf_usd: String,
    /// When the price was published, unix seconds.
    pub publish_time: i64,
    /// Weight at mid, percent.
    pub weight: String,
    /// Target weight, percent.
    pub target: String,
}

/// USD in the view's format: four decimals, no sign.
fn view_usd(v: u128) -> String {
    ui_amount(v, USD_SCALE_DECIMALS, 4)
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
            price_usd: view_usd(prices.prices[i] as u128),
            conf_usd: view_usd(prices.confs[i] as u128),
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
        nav_usd: view_usd(report.nav_mid),
        nav_low_usd: view_usd(report.nav_low),
        nav_high_usd: view_usd(report.nav_high),
        value_per_share_usd: view_usd(report.value_per_share),
        constituents,
    })
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
        refreshed: 0,
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
    let feeds = address::refresh_feed_accounts(index);
    let sim = chain
        .simulate_ixs(
            &[
                ix::refresh_prices(index_key, &feeds),
                ix::report_nav(index_key),
            ],
            &[],
        )
        .await?
        .map_err(|f| anyhow!("reading NAV failed: {f}"))?;
    let prices = events_of::<PricesRefreshed>(&sim.events)
        .pop()
        .ok_or_else(|| anyhow!("no PricesRefreshed event"))?;
    let report = events_of::<NavReported>(&sim.events)
        .pop()
        .ok_or_else(|| anyhow!("no NavReported event"))?;
    Ok((prices, report))
}

/// What a holder asks for.
#[derive(Clone, Debug)]
pub enum Request {
    /// Mint `shares` raw shares, depositing every constituent in proportion.
    MintInKind {
        /// Raw shares.
        shares: u64,
    },
    /// Mint with `amount` (whole tokens, decimal) of constituent `symbol`.
    MintSingle {
        /// The constituent's symbol.
        symbol: String,
        /// Whole tokens, e.g. "12.5".
        amount: String,
    },
    /// Redeem `shares` raw shares for every constituent in proportion, skipping `skip`.
    RedeemInKind {
        /// Raw shares.
        shares: u64,
        /// Symbols of legs to skip (a paused mint, a frozen account).
        skip: Vec<String>,
    },
    /// Redeem `shares` raw shares for constituent `symbol`.
    RedeemSingle {
        /// The constituent's symbol.
        symbol: String,
        /// Raw shares.
        shares: u64,
    },
}

/// A holder's request as sent: its events and how the transaction was shaped.
#[derive(Debug)]
pub struct Executed {
    /// The transaction's events.
    pub events: Vec<AidxEvent>,
    /// The lookup tables it went through, as a person reads them.
    pub shape: String,
    /// Its size and account locks.
    pub footprint: Footprint,
}

impl Executed {
    /// "one v0 transaction through the index's lookup table: 812 bytes of 1232, 40 account
    /// locks of 64".
    pub fn describe(&self) -> String {
        format!(
            "one v0 transaction through {}: {}",
            self.shape, self.footprint
        )
    }
}

/// Sends `ixs` in the cheapest of `shapes` that fits a cluster's limits (simulates it when
/// `dry_run`).
async fn send<C: Chain>(
    chain: &mut C,
    ixs: &[Instruction],
    signer: &Keypair,
    shapes: Vec<Shape>,
    dry_run: bool,
) -> Result<Executed> {
    let (r, shape, footprint) = if dry_run {
        chain.simulate_in(ixs, &[signer], &shapes).await?
    } else {
        chain.send_in(ixs, &[signer], &shapes).await?
    };
    Ok(Executed {
        events: r?.events,
        shape,
        footprint,
    })
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
        .map_err(|f| anyhow!("quoting failed: {f}"))?;
    sim.events
        .iter()
        .find_map(pick)
        .ok_or_else(|| anyhow!("the simulation emitted no quote"))
}

/// What each constituent an in-kind mint of `shares` deposits at unix time `now`, raw units,
/// table order: the program's own deposit math on the current balances (the seed composition
/// before the first mint). A quarantined row that cannot move (`stuck`, see [`stuck_rows`])
/// is paid for in the rows not quarantined, at the stored trade prices widened for their age
/// at `now`: quote just before sending.
pub fn in_kind_deposits(index: &Index, shares: u64, now: i64, stuck: &[bool]) -> Result<Vec<u64>> {
    let clock = Clock {
        unix_timestamp: now,
        ..Clock::default()
    };
    let (amounts, _dead) = aidx::instructions::mint_in_kind_deposits(index, shares, &clock, stuck)
        .map_err(|e| anyhow!("{e}"))?;
    Ok(amounts)
}

/// Which quarantined rows cannot move now, table order (`false` for every other row: the
/// deposit math asks only about quarantined ones): a frozen vault or a paused mint, read from
/// the chain as the program reads them from an in-kind instruction's legs, and only for a mint
/// that has a freeze or pause authority (`Constituent::controls`).
pub async fn stuck_rows<C: Chain>(chain: &mut C, index: &Index) -> Result<Vec<bool>> {
    use aidx::state::{CONTROL_FREEZE, CONTROL_PAUSE};
    use anchor_spl::token_2022::spl_token_2022::extension::StateWithExtensions;
    use anchor_spl::token_2022::spl_token_2022::state::{Account as TokenAccount, AccountState};
    let mut out = vec![];
    for c in index.constituents() {
        let mut stuck = false;
        if c.is_quarantined() && c.controls & CONTROL_FREEZE != 0 {
            let vault = chain.data_of(&c.vault).await?;
            stuck = StateWithExtensions::<TokenAccount>::unpack(&vault)
                .is_ok_and(|a| a.base.state == AccountState::Frozen);
        }
        if c.is_quarantined() && !stuck && c.controls & CONTROL_PAUSE != 0 {
            stuck = crate::audit::mint_paused(chain, &c.mint).await?;
        }
        out.push(stuck);
    }
    Ok(out)
}

/// What each constituent an in-kind redeem of `shares` pays, raw units, table order: the
/// program's own payout math (after the redeem fee) on `index`, which should be brought to the
/// time of sending with [`as_of`]. A quarantined row pays nothing until it is released, a
/// skipped one (`skip_mask`) nothing at all.
pub fn in_kind_payouts(index: &Index, shares: u64, skip_mask: u32) -> Result<Vec<u64>> {
    let (payouts, _fee) = aidx::instructions::redeem_in_kind_payouts(index, shares, skip_mask)
        .map_err(|e| anyhow!("{e}"))?;
    Ok(payouts)
}

/// The shares an in-kind mint of `shares` gives the holder: the mint fee (in shares, rounded
/// up) taken off, as the program does. The instruction's `min_shares_out`.
pub fn in_kind_net_shares(index: &Index, shares: u64) -> Result<u64> {
    let fee = aidx::math::fees::fee_on(shares, index.params.mint_fee_bps)?;
    Ok(shares - fee)
}

/// `index` as the program will see it at unix time `now` before it computes anything from the
/// supply: synced down to the share mint's `mint_supply` (shares burned outside the program)
/// and with the management fee accrued ([`Index::accrue_fee`]). Deposits and payouts quoted on
/// it divide by the supply the program will; quote with the cluster's clock just before sending
/// (a later landing accrues a little more, which only lowers payouts by far less than any
/// slippage bound and lowers deposits).
pub fn as_of(index: &Index, mint_supply: u64, now: i64) -> Result<Index> {
    let mut at = *index;
    at.accrue_fee(mint_supply, now)
        .map_err(|e| anyhow!("{e}"))?;
    Ok(at)
}

/// Refuses, before anything is sent, a mint in kind the holder cannot pay: names the first
/// constituent the holder holds too little of, in whole tokens.
async fn check_holdings<C: Chain>(
    chain: &mut C,
    book: &Book,
    holder_name: &str,
    index: &Index,
    accounts: &[Pubkey],
    needs: &[u64],
) -> Result<()> {
    for (row, ((c, account), need)) in index
        .constituents()
        .iter()
        .zip(accounts)
        .zip(needs)
        .enumerate()
    {
        let held = match chain.get_account(account).await? {
            Some(_) => chain.balance_of(account).await?,
            None => 0,
        };
        if held < *need {
            bail!(
                "{holder_name} holds {} {sym}; this mint needs {} {sym}",
                ui_amount_exact(held as u128, c.decimals),
                ui_amount_exact(*need as u128, c.decimals),
                sym = book.symbol(row),
            );
        }
    }
    Ok(())
}

/// Builds, bounds and sends a holder's request; returns the events.
pub async fn execute<C: Chain>(
    chain: &mut C,
    book: &Book,
    holder_name: &str,
    request: Request,
    max_slippage_bps: u16,
) -> Result<Vec<AidxEvent>> {
    Ok(
        execute_with(chain, book, holder_name, request, max_slippage_bps, false)
            .await?
            .events,
    )
}

/// [`execute`]; with `dry_run` the final transaction is simulated, not sent.
pub async fn execute_with<C: Chain>(
    chain: &mut C,
    book: &Book,
    holder_name: &str,
    request: Request,
    max_slippage_bps: u16,
    dry_run: bool,
) -> Result<Executed> {
    check_bps(max_slippage_bps)?;
    let holder = book.wallet(holder_name)?;
    let index_key = book.index_key()?;
    let index = chain.load_index(&index_key).await?;
    let accounts = ix::holder_atas(&index, &holder.pubkey());
    let shapes = lookup::shapes(chain, book, Some(holder_name)).await?;
    let feeds = address::refresh_feed_accounts(&index);
    let refresh = ix::refresh_prices(&index_key, &feeds);
    let outcome = match request {
        Request::MintInKind { shares } => {
            // A quarantined row is paid for in the other rows, at their trade prices: fresh
            // ones first, in a transaction of their own (with the legs, every feed would not
            // fit mainnet's account locks).
            let index = if index.any_quarantined() && !dry_run {
                send(
                    chain,
                    std::slice::from_ref(&refresh),
                    &holder,
                    shapes.clone(),
                    false,
                )
                .await?;
                chain.load_index(&index_key).await?
            } else {
                index
            };
            let now = chain.get_clock().await?.unix_timestamp;
            let index = as_of(&index, chain.supply_of(&index.share_mint).await?, now)?;
            let stuck = stuck_rows(chain, &index).await?;
            let needs = in_kind_deposits(&index, shares, now, &stuck)?;
            check_holdings(chain, book, holder_name, &index, &accounts, &needs).await?;
            let max_amounts_in = needs
                .iter()
                .map(|n| plus_slippage(*n, max_slippage_bps))
                .collect::<Result<Vec<_>>>()?;
            let args = MintInKindArgs {
                shares,
                max_amounts_in,
                min_shares_out: in_kind_net_shares(&index, shares)?,
            };
            let ix = ix::mint_in_kind(&index_key, &index, &holder.pubkey(), &accounts, args);
            send(chain, &[ix], &holder, shapes, dry_run).await?
        }
        Request::RedeemInKind { shares, skip } => {
            let mut skip_mask = 0u32;
            for s in &skip {
                skip_mask |= 1 << book.row_of(s)?;
            }
            let now = chain.get_clock().await?.unix_timestamp;
            let index = as_of(&index, chain.supply_of(&index.share_mint).await?, now)?;
            let min_amounts_out = in_kind_payouts(&index, shares, skip_mask)?
                .iter()
                .map(|p| less_slippage(*p, max_slippage_bps))
                .collect::<Result<Vec<_>>>()?;
            let args = RedeemInKindArgs {
                shares,
                min_amounts_out,
                skip_mask,
            };
            let ix = ix::redeem_in_kind(&index_key, &index, &holder.pubkey(), &accounts, args);
            send(chain, &[ix], &holder, shapes, dry_run).await?
        }
        Request::MintSingle { symbol, amount } => {
            let row = book.row_of(&symbol)?;
            let c = &index.constituents()[row];
            let amount_in = u64::try_from(parse_decimal(&amount, 10u128.pow(c.decimals as u32))?)?;
            let build = |min_shares_out| {
                ix::mint_single(
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
            send(chain, &[refresh, ix], &holder, shapes, dry_run).await?
        }
        Request::RedeemSingle { symbol, shares } => {
            let row = book.row_of(&symbol)?;
            let build = |min_amount_out| {
                ix::redeem_single(
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
            send(chain, &[refresh, ix], &holder, shapes, dry_run).await?
        }
    };
    Ok(outcome)
}
