//! Oracle and economic attacks, one named test per attack. Each test's doc comment states the
//! attack and the defence; each asserts the real outcome: the exact error (and the instruction
//! of the transaction that raised it), or exact balances, share supply and events.
//!
//! The index of every test is the 8-constituent one of `single.rs` and `rebalance.rs` (SPL Token
//! on even rows, Token-2022 on odd rows; decimals 6, 9, 8, 0, 6, 9, 8, 0), seeded in kind with
//! exactly 1_000 whole tokens of each constituent for 100 whole shares. Expected figures come
//! from [`Basket`], a plain-u128 restatement of the documented formulas fed with the state read
//! back from the index account; the key ones are also written out as literals (checked by hand
//! or with an independent script).
//!
//! Value is measured at mid prices exactly: every holding over the common denominator 1e9
//! (the largest decimals here), so no rounding enters the comparison ([`Basket::nav_exact`]).
//!
//! Positions: the harness prepends a compute-budget instruction, so the first instruction of a
//! transaction is at index 1.
//!
//! Two attacks are bounded by design rather than refused, each with its figures: choosing an
//! older price within the trade age ([`price_choice_within_the_trade_age_is_bounded_by_the_widened_spread`])
//! and sandwiching a swap that earns the vault in kind
//! ([`sandwiching_a_profitable_rebalance_in_kind_is_bounded_by_the_in_kind_fees`]).

use aidx::errors::AidxError;
use aidx::events::{
    MintedInKind, MintedSingle, PricesRefreshed, RebalanceSwapped, RedeemedInKind, RedeemedSingle,
};
use aidx::instructions::{MintSingleArgs, RebalanceSwapArgs, RedeemInKindArgs, RedeemSingleArgs};
use aidx::math::USD_SCALE;
use aidx::oracle::{MAX_EXPONENT, MIN_EXPONENT};
use aidx::state::{Index, IndexParams, AGE_SPREAD_BPS_PER_SEC, DEFAULT_TRADE_MAX_AGE_SECS};
use aidx_client::pyth::price_update_account;
use aidx_client::{self as client, events_of, AidxEvent, TOKEN_PROGRAM_ID};
use aidx_tests::*;
use pyth_solana_receiver_sdk::price_update::VerificationLevel;
use solana_sdk::{account::Account, instruction::Instruction, pubkey::Pubkey};

/// Constituents: enough for a 15% cap to hold (1 / 0.15 < 8).
const N: usize = 8;
/// The default oracle max age.
const MAX_AGE: i64 = IndexParams::default_max_age();
/// The default trade max age: the oldest publish time a trade is priced at.
const TRADE_AGE: i64 = DEFAULT_TRADE_MAX_AGE_SECS as i64;
const ONE_USD: u128 = USD_SCALE;
const BPS: u128 = 10_000;
/// Instruction positions inside a transaction (0 is the harness's compute-budget instruction).
const IX1: u8 = 1;
const IX2: u8 = 2;
const IX3: u8 = 3;

/// A Pyth price of `usd` (USD_SCALE per whole token) with exponent -8 and a confidence of
/// `conf_bps` of it, published at `at`.
fn pyth(usd: u128, conf_bps: u64, at: i64) -> PythPrice {
    PythPrice::from_usd_scaled(usd, conf_bps, at)
}

/// What the oracle gate stores for an exponent -8 price: `(price, conf)` in USD_SCALE.
fn stored(p: &PythPrice) -> (u128, u128) {
    assert_eq!(p.exponent, -8);
    (p.price as u128 * 10_000, p.conf as u128 * 10_000)
}

/// `usd[i]` for every row, all with `conf_bps`, published at `at`.
fn prices(usd: &[u128], conf_bps: u64, at: i64) -> Vec<PythPrice> {
    usd.iter().map(|u| pyth(*u, conf_bps, at)).collect()
}

/// $1 for every row but those listed.
fn usd_with(moved: &[(usize, u128)]) -> Vec<u128> {
    (0..N)
        .map(|i| {
            moved
                .iter()
                .find(|(r, _)| *r == i)
                .map_or(ONE_USD, |(_, p)| *p)
        })
        .collect()
}

/// Row 0 up 30%, row 1 down 30%: both out of their band (10%..15% around 12.5%).
fn plus_minus_30() -> Vec<u128> {
    usd_with(&[(0, 13 * ONE_USD / 10), (1, 7 * ONE_USD / 10)])
}

/// `a * b` as a 256-bit `(high, low)` pair: tuples compare like the numbers.
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const M: u128 = u64::MAX as u128;
    let (a1, a0, b1, b0) = (a >> 64, a & M, b >> 64, b & M);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 64) + (p01 & M) + (p10 & M);
    (
        (p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64)),
        (p00 & M) | (mid << 64),
    )
}

// ---------------------------------------------------------------------------------------------
// The independent model.

