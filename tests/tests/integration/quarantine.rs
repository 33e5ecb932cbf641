//! Quarantine and write-off: a constituent that cannot move or cannot be priced does not stop
//! the index (see `instructions::admin::quarantine` for the rules and the math).
//!
//! The scenario of the review: eight rows at $1 with 12.5% targets and a 10-15% band; row 3 is
//! an SPL mint whose freeze authority freezes the index's vault, then row 3 falls to $0.75
//! (weight 9.68%, under its band). Without a quarantine every deposit fails and the auction
//! clock runs; quarantined, deposits go on (paying for the row's slice in the other rows), the
//! clock clears, and after a thaw every holder's claim on the row is paid exactly. A row that
//! never recovers is written off after 30 days and leaves the table.

use aidx::errors::AidxError;
use aidx::events::ConstituentQuarantined;
use aidx::instructions::RebalanceSwapArgs;
use aidx::math::nav::{Holding, PriceSide};
use aidx::math::shares::{mint_deposit, redeem_payout};
use aidx::math::{mul_div, Rounding, ONE_SHARE, USD_SCALE, WEIGHT_SCALE};
use aidx::state::{
    Index, Quarantine, AUTHORITY_HOLD_SECS, MIN_QUARANTINE_SECS, WRITE_OFF_AFTER_SECS,
};
use aidx_client::{
    self as client, events_of, vault_address, AidxEvent, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID,
};
use aidx_tests::*;
use anchor_spl::token::spl_token;
use anchor_spl::token_2022::spl_token_2022;
use solana_sdk::instruction::InstructionError;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signer::Signer;

const N: usize = 8;
const FROZEN: usize = 3;
const CONF_BPS: u64 = 10;
/// Shares the first holder seeds the index with.
const SEED: u64 = 10_000 * ONE_SHARE;

/// The review's index: eight rows worth $1 a share each, row 3 a freezable SPL mint. Seeded by
/// `a` with 10,000 shares and priced at $1 (0.1% confidence).
async fn frozen_row_index(t: &mut TestContext) -> (IndexFixture, Holder, Pubkey) {
    let freezable = t.create_mint_with_freeze(TOKEN_PROGRAM_ID, 6).await;
    let mut rows = mixed_rows(N, |i| whole(i, 1));
    rows[FROZEN] = RowSpec {
        program: TOKEN_PROGRAM_ID,
        decimals: 6,
        exts: vec![],
        units: 1_000_000,
        mint: Some(freezable),
    };
    let fx = t.create_index_of(t.default_args(), &rows).await;
    let a = t.holder(&fx, rich).await;
    events(t.mint_in_kind(&fx, &a, SEED).await);
    events(t.set_prices(&fx, &[USD_SCALE; N], CONF_BPS).await);
    (fx, a, freezable)
}

fn prices_with(row: usize, usd: u128) -> Vec<u128> {
    let mut p = vec![USD_SCALE; N];
    p[row] = usd;
    p
}

async fn freeze(t: &mut TestContext, fx: &IndexFixture, mint: &Pubkey, thaw: bool) {
    let vault = vault_address(&fx.key, mint);
    let payer = t.payer();
    let ix = if thaw {
        spl_token::instruction::thaw_account(&TOKEN_PROGRAM_ID, &vault, mint, &payer, &[])
    } else {
        spl_token::instruction::freeze_account(&TOKEN_PROGRAM_ID, &vault, mint, &payer, &[])
    }
    .unwrap();
    t.chain.send_ok(&[ix], &[]).await.unwrap();
}

/// Each holder's claim on every row, valued with row `q` at `q_price` and the others at mid:
/// what the earlier holders must not lose to a mint during the quarantine.
fn claim_value(index: &Index, shares: u64, q: usize, q_price: u64) -> u128 {
    index
        .constituents()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let units = redeem_payout(shares, c.balance, index.share_supply).unwrap();
            let price = if i == q { q_price } else { c.price };
            Holding {
                balance: units,
                decimals: c.decimals,
                price,
                conf: 0,
            }
            .value(PriceSide::Mid, Rounding::Down)
            .unwrap()
        })
        .sum()
}

