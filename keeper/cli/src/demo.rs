//! `aidx demo`: the whole life of an index on the embedded runtime, as named steps.
//!
//! [`Demo::start`] lists the universe (what `aidx targets` excludes and why) and creates a mint
//! per eligible token (pure plays on Token-2022, host chains on SPL Token); then
//! [`Demo::create_index`] seeds an index at the methodology's targets and $100 a share,
//! [`Demo::fund_holders`], [`Demo::in_kind`], [`Demo::publish_prices`],
//! [`Demo::recompute_targets`], [`Demo::price_move`], [`Demo::rebalance`],
//! [`Demo::single_asset`] and [`Demo::finish`] follow, each printing what it did.

use crate::output;
use aidx::events::NavReported;
use aidx::instructions::{
    AddConstituentArgs, InitializeIndexArgs, MintInKindArgs, MintSingleArgs, RedeemInKindArgs,
    RedeemSingleArgs,
};
use aidx::math::{mul_div, Rounding, ONE_SHARE, SHARE_DECIMALS, USD_SCALE, WEIGHT_SCALE};
use aidx::state::DEFAULT_MAX_MEMBERS;
use aidx::state::{Bucket, Index, IndexParams, SubSector};
use aidx_client::format::{pct, ui_amount, usd};
use aidx_client::pyth::PythPrice;
use aidx_client::tx::Footprint;
use aidx_client::universe::{self, Token};
use aidx_client::DevChain;
use aidx_client::{self as client, events_of, lookup, rebalance, targets, AidxEvent, Book};
use aidx_client::{TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};
use aidx_embedded::{state, Embedded};
use anyhow::{anyhow, bail, Result};
use solana_sdk::hash::hashv;
use solana_sdk::{
    message::AddressLookupTableAccount, pubkey::Pubkey, signature::Keypair, signer::Signer,
};
use std::io::Write;
use std::path::Path;

/// precision: USD_SCALE. Value of one share at the first mint.
pub const INITIAL_SHARE_PRICE: u128 = 100 * USD_SCALE;

/// What the demo did, for callers that check it (the tests do).
#[derive(Debug)]
pub struct DemoSummary {
    /// The index account.
    pub index: Pubkey,
    /// Constituents listed.
    pub constituents: usize,
    /// Raw shares at the end.
    pub share_supply: u64,
    /// precision: USD_SCALE. Value of one whole share at the universe's sample prices.
    pub value_per_share: u128,
    /// Every event, in order.
    pub events: Vec<AidxEvent>,
    /// The in-kind transaction that took the most of a cluster's limits (bytes, then locks).
    pub largest_tx: Footprint,
    /// Swaps the keeper made to bring every constituent back in band.
    pub rebalance_swaps: usize,
    /// precision: USD_SCALE. Reward the index paid for them.
    pub reward_paid_usd: u128,
}

/// A universe token listed in the index.
pub struct Listed {
    token: Token,
    mint: Pubkey,
    program: Pubkey,
    decimals: u8,
    weight: u64,
    /// Raw units per share at the seed.
    units: u64,
    /// Rank among the universe's liquid tokens (what the methodology authority posts).
    rank: Option<usize>,
}

struct Holder {
    name: &'static str,
    keypair: Keypair,
    accounts: Vec<Pubkey>,
    shares: Pubkey,
    table: AddressLookupTableAccount,
}

/// How a demo chooses its keys and its start.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    /// Every keypair the demo creates (admin, keeper, holders, mints) derives from this.
    pub seed: [u8; 32],
    /// The clock's unix time when the demo starts (the chain's own when `None`).
    pub start_time: Option<i64>,
    /// The index's member count (the default's 20; up to the table's 24).
    pub max_members: u8,
}

impl Setup {
    /// New keys, the chain's clock.
    pub fn random() -> Setup {
        Setup {
            seed: Keypair::new().secret_bytes()[..32]
                .try_into()
                .expect("32 bytes"),
            start_time: None,
            max_members: DEFAULT_MAX_MEMBERS,
        }
    }

