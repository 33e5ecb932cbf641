//! `aidx demo`: the whole life of an index on the embedded runtime.
//!
//! Creates the universe's mints (pure plays on Token-2022, host chains on SPL Token), seeds an
//! index at circulating-market-cap weights capped at 15% and $100 a share, mints in kind for
//! two holders, redeems part, and prints the basket, the supply and the value per share.

use crate::client::{self, AidxEvent, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};
use crate::embedded::{Embedded, TxOutcome};
use crate::table::{pct, render, ui_amount, Align};
use crate::universe::{self, Token};
use aidx::instructions::{
    AddConstituentArgs, InitializeIndexArgs, MintInKindArgs, RedeemInKindArgs,
};
use aidx::math::methodology::capped_weights;
use aidx::math::{mul_div, Rounding, ONE_SHARE, SHARE_DECIMALS, USD_SCALE, WEIGHT_SCALE};
use aidx::state::{Bucket, Index, IndexParams, SubSector};
use anyhow::{anyhow, bail, Result};
use solana_sdk::{
    instruction::Instruction, message::AddressLookupTableAccount, pubkey::Pubkey,
    signature::Keypair, signer::Signer,
};
use std::io::Write;

/// precision: USD_SCALE. Value of one share at the first mint.
pub const INITIAL_SHARE_PRICE: u128 = 100 * USD_SCALE;
/// The largest serialized transaction a cluster accepts.
pub const PACKET_DATA_SIZE: usize = 1232;

/// What the demo did, for callers that check it (the tests do).
#[derive(Debug)]
pub struct DemoSummary {
    pub index: Pubkey,
    pub constituents: usize,
    pub share_supply: u64,
    /// precision: USD_SCALE. Value of one whole share at the universe's sample prices.
    pub value_per_share: u128,
    pub events: Vec<AidxEvent>,
    /// Largest serialized basket transaction, bytes.
    pub largest_tx: usize,
}

struct Listed<'a> {
    token: &'a Token,
    mint: Pubkey,
    program: Pubkey,
    decimals: u8,
    weight: u64,
}

/// Sends a basket instruction as a v0 transaction through `tables`, refusing any transaction
/// that would not fit a packet on a real cluster.
async fn send_basket(
    chain: &mut Embedded,
    ix: Instruction,
    holder: &Keypair,
    tables: &[AddressLookupTableAccount],
    largest: &mut usize,
) -> Result<TxOutcome> {
    let tx = chain.build_v0(&[ix], &[holder], tables).await?;
    let size = bincode::serialize(&tx)?.len();
    if size > PACKET_DATA_SIZE {
        bail!("basket transaction is {size} bytes, over the {PACKET_DATA_SIZE}-byte packet limit");
    }
    *largest = (*largest).max(size);
    chain
        .process_versioned(tx)
        .await?
        .map_err(|f| anyhow!("{f}\n{}", f.logs.join("\n")))
}

/// precision: USD_SCALE. Value of `raw` units at `price` (one whole token).
fn usd_value(raw: u64, decimals: u8, price: u128) -> Result<u128> {
    Ok(mul_div(
        raw as u128,
        price,
        10u128.pow(decimals as u32),
        Rounding::Down,
    )?)
}

fn usd(v: u128) -> String {
    format!("${}", ui_amount(v, 12, 2))
}

struct Holder {
    name: &'static str,
    keypair: Keypair,
    accounts: Vec<Pubkey>,
    shares: Pubkey,
    table: AddressLookupTableAccount,
}