#[tokio::test]
async fn a_frozen_constituent_is_quarantined_and_the_index_goes_on() {
    let mut t = TestContext::new().await;
    let (mut fx, mut a, freezable) = frozen_row_index(&mut t).await;
    let sa = SEED;
    let b = t.holder(&fx, rich).await;

    // The freeze authority freezes the index's vault of row 3, and row 3 falls to $0.75.
    freeze(&mut t, &fx, &freezable, false).await;
    events(
        t.set_prices(&fx, &prices_with(FROZEN, USD_SCALE * 3 / 4), CONF_BPS)
            .await,
    );
    let index = t.index(&fx).await;
    let w = aidx::math::nav::weights(&index.holdings()).unwrap();
    // 0.75 / 7.75 = 9.677% but for the seed's rounding up of the 0-decimal row: under 10-15%
    assert_eq!(w[FROZEN], 96_772_944);
    assert!(index.imbalance_started_at > 0, "the auction clock runs");

    // Without a quarantine: in-kind mints fail in the frozen leg (SPL error 17), single-asset
    // mints of any other row dilute row 3 further out of its band.
    let r = t.mint_in_kind(&fx, &b, ONE_SHARE).await;
    assert_instruction_error(&r, InstructionError::Custom(17));
    let r = t.mint_single(&fx, &b, 0, whole(0, 1), 0).await;
    assert_aidx_error(&r, AidxError::WeightFurtherOutOfBand);

    // A stranger cannot quarantine a row that can move, nor release one that cannot.
    let quarantine =
        |index: &Index, by: &Pubkey, row| client::quarantine_constituent(&fx.key, index, by, row);
    let release =
        |index: &Index, by: &Pubkey, row| client::release_constituent(&fx.key, index, by, row);
    let r = t.send(quarantine(&index, &b.key(), 0), &[&b.keypair]).await;
    assert_aidx_error(&r, AidxError::QuarantineNeedsProof);
    let r = t
        .send(release(&index, &b.key(), FROZEN), &[&b.keypair])
        .await;
    assert_aidx_error(&r, AidxError::NotQuarantined);

    // Anyone quarantines row 3: the frozen vault is the proof.
    let now = t.now().await;
    let b3 = index.constituents()[FROZEN].balance;
    let q_price = index.constituents()[FROZEN].price + index.constituents()[FROZEN].conf;
    assert_eq!(q_price, 750_750_000_000, "$0.75 plus 0.1%");
    let ev = events(
        t.send(quarantine(&index, &b.key(), FROZEN), &[&b.keypair])
            .await,
    );
    assert_eq!(
        ev,
        vec![AidxEvent::ConstituentQuarantined(ConstituentQuarantined {
            index: fx.key,
            mint: freezable,
            row: FROZEN as u8,
            by: b.key(),
            reason: Quarantine::FrozenVault as u8,
            at: now,
            balance: b3,
            quarantine_price: q_price,
        })]
    );
    let r = t
        .send(quarantine(&index, &b.key(), FROZEN), &[&b.keypair])
        .await;
    assert_aidx_error(&r, AidxError::AlreadyQuarantined);
    let r = t
        .send(release(&index, &b.key(), FROZEN), &[&b.keypair])
        .await;
    assert_aidx_error(&r, AidxError::ConstituentCannotMove);

    // The auction clock clears, and a poke does not start it again: the rest is in band.
    assert_eq!(t.index(&fx).await.imbalance_started_at, 0);
    assert_eq!(
        events(t.send(client::poke_rebalance(&fx.key), &[]).await),
        vec![]
    );
    assert_eq!(t.index(&fx).await.imbalance_started_at, 0);
    let report = t.audit(&fx).await;
    assert_eq!(report.rows[FROZEN].quarantine, Some("frozen vault"));
    assert_eq!(report.rows[FROZEN].quarantined_at, Some(now));
    assert!(!report.rows[FROZEN].out_of_band);
    assert!(report.violations.is_empty(), "{:?}", report.violations);

    // Deposits go on. An in-kind mint of s shares deposits nothing of row 3 and pays for its
    // slice of row 3, at the quarantine price, in the other rows pro rata.
    let before = t.index(&fx).await;
    let s = SEED / 10;
    let supply = before.share_supply;
    let slice = mint_deposit(s, b3, supply).unwrap();
    let x = mul_div(slice as u128, q_price as u128, 1_000_000, Rounding::Up).unwrap();
    // the rest at the low side of trade prices published this second (no age to widen)
    let rest: u128 = before
        .constituents()
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != FROZEN)
        .map(|(_, c)| {
            mul_div(
                c.balance as u128,
                (c.price - c.conf) as u128,
                10u128.pow(c.decimals as u32),
                Rounding::Down,
            )
            .unwrap()
        })
        .sum();
    let expected: Vec<u64> = before
        .constituents()
        .iter()
        .enumerate()
        .map(|(i, c)| match i {
            FROZEN => 0,
            _ => {
                mint_deposit(s, c.balance, supply).unwrap()
                    + mul_div(c.balance as u128, x, rest, Rounding::Up).unwrap() as u64
            }
        })
        .collect();
    let a_value_before = claim_value(&before, sa, FROZEN, q_price);
    let ev = events(t.mint_in_kind(&fx, &b, s).await);
    let [AidxEvent::MintedInKind(m)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(m.amounts_in, expected);
    assert_eq!(m.shares, s);
    let after = t.index(&fx).await;
    assert_eq!(after.constituents()[FROZEN].balance, b3);
    assert_eq!(t.vault_balances(&fx).await[FROZEN], b3);
    // What the new shares paid beyond the pro-rata deposit, at the low side, covers their
    // slice of row 3 at the quarantine price...
    let paid: u128 = before
        .constituents()
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != FROZEN)
        .map(|(i, c)| {
            let extra = m.amounts_in[i] - mint_deposit(s, c.balance, supply).unwrap();
            mul_div(
                extra as u128,
                (c.price - c.conf) as u128,
                10u128.pow(c.decimals as u32),
                Rounding::Down,
            )
            .unwrap()
        })
        .sum();
    let slice_value = mul_div(slice as u128, q_price as u128, 1_000_000, Rounding::Down).unwrap();
    assert!(paid + N as u128 >= slice_value, "{paid} < {slice_value}");
    // ...so the earlier holder's claim, valued with row 3 at its quarantine price, did not fall
    // (by more than one raw unit of each row, from rounding its own claim down).
    let a_value_after = claim_value(&after, sa, FROZEN, q_price);
    let one_unit_each: u128 = after
        .constituents()
        .iter()
        .map(|c| mul_div(USD_SCALE, 1, 10u128.pow(c.decimals as u32), Rounding::Up).unwrap())
        .sum();
    assert!(
        a_value_after + one_unit_each >= a_value_before,
        "{a_value_after} < {a_value_before}"
    );

    // Single-asset mints of the other rows go on (row 3 no longer blocks the band check); row
    // 3 itself cannot be traded on its own, nor swapped.
    events(
        t.set_prices(&fx, &prices_with(FROZEN, USD_SCALE * 3 / 4), CONF_BPS)
            .await,
    );
    let ev = events(t.mint_single(&fx, &b, 0, whole(0, 1) / 10, 0).await);
    assert_eq!(events_of::<aidx::events::MintedSingle>(&ev).len(), 1);
    for r in [
        t.mint_single(&fx, &b, FROZEN, 1_000_000, 0).await,
        t.redeem_single(&fx, &b, FROZEN, ONE_SHARE, 0).await,
    ] {
        assert_aidx_error(&r, AidxError::ConstituentQuarantined);
    }
    let index = t.index(&fx).await;
    let swap = client::rebalance_swap(
        &fx.key,
        &index,
        &b.key(),
        FROZEN,
        0,
        RebalanceSwapArgs {
            amount_in: 1_000,
            min_amount_out: 0,
        },
    );
    assert_aidx_error(
        &t.send(swap, &[&b.keypair]).await,
        AidxError::ConstituentQuarantined,
    );

    // Thawed, anyone releases it, an hour after the quarantine at the earliest, and the earlier
    // holder's claim on row 3 is paid in kind, exactly: floor(shares * balance / supply) of the
    // balance nobody touched.
    freeze(&mut t, &fx, &freezable, true).await;
    let index = t.index(&fx).await;
    let r = t
        .send(release(&index, &b.key(), FROZEN), &[&b.keypair])
        .await;
    assert_aidx_error(&r, AidxError::ReleaseTooEarly);
    t.warp_to_time(now + MIN_QUARANTINE_SECS).await;
    let ev = events(
        t.send(release(&index, &b.key(), FROZEN), &[&b.keypair])
            .await,
    );
    let [AidxEvent::ConstituentReleased(rel)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        (rel.reason, rel.quarantined_at, rel.balance),
        (Quarantine::FrozenVault as u8, now, b3)
    );
    let index = t.index(&fx).await;
    let c3 = index.constituents()[FROZEN];
    assert_eq!(
        (c3.quarantine, c3.quarantined_at, c3.quarantine_price),
        (0, 0, 0)
    );
    let claim = redeem_payout(sa / 2, b3, index.share_supply).unwrap();
    let a3 = t.holder_balances(&a).await[FROZEN];
    let ev = events(t.redeem_in_kind(&fx, &a, sa / 2).await);
    let [AidxEvent::RedeemedInKind(red)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(red.amounts_out[FROZEN], claim);
    assert_eq!(t.holder_balances(&a).await[FROZEN] - a3, claim);
    assert_eq!(t.vault_balances(&fx).await[FROZEN], b3 - claim);

    // A row that never recovers: the admin quarantines it (a stranger cannot release that),
    // and may write it off after 30 days, not before.
    freeze(&mut t, &fx, &freezable, false).await;
    let index = t.index(&fx).await;
    let admin = fx.admin.pubkey();
    events(
        t.send(quarantine(&index, &admin, FROZEN), &[&fx.admin])
            .await,
    );
    let index = t.index(&fx).await;
    let write_off = client::write_off_constituent(&fx.key, &index, &admin, FROZEN);
    assert_aidx_error(
        &t.send(write_off.clone(), &[&fx.admin]).await,
        AidxError::WriteOffTooEarly,
    );
    let since = t.index(&fx).await.constituents()[FROZEN].quarantined_at;
    t.warp_to_time(since + WRITE_OFF_AFTER_SECS).await;
    let before = t.index(&fx).await;
    let r = t
        .send(
            client::write_off_constituent(&fx.key, &index, &b.key(), FROZEN),
            &[&b.keypair],
        )
        .await;
    assert_aidx_error(&r, AidxError::UnauthorizedAdmin);
    let ev = events(t.send(write_off, &[&fx.admin]).await);
    let [AidxEvent::ConstituentWrittenOff(w)] = &ev[..] else {
        panic!("{ev:?}")
    };
    let left = b3 - claim;
    assert_eq!(
        (w.mint, w.vault, w.balance, w.share_supply, w.old_target),
        (
            freezable,
            vault_address(&fx.key, &freezable),
            left,
            before.share_supply,
            before.constituents()[FROZEN].target_weight
        )
    );
    let index = t.index(&fx).await;
    assert_eq!(index.num_constituents as usize, N - 1);
    assert!(index.constituents().iter().all(|c| c.mint != freezable));
    assert_eq!(index.targets().iter().sum::<u64>(), WEIGHT_SCALE);
    assert_eq!(w.targets_after, index.targets());
    // The vault keeps the tokens; the index no longer accounts for them.
    assert_eq!(t.balance(&w.vault).await, left);

    // The index goes on without the row: in kind, both ways.
    fx.constituents.remove(FROZEN);
    a.token_accounts.remove(FROZEN);
    events(t.mint_in_kind(&fx, &a, ONE_SHARE).await);
    events(t.redeem_in_kind(&fx, &a, ONE_SHARE / 2).await);
    let book = client::Book {
        index: fx.key.to_string(),
        ..Default::default()
    };
    let report = client::audit::audit(&mut t.chain, &book, true)
        .await
        .unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(report.written_off.len(), 1);
    assert_eq!(
        (
            report.written_off[0].balance,
            report.written_off[0].share_supply
        ),
        (left, before.share_supply)
    );
}