/// The basket as the documented formulas see it, read from the stored index.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Basket {
    bal: Vec<u128>,
    dec: Vec<u32>,
    price: Vec<u128>,
    conf: Vec<u128>,
    publish: Vec<i64>,
    supply: u128,
    mint_fee_bps: u128,
    redeem_fee_bps: u128,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MintQ {
    deposit_value: u128,
    nav_high: u128,
    shares: u64,
    fee: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RedeemQ {
    fee: u64,
    nav_low: u128,
    value_out: u128,
    amount_out: u64,
}

impl Basket {
    fn of(index: &Index) -> Self {
        let cs = index.constituents();
        Basket {
            bal: cs.iter().map(|c| c.balance as u128).collect(),
            dec: cs.iter().map(|c| c.decimals as u32).collect(),
            price: cs.iter().map(|c| c.price as u128).collect(),
            conf: cs.iter().map(|c| c.conf as u128).collect(),
            publish: cs.iter().map(|c| c.publish_time).collect(),
            supply: index.share_supply as u128,
            mint_fee_bps: index.params.mint_fee_bps as u128,
            redeem_fee_bps: index.params.redeem_fee_bps as u128,
        }
    }

    fn n(&self) -> usize {
        self.bal.len()
    }

    fn scale(&self, i: usize) -> u128 {
        10u128.pow(self.dec[i])
    }

    fn low(&self, i: usize) -> u128 {
        self.price[i].saturating_sub(self.conf[i])
    }

    fn high(&self, i: usize) -> u128 {
        self.price[i] + self.conf[i]
    }

    /// The basket at the prices a refresh stores from `posted` (exponent -8).
    fn priced(&self, posted: &[PythPrice]) -> Basket {
        let mut b = self.clone();
        for (i, p) in posted.iter().enumerate() {
            (b.price[i], b.conf[i]) = stored(p);
            b.publish[i] = p.publish_time;
        }
        b
    }

    /// The basket as a trade at unix time `now` values it: each confidence widened by
    /// `AGE_SPREAD_BPS_PER_SEC` of the price per second since publication, rounded up.
    fn aged(&self, now: i64) -> Basket {
        let mut b = self.clone();
        for i in 0..b.n() {
            let age = (now - b.publish[i]).max(0) as u128;
            b.conf[i] += (b.price[i] * age * AGE_SPREAD_BPS_PER_SEC as u128).div_ceil(BPS);
        }
        b
    }

    /// Each holding at `price - conf`, rounded down, summed.
    fn nav_low(&self) -> u128 {
        (0..self.n())
            .map(|i| self.bal[i] * self.low(i) / self.scale(i))
            .sum()
    }

    /// Each holding at `price + conf`, rounded up, summed.
    fn nav_high(&self) -> u128 {
        (0..self.n())
            .map(|i| (self.bal[i] * self.high(i)).div_ceil(self.scale(i)))
            .sum()
    }

    /// NAV at mid with no rounding at all: every holding over the common denominator 1e9
    /// (units of USD_SCALE / 1e9).
    fn nav_exact(&self) -> u128 {
        self.value_exact(&self.bal.iter().map(|b| *b as u64).collect::<Vec<_>>())
    }

    /// `amounts` (one per row) at mid, exactly, in the units of [`Basket::nav_exact`].
    fn value_exact(&self, amounts: &[u64]) -> u128 {
        amounts
            .iter()
            .enumerate()
            .map(|(i, a)| *a as u128 * self.price[i] * 10u128.pow(9 - self.dec[i]))
            .sum()
    }

    /// `mint_single`: the deposit at `price - conf` (down) into a NAV at `price + conf` (up);
    /// shares down, fee up. Applies it.
    fn mint_single(&mut self, row: usize, amount: u64) -> MintQ {
        let deposit_value = amount as u128 * self.low(row) / self.scale(row);
        let nav_high = self.nav_high();
        let gross = deposit_value * self.supply / nav_high;
        let fee = (gross * self.mint_fee_bps).div_ceil(BPS);
        self.bal[row] += amount as u128;
        self.supply += gross;
        MintQ {
            deposit_value,
            nav_high,
            shares: (gross - fee) as u64,
            fee: fee as u64,
        }
    }

    /// `redeem_single`: fee up; the net shares claim a NAV at `price - conf` (down), paid in
    /// `row` at `price + conf` (down). Applies it.
    fn redeem_single(&mut self, row: usize, shares: u64) -> RedeemQ {
        let fee = (shares as u128 * self.redeem_fee_bps).div_ceil(BPS);
        let net = shares as u128 - fee;
        let nav_low = self.nav_low();
        let value_out = net * nav_low / self.supply;
        let amount_out = value_out * self.scale(row) / self.high(row);
        self.bal[row] -= amount_out;
        self.supply -= net;
        RedeemQ {
            fee: fee as u64,
            nav_low,
            value_out,
            amount_out: amount_out as u64,
        }
    }

    /// `mint_in_kind` once seeded: `ceil(shares * balance / supply)` of every row. Applies it.
    fn mint_in_kind(&mut self, shares: u64) -> Vec<u64> {
        // the deposit buys `shares`; the mint fee is paid out of them (to the fee account)
        let d: Vec<u128> = self
            .bal
            .iter()
            .map(|b| (shares as u128 * b).div_ceil(self.supply))
            .collect();
        for (b, x) in self.bal.iter_mut().zip(&d) {
            *b += x;
        }
        self.supply += shares as u128;
        d.iter().map(|x| *x as u64).collect()
    }

    /// `redeem_in_kind`: `floor(shares * balance / supply)` of every row not skipped.
    /// Applies it.
    fn redeem_in_kind(&mut self, shares: u64, skip_mask: u32) -> Vec<u64> {
        // the fee (rounded up) moves to the fee account; the rest is burned and paid out
        let net = shares as u128 - (shares as u128 * self.redeem_fee_bps).div_ceil(BPS);
        let p: Vec<u128> = (0..self.n())
            .map(|i| {
                if skip_mask & (1 << i) != 0 {
                    0
                } else {
                    net * self.bal[i] / self.supply
                }
            })
            .collect();
        for (b, x) in self.bal.iter_mut().zip(&p) {
            *b -= x;
        }
        self.supply -= net;
        p.iter().map(|x| *x as u64).collect()
    }
}

/// Value per share at mid (exact) did not fall from `before` to `after`.
#[track_caller]
fn assert_per_share_not_below(before: &Basket, after: &Basket, what: &str) {
    assert!(
        mul_wide(after.nav_exact(), before.supply) >= mul_wide(before.nav_exact(), after.supply),
        "{what}: value per share fell: {} / {} -> {} / {}",
        before.nav_exact(),
        before.supply,
        after.nav_exact(),
        after.supply
    );
}

/// In kind: the balance per share of every single row did not fall either.
#[track_caller]
fn assert_rows_per_share_not_below(before: &Basket, after: &Basket, what: &str) {
    assert_per_share_not_below(before, after, what);
    for i in 0..before.n() {
        assert!(
            mul_wide(after.bal[i], before.supply) >= mul_wide(before.bal[i], after.supply),
            "{what}: row {i} per share fell"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures, transactions and assertions.

/// The 8-constituent index seeded in kind with exactly 1_000 whole tokens of each row.
async fn seeded() -> Seeded {
    TestContext::seeded(N, |_| {}).await
}

fn feeds(index: &Index) -> Vec<[u8; 32]> {
    index.constituents().iter().map(|c| c.feed_id).collect()
}

/// Posts `prices` (one per row, each row's own feed) at new addresses: verified updates any
/// relayer can post to the Pyth receiver. Returns the addresses, table order.
async fn post_elsewhere(
    t: &mut TestContext,
    fx: &IndexFixture,
    prices: &[PythPrice],
) -> Vec<Pubkey> {
    let index = t.index(fx).await;
    let mut keys = vec![];
    for (feed, p) in feeds(&index).into_iter().zip(prices) {
        let key = Pubkey::new_unique();
        t.chain.post_price(&key, feed, *p);
        keys.push(key);
    }
    keys
}

fn harness_keys(fx: &IndexFixture) -> Vec<Pubkey> {
    (0..N).map(|i| price_key(fx, i)).collect()
}

fn mint_single_ix(
    fx: &IndexFixture,
    index: &Index,
    h: &Holder,
    row: usize,
    amount: u64,
    min: u64,
) -> Instruction {
    client::mint_single(
        &fx.key,
        index,
        &h.key(),
        row,
        MintSingleArgs {
            amount_in: amount,
            min_shares_out: min,
        },
    )
}

fn redeem_single_ix(
    fx: &IndexFixture,
    index: &Index,
    h: &Holder,
    row: usize,
    shares: u64,
    min: u64,
) -> Instruction {
    client::redeem_single(
        &fx.key,
        index,
        &h.key(),
        row,
        RedeemSingleArgs {
            shares,
            min_amount_out: min,
        },
    )
}

fn redeem_in_kind_ix(
    fx: &IndexFixture,
    index: &Index,
    h: &Holder,
    shares: u64,
    skip_mask: u32,
) -> Instruction {
    client::redeem_in_kind(
        &fx.key,
        index,
        &h.key(),
        &h.token_accounts,
        RedeemInKindArgs {
            shares,
            min_amounts_out: vec![0; N],
            skip_mask,
        },
    )
}

fn swap_ix(
    fx: &IndexFixture,
    index: &Index,
    h: &Holder,
    i: usize,
    o: usize,
    amount: u64,
) -> Instruction {
    client::rebalance_swap(
        &fx.key,
        index,
        &h.key(),
        i,
        o,
        RebalanceSwapArgs {
            amount_in: amount,
            min_amount_out: 0,
        },
    )
}

/// Everything an attack could move: the stored rows (balance, price, confidence, publish time),
/// the supply, the vaults and the attacker's accounts.
#[derive(Debug, PartialEq, Eq)]
struct Snap {
    rows: Vec<(u64, u64, u64, i64)>,
    supply: u64,
    mint_supply: u64,
    vaults: Vec<u64>,
    holder: Vec<u64>,
    shares: u64,
}

async fn snap(t: &mut TestContext, fx: &IndexFixture, h: &Holder) -> Snap {
    let index = t.index(fx).await;
    Snap {
        rows: index
            .constituents()
            .iter()
            .map(|c| (c.balance, c.price, c.conf, c.publish_time))
            .collect(),
        supply: index.share_supply,
        mint_supply: t.share_supply(fx).await,
        vaults: t.vault_balances(fx).await,
        holder: t.holder_balances(h).await,
        shares: t.balance(&h.shares).await,
    }
}

fn stored_rows(index: &Index) -> Vec<(u64, u64, i64)> {
    index
        .constituents()
        .iter()
        .map(|c| (c.price, c.conf, c.publish_time))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Stale prices.

/// **Attack:** mint single-asset shares against a price older than the index's max age (the
/// market has moved since; the stale stored price overvalues the deposit), either on the price
/// already stored or by refreshing with the old update in the same transaction.
///
/// **Defence:** `mint_single` and `redeem_single` need a fresh stored price (stored in this slot
/// or published at most `oracle_max_age_secs` ago) for the deposited row *and every row that
/// holds a balance* (`StalePrice`), and one published at most `trade_max_age_secs` (10 s) ago
/// (`PriceTooOldToTrade`); the oracle gate refuses an update older than the max age
/// (`OracleStale`), so the stale update cannot be re-stored either. Exactly the trade max age
/// still trades.
#[tokio::test]
async fn stale_price_cannot_price_a_single_asset_mint() {
    let Seeded { mut t, fx, .. } = seeded().await;
    let attacker = t.holder(&fx, rich).await;
    let t0 = t.now().await;
    events(t.set_prices(&fx, &[ONE_USD; N], 50).await);
    let index = t.index(&fx).await;
    assert!(index.constituents().iter().all(|c| c.publish_time == t0));

    // One second past the trade max age (fresh, but too old to trade at): refused.
    t.warp_to_time(t0 + TRADE_AGE + 1).await;
    let r = t.mint_single(&fx, &attacker, 0, whole(0, 10), 0).await;
    assert_aidx_error(&r, AidxError::PriceTooOldToTrade);
    // Control: at exactly the trade max age (a later slot, nothing re-stored) it trades.
    t.warp_to_time(t0 + TRADE_AGE).await;
    let mut m = Basket::of(&t.index(&fx).await).aged(t0 + TRADE_AGE);
    let q = m.mint_single(0, whole(0, 10));
    // 10 tokens at $0.993 (conf 0.5% widened by 10 s x 0.02%) into a NAV of $8_056 over 100
    // shares: 123_262_164.8 raw shares
    assert_eq!(q.shares, 123_262_164);
    let ev = events(
        t.mint_single(&fx, &attacker, 0, whole(0, 10), q.shares)
            .await,
    );
    assert_eq!(events_of::<MintedSingle>(&ev)[0].shares, q.shares);
    assert_eq!(t.balance(&attacker.shares).await, q.shares);

    // One second more: every stored price is stale; nothing single-asset goes through.
    t.warp_to_time(t0 + MAX_AGE + 1).await;
    let before = snap(&mut t, &fx, &attacker).await;
    for (row, amount) in [(0usize, whole(0, 10)), (3, 5), (1, whole(1, 2))] {
        let r = t.mint_single(&fx, &attacker, row, amount, 0).await;
        assert_aidx_error(&r, AidxError::StalePrice);
    }
    let r = t.redeem_single(&fx, &attacker, 0, q.shares, 0).await;
    assert_aidx_error(&r, AidxError::StalePrice);
    // The stale update cannot be stored again: alone, or in the mint's own transaction.
    assert_aidx_error(&t.refresh_prices(&fx).await, AidxError::OracleStale);
    let index = t.index(&fx).await;
    let ixs = [
        client::refresh_prices(&fx.key, &harness_keys(&fx)),
        mint_single_ix(&fx, &index, &attacker, 0, whole(0, 10), 0),
    ];
    let r = t.chain.send(&ixs, &[&attacker.keypair]).await.unwrap();
    assert_failed_at(&r, IX1, AidxError::OracleStale);
    assert_eq!(snap(&mut t, &fx, &attacker).await, before);

    // A fresh price for the deposited row alone is not enough: every row holding a balance
    // enters NAV. Rows 1..7 at exactly the max age, row 0 now: accepted; one second later rows
    // 1..7 are stale and the mint of row 0 is refused.
    let now = t.now().await;
    let mut p = prices(&[ONE_USD; N], 50, now - MAX_AGE);
    p[0].publish_time = now;
    t.post_prices(&fx, &p).await;
    let ev = events(t.refresh_prices(&fx).await);
    let e = &events_of::<PricesRefreshed>(&ev)[0];
    assert_eq!(e.publish_times[0], now);
    assert!(e.publish_times[1..].iter().all(|x| *x == now - MAX_AGE));
    t.warp_to_time(now + 1).await;
    let before = snap(&mut t, &fx, &attacker).await;
    let r = t.mint_single(&fx, &attacker, 0, whole(0, 10), 0).await;
    assert_aidx_error(&r, AidxError::StalePrice);
    assert_eq!(snap(&mut t, &fx, &attacker).await, before);
}

// ---------------------------------------------------------------------------------------------
// 2. Replayed updates.

/// **Attack:** after a newer price has been used for a constituent, replay an older verified
/// update (still within the max age) to go back to a price that favours the attacker, alone or
/// at the start of the attacker's own transaction.
///
/// **Defence:** the gate refuses a publish time older than the last one used for that
/// constituent (`OracleOlderThanLast`), even one second older, and the whole transaction is
/// undone. Replaying the *same* update (same publish time) is accepted and changes nothing, in
/// separate transactions and twice in one. Two different updates published in the same second
/// (Pythnet publishes several per second) are both accepted, in either order: the rule is on
/// publish time only, so within one second the newest stored price is whichever was sent last.
#[tokio::test]
async fn replayed_older_price_update_is_refused() {
    let Seeded { mut t, fx, .. } = seeded().await;
    let attacker = t.holder(&fx, rich).await;
    let t0 = t.now().await;
    // The old update: $1 everywhere, 20 s ago. The new one: row 0 at $0.90, now.
    let old = prices(&[ONE_USD; N], 50, t0 - 20);
    let new = prices(&usd_with(&[(0, 9 * ONE_USD / 10)]), 50, t0);
    let old_keys = post_elsewhere(&mut t, &fx, &old).await;
    let new_keys = post_elsewhere(&mut t, &fx, &new).await;
    events(
        t.send(client::refresh_prices(&fx.key, &old_keys), &[])
            .await,
    );
    let ev = events(
        t.send(client::refresh_prices(&fx.key, &new_keys), &[])
            .await,
    );
    let first = events_of::<PricesRefreshed>(&ev)[0].clone();
    assert_eq!(first.prices[0], 900_000_000_000);
    assert_eq!(first.publish_times, vec![t0; N]);
    let stored_new = stored_rows(&t.index(&fx).await);

    // Replaying the old update: refused, alone and ahead of a mint in the attacker's tx.
    let before = snap(&mut t, &fx, &attacker).await;
    let r = t
        .send(client::refresh_prices(&fx.key, &old_keys), &[])
        .await;
    assert_aidx_error(&r, AidxError::OracleOlderThanLast);
    let index = t.index(&fx).await;
    let ixs = [
        client::refresh_prices(&fx.key, &old_keys),
        mint_single_ix(&fx, &index, &attacker, 1, whole(1, 10), 0),
    ];
    let r = t.chain.send(&ixs, &[&attacker.keypair]).await.unwrap();
    assert_failed_at(&r, IX1, AidxError::OracleOlderThanLast);
    // Only row 0 replayed (the other rows current): still refused, on row 0.
    let mut mixed = new_keys.clone();
    mixed[0] = old_keys[0];
    let r = t.send(client::refresh_prices(&fx.key, &mixed), &[]).await;
    assert_aidx_error(&r, AidxError::OracleOlderThanLast);
    // One second older is enough to be refused.
    let mut one_older = new.clone();
    one_older[0].publish_time = t0 - 1;
    let keys = post_elsewhere(&mut t, &fx, &one_older).await;
    let r = t.send(client::refresh_prices(&fx.key, &keys), &[]).await;
    assert_aidx_error(&r, AidxError::OracleOlderThanLast);
    assert_eq!(snap(&mut t, &fx, &attacker).await, before);

    // The same update again: accepted, nothing changes (same event, same stored rows); twice
    // in one transaction as well.
    let ev = events(
        t.send(client::refresh_prices(&fx.key, &new_keys), &[])
            .await,
    );
    assert_eq!(events_of::<PricesRefreshed>(&ev), vec![first.clone()]);
    let ixs = [
        client::refresh_prices(&fx.key, &new_keys),
        client::refresh_prices(&fx.key, &new_keys),
    ];
    let ev = events(t.chain.send(&ixs, &[]).await.unwrap());
    assert_eq!(
        events_of::<PricesRefreshed>(&ev),
        vec![first.clone(), first.clone()]
    );
    assert_eq!(stored_rows(&t.index(&fx).await), stored_new);
    assert_eq!(snap(&mut t, &fx, &attacker).await, before);

    // Another update of the same second, row 0 at $0.91: accepted (publish time equal), and
    // then the first one again: accepted too.
    let mut same_second = new.clone();
    same_second[0] = pyth(91 * ONE_USD / 100, 50, t0);
    let keys = post_elsewhere(&mut t, &fx, &same_second).await;
    let ev = events(t.send(client::refresh_prices(&fx.key, &keys), &[]).await);
    assert_eq!(
        events_of::<PricesRefreshed>(&ev)[0].prices[0],
        910_000_000_000
    );
    let ev = events(
        t.send(client::refresh_prices(&fx.key, &new_keys), &[])
            .await,
    );
    assert_eq!(
        events_of::<PricesRefreshed>(&ev)[0].prices[0],
        900_000_000_000
    );
    assert_eq!(stored_rows(&t.index(&fx).await), stored_new);
}

// ---------------------------------------------------------------------------------------------
// 3. Wrong feed, wrong owner.

/// **Attack:** hand `refresh_prices` (alone, or ahead of a mint) a price account that is not
/// the constituent's: (a) a genuine, fully verified `PriceUpdateV2` for another feed (another
/// constituent's, a feed outside the index, a feed id one byte off); (b) the right bytes — a
/// well-formed update for the right feed — in an account owned by another program, including
/// one at the very address the keeper reads (the Pyth push-feed PDA of the constituent's feed).
///
/// **Defence:** the gate checks the owner first (`OracleWrongOwner`: only the Pyth receiver
/// program can have written a verified update), then the feed id (`OracleWrongFeed`); the
/// refresh and everything after it in the transaction is undone. The genuine account at the
/// same address is accepted.
#[tokio::test]
async fn wrong_feed_or_foreign_owner_price_account_is_refused() {
    let Seeded { mut t, fx, .. } = seeded().await;
    let attacker = t.holder(&fx, rich).await;
    let t0 = t.now().await;
    let p = prices(&[ONE_USD; N], 50, t0);
    t.post_prices(&fx, &p).await;
    events(t.refresh_prices(&fx).await);
    let index = t.index(&fx).await;
    let feed = feeds(&index);
    // Row 1 is read from the push-feed address of its feed (what the keeper passes).
    let push = client::push_feed_address(0, &feed[1]);
    let mut keys = harness_keys(&fx);
    keys[1] = push;
    // Row 1 at $5: what the attacker would like stored.
    let lie = pyth(5 * ONE_USD, 50, t0);

    let before = snap(&mut t, &fx, &attacker).await;
    let ixs = [
        client::refresh_prices(&fx.key, &keys),
        mint_single_ix(&fx, &index, &attacker, 1, whole(1, 10), 0),
    ];
    let mut off_by_one = feed[1];
    off_by_one[31] ^= 1;
    let full = VerificationLevel::Full;
    let mut cases: Vec<(Account, AidxError)> = vec![
        // Row 2's feed in row 1's place: an update names its row by its feed, so it is row 2's
        // price, and row 2 is then refreshed twice.
        (
            price_update_account(feed[2], lie, full),
            AidxError::PriceAccountDuplicate,
        ),
        (
            price_update_account([0xab; 32], lie, full),
            AidxError::OracleWrongFeed,
        ),
        (
            price_update_account(off_by_one, lie, full),
            AidxError::OracleWrongFeed,
        ),
    ];
    for owner in [
        Pubkey::default(), // the System program
        TOKEN_PROGRAM_ID,
        aidx::ID,
        pyth_solana_receiver_sdk::PYTH_PUSH_ORACLE_ID,
        Pubkey::new_unique(), // the attacker's own program
    ] {
        let mut acc = price_update_account(feed[1], lie, full);
        acc.owner = owner;
        cases.push((acc, AidxError::OracleWrongOwner));
    }
    // Wrong owner and wrong feed at once: the owner is checked first.
    let mut acc = price_update_account(feed[2], lie, full);
    acc.owner = Pubkey::new_unique();
    cases.push((acc, AidxError::OracleWrongOwner));
    for (acc, e) in cases {
        t.chain.set_account(&push, acc);
        let r = t.send(ixs[0].clone(), &[]).await;
        assert_aidx_error(&r, e);
        let r = t.chain.send(&ixs, &[&attacker.keypair]).await.unwrap();
        assert_failed_at(&r, IX1, e);
        assert_eq!(snap(&mut t, &fx, &attacker).await, before);
    }

    // Control: the genuine update at the push-feed address is accepted and stored.
    t.chain.set_account(
        &push,
        price_update_account(feed[1], p[1], VerificationLevel::Full),
    );
    let ev = events(t.send(client::refresh_prices(&fx.key, &keys), &[]).await);
    assert_eq!(
        events_of::<PricesRefreshed>(&ev)[0].prices[1],
        1_000_000_000_000
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Partial verification.

/// **Attack:** post a price update that the receiver accepted with only some guardian
/// signatures (`VerificationLevel::Partial`) — cheaper to forge or to cherry-pick — and refresh
/// with it, alone or ahead of a mint.
///
/// **Defence:** the gate accepts only `Full` (`OracleNotFullyVerified`), whatever the number
/// of signatures, even 255. Its place in the documented order: the feed is checked before the
/// verification level, the verification level before the age.
#[tokio::test]
async fn partially_verified_update_is_refused() {
    let Seeded { mut t, fx, .. } = seeded().await;
    let attacker = t.holder(&fx, rich).await;
    let t0 = t.now().await;
    let p = prices(&[ONE_USD; N], 50, t0);
    t.post_prices(&fx, &p).await;
    events(t.refresh_prices(&fx).await);
    let index = t.index(&fx).await;
    let feed = feeds(&index);
    let lie = pyth(5 * ONE_USD, 50, t0);
    let ixs = [
        client::refresh_prices(&fx.key, &harness_keys(&fx)),
        mint_single_ix(&fx, &index, &attacker, 1, whole(1, 10), 0),
    ];
    let before = snap(&mut t, &fx, &attacker).await;
    let partial = |n| VerificationLevel::Partial { num_signatures: n };
    let mut stale = lie;
    stale.publish_time = t0 - MAX_AGE - 1;
    for (acc, e) in [
        (
            price_update_account(feed[1], lie, partial(0)),
            AidxError::OracleNotFullyVerified,
        ),
        (
            price_update_account(feed[1], lie, partial(1)),
            AidxError::OracleNotFullyVerified,
        ),
        (
            price_update_account(feed[1], lie, partial(13)),
            AidxError::OracleNotFullyVerified,
        ),
        (
            price_update_account(feed[1], lie, partial(255)),
            AidxError::OracleNotFullyVerified,
        ),
        // another row's feed: that row's update, refused for its verification
        (
            price_update_account(feed[2], lie, partial(13)),
            AidxError::OracleNotFullyVerified,
        ),
        // verification before age
        (
            price_update_account(feed[1], stale, partial(13)),
            AidxError::OracleNotFullyVerified,
        ),
    ] {
        t.chain.set_account(&price_key(&fx, 1), acc);
        assert_aidx_error(&t.send(ixs[0].clone(), &[]).await, e);
        let r = t.chain.send(&ixs, &[&attacker.keypair]).await.unwrap();
        assert_failed_at(&r, IX1, e);
        assert_eq!(snap(&mut t, &fx, &attacker).await, before);
    }
    // Control: the same price fully verified is accepted (and would be stored).
    t.chain.set_account(
        &price_key(&fx, 1),
        price_update_account(feed[1], lie, VerificationLevel::Full),
    );
    let ev = events(t.refresh_prices(&fx).await);
    assert_eq!(
        events_of::<PricesRefreshed>(&ev)[0].prices[1],
        5 * ONE_USD as u64
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Extreme exponents.

/// **Attack:** a price whose exponent makes normalisation overflow, truncate to zero, or
/// misprice by orders of magnitude (+10, -30, just outside the bounds, `i32::MIN`/`MAX`).
///
/// **Defence:** exponents outside [`MIN_EXPONENT`, `MAX_EXPONENT`] = [-18, 6] are refused
/// (`OracleBadExponent`); inside them, a price that normalises to 0 or past `u64` is refused
/// (`OraclePriceOutOfRange`), never wrapped or panicking. At the exact edges a price is
/// accepted and stored exactly as the same price with exponent -8, and a mint priced with it
/// gets exactly the same shares.
#[tokio::test]
async fn extreme_exponents_are_refused_and_edges_normalise_exactly() {
    assert_eq!((MIN_EXPONENT, MAX_EXPONENT), (-18, 6));
    let Seeded { mut t, fx, .. } = seeded().await;
    let attacker = t.holder(&fx, rich).await;
    let t0 = t.now().await;
    let p = prices(&[ONE_USD; N], 50, t0);
    t.post_prices(&fx, &p).await;
    events(t.refresh_prices(&fx).await);
    let index = t.index(&fx).await;
    let feed = feeds(&index);
    let at = |price: i64, conf: u64, exponent: i32| PythPrice {
        price,
        conf,
        exponent,
        publish_time: t0,
    };
    let ixs = [
        client::refresh_prices(&fx.key, &harness_keys(&fx)),
        mint_single_ix(&fx, &index, &attacker, 1, whole(1, 10), 0),
    ];
    let before = snap(&mut t, &fx, &attacker).await;
    for (price, exponent, e) in [
        (1i64, 10i32, AidxError::OracleBadExponent),
        (1_000_000_000_000_000_000, -30, AidxError::OracleBadExponent),
        (1, MAX_EXPONENT + 1, AidxError::OracleBadExponent),
        (
            1_000_000_000_000_000_000,
            MIN_EXPONENT - 1,
            AidxError::OracleBadExponent,
        ),
        (1, i32::MAX, AidxError::OracleBadExponent),
        (1, i32::MIN, AidxError::OracleBadExponent),
        // in range, but below one USD_SCALE unit ($1e-12) once normalised: 999_999e-18
        (999_999, MIN_EXPONENT, AidxError::OraclePriceOutOfRange),
        // stored, it would lose over 1 bp to rounding: 1,999,999e-18 would be 1 unit (-50%),
        // 9,999,999,999e-18 would be 9,999 units; MIN_PRICE is 10,000
        (1_999_999, MIN_EXPONENT, AidxError::OraclePricePrecisionLost),
        (1_000_000, MIN_EXPONENT, AidxError::OraclePricePrecisionLost),
        (
            9_999_999_999,
            MIN_EXPONENT,
            AidxError::OraclePricePrecisionLost,
        ),
        // in range, but past u64 once normalised: 19e6 * 1e12 = 1.9e19 > 1.8446e19
        (19, MAX_EXPONENT, AidxError::OraclePriceOutOfRange),
        (i64::MAX, MAX_EXPONENT, AidxError::OraclePriceOutOfRange),
    ] {
        let acc = price_update_account(feed[1], at(price, 0, exponent), VerificationLevel::Full);
        t.chain.set_account(&price_key(&fx, 1), acc);
        assert_aidx_error(&t.send(ixs[0].clone(), &[]).await, e);
        let r = t.chain.send(&ixs, &[&attacker.keypair]).await.unwrap();
        assert_failed_at(&r, IX1, e);
        assert_eq!(snap(&mut t, &fx, &attacker).await, before);
    }

    // Exactly at the edges: accepted, stored exactly.
    for (price, conf, exponent, want_price, want_conf) in [
        // the smallest accepted price: 1e10 * 1e-18 USD = 10,000 USD_SCALE units (MIN_PRICE);
        // its confidence, 1e-18 USD, rounds up to one unit
        (10_000_000_000i64, 1u64, MIN_EXPONENT, 10_000u64, 1u64),
        // the largest: 18 * 1e6 USD = 1.8e19 USD_SCALE units (u64::MAX is 1.8446e19)
        (18, 0, MAX_EXPONENT, 18_000_000_000_000_000_000, 0),
        // $1 +- 0.5% at exponent -18, exactly as at exponent -8
        (
            1_000_000_000_000_000_000,
            5_000_000_000_000_000,
            MIN_EXPONENT,
            1_000_000_000_000,
            5_000_000_000,
        ),
        // $2M at exponent 6, exactly as 2e14 at exponent -8
        (2, 0, MAX_EXPONENT, 2_000_000_000_000_000_000, 0),
    ] {
        let acc = price_update_account(feed[1], at(price, conf, exponent), VerificationLevel::Full);
        t.chain.set_account(&price_key(&fx, 1), acc);
        let ev = events(t.refresh_prices(&fx).await);
        let e = &events_of::<PricesRefreshed>(&ev)[0];
        assert_eq!(
            (e.prices[1], e.confs[1]),
            (want_price, want_conf),
            "{price}e{exponent}"
        );
        let c = t.index(&fx).await.constituents()[1];
        assert_eq!((c.price, c.conf), (want_price, want_conf));
    }
    let two_m = at(200_000_000_000_000, 0, -8);
    t.chain.set_account(
        &price_key(&fx, 1),
        price_update_account(feed[1], two_m, VerificationLevel::Full),
    );
    let ev = events(t.refresh_prices(&fx).await);
    assert_eq!(
        events_of::<PricesRefreshed>(&ev)[0].prices[1],
        2_000_000_000_000_000_000
    );

    // A mint priced through the exponent -18 edge gets exactly what exponent -8 gives.
    let edge = at(
        1_000_000_000_000_000_000,
        5_000_000_000_000_000,
        MIN_EXPONENT,
    );
    t.chain.set_account(
        &price_key(&fx, 1),
        price_update_account(feed[1], edge, VerificationLevel::Full),
    );
    events(t.refresh_prices(&fx).await);
    let index = t.index(&fx).await;
    assert_eq!(
        stored_rows(&index),
        p.iter()
            .map(|x| (stored(x).0 as u64, stored(x).1 as u64, t0))
            .collect::<Vec<_>>()
    );
    let mut m = Basket::of(&index);
    let q = m.mint_single(1, whole(1, 10));
    // 10 tokens at $0.995 into $8_040 over 100 shares
    assert_eq!(q.shares, 123_756_218);
    let ev = events(
        t.mint_single(&fx, &attacker, 1, whole(1, 10), q.shares)
            .await,
    );
    let e = &events_of::<MintedSingle>(&ev)[0];
    assert_eq!(
        (e.deposit_value, e.nav, e.shares),
        (q.deposit_value, q.nav_high, q.shares)
    );
    assert_eq!(t.balance(&attacker.shares).await, 123_756_218);
}

// ---------------------------------------------------------------------------------------------
// 6. Choosing the price inside one transaction.

/// What the attacker's single-asset round trip gave.
#[derive(Debug)]
struct RoundTrip {
    deposit: u64,
    out: u64,
    minted: MintedSingle,
    redeemed: RedeemedSingle,
    /// NAV at the true prices (B) before the transaction and after it, exact.
    nav_true_before: u128,
    nav_true_after: u128,
}

/// The stored prices: $1 everywhere, conf `conf_bps`, published 9 s ago. Then two verified
/// updates exist, both within the trade max age: A, $1 everywhere published 5 s ago (before
/// the move); B, row 0 down `drop_bps` published now (the true price). The attacker sends
/// `[refresh(A), mint_single(row 0, amount), refresh(B), redeem_single(row 0, every share)]`.
async fn switch_round_trip(drop_bps: u128, conf_bps: u64, amount: u64) -> RoundTrip {
    let Seeded { mut t, fx, .. } = seeded().await;
    let attacker = t.holder(&fx, rich).await;
    let t0 = t.now().await;
    let flat = |at| prices(&[ONE_USD; N], conf_bps, at);
    t.post_prices(&fx, &flat(t0 - 9)).await;
    events(t.refresh_prices(&fx).await);
    let a = flat(t0 - 5);
    let b = prices(
        &usd_with(&[(0, ONE_USD * (BPS - drop_bps) / BPS)]),
        conf_bps,
        t0,
    );
    let (a_keys, b_keys) = (
        post_elsewhere(&mut t, &fx, &a).await,
        post_elsewhere(&mut t, &fx, &b).await,
    );
    let index = t.index(&fx).await;
    // A was published 5 s ago: the mint trades at its confidence widened by 5 s of age.
    let mut m = Basket::of(&index).priced(&a).aged(t0);
    let before = m.clone();
    let qm = m.mint_single(0, amount);
    let mut m = m.priced(&b);
    let qr = m.redeem_single(0, qm.shares);
    let held = t.balance(&attacker.token_accounts[0]).await;
    let ixs = [
        client::refresh_prices(&fx.key, &a_keys),
        mint_single_ix(&fx, &index, &attacker, 0, amount, qm.shares),
        client::refresh_prices(&fx.key, &b_keys),
        redeem_single_ix(&fx, &index, &attacker, 0, qm.shares, qr.amount_out),
    ];
    let ev = events(t.chain.send(&ixs, &[&attacker.keypair]).await.unwrap());
    let minted = events_of::<MintedSingle>(&ev).remove(0);
    let redeemed = events_of::<RedeemedSingle>(&ev).remove(0);
    assert_eq!(
        (minted.deposit_value, minted.nav, minted.shares),
        (qm.deposit_value, qm.nav_high, qm.shares)
    );
    assert_eq!(
        (redeemed.nav, redeemed.value_out, redeemed.amount_out),
        (qr.nav_low, qr.value_out, qr.amount_out)
    );
    assert_eq!(
        t.balance(&attacker.token_accounts[0]).await,
        held - amount + qr.amount_out
    );
    assert_eq!(t.balance(&attacker.shares).await, 0);
    assert_eq!(t.share_supply(&fx).await, SUPPLY0);
    let after = Basket::of(&t.index(&fx).await);
    assert_eq!(after.bal, m.bal);
    // The other holders, valued at the true prices (B), before and after.
    let before_true = before.priced(&b);
    println!(
        "drop {drop_bps} bps, conf {conf_bps} bps: in {amount} out {} ({:+} units of row 0); \
         holders' NAV at the true price {} -> {} (x1e-9 USD_SCALE)",
        qr.amount_out,
        qr.amount_out as i128 - amount as i128,
        before_true.nav_exact(),
        after.nav_exact()
    );
    RoundTrip {
        deposit: amount,
        out: qr.amount_out,
        minted,
        redeemed,
        nav_true_before: before_true.nav_exact(),
        nav_true_after: after.nav_exact(),
    }
}

/// **Attack:** in one transaction, store a higher price with an older (still fresh) update,
/// mint single-asset shares against it, store the newer lower price, and redeem — or the
/// reverse order, going back to the older price after minting at the newer one.
///
/// **Defence:** (a) the reverse order is refused: an update older than the last one used is
/// rejected (`OracleOlderThanLast`) and the whole transaction is undone; (b) the forward order
/// pays the confidence spread twice (deposit at `price - conf` into NAV at `price + conf`,
/// payout at `price + conf` against NAV at `price - conf`), so a move within the spread leaves
/// the attacker with less than it put in; the older update, 5 s old, also trades at its
/// confidence widened by 5 s of age (0.1%). Figures: 200 tokens of row 0 (6 dp), conf 0.5%,
/// the price 0.5% lower in the newer update: 200_000_000 units in, 2_470_178_926 raw shares,
/// 196_544_463 units out (-1.73%); the other holders' NAV at the true price rises from $7_995
/// to $7_998.438.
#[tokio::test]
async fn price_switch_inside_one_transaction_pays_the_spread() {
    let r = switch_round_trip(50, 50, whole(0, 200)).await;
    assert_eq!(r.minted.shares, 2_470_178_926);
    assert_eq!(r.out, 196_544_463);
    assert!(r.out < r.deposit);
    assert_eq!(r.redeemed.shares, r.minted.shares);
    // The other holders, at the true price: $7_995 before, $7_998.438259315 after.
    assert_eq!(r.nav_true_before, 7_995_000_000_000_000_000_000_000);
    assert_eq!(r.nav_true_after, 7_998_438_259_315_000_000_000_000);

    // The reverse order: newer update first, then back to the older one.
    let Seeded { mut t, fx, .. } = seeded().await;
    let attacker = t.holder(&fx, rich).await;
    let t0 = t.now().await;
    t.post_prices(&fx, &prices(&[ONE_USD; N], 50, t0 - 40))
        .await;
    events(t.refresh_prices(&fx).await);
    let older = prices(&usd_with(&[(0, 9 * ONE_USD / 10)]), 50, t0 - 30);
    let newer = prices(&[ONE_USD; N], 50, t0);
    let (old_keys, new_keys) = (
        post_elsewhere(&mut t, &fx, &older).await,
        post_elsewhere(&mut t, &fx, &newer).await,
    );
    let index = t.index(&fx).await;
    let mut m = Basket::of(&index).priced(&newer);
    let q = m.mint_single(0, whole(0, 200));
    let before = snap(&mut t, &fx, &attacker).await;
    let ixs = [
        client::refresh_prices(&fx.key, &new_keys),
        mint_single_ix(&fx, &index, &attacker, 0, whole(0, 200), 0),
        client::refresh_prices(&fx.key, &old_keys),
        redeem_single_ix(&fx, &index, &attacker, 0, q.shares, 0),
    ];
    let r = t.chain.send(&ixs, &[&attacker.keypair]).await.unwrap();
    assert_failed_at(&r, IX3, AidxError::OracleOlderThanLast);
    assert_eq!(snap(&mut t, &fx, &attacker).await, before);
    // The first two instructions alone go through: the refusal was the replay.
    let r = t.chain.send(&ixs[..2], &[&attacker.keypair]).await.unwrap();
    assert_eq!(events_of::<MintedSingle>(&events(r))[0].shares, q.shares);
}

/// **Attack:** the sender chooses *which* verified update to store, among all those published
/// within the oracle max age (60 s) and not older than the last one used. When a constituent's
/// price moved by more than the confidence spread within that window, the attacker stores the
/// older price (or finds it still stored), mints single-asset shares with the constituent at the
/// old price, and leaves at the newer (true) price: with `redeem_single` after storing the newer
/// update, all in one transaction; or with `redeem_in_kind`, which needs no price.
///
/// **Defence:** a trade (single-asset mint or redeem, rebalance swap) is priced only at prices
/// published at most `trade_max_age_secs` (default 10 s) before the clock, whatever slot they
/// were stored in (`PriceTooOldToTrade`). Before this rule, a 3% drop between two updates 30 s
/// apart (conf 0.5%) turned 200 tokens of row 0 ($194.00 at the true price) into 201_264_349
/// units through `redeem_single` (+0.63%), or a basket worth $196.88 through `redeem_in_kind`
/// (+1.49%), taken from the other holders. Both are now refused at the mint, nothing moves;
/// the same transactions with the old update at exactly the trade age go through.
#[tokio::test]
async fn an_old_but_fresh_price_cannot_be_chosen_to_trade_at() {
    for age in [30, TRADE_AGE + 1, TRADE_AGE] {
        // (a) refresh(old), mint_single, refresh(new), redeem_single.
        let Seeded { mut t, fx, .. } = seeded().await;
        let attacker = t.holder(&fx, rich).await;
        let t0 = t.now().await;
        t.post_prices(&fx, &prices(&[ONE_USD; N], 50, t0 - 40))
            .await;
        events(t.refresh_prices(&fx).await);
        let old = prices(&[ONE_USD; N], 50, t0 - age);
        let new = prices(&usd_with(&[(0, 97 * ONE_USD / 100)]), 50, t0);
        let (old_keys, new_keys) = (
            post_elsewhere(&mut t, &fx, &old).await,
            post_elsewhere(&mut t, &fx, &new).await,
        );
        let index = t.index(&fx).await;
        let mut m = Basket::of(&index).priced(&old).aged(t0);
        let qm = m.mint_single(0, whole(0, 200));
        let before = snap(&mut t, &fx, &attacker).await;
        let ixs = [
            client::refresh_prices(&fx.key, &old_keys),
            mint_single_ix(&fx, &index, &attacker, 0, whole(0, 200), 0),
            client::refresh_prices(&fx.key, &new_keys),
            redeem_single_ix(&fx, &index, &attacker, 0, qm.shares, 0),
        ];
        let r = t.chain.send(&ixs, &[&attacker.keypair]).await.unwrap();
        if age > TRADE_AGE {
            assert_failed_at(&r, IX2, AidxError::PriceTooOldToTrade);
            assert_eq!(snap(&mut t, &fx, &attacker).await, before);
        } else {
            assert!(r.is_ok(), "age {age}: {:?}", r.err());
        }

        // (b) mint_single on the stored old price, then redeem_in_kind.
        let Seeded { mut t, fx, .. } = seeded().await;
        let attacker = t.holder(&fx, rich).await;
        let t0 = t.now().await;
        t.post_prices(&fx, &prices(&[ONE_USD; N], 50, t0 - age))
            .await;
        events(t.refresh_prices(&fx).await);
        let index = t.index(&fx).await;
        let shares = Basket::of(&index)
            .aged(t0)
            .mint_single(0, whole(0, 200))
            .shares;
        let before = snap(&mut t, &fx, &attacker).await;
        let ixs = [
            mint_single_ix(&fx, &index, &attacker, 0, whole(0, 200), 0),
            redeem_in_kind_ix(&fx, &index, &attacker, shares, 0),
        ];
        let lut = fx.lut.clone().unwrap();
        let r = t
            .chain
            .send_v0(&ixs, &[&attacker.keypair], &[lut])
            .await
            .unwrap();
        if age > TRADE_AGE {
            assert_failed_at(&r, IX1, AidxError::PriceTooOldToTrade);
            assert_eq!(snap(&mut t, &fx, &attacker).await, before);
        } else {
            assert!(r.is_ok(), "age {age}: {:?}", r.err());
        }
    }
}

/// A single-asset mint at a stored price published 5 s ago (row 0 at $1, conf 0.5%), while
/// the true price (published now) is `drop_bps` lower, then out again: through `redeem_single`
/// after storing the true price (in one transaction), and through `redeem_in_kind` right after
/// the mint. Returns the `redeem_single` gain in units of row 0 and, for the in-kind exit, the
/// deposit's and the basket's worth at the true price (x1e-9 USD_SCALE).
async fn choose_an_older_price(drop_bps: u128) -> (i128, u128, u128) {
    let r = switch_round_trip(drop_bps, 50, whole(0, 200)).await; // A 5 s old
    let single_gain = r.out as i128 - r.deposit as i128;

    let Seeded { mut t, fx, .. } = seeded().await;
    let attacker = t.holder(&fx, rich).await;
    let t0 = t.now().await;
    let old = prices(&[ONE_USD; N], 50, t0 - 5);
    let true_now = prices(&usd_with(&[(0, ONE_USD * (BPS - drop_bps) / BPS)]), 50, t0);
    t.post_prices(&fx, &old).await;
    events(t.refresh_prices(&fx).await);
    let index = t.index(&fx).await;
    let mut m = Basket::of(&index).aged(t0);
    let amount = whole(0, 200);
    let qm = m.mint_single(0, amount);
    let payouts = m.clone().redeem_in_kind(qm.shares, 0);
    let held = t.holder_balances(&attacker).await;
    let ixs = [
        mint_single_ix(&fx, &index, &attacker, 0, amount, qm.shares),
        redeem_in_kind_ix(&fx, &index, &attacker, qm.shares, 0),
    ];
    let lut = fx.lut.clone().unwrap();
    let ev = events(
        t.chain
            .send_v0(&ixs, &[&attacker.keypair], &[lut])
            .await
            .unwrap(),
    );
    assert_eq!(events_of::<RedeemedInKind>(&ev)[0].amounts_out, payouts);
    let now_held = t.holder_balances(&attacker).await;
    for i in 0..N {
        let deposit = if i == 0 { amount } else { 0 };
        assert_eq!(now_held[i], held[i] - deposit + payouts[i], "row {i}");
    }
    let truth = m.priced(&true_now);
    let mut deposited = vec![0u64; N];
    deposited[0] = amount;
    let (value_in, value_out) = (truth.value_exact(&deposited), truth.value_exact(&payouts));
    println!(
        "drop {drop_bps} bps: redeem_single {single_gain:+} units of row 0 on {}; in kind: \
         deposit worth {value_in}, basket out worth {value_out} at the true price",
        r.deposit
    );
    (single_gain, value_in, value_out)
}

/// **Attack (bounded by design):** the same choice *within* the trade max age: trade at an
/// older stored price (5 s old) while the market has already moved.
///
/// **Defence:** a trade widens each price's confidence by 0.02% of the price for every second
/// since it was published (`AGE_SPREAD_BPS_PER_SEC`), on top of the confidence itself, and pays
/// that spread twice (in and out). Choosing an older price only pays when the market moved by
/// more than that since: a 1% drop in 5 s (conf 0.5%, widened to 0.6%) gains nothing through
/// either exit. A 3% drop in 5 s, an extreme move, still pays, less than before the widening:
/// through `redeem_single` +871,905 units of row 0 on 200,000,000 (it was +1,264,349, +0.63%),
/// through `redeem_in_kind` a basket worth $196.5914 for $194.00 (it was $196.88). Fees, a
/// shorter trade age, or a holding period between a single-asset mint and a redeem would close
/// the rest.
#[tokio::test]
async fn price_choice_within_the_trade_age_is_bounded_by_the_widened_spread() {
    let (gain, value_in, value_out) = choose_an_older_price(100).await;
    assert!(gain <= 0, "redeem_single gained {gain} units");
    assert!(value_out <= value_in, "redeem_in_kind gained");

    let (gain, value_in, value_out) = choose_an_older_price(300).await;
    assert_eq!(gain, 871_905);
    assert_eq!(value_in, 194_000_000_000_000_000_000_000);
    assert_eq!(value_out, 196_591_356_564_000_000_000_000);
}

// ---------------------------------------------------------------------------------------------
// 7. Sandwiching a rebalance.

/// The auction length of the default parameters: the reward is at its maximum from then on.
const AUCTION: i64 = 6 * 3_600;

/// How the attacker enters and leaves around the keeper's swap.
#[derive(Clone, Copy, Debug)]
enum Around {
    /// `mint_in_kind` of as many shares as exist, `redeem_in_kind` of all of them.
    InKind,
    /// `mint_single` of 50 tokens of row 1 (underweight: the only direction the band rule lets
    /// a deposit go while row 1 is below its band), `redeem_single` of every share into row 0
    /// (overweight).
    Single,
}

#[derive(Debug)]
struct Sandwiched {
    swap: RebalanceSwapped,
    /// The attacker's gain at mid, exact (units of [`Basket::nav_exact`]); negative: a loss.
    gain: i128,
    /// What the swap alone did to NAV at mid, exact: `amount_in` at mid less `amount_out` at mid.
    delta: i128,
    /// NAV at mid, exact, before the attacker's mint and after its redeem (the same supply
    /// without fees; with fees the fee shares stay, with the fee recipient).
    nav_before: u128,
    nav_after: u128,
    supply_before: u128,
    supply_after: u128,
}

/// Row 0 up 30% and row 1 down 30% (conf 0.2%), recorded as an imbalance at `t0`; `elapsed`
/// seconds later the attacker enters (`around`), a keeper swaps 100 tokens of row 1 for row 0
/// (not clipped), and the attacker leaves. Every amount is checked against [`Basket`].
async fn sandwich(around: Around, elapsed: i64) -> Sandwiched {
    sandwich_with_fees(around, elapsed, 0).await
}

/// [`sandwich`] on an index whose mint and redeem fees are both `fee_bps`.
async fn sandwich_with_fees(around: Around, elapsed: i64, fee_bps: u16) -> Sandwiched {
    let Seeded { mut t, fx, .. } = TestContext::seeded(N, |a| {
        a.params.mint_fee_bps = fee_bps;
        a.params.redeem_fee_bps = fee_bps;
    })
    .await;
    let keeper = t.holder(&fx, rich).await;
    let attacker = t.holder(&fx, rich).await;
    let t0 = t.now().await;
    let ev = events(t.set_prices(&fx, &plus_minus_30(), 20).await);
    assert!(matches!(&ev[..], [_, AidxEvent::ImbalanceStarted(s)] if s.at == t0));
    if elapsed > 0 {
        t.warp_to_time(t0 + elapsed).await;
        events(t.set_prices(&fx, &plus_minus_30(), 20).await);
    }
    let b0 = Basket::of(&t.index(&fx).await);
    let held0 = t.holder_balances(&attacker).await;

    // Front-run.
    let mut m = b0.clone();
    let shares = match around {
        Around::InKind => {
            let s = b0.supply as u64;
            let want = m.mint_in_kind(s);
            let ev = events(t.mint_in_kind(&fx, &attacker, s).await);
            let minted = &events_of::<MintedInKind>(&ev)[0];
            assert_eq!(minted.amounts_in, want);
            minted.shares
        }
        Around::Single => {
            let q = m.mint_single(1, whole(1, 50));
            let ev = events(
                t.mint_single(&fx, &attacker, 1, whole(1, 50), q.shares)
                    .await,
            );
            assert_eq!(events_of::<MintedSingle>(&ev)[0].shares, q.shares);
            q.shares
        }
    };
    assert_eq!(t.balance(&attacker.shares).await, shares);

    // The keeper's swap.
    let index = t.index(&fx).await;
    let ix = swap_ix(&fx, &index, &keeper, 1, 0, whole(1, 100));
    let ev = events(t.send(ix, &[&keeper.keypair]).await);
    let swap = events_of::<RebalanceSwapped>(&ev).remove(0);
    assert_eq!(swap.amount_in, whole(1, 100), "not clipped");
    assert_eq!(swap.auction_elapsed, elapsed);
    m.bal[1] += swap.amount_in as u128;
    m.bal[0] -= swap.amount_out as u128;
    assert_eq!(Basket::of(&t.index(&fx).await), m);

    // Back-run.
    match around {
        Around::InKind => {
            let want = m.redeem_in_kind(shares, 0);
            let ev = events(t.redeem_in_kind(&fx, &attacker, shares).await);
            assert_eq!(events_of::<RedeemedInKind>(&ev)[0].amounts_out, want);
        }
        Around::Single => {
            let q = m.redeem_single(0, shares);
            let ev = events(
                t.redeem_single(&fx, &attacker, 0, shares, q.amount_out)
                    .await,
            );
            assert_eq!(events_of::<RedeemedSingle>(&ev)[0].amount_out, q.amount_out);
        }
    }
    assert_eq!(t.balance(&attacker.shares).await, 0);
    let after = Basket::of(&t.index(&fx).await);
    assert_eq!(after, m);
    assert_eq!(t.share_supply(&fx).await as u128, after.supply);
    if fee_bps == 0 {
        assert_eq!(after.supply, b0.supply);
    }

    let held1 = t.holder_balances(&attacker).await;
    let at_mid = |i: usize, units: i128| units * (b0.price[i] * 10u128.pow(9 - b0.dec[i])) as i128;
    let gain: i128 = (0..N)
        .map(|i| at_mid(i, held1[i] as i128 - held0[i] as i128))
        .sum();
    let delta = at_mid(1, swap.amount_in as i128) - at_mid(0, swap.amount_out as i128);
    let s = Sandwiched {
        swap,
        gain,
        delta,
        nav_before: b0.nav_exact(),
        nav_after: after.nav_exact(),
        supply_before: b0.supply,
        supply_after: after.supply,
    };
    println!(
        "{around:?}, reward {}: swap {} in, {} out, delta {}; attacker gain {}; NAV {} -> {} \
         (x1e-9 USD_SCALE)",
        s.swap.reward,
        s.swap.amount_in,
        s.swap.amount_out,
        s.delta,
        s.gain,
        s.nav_before,
        s.nav_after
    );
    s
}

/// **Attack:** mint just before a keeper's `rebalance_swap` and redeem just after (in kind, or
/// single-asset), hoping the swap moves value per share in the attacker's favour, or that the
/// attacker can leave with part of the other holders' value.
///
/// **Defence:** the swap trades at the oracle cross rate, so it moves no price; NAV at mid
/// changes only by the spread the keeper pays less the auction reward (`delta`). In-kind entry
/// and exit round toward the vault; single-asset entry and exit pay the confidence spread. So:
/// * around a swap that costs the vault (reward 0.5% at the auction's end > the 2 x 0.2%
///   spread), an in-kind sandwich loses: it bears its pro-rata part of the reward; the other
///   holders end better off than after the same swap without the sandwich;
/// * around any swap, a single-asset sandwich loses: the spread it pays exceeds its share of
///   `delta`; the other holders' value per share never falls below what the swap alone leaves.
#[tokio::test]
async fn sandwiching_a_rebalance_gains_nothing() {
    // In kind around a swap that costs the vault.
    let s = sandwich(Around::InKind, AUCTION).await;
    assert_eq!(s.swap.reward, 5_000_000);
    // 100 tokens at $0.6986, plus 0.5%, paid at $1.3026: 53.8993551 tokens of row 0
    assert_eq!(s.swap.amount_out, 53_899_355);
    // the swap costs the vault $0.0691615 at mid; the attacker bears half (and a rounding)
    assert_eq!(s.delta, -69_161_500_000_000_000_000);
    assert_eq!(s.gain, -34_581_400_000_000_000_000);
    assert!(s.gain <= 0, "in kind gained {}", s.gain);
    assert!(s.nav_after as i128 >= s.nav_before as i128 + s.delta);

    // Single-asset around a swap that earns the vault (reward 0) and one that costs it.
    for (elapsed, out, gain) in [
        // 100 tokens at $0.6986 paid at $1.3026: 53.631199 tokens; the vault earns $0.2794413
        (0, 53_631_199, -277_072_800_000_000_000_000i128),
        (AUCTION, 53_899_355, -278_579_500_000_000_000_000),
    ] {
        let s = sandwich(Around::Single, elapsed).await;
        assert_eq!((s.swap.amount_out, s.gain), (out, gain));
        assert!(s.gain < 0, "single gained {}", s.gain);
        assert!(s.nav_after as i128 >= s.nav_before as i128 + s.delta);
        if s.delta >= 0 {
            assert!(s.nav_after >= s.nav_before);
        }
    }
}

/// **Attack:** when the keeper's swap earns the vault something (early in the auction the
/// reward is below the confidence spread the keeper pays), an in-kind sandwich holds a share of
/// the vault only while the swap settles and leaves with its pro-rata part of that surplus. In
/// kind needs no price, so rounding alone stands against it when in-kind operations are free;
/// with a flash-borrowed basket far larger than the index almost all of the surplus leaves with
/// the attacker (or the keeper wraps its own swap and gets most of the spread back).
///
/// **Bound (by design):** the attacker can only take a part of the surplus the swap itself
/// adds, never the other holders' principal: for a position `P` against a NAV `V`, its gain is
/// at most `P / (V + P)` of the swap's surplus `Δ` (whose own bound is the traded value times
/// the keeper's two confidence spreads, each widened by the price's age), and the other
/// holders' value per share still rises. The in-kind fees charge `P` at `m + r` for the round
/// trip, so the sandwich pays only when `Δ / (V + P) > m + r`: the fees are the defence, set by
/// the admin to at least the surplus one swap can leave per unit of NAV.
///
/// **Measured:** doubling the basket around a 100-token swap at reward 0 (`Δ` = $0.2794 on a
/// NAV of $8,000, 0.35 bp): free in-kind operations give the attacker $0.1397, half of `Δ` less
/// rounding; at 1 bp each way it loses $3.06 (0.02 shares of fees, $1.60, and the payout of
/// every leg rounded down on a 0.02-share-smaller claim, a whole token of each 0-decimal row
/// among them); the other holders' value per share rises either way.
#[tokio::test]
async fn sandwiching_a_profitable_rebalance_in_kind_is_bounded_by_the_in_kind_fees() {
    // Free in kind: at most the attacker's pro-rata half of the swap's surplus.
    let s = sandwich(Around::InKind, 0).await;
    assert_eq!(s.swap.reward, 0);
    assert_eq!(s.delta, 279_441_300_000_000_000_000);
    assert_eq!(s.gain, 139_720_000_000_000_000_000);
    assert!(
        s.gain <= s.delta / 2,
        "more than the pro-rata part of the surplus"
    );
    assert!(
        s.nav_after >= s.nav_before,
        "the other holders keep their value"
    );

    // 1 bp in and out: the round trip costs more than any surplus share.
    let f = sandwich_with_fees(Around::InKind, 0, 1).await;
    assert_eq!(f.swap.reward, 0);
    assert_eq!(f.delta, s.delta);
    assert_eq!(f.gain, -3_060_247_750_000_000_000_000);
    assert!(f.gain < 0, "in kind gained {} with fees", f.gain);
    // value per share of everyone else (fee shares included) did not fall
    assert!(
        mul_wide(f.nav_after, f.supply_before) >= mul_wide(f.nav_before, f.supply_after),
        "value per share fell"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Dust.

/// The attacker's holdings at mid, exact (units of [`Basket::nav_exact`]).
async fn holdings_value(t: &mut TestContext, h: &Holder, m: &Basket) -> u128 {
    let held = t.holder_balances(h).await;
    m.value_exact(&held)
}

/// **Attack:** repeat the smallest possible in-kind round trip (mint one raw share, redeem it)
/// hoping that rounding pays out more than it takes in, 50 times.
///
/// **Defence:** deposits round up (`ceil(shares * balance / supply)`, so one raw share costs
/// at least one raw unit of every constituent, here a whole token of the 0-decimal rows) and
/// payouts round down; a redeem that would pay nothing is refused (`RedeemTooSmall`). Over 50
/// round trips the attacker loses exactly one raw unit of rows 0, 3, 4 and 7 each time ($2.000002
/// a trip at $1), the balance per share of every row never falls, and nothing is ever paid for
/// nothing.
#[tokio::test]
async fn dust_in_kind_round_trips_never_extract_value() {
    let Seeded { mut t, fx, .. } = seeded().await;
    // Prices only to value the round trips (in kind needs none): $1, no confidence.
    events(t.set_prices(&fx, &[ONE_USD; N], 0).await);
    let attacker = t.holder(&fx, rich).await;
    let start = Basket::of(&t.index(&fx).await);
    let value0 = holdings_value(&mut t, &attacker, &start).await;
    let held0 = t.holder_balances(&attacker).await;
    for k in 0..50 {
        let before = Basket::of(&t.index(&fx).await);
        let mut m = before.clone();
        let dep = m.mint_in_kind(1);
        let pay = m.redeem_in_kind(1, 0);
        assert_eq!(dep, vec![1, 10, 1, 1, 1, 10, 1, 1], "trip {k}");
        assert_eq!(pay, vec![0, 10, 1, 0, 0, 10, 1, 0], "trip {k}");
        let ev = events(t.mint_in_kind(&fx, &attacker, 1).await);
        assert_eq!(events_of::<MintedInKind>(&ev)[0].amounts_in, dep);
        let ev = events(t.redeem_in_kind(&fx, &attacker, 1).await);
        assert_eq!(events_of::<RedeemedInKind>(&ev)[0].amounts_out, pay);
        let after = Basket::of(&t.index(&fx).await);
        assert_eq!(after, m);
        assert_rows_per_share_not_below(&before, &after, "in-kind dust");
        assert_eq!(t.balance(&attacker.shares).await, 0);
    }
    let held = t.holder_balances(&attacker).await;
    let lost: Vec<u64> = held0.iter().zip(&held).map(|(a, b)| a - b).collect();
    assert_eq!(lost, vec![50, 0, 0, 50, 50, 0, 0, 50]);
    let value = holdings_value(&mut t, &attacker, &start).await;
    // 50 * (1e-6 + 1 + 1e-6 + 1) USD = $100.0001 (x1e21 in nav_exact units)
    assert_eq!(value0 - value, 100_000_100_000_000_000_000_000);
    let end = Basket::of(&t.index(&fx).await);
    assert_eq!(end.supply, SUPPLY0 as u128);
    let vault_gain: Vec<u128> = end.bal.iter().zip(&start.bal).map(|(a, b)| a - b).collect();
    assert_eq!(vault_gain, vec![50, 0, 0, 50, 50, 0, 0, 50]);

    // One raw share redeemed for the legs that would pay nothing only, skipping the others:
    // refused, not paid zero. The skip itself is refused first (every leg can move); without
    // it, a share too small to pay any leg is refused as too small.
    events(t.mint_in_kind(&fx, &attacker, 1).await);
    let before = snap(&mut t, &fx, &attacker).await;
    let index = t.index(&fx).await;
    let ix = redeem_in_kind_ix(&fx, &index, &attacker, 1, 0b0110_0110);
    let r = t.send_basket(&fx, ix, &[&attacker.keypair]).await;
    assert_aidx_error(&r, AidxError::SkippedLegCanMove);
    assert_eq!(snap(&mut t, &fx, &attacker).await, before);
}

/// **Attack:** repeat the smallest single-asset round trips — one raw unit in, the shares back
/// out — with no confidence interval (the spread is zero, only rounding is left), hoping the
/// roundings favour the attacker, 50 times.
///
/// **Defence:** shares round down on the way in and units round down on the way out; a deposit
/// worth less than one raw share is refused (`DepositTooSmall`: one raw unit of the 9- and
/// 8-decimal rows), a redeem that pays nothing is refused (`RedeemTooSmall`: the 12 raw shares
/// one unit of the 6-decimal row buys). Over 50 round trips (one raw unit of row 0 or one whole
/// token of the 0-decimal row 3 in, the shares out into the 9-decimal row 1) the attacker's
/// holdings at mid never rise and the value per share never falls.
#[tokio::test]
async fn dust_single_asset_round_trips_never_extract_value() {
    let Seeded { mut t, fx, .. } = seeded().await;
    events(t.set_prices(&fx, &[ONE_USD; N], 0).await);
    let attacker = t.holder(&fx, rich).await;
    let before = snap(&mut t, &fx, &attacker).await;
    // $1e-9 and $1e-8 buy no raw share (NAV $8_000 over 1e11 raw shares: $8e-8 a raw share).
    for row in [1usize, 2, 5, 6] {
        let r = t.mint_single(&fx, &attacker, row, 1, 0).await;
        assert_aidx_error(&r, AidxError::DepositTooSmall);
    }
    assert_eq!(snap(&mut t, &fx, &attacker).await, before);
    // $1e-6 buys 12 raw shares (12.5 rounded down), worth 0.96 of a raw unit of row 0 back.
    let ev = events(t.mint_single(&fx, &attacker, 0, 1, 0).await);
    assert_eq!(events_of::<MintedSingle>(&ev)[0].shares, 12);
    let r = t.redeem_single(&fx, &attacker, 0, 12, 0).await;
    assert_aidx_error(&r, AidxError::RedeemTooSmall);
    assert_eq!(t.balance(&attacker.shares).await, 12);

    let start = Basket::of(&t.index(&fx).await);
    let mut value =
        holdings_value(&mut t, &attacker, &start).await + 12 * start.nav_exact() / start.supply;
    let value0 = value;
    for k in 0..50 {
        let row = if k % 2 == 0 { 0 } else { 3 };
        let before = Basket::of(&t.index(&fx).await);
        let mut m = before.clone();
        let q = m.mint_single(row, 1);
        let ev = events(t.mint_single(&fx, &attacker, row, 1, q.shares).await);
        assert_eq!(events_of::<MintedSingle>(&ev)[0].shares, q.shares);
        let shares = t.balance(&attacker.shares).await;
        let r = m.redeem_single(1, shares);
        let ev = events(
            t.redeem_single(&fx, &attacker, 1, shares, r.amount_out)
                .await,
        );
        assert_eq!(events_of::<RedeemedSingle>(&ev)[0].amount_out, r.amount_out);
        let after = Basket::of(&t.index(&fx).await);
        assert_eq!(after, m);
        assert_per_share_not_below(&before, &after, "single dust");
        let now = holdings_value(&mut t, &attacker, &start).await;
        assert!(
            now <= value,
            "trip {k}: attacker's holdings rose {value} -> {now}"
        );
        value = now;
    }
    assert_eq!(t.balance(&attacker.shares).await, 0);
    println!(
        "50 single-asset dust round trips: attacker's holdings {value0} -> {value} \
         (x1e-9 USD_SCALE)"
    );
    assert!(value < value0);
}

/// **Attack:** repeat rebalance swaps of the smallest amounts — one raw unit in, or just enough
/// for one raw unit out — hoping the rounding of the cross rate pays more than it takes, 50
/// times at reward 0 and 50 times at the maximum reward.
///
/// **Defence:** both legs round down (the incoming value, then the outgoing amount), so a swap
/// that would pay nothing is refused (`NothingToTrade`) and one that pays a raw unit is priced
/// against the caller. At reward 0 the vault's NAV at mid never falls (exactly) and the
/// caller's holdings never rise; at the maximum reward the caller never gains more than the
/// stated reward on what it paid in.
#[tokio::test]
async fn dust_rebalance_swaps_never_extract_value() {
    let Seeded { mut t, fx, .. } = seeded().await;
    // Row 0 (6 dp) and row 3 (0 dp) 30% up, rows 1 and 5 (9 dp) 30% down; no confidence.
    let moved = usd_with(&[
        (0, 13 * ONE_USD / 10),
        (1, 7 * ONE_USD / 10),
        (3, 13 * ONE_USD / 10),
        (5, 7 * ONE_USD / 10),
    ]);
    let t0 = t.now().await;
    events(t.set_prices(&fx, &moved, 0).await);
    let keeper = t.holder(&fx, rich).await;
    // The smallest amount in that pays one raw unit out, at reward 0: $0.7e-9 a unit of row 1
    // against $1.3e-6 a unit of row 0 (1_857.14 units), $1.3 a unit of row 3 (1.857 tokens).
    let pairs = [(1usize, 0usize, 1_858u64), (5, 3, 1_857_142_858)];

    for (phase, reward) in [(0, 0u128), (1, 5_000_000)] {
        if phase == 1 {
            t.warp_to_time(t0 + AUCTION).await;
            events(t.set_prices(&fx, &moved, 0).await);
        }
        // Refused: one raw unit, and one unit less than the smallest that pays.
        let m = Basket::of(&t.index(&fx).await);
        for (i, o, at_zero) in pairs {
            let min = smallest_paying(&m, i, o, reward);
            if phase == 0 {
                assert_eq!(min, at_zero);
            }
            for amount in [1, min - 1] {
                let before = snap(&mut t, &fx, &keeper).await;
                let index = t.index(&fx).await;
                let ix = swap_ix(&fx, &index, &keeper, i, o, amount);
                let r = t.send(ix, &[&keeper.keypair]).await;
                assert_aidx_error(&r, AidxError::NothingToTrade);
                assert_eq!(snap(&mut t, &fx, &keeper).await, before);
            }
        }
        let m0 = Basket::of(&t.index(&fx).await);
        for k in 0..50 {
            let (i, o, _) = pairs[k % 2];
            let before = Basket::of(&t.index(&fx).await);
            let min = smallest_paying(&before, i, o, reward);
            if phase == 0 {
                assert_eq!(min, pairs[k % 2].2);
            }
            let held = t.holder_balances(&keeper).await;
            let index = t.index(&fx).await;
            let ev = events(
                t.send(swap_ix(&fx, &index, &keeper, i, o, min), &[&keeper.keypair])
                    .await,
            );
            let e = events_of::<RebalanceSwapped>(&ev).remove(0);
            assert_eq!(
                (e.amount_in, e.amount_out, e.reward as u128),
                (min, 1, reward)
            );
            let now = t.holder_balances(&keeper).await;
            assert_eq!((held[i] - now[i], now[o] - held[o]), (min, 1));
            let after = Basket::of(&t.index(&fx).await);
            // The caller's gain at mid, exact, against the reward on what it paid in.
            let paid = m0.value_exact(&one_hot(i, min));
            let got = m0.value_exact(&one_hot(o, 1));
            assert!(
                got * 1_000_000_000 <= paid * (1_000_000_000 + reward),
                "swap {k}: {got} out for {paid} in at reward {reward}"
            );
            if reward == 0 {
                assert!(got <= paid);
                assert_per_share_not_below(&before, &after, "dust swap");
            }
        }
        let end = Basket::of(&t.index(&fx).await);
        println!(
            "reward {reward}: 50 dust swaps, NAV at mid {} -> {} (x1e-9 USD_SCALE)",
            m0.nav_exact(),
            end.nav_exact()
        );
        if reward == 0 {
            assert!(end.nav_exact() > m0.nav_exact());
        }
    }
}

/// The smallest amount of row `i` a swap into row `o` pays one raw unit for, at `reward` and
/// no confidence (the value in rounds down, then the amount out); bisection, as the amount out
/// only grows with the amount in.
fn smallest_paying(m: &Basket, i: usize, o: usize, reward: u128) -> u64 {
    let pays = |a: u64| {
        let value_in = a as u128 * m.price[i] / m.scale(i);
        let value_out = value_in * (1_000_000_000 + reward) / 1_000_000_000;
        value_out * m.scale(o) / m.price[o] >= 1
    };
    let (mut lo, mut hi) = (0u64, 1u64 << 62);
    assert!(pays(hi));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if pays(mid) {
            hi = mid
        } else {
            lo = mid
        }
    }
    hi
}

/// `amount` at row `i`, zero elsewhere.
fn one_hot(i: usize, amount: u64) -> Vec<u64> {
    let mut v = vec![0; N];
    v[i] = amount;
    v
}

// ---------------------------------------------------------------------------------------------
// 9. 0- and 9-decimal constituents, and amounts at the edge of u64.

/// **Attack:** exploit the coarsest and the finest raw units — a 0-decimal constituent whose
/// raw unit is a whole token, a 9-decimal one whose raw unit is worth a billionth — through
/// full in-kind and single-asset round trips, hoping some rounding goes the attacker's way.
///
/// **Defence:** every rounding favours the vault, and the figures are exact to the unit
/// (checked against an independent script): at $1 and no confidence 7 tokens of the 0-decimal
/// row buy 87_500_000 raw shares and redeem for exactly 7; 50.123456789 tokens of the
/// 9-decimal row buy 626_543_209 raw shares and redeem for 50.12345672 (69 raw units kept);
/// one token of the 0-decimal row 7 buys 12_499_999 raw shares, worth 0.99999992 of a token,
/// so the redeem into row 7 is refused (`RedeemTooSmall`) and goes into the 9-decimal row 5
/// instead (999_999_920 units). With a 0.5% confidence 7 tokens of row 3 come back as 6. In kind,
/// 1_234_567_891 raw shares cost 13 tokens of each 0-decimal row and return 12.
#[tokio::test]
async fn zero_and_nine_decimal_constituents_round_trip_exactly() {
    let Seeded { mut t, fx, .. } = seeded().await;
    assert_eq!(
        fx.constituents
            .iter()
            .map(|c| c.decimals)
            .collect::<Vec<_>>(),
        vec![6, 9, 8, 0, 6, 9, 8, 0]
    );
    events(t.set_prices(&fx, &[ONE_USD; N], 0).await);
    let attacker = t.holder(&fx, rich).await;

    /// mint_single of `amount` of `row`, redeem of every share into `out_row`; checked
    /// against the model; returns (shares, amount out).
    async fn trip(
        t: &mut TestContext,
        fx: &IndexFixture,
        h: &Holder,
        row: usize,
        amount: u64,
        out_row: usize,
    ) -> (u64, u64) {
        let held = t.holder_balances(h).await;
        let mut m = Basket::of(&t.index(fx).await);
        let qm = m.mint_single(row, amount);
        let ev = events(t.mint_single(fx, h, row, amount, qm.shares).await);
        let e = &events_of::<MintedSingle>(&ev)[0];
        assert_eq!(
            (e.deposit_value, e.nav, e.shares),
            (qm.deposit_value, qm.nav_high, qm.shares)
        );
        let qr = m.redeem_single(out_row, qm.shares);
        let ev = events(
            t.redeem_single(fx, h, out_row, qm.shares, qr.amount_out)
                .await,
        );
        let e = &events_of::<RedeemedSingle>(&ev)[0];
        assert_eq!(
            (e.nav, e.value_out, e.amount_out),
            (qr.nav_low, qr.value_out, qr.amount_out)
        );
        assert_eq!(Basket::of(&t.index(fx).await), m);
        let now = t.holder_balances(h).await;
        for i in 0..N {
            let want = held[i] as i128 - if i == row { amount as i128 } else { 0 }
                + if i == out_row {
                    qr.amount_out as i128
                } else {
                    0
                };
            assert_eq!(now[i] as i128, want, "row {i}");
        }
        assert_eq!(t.balance(&h.shares).await, 0);
        (qm.shares, qr.amount_out)
    }

    // No confidence: only rounding.
    assert_eq!(trip(&mut t, &fx, &attacker, 3, 7, 3).await, (87_500_000, 7));
    assert_eq!(t.share_supply(&fx).await, SUPPLY0);
    assert_eq!(
        trip(&mut t, &fx, &attacker, 1, 50_123_456_789, 1).await,
        (626_543_209, 50_123_456_720)
    );
    // One token of row 7 (0 dp): its shares are worth less than one token back.
    let mut m = Basket::of(&t.index(&fx).await);
    let q = m.mint_single(7, 1);
    assert_eq!(q.shares, 12_499_999);
    events(t.mint_single(&fx, &attacker, 7, 1, q.shares).await);
    assert_eq!(
        m.clone().redeem_single(7, q.shares).value_out,
        999_999_920_018
    );
    let r = t.redeem_single(&fx, &attacker, 7, q.shares, 0).await;
    assert_aidx_error(&r, AidxError::RedeemTooSmall);
    let r = m.redeem_single(5, q.shares);
    assert_eq!(r.amount_out, 999_999_920);
    let ev = events(
        t.redeem_single(&fx, &attacker, 5, q.shares, r.amount_out)
            .await,
    );
    assert_eq!(events_of::<RedeemedSingle>(&ev)[0].amount_out, 999_999_920);

    // 0.5% confidence: the spread on top.
    events(t.set_prices(&fx, &[ONE_USD; N], 50).await);
    assert_eq!(trip(&mut t, &fx, &attacker, 3, 7, 3).await, (86_629_353, 6));
    assert_eq!(
        trip(&mut t, &fx, &attacker, 5, 50_123_456_789, 5).await,
        (620_231_420, 49_133_981_337)
    );
    let m = Basket::of(&t.index(&fx).await);
    assert_eq!(
        m.bal,
        [
            1_000_000_000u128,
            1_000_000_000_069,
            100_000_000_000,
            1_001,
            1_000_000_000,
            999_989_475_532,
            100_000_000_000,
            1_001
        ]
    );
    assert_eq!(m.supply, SUPPLY0 as u128);

    // In kind: deposits round up, payouts down, every row.
    let s = 1_234_567_891;
    let mut m2 = m.clone();
    let dep = m2.mint_in_kind(s);
    let pay = m2.redeem_in_kind(s, 0);
    assert_eq!(
        dep,
        [
            12_345_679u64,
            12_345_678_911,
            1_234_567_891,
            13,
            12_345_679,
            12_345_548_979,
            1_234_567_891,
            13
        ]
    );
    assert_eq!(
        pay,
        [
            12_345_678u64,
            12_345_678_910,
            1_234_567_891,
            12,
            12_345_678,
            12_345_548_978,
            1_234_567_891,
            12
        ]
    );
    let held = t.holder_balances(&attacker).await;
    let ev = events(t.mint_in_kind(&fx, &attacker, s).await);
    assert_eq!(events_of::<MintedInKind>(&ev)[0].amounts_in, dep);
    let ev = events(t.redeem_in_kind(&fx, &attacker, s).await);
    assert_eq!(events_of::<RedeemedInKind>(&ev)[0].amounts_out, pay);
    let now = t.holder_balances(&attacker).await;
    let lost: Vec<u64> = held.iter().zip(&now).map(|(a, b)| a - b).collect();
    assert_eq!(lost, vec![1, 1, 0, 1, 1, 1, 0, 1]);
    assert_eq!(Basket::of(&t.index(&fx).await), m2);
    assert_rows_per_share_not_below(&m, &m2, "in-kind round trip");
}

/// **Attack:** amounts at the edge of `u64` — a holder with `u64::MAX`-ish balances of a
/// 0-decimal and a 9-decimal constituent depositing all of it, in-kind mints of `u64::MAX`
/// shares, redeems of `u64::MAX` shares — hoping for a wrapped product, a panic (which on
/// chain aborts with an unnamed error and could hide a half-applied state) or a huge mint.
///
/// **Defence:** every product is checked in u128 and every narrowing to u64 is checked, so
/// each is refused with a named error and nothing moves: `MathOverflow` when the figures do
/// not fit (the deposit's value times the supply past u128, or the shares past u64), the
/// weight rule when they fit (`WeightFurtherOutOfBand`: row 0, diluted below its band, is
/// checked before the deposited row's cap), `InsufficientShares` for redeems. The boundary
/// between the first two is exact: 1e12 tokens of the 0-decimal row at $0.995 are worth
/// 1.2375e19 raw shares (fits u64: refused by the weight rule), 2e12 tokens 2.475e19 (past
/// u64: `MathOverflow`).
#[tokio::test]
async fn overflow_edge_amounts_are_refused_with_named_errors() {
    let Seeded { mut t, fx, .. } = seeded().await;
    events(t.set_prices(&fx, &[ONE_USD; N], 50).await);
    let whale = t.holder(&fx, |_| 0).await;
    // Everything each mint can still issue, to the whale.
    for row in [1usize, 3] {
        let c = &fx.constituents[row];
        let supply = t.chain.mint_supply(&c.mint).await.unwrap();
        t.chain
            .mint_to(
                &c.mint,
                &whale.token_accounts[row],
                &c.token_program,
                u64::MAX - supply,
            )
            .await
            .unwrap();
        assert_eq!(
            t.chain.mint_supply(&c.mint).await.unwrap(),
            u64::MAX,
            "row {row}"
        );
    }
    let held = t.holder_balances(&whale).await;
    // 0 dp: u64::MAX - 1e15 tokens. 9 dp: 18.4 billion tokens.
    assert_eq!(held[3], u64::MAX - 1_000_000_000_000_000);
    assert_eq!(held[1], u64::MAX - 1_000_000_000_000_000);
    let before = snap(&mut t, &fx, &whale).await;

    for (row, amount, e) in [
        // 1.8e19 tokens at $0.995: 1.8e31 USD_SCALE, times 1e11 shares past u128
        (3usize, held[3], AidxError::MathOverflow),
        (3, u64::MAX, AidxError::MathOverflow),
        // 2.475e19 raw shares: past u64
        (3, 2_000_000_000_000, AidxError::MathOverflow),
        // 1.2375e19 raw shares: fits; refused by the weight rule (row 0, diluted below its
        // band, is checked before the deposited row's cap)
        (3, 1_000_000_000_000, AidxError::WeightFurtherOutOfBand),
        // 18.4e9 tokens of the 9 dp row: 2.3e17 raw shares, refused by the weight rule
        (1, held[1], AidxError::WeightFurtherOutOfBand),
        // more than can exist: the balance after the deposit would pass u64
        (1, u64::MAX, AidxError::MathOverflow),
    ] {
        let r = t.mint_single(&fx, &whale, row, amount, 0).await;
        assert_aidx_error(&r, e);
    }
    let mut m = Basket::of(&t.index(&fx).await);
    let q = m.mint_single(3, 1_000_000_000_000);
    assert_eq!(q.shares, 12_375_621_890_547_263_681);
    for shares in [u64::MAX, u64::MAX - SUPPLY0 + 1, u64::MAX / 2] {
        let r = t.mint_in_kind(&fx, &whale, shares).await;
        assert_aidx_error(&r, AidxError::MathOverflow);
    }
    let r = t.redeem_in_kind(&fx, &whale, u64::MAX).await;
    assert_aidx_error(&r, AidxError::InsufficientShares);
    for row in [1usize, 3] {
        let r = t.redeem_single(&fx, &whale, row, u64::MAX, 0).await;
        assert_aidx_error(&r, AidxError::InsufficientShares);
    }
    assert_eq!(snap(&mut t, &fx, &whale).await, before);
}
