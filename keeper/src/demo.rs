//! `aidx demo`: the whole life of an index on the embedded runtime.
//!
//! Creates the universe's mints (pure plays on Token-2022, host chains on SPL Token), seeds an
//! index at circulating-market-cap weights capped at 15% and $100 a share, mints in kind for
//! two holders, redeems part, and prints the basket, the supply and the value per share.

use crate::client::{self, AidxEvent, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};
use crate::embedded::{Embedded, TxOutcome};
use crate::pyth::PythPrice;
use crate::rebalance;
use crate::state::{self, Book};
use crate::table::{pct, render, ui_amount, Align};
use crate::targets;
use crate::universe::{self, Token};
use aidx::events::NavReported;
use aidx::instructions::{
    AddConstituentArgs, InitializeIndexArgs, MintInKindArgs, RedeemInKindArgs,
};
use aidx::instructions::{MintSingleArgs, RedeemSingleArgs, SetMethodologyInputsArgs};
use aidx::math::{mul_div, Rounding, ONE_SHARE, SHARE_DECIMALS, USD_SCALE, WEIGHT_SCALE};
use aidx::state::{Bucket, Index, IndexParams, SubSector};
use anyhow::{anyhow, bail, Result};
use solana_sdk::{
    instruction::Instruction, message::AddressLookupTableAccount, pubkey::Pubkey,
    signature::Keypair, signer::Signer,
};
use std::io::Write;
use std::path::Path;

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
    /// Swaps the keeper made to bring every constituent back in band.
    pub rebalance_swaps: usize,
    /// precision: USD_SCALE. Reward the index paid for them.
    pub reward_paid_usd: u128,
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

/// Publishes `usd_prices` as Pyth updates (published now), refreshes them on-chain and reads
/// NAV, value per share and weights through `report_nav`.
async fn publish_and_report(
    chain: &mut Embedded,
    index_key: &Pubkey,
    price_keys: &[Pubkey],
    usd_prices: &[u128],
    events: &mut Vec<AidxEvent>,
) -> Result<NavReported> {
    let index = chain.index(index_key).await?;
    let now = chain.clock().await?.unix_timestamp;
    for ((c, key), usd) in index.constituents().iter().zip(price_keys).zip(usd_prices) {
        chain.post_price(key, c.feed_id, PythPrice::from_usd_scaled(*usd, 10, now));
    }
    let o = chain
        .send_ok(
            &[
                client::refresh_prices(index_key, price_keys),
                client::report_nav(index_key),
            ],
            &[],
        )
        .await?;
    let report = o.events.iter().find_map(|e| match e {
        AidxEvent::NavReported(r) => Some(r.clone()),
        _ => None,
    });
    events.extend(o.events);
    report.ok_or_else(|| anyhow!("report_nav emitted no NavReported"))
}

/// The basket at the prices stored on-chain: balance, price, value, weight against target and
/// band; then NAV and value per share. Checks every vault against internal accounting.
async fn print_basket(
    chain: &mut Embedded,
    out: &mut impl Write,
    index_key: &Pubkey,
    listed: &[Listed<'_>],
    report: &NavReported,
) -> Result<()> {
    let index: Index = chain.index(index_key).await?;
    let mut rows = vec![];
    for (i, (c, l)) in index.constituents().iter().zip(listed).enumerate() {
        let vault_amount = chain.token_balance(&c.vault).await?;
        if vault_amount != c.balance {
            bail!(
                "{}: vault holds {vault_amount}, index accounts for {}",
                l.token.symbol,
                c.balance
            );
        }
        let value = mul_div(
            c.balance as u128,
            c.price as u128,
            10u128.pow(c.decimals as u32),
            Rounding::Down,
        )?;
        let w = report.weights[i];
        let half = mul_div(
            c.target_weight as u128,
            index.params.band as u128,
            WEIGHT_SCALE as u128,
            Rounding::Down,
        )?;
        let (lo, hi) = (
            (c.target_weight as u128).saturating_sub(half),
            c.target_weight as u128 + half,
        );
        let flag = if (w as u128) > hi {
            "over"
        } else if (w as u128) < lo {
            "under"
        } else {
            ""
        };
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
            usd(c.price as u128),
            usd(value),
            pct(w as u128),
            pct(c.target_weight as u128),
            format!("{}-{}", pct(lo), pct(hi)),
            flag.to_string(),
        ]);
    }
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
                ("target", Align::Right),
                ("band", Align::Right),
                ("", Align::Left),
            ],
            &rows
        )
    )?;
    writeln!(
        out,
        "share supply {}  NAV {} (low {}, high {})  value per share {}",
        ui_amount(report.share_supply as u128, SHARE_DECIMALS, 6),
        usd(report.nav_mid),
        usd(report.nav_low),
        usd(report.nav_high),
        usd(report.value_per_share)
    )?;
    Ok(())
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