    /// The keypair named `label` (the same for the same seed on every chain).
    pub fn keypair(&self, label: &str) -> Keypair {
        Keypair::new_from_array(hashv(&[&self.seed, label.as_bytes()]).to_bytes())
    }
}

/// The demo's chain and everything its steps share.
pub struct Demo<C> {
    chain: C,
    setup: Setup,
    listed: Vec<Listed>,
    params: IndexParams,
    admin: Keypair,
    index_key: Pubkey,
    index_table: Option<AddressLookupTableAccount>,
    holders: Vec<Holder>,
    keeper: Keypair,
    /// precision: USD_SCALE. The prices published, table order.
    usd_prices: Vec<u128>,
    events: Vec<AidxEvent>,
    largest_tx: Footprint,
    rebalance: rebalance::RebalanceReport,
}

/// Runs every step, printing to `out`; with `save`, writes the final chain state there for the
/// holder commands (`aidx nav --state`, `aidx mint --state`, ...).
pub async fn run(
    universe_csv: &str,
    out: &mut impl Write,
    save: Option<&Path>,
) -> Result<DemoSummary> {
    run_with(Setup::random(), universe_csv, out, save).await
}

/// [`run`] with `setup`.
pub async fn run_with(
    setup: Setup,
    universe_csv: &str,
    out: &mut impl Write,
    save: Option<&Path>,
) -> Result<DemoSummary> {
    let chain = Embedded::start().await?;
    let mut demo = run_on(chain, setup, universe_csv, out).await?;
    let summary = demo.finish(out).await?;
    if let Some(path) = save {
        let book = demo.book();
        state::save(&mut demo.chain, &book, path).await?;
        writeln!(out, "state saved to {}", path.display())?;
    }
    Ok(summary)
}

/// Every step but the last on `chain`, any development chain (the embedded runtime, or a
/// local node over JSON-RPC): the demo, ready to [`Demo::finish`].
pub async fn run_on<C: DevChain>(
    chain: C,
    setup: Setup,
    universe_csv: &str,
    out: &mut impl Write,
) -> Result<Demo<C>> {
    let mut demo = Demo::start(chain, setup, universe_csv, out).await?;
    demo.create_index(out).await?;
    demo.fund_holders().await?;
    demo.in_kind(out).await?;
    demo.publish_prices(out).await?;
    demo.recompute_targets(out).await?;
    demo.price_move(out).await?;
    demo.rebalance(out).await?;
    demo.single_asset(out).await?;
    Ok(demo)
}

impl<C: DevChain> Demo<C> {
    /// The universe: which tokens are excluded and why (exactly what `aidx targets` prints),
    /// and a mint per eligible token: pure plays on Token-2022 (8 decimals), host chains on
    /// SPL Token (9 decimals).
    pub async fn start(
        mut chain: C,
        setup: Setup,
        universe_csv: &str,
        out: &mut impl Write,
    ) -> Result<Self> {
        if let Some(t) = setup.start_time {
            chain.set_unix_timestamp(t).await?;
        }
        let universe = universe::parse(universe_csv)?;
        let params = IndexParams {
            max_members: setup.max_members,
            ..IndexParams::default()
        };
        writeln!(out, "== Universe: {} tokens", universe.len())?;
        // A first review: no members yet.
        let report = targets::report_with(
            &universe,
            &params.methodology(),
            &params.membership(),
            &vec![Default::default(); universe.len()],
        )?;
        let mut listed = vec![];
        for (t, r) in universe.into_iter().zip(&report.tokens) {
            if let Some(why) = &r.excluded_because {
                // A liquid token left out by the membership rules says which rule.
                let why = if r.rank.is_some() {
                    &r.membership_because
                } else {
                    why
                };
                writeln!(out, "   excluded {:<8} {why}", t.symbol)?;
                continue;
            }
            let (program, decimals) = if t.sector == SubSector::Host {
                (TOKEN_PROGRAM_ID, 9)
            } else {
                (TOKEN_2022_PROGRAM_ID, 8)
            };
            let mint = chain
                .create_mint_at(
                    &setup.keypair(&format!("mint {}", t.symbol)),
                    &program,
                    decimals,
                )
                .await?;
            // raw units per share = share price * weight / token price, in raw units
            let value = mul_div(
                INITIAL_SHARE_PRICE,
                r.target as u128,
                WEIGHT_SCALE as u128,
                Rounding::Down,
            )?;
            let units = u64::try_from(mul_div(
                value,
                10u128.pow(decimals as u32),
                t.price,
                Rounding::Down,
            )?)?;
            listed.push(Listed {
                token: t,
                mint,
                program,
                decimals,
                weight: r.target,
                units,
                rank: r.rank,
            });
        }
        let usd_prices = listed.iter().map(|l| l.token.price).collect();
        Ok(Demo {
            chain,
            setup,
            listed,
            params,
            admin: setup.keypair("admin"),
            index_key: Pubkey::default(),
            index_table: None,
            holders: vec![],
            keeper: setup.keypair("keeper"),
            usd_prices,
            events: vec![],
            largest_tx: Footprint {
                bytes: 0,
                locks: 0,
                static_keys: 0,
            },
            rebalance: Default::default(),
        })
    }