pub async fn run(universe_csv: &str, out: &mut impl Write) -> Result<DemoSummary> {
    let mut chain = Embedded::start().await?;
    let universe = universe::parse(universe_csv)?;
    let params = IndexParams::default();

    writeln!(out, "== Universe: {} tokens", universe.len())?;
    let (eligible, excluded): (Vec<&Token>, Vec<&Token>) = universe
        .iter()
        .partition(|t| t.ineligible_reason().is_none());
    for t in &excluded {
        writeln!(
            out,
            "   excluded {:<8} {}",
            t.symbol,
            t.ineligible_reason().unwrap_or_default()
        )?;
    }
    let caps: Vec<u128> = eligible
        .iter()
        .map(|t| t.market_cap())
        .collect::<Result<_>>()?;
    let weights = capped_weights(&caps, params.max_weight)?;

    // Mints: pure plays on Token-2022 (8 decimals), host chains on SPL Token (9 decimals).
    let mut listed = vec![];
    for (t, w) in eligible.iter().zip(&weights) {
        let (program, decimals) = if t.sector == SubSector::Host {
            (TOKEN_PROGRAM_ID, 9)
        } else {
            (TOKEN_2022_PROGRAM_ID, 8)
        };
        let mint = chain.create_mint(&program, decimals).await?;
        listed.push(Listed {
            token: t,
            mint,
            program,
            decimals,
            weight: *w,
        });
    }

    // The index.
    let admin = Keypair::new();
    let share_mint = Keypair::new();
    let payer = chain.payer_key();
    let args = InitializeIndexArgs {
        params,
        methodology_authority: admin.pubkey(),
        guardian: admin.pubkey(),
        fee_recipient: admin.pubkey(),
    };
    let mut all_events = vec![];
    let o = chain
        .send_ok(
            &[client::initialize_index(
                &payer,
                &admin.pubkey(),
                &share_mint.pubkey(),
                args,
            )],
            &[&admin, &share_mint],
        )
        .await?;
    all_events.extend(o.events);
    let index_key = client::index_address(&share_mint.pubkey());
    writeln!(
        out,
        "\n== Index {index_key} (share mint {})",
        share_mint.pubkey()
    )?;
    writeln!(
        out,
        "   cap {}  band {}  seeded at {} a share, circulating-market-cap weights",
        pct(params.max_weight as u128),
        pct(params.band as u128),
        usd(INITIAL_SHARE_PRICE)
    )?;

    let mut units = vec![];
    for l in &listed {
        // raw units per share = share price * weight / token price, in the token's raw units
        let value = mul_div(
            INITIAL_SHARE_PRICE,
            l.weight as u128,
            WEIGHT_SCALE as u128,
            Rounding::Down,
        )?;
        let u = mul_div(
            value,
            10u128.pow(l.decimals as u32),
            l.token.price,
            Rounding::Down,
        )?;
        let u = u64::try_from(u)?;
        units.push(u);
        let args = AddConstituentArgs {
            sub_sector: l.token.sector as u8,
            bucket: if l.token.sector == SubSector::Host {
                Bucket::Host
            } else {
                Bucket::PurePlay
            } as u8,
            feed_id: l
                .token
                .feed_id
                .ok_or_else(|| anyhow!("{} has no feed", l.token.symbol))?,
            initial_units_per_share: u,
            target_weight: l.weight,
        };
        let ix = client::add_constituent(
            &payer,
            &admin.pubkey(),
            &index_key,
            &l.mint,
            &l.program,
            args,
        );
        all_events.extend(chain.send_ok(&[ix], &[&admin]).await?.events);
    }
    let index = chain.index(&index_key).await?;
    let index_table = chain
        .create_lookup_table(&client::index_lookup_addresses(&index_key, &index))
        .await?;
    writeln!(
        out,
        "   {} constituents added; lookup table {}",
        listed.len(),
        index_table.key
    )?;

    // Two holders, each funded with 1,000 shares' worth of every constituent.
    let mut holders = vec![];
    for name in ["alice", "bob"] {
        let keypair = Keypair::new();
        chain.airdrop(&keypair.pubkey(), 10_000_000_000).await?;
        let mut accounts = vec![];
        for (l, u) in listed.iter().zip(&units) {
            let ata = chain
                .create_ata(&keypair.pubkey(), &l.mint, &l.program)
                .await?;
            chain
                .mint_to(
                    &l.mint,
                    &ata,
                    &l.program,
                    u.saturating_mul(1_000).saturating_add(1_000),
                )
                .await?;
            accounts.push(ata);
        }
        let shares = chain
            .create_ata(&keypair.pubkey(), &share_mint.pubkey(), &TOKEN_PROGRAM_ID)
            .await?;
        let mut own = accounts.clone();
        own.push(shares);
        let table = chain.create_lookup_table(&own).await?;
        holders.push(Holder {
            name,
            keypair,
            accounts,
            shares,
            table,
        });
    }

    let mut largest = 0usize;
    let steps: [(usize, bool, u64); 3] = [(0, true, 100), (1, true, 250), (0, false, 40)];
    writeln!(out)?;
    for (who, is_mint, whole) in steps {
        let h = &holders[who];
        let index = chain.index(&index_key).await?;
        let n = index.constituents().len();
        let shares = whole * ONE_SHARE;
        let ix = if is_mint {
            client::mint_in_kind(
                &index_key,
                &index,
                &h.keypair.pubkey(),
                &h.accounts,
                MintInKindArgs {
                    shares,
                    max_amounts_in: vec![u64::MAX; n],
                    min_shares_out: shares,
                },
            )
        } else {
            client::redeem_in_kind(
                &index_key,
                &index,
                &h.keypair.pubkey(),
                &h.accounts,
                RedeemInKindArgs {
                    shares,
                    min_amounts_out: vec![0; n],
                    skip_mask: 0,
                },
            )
        };
        let tables = [index_table.clone(), h.table.clone()];
        let o = send_basket(&mut chain, ix, &h.keypair, &tables, &mut largest).await?;
        for e in &o.events {
            match e {
                AidxEvent::MintedInKind(m) => writeln!(
                    out,
                    "== {} mints {} shares in kind{} -> supply {}",
                    h.name,
                    ui_amount(m.shares as u128, SHARE_DECIMALS, 2),
                    if m.dead_shares > 0 {
                        " (first mint: seeds the basket, dead shares locked)"
                    } else {
                        ""
                    },
                    ui_amount(m.share_supply_after as u128, SHARE_DECIMALS, 6)
                )?,
                AidxEvent::RedeemedInKind(r) => writeln!(
                    out,
                    "== {} redeems {} shares in kind -> supply {}",
                    h.name,
                    ui_amount(r.shares as u128, SHARE_DECIMALS, 2),
                    ui_amount(r.share_supply_after as u128, SHARE_DECIMALS, 6)
                )?,
                _ => {}
            }
        }
        all_events.extend(o.events);
    }

    // The basket.
    let index: Index = chain.index(&index_key).await?;
    let mut values = vec![];
    for (c, l) in index.constituents().iter().zip(&listed) {
        values.push(usd_value(c.balance, c.decimals, l.token.price)?);
    }
    let nav: u128 = values.iter().sum();
    let mut rows = vec![];
    for ((c, l), v) in index.constituents().iter().zip(&listed).zip(&values) {
        let vault_amount = chain.token_balance(&c.vault).await?;
        if vault_amount != c.balance {
            bail!(
                "{}: vault holds {vault_amount}, index accounts for {}",
                l.token.symbol,
                c.balance
            );
        }
        rows.push(vec![
            l.token.symbol.clone(),
            SubSector::from_u8(c.sub_sector)
                .map(|s| s.name())
                .unwrap_or("?")
                .to_string(),
            if c.token_program == TOKEN_PROGRAM_ID {
                "spl-token"
            } else {
                "token-2022"
            }
            .to_string(),
            ui_amount(c.balance as u128, c.decimals, 4),
            usd(l.token.price),
            usd(*v),
            pct(mul_div(
                *v,
                WEIGHT_SCALE as u128,
                nav.max(1),
                Rounding::Down,
            )?),
            pct(l.weight as u128),
        ]);
    }
    writeln!(out, "\n== Basket (valued at the universe's sample prices)")?;
    write!(
        out,
        "{}",
        render(
            &[
                ("token", Align::Left),
                ("sector", Align::Left),
                ("program", Align::Left),
                ("balance", Align::Right),
                ("price", Align::Right),
                ("value", Align::Right),
                ("weight", Align::Right),
                ("seed weight", Align::Right),
            ],
            &rows
        )
    )?;
    let value_per_share = mul_div(
        nav,
        ONE_SHARE as u128,
        index.share_supply as u128,
        Rounding::Down,
    )?;
    writeln!(
        out,
        "\nshare supply {}  NAV {}  value per share {}",
        ui_amount(index.share_supply as u128, SHARE_DECIMALS, 6),
        usd(nav),
        usd(value_per_share)
    )?;
    for h in &holders {
        let s = chain.token_balance(&h.shares).await?;
        writeln!(
            out,
            "  {:<6} holds {} shares",
            h.name,
            ui_amount(s as u128, SHARE_DECIMALS, 2)
        )?;
    }
    writeln!(
        out,
        "largest basket transaction: {largest} bytes (v0, index + holder lookup tables; limit {PACKET_DATA_SIZE})"
    )?;
    writeln!(out, "{} events emitted", all_events.len())?;

    Ok(DemoSummary {
        index: index_key,
        constituents: listed.len(),
        share_supply: index.share_supply,
        value_per_share,
        events: all_events,
        largest_tx: largest,
    })
}