/// Runs the demo, printing to `out`; with `save`, writes the final chain state there for the
/// holder commands (`aidx nav --state`, `aidx mint --state`, ...).
pub async fn run(
    universe_csv: &str,
    out: &mut impl Write,
    save: Option<&Path>,
) -> Result<DemoSummary> {
    let mut chain = Embedded::start().await?;
    let universe = universe::parse(universe_csv)?;
    let params = IndexParams::default();

    writeln!(out, "== Universe: {} tokens", universe.len())?;
    // Exactly what `aidx targets` prints for this universe.
    let report = targets::report(&universe, &targets::methodology_params(&params))?;
    let mut eligible = vec![];
    for (t, r) in universe.iter().zip(&report.tokens) {
        match &r.excluded_because {
            Some(why) => writeln!(out, "   excluded {:<8} {why}", t.symbol)?,
            None => eligible.push((t, r.target)),
        }
    }

    // Mints: pure plays on Token-2022 (8 decimals), host chains on SPL Token (9 decimals).
    let mut listed = vec![];
    for (t, w) in eligible {
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
            weight: w,
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
        "   cap {}  band {}  seeded at {} a share at the methodology's targets",
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

    // Oracle prices: the universe's sample prices published as Pyth price updates with a 0.1%
    // confidence, validated through refresh_prices; NAV read with report_nav.
    // They are posted where Pyth's sponsored push feeds live, so the same keeper reads them on
    // a cluster.
    let price_keys = client::price_feed_accounts(&chain.index(&index_key).await?);
    let mut usd_prices: Vec<u128> = listed.iter().map(|l| l.token.price).collect();
    let report = publish_and_report(
        &mut chain,
        &index_key,
        &price_keys,
        &usd_prices,
        &mut all_events,
    )
    .await?;
    writeln!(
        out,
        "\n== Oracle prices published (sample prices, 0.1% confidence)"
    )?;
    print_basket(&mut chain, out, &index_key, &listed, &report).await?;

    // The methodology on-chain: the methodology authority posts the universe's facts, and
    // recompute_targets (permissionless, prices refreshed in the same transaction) derives the
    // targets from them; they must equal what `aidx targets` computes off-chain, unit for unit.
    let now = chain.clock().await?.unix_timestamp;
    let inputs = SetMethodologyInputsArgs {
        observed_at: now,
        rows: listed.iter().map(|l| targets::input_row(l.token)).collect(),
    };
    let o = chain
        .send_ok(
            &[
                client::set_methodology_inputs(&index_key, &admin.pubkey(), inputs),
                client::refresh_prices(&index_key, &price_keys),
                client::recompute_targets(&index_key),
            ],
            &[&admin],
        )
        .await?;
    all_events.extend(o.events);
    let index = chain.index(&index_key).await?;
    let same = index
        .constituents()
        .iter()
        .zip(&listed)
        .filter(|(c, l)| c.target_weight == l.weight)
        .count();
    if same != listed.len() {
        bail!(
            "on-chain targets differ from the keeper's for {} constituents",
            listed.len() - same
        );
    }
    writeln!(
        out,
        "   targets recomputed on-chain from posted inputs and oracle prices: equal to `aidx targets` for {same}/{} constituents, unit for unit",
        listed.len()
    )?;

    // A price move in two names.
    let moves: [(&str, i64); 2] = [("TAO", 30), ("FIL", -30)];
    for (symbol, pct_move) in moves {
        if let Some(i) = listed.iter().position(|l| l.token.symbol == symbol) {
            usd_prices[i] = (usd_prices[i] as i128 * (100 + pct_move as i128) / 100) as u128;
        }
    }
    let now = chain.clock().await?.unix_timestamp;
    chain.set_unix_timestamp(now + 30).await?;
    let moved = publish_and_report(
        &mut chain,
        &index_key,
        &price_keys,
        &usd_prices,
        &mut all_events,
    )
    .await?;
    writeln!(out, "\n== Price move: TAO +30%, FIL -30%")?;
    print_basket(&mut chain, out, &index_key, &listed, &moved).await?;

    // The book of this chain: symbols, wallets, lookup tables (saved with --save-state).
    let mut book = Book {
        index: index_key.to_string(),
        symbols: listed.iter().map(|l| l.token.symbol.clone()).collect(),
        ..Book::default()
    };
    book.add_wallet("admin", &admin);
    book.lookup_tables
        .insert("index".into(), index_table.key.to_string());
    for h in &holders {
        book.add_wallet(h.name, &h.keypair);
        book.lookup_tables
            .insert(h.name.into(), h.table.key.to_string());
    }

    // Rebalancing: a keeper with inventory of every constituent. The imbalance is recorded
    // (the auction starts), an hour passes, prices are republished, and the keeper plans and
    // executes the swaps that bring every constituent back inside its band.
    let keeper = Keypair::new();
    chain.airdrop(&keeper.pubkey(), 10_000_000_000).await?;
    for (l, u) in listed.iter().zip(&units) {
        let ata = chain
            .create_ata(&keeper.pubkey(), &l.mint, &l.program)
            .await?;
        chain
            .mint_to(&l.mint, &ata, &l.program, u.saturating_mul(1_000))
            .await?;
    }
    book.add_wallet("keeper", &keeper);
    let o = chain
        .send_ok(
            &[
                client::refresh_prices(&index_key, &price_keys),
                client::poke_rebalance(&index_key),
            ],
            &[],
        )
        .await?;
    all_events.extend(o.events);
    let now = chain.clock().await?.unix_timestamp;
    let slot = chain.clock().await?.slot;
    chain
        .ctx
        .warp_to_slot(slot + 1)
        .map_err(|e| anyhow!("warp: {e:?}"))?;
    chain.set_unix_timestamp(now + 3_600).await?;
    let before = publish_and_report(
        &mut chain,
        &index_key,
        &price_keys,
        &usd_prices,
        &mut all_events,
    )
    .await?;
    writeln!(out, "\n== Rebalance plan, one hour into the auction")?;
    let plan = rebalance::plan_now(&mut chain, &book).await?;
    rebalance::print_plan(&plan, &chain.index(&index_key).await?, out)?;
    let report = rebalance::rebalance(&mut chain, &book, &keeper, 50, 2, false, out).await?;
    for line in &report.events {
        writeln!(out, "   {line}")?;
    }
    writeln!(
        out,
        "   {} swaps, reward paid {} ({:.5}% of NAV)",
        report.swaps_done,
        rebalance::usd(report.reward_paid_usd),
        report.reward_paid_usd as f64 * 100.0 / before.nav_mid.max(1) as f64
    )?;
    for r in &report.swapped {
        all_events.push(AidxEvent::RebalanceSwapped(r.clone()));
    }

    // Single-asset flows at oracle prices, each within the cap-and-band rule: bob deposits $50
    // of FIL (at target after the rebalance; $200 would push it out of its band: refused),
    // alice redeems 1 share into TAO, still above target (a larger single redeem would lift
    // SOL and LINK, which sit near the 15% cap, above it: refused).
    let index = chain.index(&index_key).await?;
    let row_of = |symbol: &str| listed.iter().position(|l| l.token.symbol == symbol);
    if let (Some(fil), Some(tao)) = (row_of("FIL"), row_of("TAO")) {
        let bob = &holders[1];
        let fil_amount = u64::try_from(mul_div(
            50 * USD_SCALE,
            10u128.pow(listed[fil].decimals as u32),
            usd_prices[fil],
            Rounding::Down,
        )?)?;
        let ix = client::mint_single(
            &index_key,
            &index,
            &bob.keypair.pubkey(),
            fil,
            MintSingleArgs {
                amount_in: fil_amount,
                min_shares_out: 1,
            },
        );
        let o = chain.send_ok(&[ix], &[&bob.keypair]).await?;
        for e in &o.events {
            if let AidxEvent::MintedSingle(m) = e {
                writeln!(
                    out,
                    "\n== bob mints {} shares with {} FIL ({} at price - conf, NAV {} at price + conf)",
                    ui_amount(m.shares as u128, SHARE_DECIMALS, 4),
                    ui_amount(m.amount_in as u128, listed[fil].decimals, 4),
                    usd(m.deposit_value),
                    usd(m.nav),
                )?;
            }
        }
        all_events.extend(o.events);
        let alice = &holders[0];
        let index = chain.index(&index_key).await?;
        let ix = client::redeem_single(
            &index_key,
            &index,
            &alice.keypair.pubkey(),
            tao,
            RedeemSingleArgs {
                shares: ONE_SHARE,
                min_amount_out: 1,
            },
        );
        let o = chain.send_ok(&[ix], &[&alice.keypair]).await?;
        for e in &o.events {
            if let AidxEvent::RedeemedSingle(r) = e {
                writeln!(
                    out,
                    "== alice redeems {} shares for {} TAO ({} of NAV at price - conf, TAO paid at price + conf)",
                    ui_amount(r.shares as u128, SHARE_DECIMALS, 2),
                    ui_amount(r.amount_out as u128, listed[tao].decimals, 4),
                    usd(r.value_out),
                )?;
            }
        }
        all_events.extend(o.events);
    }

    let now = chain.clock().await?.unix_timestamp;
    chain.set_unix_timestamp(now + 30).await?;
    let last = publish_and_report(
        &mut chain,
        &index_key,
        &price_keys,
        &usd_prices,
        &mut all_events,
    )
    .await?;
    writeln!(out, "\n== Final basket")?;
    print_basket(&mut chain, out, &index_key, &listed, &last).await?;
    for h in &holders {
        let s = chain.token_balance(&h.shares).await?;
        writeln!(
            out,
            "  {:<6} holds {} shares",
            h.name,
            ui_amount(s as u128, SHARE_DECIMALS, 4)
        )?;
    }
    writeln!(
        out,
        "largest basket transaction: {largest} bytes (v0, index + holder lookup tables; limit {PACKET_DATA_SIZE})"
    )?;
    writeln!(out, "{} events emitted", all_events.len())?;
    let index = chain.index(&index_key).await?;
    let value_per_share = last.value_per_share;
    if let Some(path) = save {
        state::save(&mut chain, &book, path).await?;
        writeln!(out, "state saved to {}", path.display())?;
    }
    let summary_swaps = report.swaps_done;
    let summary_reward = report.reward_paid_usd;

    Ok(DemoSummary {
        index: index_key,
        constituents: listed.len(),
        share_supply: index.share_supply,
        value_per_share,
        events: all_events,
        largest_tx: largest,
        rebalance_swaps: summary_swaps,
        reward_paid_usd: summary_reward,
    })
}