    /// Initializes the index, adds every constituent with the seed composition at its target,
    /// and creates the index's lookup table.
    pub async fn create_index(&mut self, out: &mut impl Write) -> Result<()> {
        let share_mint = self.setup.keypair("share mint");
        let payer = self.chain.fee_payer();
        let admin = self.admin.pubkey();
        let args = InitializeIndexArgs {
            params: self.params,
            methodology_authority: admin,
            guardian: admin,
            fee_recipient: admin,
        };
        let ix = client::initialize_index(&payer, &admin, &share_mint.pubkey(), args);
        let o = self
            .chain
            .send_ixs_ok(&[ix], &[&self.admin, &share_mint])
            .await?;
        self.events.extend(o.events);
        self.index_key = client::index_address(&share_mint.pubkey());
        writeln!(
            out,
            "\n== Index {} (share mint {})",
            self.index_key,
            share_mint.pubkey()
        )?;
        writeln!(
            out,
            "   cap {}  band {}  seeded at {} a share at the methodology's targets",
            pct(self.params.max_weight as u128),
            pct(self.params.band as u128),
            usd(INITIAL_SHARE_PRICE, 2)
        )?;
        for l in &self.listed {
            let host = l.token.sector == SubSector::Host;
            let args = AddConstituentArgs {
                sub_sector: l.token.sector as u8,
                bucket: if host { Bucket::Host } else { Bucket::PurePlay } as u8,
                feed_id: l
                    .token
                    .feed_id
                    .ok_or_else(|| anyhow!("{} has no feed", l.token.symbol))?,
                initial_units_per_share: l.units,
                target_weight: l.weight,
            };
            let ix =
                client::add_constituent(&payer, &admin, &self.index_key, &l.mint, &l.program, args);
            self.events
                .extend(self.chain.send_ixs_ok(&[ix], &[&self.admin]).await?.events);
        }
        // The table is set: the admin opens the index to its first mint.
        let o = self
            .chain
            .send_ixs_ok(
                &[client::open_index(&self.index_key, &admin)],
                &[&self.admin],
            )
            .await?;
        self.events.extend(o.events);
        let index = self.chain.load_index(&self.index_key).await?;
        let table = self
            .chain
            .create_lookup_table(&client::index_lookup_addresses(&self.index_key, &index))
            .await?;
        writeln!(
            out,
            "   {} constituents added; lookup table {}",
            self.listed.len(),
            table.key
        )?;
        self.index_table = Some(table);
        Ok(())
    }