/// NAV at `side` of the rows not quarantined, at their stored prices (published this second:
/// no age to widen them), plus on the high side the quarantined rows at their quarantine price.
fn expected_trade_nav(index: &Index, high: bool) -> u128 {
    index
        .constituents()
        .iter()
        .map(|c| {
            let (price, rounding) = match (c.is_quarantined(), high) {
                (true, true) => (c.quarantine_price as u128, Rounding::Up),
                (true, false) => (0, Rounding::Down),
                (false, true) => ((c.price + c.conf) as u128, Rounding::Up),
                (false, false) => ((c.price - c.conf) as u128, Rounding::Down),
            };
            mul_div(
                c.balance as u128,
                price,
                10u128.pow(c.decimals as u32),
                rounding,
            )
            .unwrap()
        })
        .sum()
}

/// A paused Token-2022 mint is quarantined by anyone (the mint is the proof) and released by
/// anyone once unpaused; a dead feed is quarantined by the admin (a stranger cannot release
/// that). With both set aside, a refresh of the live feeds alone is enough for single-asset
/// trades, which value the quarantined rows at their quarantine price when minting and at 0
/// when redeeming; a review gives them target 0 without their inputs or prices.
#[tokio::test]
async fn a_paused_mint_and_a_dead_feed_are_set_aside() {
    use spl_token_2022::extension::pausable;
    const PAUSED: usize = 1;
    const DEAD: usize = 2;
    // ten rows: the eight left eligible at a review can hold a 15% cap
    const N: usize = 10;
    let mut t = TestContext::new().await;
    let mut rows = mixed_rows(N, |i| whole(i, 1));
    rows[PAUSED].exts = vec![MintExt::Pausable];
    let fx = t.create_index_of(t.default_args(), &rows).await;
    let a = t.holder(&fx, rich).await;
    let b = t.holder(&fx, rich).await;
    events(t.mint_in_kind(&fx, &a, SEED).await);
    events(t.set_prices(&fx, &[USD_SCALE; N], CONF_BPS).await);
    let index = t.index(&fx).await;
    let payer = t.payer();
    let paused_mint = fx.constituents[PAUSED].mint;
    let pause = |on: bool| {
        if on {
            pausable::instruction::pause(&TOKEN_2022_PROGRAM_ID, &paused_mint, &payer, &[])
        } else {
            pausable::instruction::resume(&TOKEN_2022_PROGRAM_ID, &paused_mint, &payer, &[])
        }
        .unwrap()
    };
    t.chain.send_ok(&[pause(true)], &[]).await.unwrap();
    let ev = events(
        t.send(
            client::quarantine_constituent(&fx.key, &index, &b.key(), PAUSED),
            &[&b.keypair],
        )
        .await,
    );
    assert!(matches!(&ev[..], [AidxEvent::ConstituentQuarantined(q)]
        if q.reason == Quarantine::PausedMint as u8 && q.by == b.key()));
    let admin = fx.admin.pubkey();
    events(
        t.send(
            client::quarantine_constituent(&fx.key, &index, &admin, DEAD),
            &[&fx.admin],
        )
        .await,
    );
    let r = t
        .send(
            client::release_constituent(&fx.key, &index, &b.key(), DEAD),
            &[&b.keypair],
        )
        .await;
    assert_aidx_error(&r, AidxError::QuarantineReleaseUnauthorized);

    // A minute on, the dead feed has not published; the live feeds are refreshed alone.
    let now = t.now().await + 60;
    t.warp_to_time(now).await;
    // (The paused row's feed is live: a mint pays for its slice at its current price.)
    let live: Vec<usize> = (0..N).filter(|r| *r != DEAD).collect();
    for &row in &live {
        let c = &index.constituents()[row];
        t.chain.post_price(
            &price_key(&fx, row),
            c.feed_id,
            client::pyth::PythPrice::from_usd_scaled(USD_SCALE, CONF_BPS, now),
        );
    }
    let keys: Vec<Pubkey> = live.iter().map(|r| price_key(&fx, *r)).collect();
    events(t.send(client::refresh_prices(&fx.key, &keys), &[]).await);
    assert_eq!(
        client::refresh_feed_accounts(&t.index(&fx).await),
        keys,
        "the client refreshes the live feeds only"
    );

    // A single-asset mint buys into the quarantined rows at their quarantine price; a redeem
    // is paid from the rest alone.
    let before = t.index(&fx).await;
    let ev = events(t.mint_single(&fx, &b, 0, whole(0, 1) / 10, 0).await);
    let [AidxEvent::MintedSingle(m)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(m.nav, expected_trade_nav(&before, true));
    let before = t.index(&fx).await;
    let ev = events(t.redeem_single(&fx, &a, 4, ONE_SHARE, 0).await);
    let [AidxEvent::RedeemedSingle(r)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(r.nav, expected_trade_nav(&before, false));
    assert_eq!(
        r.value_out,
        mul_div(
            ONE_SHARE as u128,
            r.nav,
            before.share_supply as u128,
            Rounding::Down
        )
        .unwrap()
    );

    // A review gives both target 0, without their inputs (none posted) or prices.
    let observed = t.now().await;
    let rows_in: Vec<aidx::events::MethodologyInputRow> = live
        .iter()
        .map(|&i| aidx::events::MethodologyInputRow {
            mint: fx.constituents[i].mint,
            circulating_supply: 1_000_000,
            avg_daily_volume_usd: 50_000_000,
            depth_usd: None,
            unlock: false,
            sub_sector: (i % 7) as u8,
            bucket: 0,
            rank: i as u16 + 1,
        })
        .collect();
    let set = client::set_methodology_inputs(
        &fx.key,
        &payer,
        aidx::instructions::SetMethodologyInputsArgs {
            observed_at: observed,
            rows: rows_in,
        },
    );
    t.chain.send_ok(&[set], &[]).await.unwrap();
    events(
        t.send(client::open_review(&fx.key, &admin), &[&fx.admin])
            .await,
    );
    let ev = events(t.send(client::recompute_targets(&fx.key), &[]).await);
    let [AidxEvent::TargetsRecomputed(rt)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(rt.targets[PAUSED], 0);
    assert_eq!(rt.targets[DEAD], 0);
    assert_eq!(rt.targets.iter().sum::<u64>(), WEIGHT_SCALE);

    // Unpaused, anyone releases the paused row (an hour on).
    t.chain.send_ok(&[pause(false)], &[]).await.unwrap();
    let now = t.now().await;
    t.warp_to_time(now + MIN_QUARANTINE_SECS).await;
    let index = t.index(&fx).await;
    let ev = events(
        t.send(
            client::release_constituent(&fx.key, &index, &b.key(), PAUSED),
            &[&b.keypair],
        )
        .await,
    );
    assert!(
        matches!(&ev[..], [AidxEvent::ConstituentReleased(r)] if r.reason == Quarantine::PausedMint as u8)
    );
}

/// A row quarantined before it was ever priced has no price to pay its slice at: while it
/// cannot move, nobody can mint against it, in kind or single-asset (the slice would be free),
/// until it is priced or released. Nothing moves.
#[tokio::test]
async fn a_mint_cannot_buy_an_unpriced_quarantined_row_for_nothing() {
    let mut t = TestContext::new().await;
    let freezable = t.create_mint_with_freeze(TOKEN_PROGRAM_ID, 6).await;
    let mut rows = mixed_rows(N, |i| whole(i, 1));
    rows[1] = RowSpec {
        program: TOKEN_PROGRAM_ID,
        decimals: 6,
        exts: vec![],
        units: 1_000_000,
        mint: Some(freezable),
    };
    let fx = t.create_index_of(t.default_args(), &rows).await;
    let a = t.holder(&fx, rich).await;
    events(t.mint_in_kind(&fx, &a, SEED).await);
    freeze(&mut t, &fx, &freezable, false).await;
    let index = t.index(&fx).await;
    let ev = events(
        t.send(
            client::quarantine_constituent(&fx.key, &index, &a.key(), 1),
            &[&a.keypair],
        )
        .await,
    );
    assert!(matches!(&ev[..], [AidxEvent::ConstituentQuarantined(q)] if q.quarantine_price == 0));
    // Every other row priced now.
    let now = t.now().await;
    let keys: Vec<Pubkey> = (0..N)
        .filter(|r| *r != 1)
        .map(|r| price_key(&fx, r))
        .collect();
    for r in (0..N).filter(|r| *r != 1) {
        let p = client::pyth::PythPrice::from_usd_scaled(USD_SCALE, CONF_BPS, now);
        t.chain
            .post_price(&price_key(&fx, r), fx.constituents[r].feed_id, p);
    }
    events(t.send(client::refresh_prices(&fx.key, &keys), &[]).await);
    let vaults = t.vault_balances(&fx).await;
    let held = t.holder_balances(&a).await;
    let r = t.mint_in_kind(&fx, &a, ONE_SHARE).await;
    assert_aidx_error(&r, AidxError::QuarantineUnpriced);
    let r = t.mint_single(&fx, &a, 0, whole(0, 1) / 10, 0).await;
    assert_aidx_error(&r, AidxError::QuarantineUnpriced);
    assert_eq!(t.vault_balances(&fx).await, vaults);
    assert_eq!(t.holder_balances(&a).await, held);
    assert_eq!(t.share_supply(&fx).await, index.share_supply);
}

/// A quarantined row that can still move (its feed died, say) is deposited in kind and never
/// paid out while quarantined: nobody can buy it from the vault at its quarantine price,
/// however far its market has moved. And it is weighed apart: a row worth 36% of the index,
/// quarantined, leaves the seven others in their bands (targets scaled up to keep their sum),
/// so the auction clock stays clear and single-asset trades go on.
#[tokio::test]
async fn a_movable_quarantined_row_is_neither_sold_nor_weighed() {
    const Q: usize = 2;
    let mut t = TestContext::new().await;
    let fx = t
        .create_index_of(t.default_args(), &mixed_rows(N, |i| whole(i, 1)))
        .await;
    let a = t.holder(&fx, rich).await;
    let attacker = t.holder(&fx, rich).await;
    events(t.mint_in_kind(&fx, &a, SEED).await);
    // Row 2 at $4: 4/11 of the index; the others at 1/11 = 9.1%, under their 10-15% band.
    let prices = prices_with(Q, 4 * USD_SCALE);
    events(t.set_prices(&fx, &prices, CONF_BPS).await);
    assert!(t.index(&fx).await.imbalance_started_at > 0);
    let index = t.index(&fx).await;
    let admin = fx.admin.pubkey();
    events(
        t.send(
            client::quarantine_constituent(&fx.key, &index, &admin, Q),
            &[&fx.admin],
        )
        .await,
    );

    // Weighed apart: every other row is at 1/7 against a target of 12.5% / (1 - 12.5%).
    let index = t.index(&fx).await;
    let targets = index.band_targets().unwrap();
    assert_eq!(targets[Q], 0);
    assert!(targets
        .iter()
        .enumerate()
        .all(|(i, t)| i == Q || *t == 142_857_142));
    // (scaled down-rounded: short of the whole by less than a unit a row)
    assert_eq!(targets.iter().sum::<u64>(), WEIGHT_SCALE - 6);
    assert_eq!(index.band_cap().unwrap(), 171_428_571, "15% / (1 - 12.5%)");
    assert_eq!(
        events(t.send(client::poke_rebalance(&fx.key), &[]).await),
        vec![]
    );
    assert_eq!(t.index(&fx).await.imbalance_started_at, 0);
    events(t.mint_single(&fx, &attacker, 0, whole(0, 1) / 10, 0).await);
    let report = t.audit(&fx).await;
    assert!(
        report.rows.iter().all(|r| !r.out_of_band),
        "{:?}",
        report.rows
    );
    assert!(report.violations.is_empty(), "{:?}", report.violations);

    // Deposited in kind (it can move), paid nothing on the way out.
    let before = t.index(&fx).await;
    let s = 10 * ONE_SHARE;
    let ev = events(t.mint_in_kind(&fx, &attacker, s).await);
    let [AidxEvent::MintedInKind(m)] = &ev[..] else {
        panic!("{ev:?}")
    };
    let b_q = before.constituents()[Q].balance;
    assert_eq!(
        m.amounts_in[Q],
        mint_deposit(s, b_q, before.share_supply).unwrap()
    );
    let q_before = t.holder_balances(&attacker).await[Q];
    let shares = t.balance(&attacker.shares).await;
    let ev = events(t.redeem_in_kind(&fx, &attacker, shares).await);
    let [AidxEvent::RedeemedInKind(r)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(r.amounts_out[Q], 0);
    assert!(r
        .amounts_out
        .iter()
        .enumerate()
        .all(|(i, x)| i == Q || *x > 0));
    assert_eq!(t.holder_balances(&attacker).await[Q], q_before);
    assert_eq!(
        t.index(&fx).await.constituents()[Q].balance,
        b_q + m.amounts_in[Q],
        "the row stays with the holders"
    );

    // A redeem that asked for some of the row (no skip bit) is refused, not paid without it.
    let index = t.index(&fx).await;
    let mut want = vec![0; N];
    want[Q] = 1;
    let args = aidx::instructions::RedeemInKindArgs {
        shares: ONE_SHARE,
        min_amounts_out: want,
        skip_mask: 0,
    };
    let ix = client::redeem_in_kind(&fx.key, &index, &a.key(), &a.token_accounts, args);
    let r = t.send_basket(&fx, ix, &[&a.keypair]).await;
    assert_aidx_error(&r, AidxError::MinAmountOutNotMet);

    // The admin's quarantine of a row that moves holds it back for a week at most: then anyone
    // may release it, and holders leave with it again.
    let since = index.constituents()[Q].quarantined_at;
    let release = client::release_constituent(&fx.key, &index, &attacker.key(), Q);
    let r = t.send(release.clone(), &[&attacker.keypair]).await;
    assert_aidx_error(&r, AidxError::QuarantineReleaseUnauthorized);
    t.warp_to_time(since + AUTHORITY_HOLD_SECS).await;
    events(t.send(release, &[&attacker.keypair]).await);
    assert!(!t.index(&fx).await.any_quarantined());
}