    /// Two holders, each funded with 1,000 shares' worth of every constituent and a lookup
    /// table of their own accounts; a keeper with inventory of every constituent.
    pub async fn fund_holders(&mut self) -> Result<()> {
        let share_mint = self.chain.load_index(&self.index_key).await?.share_mint;
        for name in ["alice", "bob"] {
            let keypair = self.setup.keypair(name);
            let tokens: Vec<_> = self
                .listed
                .iter()
                .map(|l| {
                    (
                        l.mint,
                        l.program,
                        l.units.saturating_mul(1_000).saturating_add(1_000),
                    )
                })
                .collect();
            let accounts = self
                .chain
                .fund_holder(&keypair.pubkey(), 10_000_000_000, &tokens)
                .await?;
            let shares = self
                .chain
                .create_ata(&keypair.pubkey(), &share_mint, &TOKEN_PROGRAM_ID)
                .await?;
            let mut own = accounts.clone();
            own.push(shares);
            let table = self.chain.create_lookup_table(&own).await?;
            self.holders.push(Holder {
                name,
                keypair,
                accounts,
                shares,
                table,
            });
        }
        let tokens: Vec<_> = self
            .listed
            .iter()
            .map(|l| (l.mint, l.program, l.units.saturating_mul(1_000)))
            .collect();
        self.chain
            .fund_holder(&self.keeper.pubkey(), 10_000_000_000, &tokens)
            .await?;
        Ok(())
    }

    /// Alice mints 100 shares in kind (the first mint seeds the basket), Bob 250, Alice
    /// redeems 40: each one v0 transaction through the index's and the holder's lookup tables.
    pub async fn in_kind(&mut self, out: &mut impl Write) -> Result<()> {
        writeln!(out)?;
        for (who, is_mint, whole) in [(0, true, 100), (1, true, 250), (0, false, 40)] {
            let index = self.chain.load_index(&self.index_key).await?;
            let n = index.constituents().len();
            let h = &self.holders[who];
            let shares = whole * ONE_SHARE;
            let ix = if is_mint {
                let args = MintInKindArgs {
                    shares,
                    max_amounts_in: vec![u64::MAX; n],
                    min_shares_out: shares,
                };
                client::mint_in_kind(
                    &self.index_key,
                    &index,
                    &h.keypair.pubkey(),
                    &h.accounts,
                    args,
                )
            } else {
                let args = RedeemInKindArgs {
                    shares,
                    min_amounts_out: vec![0; n],
                    skip_mask: 0,
                };
                client::redeem_in_kind(
                    &self.index_key,
                    &index,
                    &h.keypair.pubkey(),
                    &h.accounts,
                    args,
                )
            };
            // The cheapest shape that fits mainnet's limits, measured, through the tables the
            // demo's book names (as `aidx mint` / `redeem` choose it).
            let book = self.book();
            let shapes = lookup::shapes(&mut self.chain, &book, Some(h.name)).await?;
            let (shape, footprint) = self.chain.choose_shape(std::slice::from_ref(&ix), shapes)?;
            let r = self
                .chain
                .send_ixs_v0(&[ix], &[&h.keypair], &shape.tables)
                .await?;
            let o = r?;
            if (footprint.bytes, footprint.locks) > (self.largest_tx.bytes, self.largest_tx.locks) {
                self.largest_tx = footprint;
            }
            for m in events_of::<aidx::events::MintedInKind>(&o.events) {
                writeln!(
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
                )?;
            }
            for r in events_of::<aidx::events::RedeemedInKind>(&o.events) {
                writeln!(
                    out,
                    "== {} redeems {} shares in kind -> supply {}",
                    h.name,
                    ui_amount(r.shares as u128, SHARE_DECIMALS, 2),
                    ui_amount(r.share_supply_after as u128, SHARE_DECIMALS, 6)
                )?;
            }
            writeln!(
                out,
                "   one v0 transaction through {}: {footprint}",
                shape.name
            )?;
            self.events.extend(o.events);
        }
        Ok(())
    }

    /// Publishes the current prices as Pyth updates (published now, 0.1% confidence) at the
    /// push-feed addresses operators read, refreshes them through the oracle gate and reads
    /// NAV with `report_nav`.
    async fn publish_and_report(&mut self) -> Result<NavReported> {
        let now = self.chain.get_clock().await?.unix_timestamp;
        let prices: Vec<PythPrice> = self
            .usd_prices
            .iter()
            .map(|p| PythPrice::from_usd_scaled(*p, 10, now))
            .collect();
        let keys = self
            .chain
            .post_index_prices(&self.index_key, &prices)
            .await?;
        let o = self
            .chain
            .send_ixs_ok(
                &[
                    client::refresh_prices(&self.index_key, &keys),
                    client::report_nav(&self.index_key),
                ],
                &[],
            )
            .await?;
        let report = events_of::<NavReported>(&o.events).pop();
        self.events.extend(o.events);
        report.ok_or_else(|| anyhow!("report_nav emitted no NavReported"))
    }

    /// The universe's sample prices through the oracle gate, and the basket at them.
    pub async fn publish_prices(&mut self, out: &mut impl Write) -> Result<()> {
        let report = self.publish_and_report().await?;
        writeln!(
            out,
            "\n== Oracle prices published (sample prices, 0.1% confidence)"
        )?;
        self.print_basket(out, &report).await
    }

    /// The methodology on-chain: the methodology authority posts the universe's facts, and
    /// `recompute_targets` (prices refreshed in the same transaction) derives the targets; they
    /// must equal what `aidx targets` computes off-chain, unit for unit.
    pub async fn recompute_targets(&mut self, out: &mut impl Write) -> Result<()> {
        let now = self.chain.get_clock().await?.unix_timestamp;
        let rows: Vec<_> = self
            .listed
            .iter()
            .map(|l| targets::input_row(&l.token, l.mint, l.rank))
            .collect();
        let index = self.chain.load_index(&self.index_key).await?;
        let keys = client::price_feed_accounts(&index);
        // The inputs go in batches of rows that fit a packet, apart from the recompute.
        for post in client::set_methodology_inputs_batched(
            &self.index_key,
            &self.admin.pubkey(),
            now,
            &rows,
        ) {
            let o = self.chain.send_ixs_ok(&[post], &[&self.admin]).await?;
            self.events.extend(o.events);
        }
        let ixs = [
            client::refresh_prices(&self.index_key, &keys),
            client::recompute_targets(&self.index_key),
        ];
        let o = self.chain.send_ixs_ok(&ixs, &[]).await?;
        self.events.extend(o.events);
        let index = self.chain.load_index(&self.index_key).await?;
        let same = index
            .constituents()
            .iter()
            .zip(&self.listed)
            .filter(|(c, l)| c.target_weight == l.weight)
            .count();
        if same != self.listed.len() {
            bail!(
                "on-chain targets differ from the keeper's for {} constituents",
                self.listed.len() - same
            );
        }
        writeln!(
            out,
            "   targets recomputed on-chain from posted inputs and oracle prices: equal to `aidx targets` for {same}/{} constituents, unit for unit",
            self.listed.len()
        )?;
        Ok(())
    }

    /// TAO +30% and FIL -30%, 30 seconds later.
    pub async fn price_move(&mut self, out: &mut impl Write) -> Result<()> {
        for (symbol, pct_move) in [("TAO", 30i128), ("FIL", -30)] {
            if let Some(i) = self.row_of(symbol) {
                self.usd_prices[i] = (self.usd_prices[i] as i128 * (100 + pct_move) / 100) as u128;
            }
        }
        let now = self.chain.get_clock().await?.unix_timestamp;
        self.chain.set_unix_timestamp(now + 30).await?;
        let moved = self.publish_and_report().await?;
        writeln!(out, "\n== Price move: TAO +30%, FIL -30%")?;
        self.print_basket(out, &moved).await
    }

    /// The book of this chain: symbols, wallets, lookup tables (saved with --save-state).
    pub fn book(&self) -> Book {
        let mut book = Book {
            index: self.index_key.to_string(),
            symbols: self.listed.iter().map(|l| l.token.symbol.clone()).collect(),
            ..Book::default()
        };
        book.add_wallet("admin", &self.admin);
        book.add_wallet("keeper", &self.keeper);
        if let Some(t) = &self.index_table {
            book.lookup_tables.insert("index".into(), t.key.to_string());
        }
        for h in &self.holders {
            book.add_wallet(h.name, &h.keypair);
            book.lookup_tables
                .insert(h.name.into(), h.table.key.to_string());
        }
        book
    }

    /// The imbalance is recorded (the auction starts), an hour passes, prices are republished,
    /// and the keeper plans and executes the swaps that bring every constituent back inside
    /// its band.
    pub async fn rebalance(&mut self, out: &mut impl Write) -> Result<()> {
        let book = self.book();
        let index = self.chain.load_index(&self.index_key).await?;
        let keys = client::price_feed_accounts(&index);
        let o = self
            .chain
            .send_ixs_ok(
                &[
                    client::refresh_prices(&self.index_key, &keys),
                    client::poke_rebalance(&self.index_key),
                ],
                &[],
            )
            .await?;
        self.events.extend(o.events);
        self.chain.next_slot().await?;
        let clock = self.chain.get_clock().await?;
        self.chain
            .set_unix_timestamp(clock.unix_timestamp + 3_600)
            .await?;
        let before = self.publish_and_report().await?;
        writeln!(out, "\n== Rebalance plan, one hour into the auction")?;
        let plan = rebalance::plan_now(&mut self.chain, &book).await?;
        output::plan(&plan, &self.chain.load_index(&self.index_key).await?, out)?;
        let report =
            rebalance::rebalance(&mut self.chain, &book, &self.keeper, 50, 2, false).await?;
        for line in report.notes.iter().chain(&report.events) {
            writeln!(out, "   {line}")?;
        }
        writeln!(
            out,
            "   {} swaps, reward paid {} ({:.5}% of NAV)",
            report.swaps_done,
            usd(report.reward_paid_usd, 4),
            report.reward_paid_usd as f64 * 100.0 / before.nav_mid.max(1) as f64
        )?;
        self.events.extend(
            report
                .swapped
                .iter()
                .cloned()
                .map(AidxEvent::RebalanceSwapped),
        );
        self.rebalance = report;
        Ok(())
    }

    /// The chain the demo ran on.
    pub fn into_chain(self) -> C {
        self.chain
    }

    fn row_of(&self, symbol: &str) -> Option<usize> {
        self.listed.iter().position(|l| l.token.symbol == symbol)
    }

    /// Single-asset flows at oracle prices, each within the cap-and-band rule: Bob deposits
    /// $50 of FIL (at target after the rebalance; $200 would push it out of its band: refused),
    /// Alice redeems 1 share into TAO, still above target (a larger single redeem would lift
    /// SOL and LINK, which sit near the 15% cap, above it: refused).
    pub async fn single_asset(&mut self, out: &mut impl Write) -> Result<()> {
        let (Some(fil), Some(tao)) = (self.row_of("FIL"), self.row_of("TAO")) else {
            return Ok(());
        };
        let index = self.chain.load_index(&self.index_key).await?;
        let bob = &self.holders[1];
        let fil_amount = u64::try_from(mul_div(
            50 * USD_SCALE,
            10u128.pow(self.listed[fil].decimals as u32),
            self.usd_prices[fil],
            Rounding::Down,
        )?)?;
        let args = MintSingleArgs {
            amount_in: fil_amount,
            min_shares_out: 1,
        };
        let ix = client::mint_single(&self.index_key, &index, &bob.keypair.pubkey(), fil, args);
        let o = self.chain.send_ixs_ok(&[ix], &[&bob.keypair]).await?;
        for m in events_of::<aidx::events::MintedSingle>(&o.events) {
            writeln!(
                out,
                "\n== bob mints {} shares with {} FIL ({} at price - conf, NAV {} at price + conf)",
                ui_amount(m.shares as u128, SHARE_DECIMALS, 4),
                ui_amount(m.amount_in as u128, self.listed[fil].decimals, 4),
                usd(m.deposit_value, 2),
                usd(m.nav, 2),
            )?;
        }
        self.events.extend(o.events);
        let alice = &self.holders[0];
        let index = self.chain.load_index(&self.index_key).await?;
        let args = RedeemSingleArgs {
            shares: ONE_SHARE,
            min_amount_out: 1,
        };
        let ix = client::redeem_single(&self.index_key, &index, &alice.keypair.pubkey(), tao, args);
        let o = self.chain.send_ixs_ok(&[ix], &[&alice.keypair]).await?;
        for r in events_of::<aidx::events::RedeemedSingle>(&o.events) {
            writeln!(
                out,
                "== alice redeems {} shares for {} TAO ({} of NAV at price - conf, TAO paid at price + conf)",
                ui_amount(r.shares as u128, SHARE_DECIMALS, 2),
                ui_amount(r.amount_out as u128, self.listed[tao].decimals, 4),
                usd(r.value_out, 2),
            )?;
        }
        self.events.extend(o.events);
        Ok(())
    }

    /// The final basket, the holders' shares, the largest basket transaction.
    pub async fn finish(&mut self, out: &mut impl Write) -> Result<DemoSummary> {
        let now = self.chain.get_clock().await?.unix_timestamp;
        self.chain.set_unix_timestamp(now + 30).await?;
        let last = self.publish_and_report().await?;
        writeln!(out, "\n== Final basket")?;
        self.print_basket(out, &last).await?;
        for h in &self.holders {
            let s = self.chain.balance_of(&h.shares).await?;
            writeln!(
                out,
                "  {:<6} holds {} shares",
                h.name,
                ui_amount(s as u128, SHARE_DECIMALS, 4)
            )?;
        }
        writeln!(out, "largest basket transaction: {}", self.largest_tx)?;
        writeln!(out, "{} events emitted", self.events.len())?;
        let index = self.chain.load_index(&self.index_key).await?;
        Ok(DemoSummary {
            index: self.index_key,
            constituents: self.listed.len(),
            share_supply: index.share_supply,
            value_per_share: last.value_per_share,
            events: self.events.clone(),
            largest_tx: self.largest_tx,
            rebalance_swaps: self.rebalance.swaps_done,
            reward_paid_usd: self.rebalance.reward_paid_usd,
        })
    }

    /// The basket at the prices stored on-chain: balance, price, value, weight against target and
    /// band; then NAV and value per share. Checks every vault against internal accounting.
    async fn print_basket(&mut self, out: &mut impl Write, report: &NavReported) -> Result<()> {
        let (chain, index_key, listed) = (&mut self.chain, &self.index_key, &self.listed);
        let index: Index = chain.load_index(index_key).await?;
        let mut rows = vec![];
        for (i, (c, l)) in index.constituents().iter().zip(listed).enumerate() {
            let vault_amount = chain.balance_of(&c.vault).await?;
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
                usd(c.price as u128, 2),
                usd(value, 2),
                pct(w as u128),
                pct(c.target_weight as u128),
                format!("{}-{}", pct(lo), pct(hi)),
                flag.to_string(),
            ]);
        }
        write!(
            out,
            "{}",
            output::render(
                &[
                    ("token", output::Align::Left),
                    ("sector", output::Align::Left),
                    ("program", output::Align::Left),
                    ("balance", output::Align::Right),
                    ("price", output::Align::Right),
                    ("value", output::Align::Right),
                    ("weight", output::Align::Right),
                    ("target", output::Align::Right),
                    ("band", output::Align::Right),
                    ("", output::Align::Left),
                ],
                &rows
            )
        )?;
        writeln!(
            out,
            "share supply {}  NAV {} (low {}, high {})  value per share {}",
            ui_amount(report.share_supply as u128, SHARE_DECIMALS, 6),
            usd(report.nav_mid, 2),
            usd(report.nav_low, 2),
            usd(report.nav_high, 2),
            usd(report.value_per_share, 2)
        )?;
        Ok(())
    }
}
