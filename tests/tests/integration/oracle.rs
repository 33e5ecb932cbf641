//! The oracle gate through `refresh_prices`: price accounts byte-identical to the Pyth
//! receiver's, injected with `set_account`; one test per rule, each with its exact error; the
//! clock moved for the age rules.

use aidx::errors::AidxError;
use aidx::math::USD_SCALE;
use aidx::state::IndexParams;
use aidx_client::pyth::{price_update_account, price_update_data};
use aidx_client::{self as client, events_of, AidxEvent};
use aidx_tests::*;
use pyth_solana_receiver_sdk::price_update::VerificationLevel;
use solana_sdk::account::Account;

const MAX_AGE: i64 = IndexParams::default_max_age();

/// $2.50, $190.12345678 and $0.00012345 with exponent -8, conf 0.1%.
fn prices(now: i64) -> Vec<PythPrice> {
    [250_000_000i64, 19_012_345_678, 12_345]
        .iter()
        .map(|p| PythPrice {
            price: *p,
            conf: *p as u64 / 1000,
            exponent: -8,
            publish_time: now,
        })
        .collect()
}

async fn setup() -> (TestContext, IndexFixture, i64) {
    let mut t = TestContext::new().await;
    let fx = t.create_index(3, |_| 1_000).await;
    let now = t.now().await;
    (t, fx, now)
}

#[tokio::test]
async fn valid_prices_are_stored_normalised_and_emitted() {
    let (mut t, fx, now) = setup().await;
    t.post_prices(&fx, &prices(now)).await;
    let ev = events(t.refresh_prices(&fx).await);
    let want = [250 * USD_SCALE / 100, 190_123_456_780_000, 123_450_000];
    let [AidxEvent::PricesRefreshed(e)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(e.index, fx.key);
    assert_eq!(e.prices, want.map(|x| x as u64).to_vec());
    // conf = mantissa / 1000 in the feed's units, then scaled by 1e4 (exponent -8 -> 1e-12)
    assert_eq!(
        e.confs,
        vec![250_000 * 10_000, 19_012_345 * 10_000, 12 * 10_000]
    );
    assert_eq!(e.publish_times, vec![now; 3]);
    let index = t.index(&fx).await;
    for (c, w) in index.constituents().iter().zip(want) {
        assert_eq!(c.price as u128, w);
        assert_eq!(c.publish_time, now);
    }
}

/// Replaces the price account of row 1 and asserts the refresh fails with `expected`, leaving
/// every stored price as it was.
async fn refused(t: &mut TestContext, fx: &IndexFixture, account: Account, expected: AidxError) {
    let before = t.index(fx).await;
    t.chain.set_account(&price_key(fx, 1), account);
    assert_aidx_error(&t.refresh_prices(fx).await, expected);
    let after = t.index(fx).await;
    for (b, a) in before.constituents().iter().zip(after.constituents()) {
        assert_eq!(
            (b.price, b.conf, b.publish_time),
            (a.price, a.conf, a.publish_time)
        );
    }
}

fn feed_of(t: &aidx::state::Index, row: usize) -> [u8; 32] {
    t.constituents()[row].feed_id
}

#[tokio::test]
async fn wrong_owner() {
    let (mut t, fx, now) = setup().await;
    t.post_prices(&fx, &prices(now)).await;
    let feed = feed_of(&t.index(&fx).await, 1);
    let mut acc = price_update_account(feed, prices(now)[1], VerificationLevel::Full);
    acc.owner = solana_sdk::pubkey::Pubkey::new_unique();
    refused(&mut t, &fx, acc, AidxError::OracleWrongOwner).await;
}

#[tokio::test]
async fn wrong_account_type() {
    let (mut t, fx, now) = setup().await;
    t.post_prices(&fx, &prices(now)).await;
    let feed = feed_of(&t.index(&fx).await, 1);
    // Right owner, wrong discriminator (a TwapUpdate-like account).
    let mut acc = price_update_account(feed, prices(now)[1], VerificationLevel::Full);
    acc.data[..8].copy_from_slice(&[104, 192, 188, 72, 246, 166, 12, 81]);
    refused(&mut t, &fx, acc.clone(), AidxError::OracleWrongAccountType).await;
    // Right discriminator, truncated body.
    acc.data = price_update_data(feed, prices(now)[1], VerificationLevel::Full)[..40].to_vec();
    refused(&mut t, &fx, acc, AidxError::OracleWrongAccountType).await;
}

#[tokio::test]
async fn wrong_feed() {
    let (mut t, fx, now) = setup().await;
    t.post_prices(&fx, &prices(now)).await;
    // A feed of no row of the index.
    let acc = price_update_account([0xab; 32], prices(now)[1], VerificationLevel::Full);
    refused(&mut t, &fx, acc, AidxError::OracleWrongFeed).await;
    // Another row's feed in this row's place: it is that row's update, and that row is then
    // refreshed twice.
    let other = feed_of(&t.index(&fx).await, 2);
    let acc = price_update_account(other, prices(now)[1], VerificationLevel::Full);
    refused(&mut t, &fx, acc, AidxError::PriceAccountDuplicate).await;
}

#[tokio::test]
async fn partial_verification() {
    let (mut t, fx, now) = setup().await;
    t.post_prices(&fx, &prices(now)).await;
    let feed = feed_of(&t.index(&fx).await, 1);
    for n in [1u8, 5, 255] {
        let acc = price_update_account(
            feed,
            prices(now)[1],
            VerificationLevel::Partial { num_signatures: n },
        );
        refused(&mut t, &fx, acc, AidxError::OracleNotFullyVerified).await;
    }
}

#[tokio::test]
async fn stale() {
    let (mut t, fx, now) = setup().await;
    // Exactly max age old is accepted; one second more is refused.
    let mut p = prices(now - MAX_AGE);
    t.post_prices(&fx, &p).await;
    events(t.refresh_prices(&fx).await);
    t.chain.set_unix_timestamp(now + 1).await.unwrap();
    let feed = feed_of(&t.index(&fx).await, 1);
    p[1].publish_time = now - MAX_AGE; // same publish time, now one second too old
    refused(
        &mut t,
        &fx,
        price_update_account(feed, p[1], VerificationLevel::Full),
        AidxError::OracleStale,
    )
    .await;
    // Far in the future the same holds.
    t.chain.set_unix_timestamp(now + 86_400).await.unwrap();
    p[1].publish_time = now + 86_400 - MAX_AGE - 1;
    refused(
        &mut t,
        &fx,
        price_update_account(feed, p[1], VerificationLevel::Full),
        AidxError::OracleStale,
    )
    .await;
}

#[tokio::test]
async fn older_than_last_used() {
    let (mut t, fx, now) = setup().await;
    t.post_prices(&fx, &prices(now)).await;
    events(t.refresh_prices(&fx).await);
    // The same publish time again is fine (nothing older was used)...
    events(t.refresh_prices(&fx).await);
    // ...an older one, even within max age, is not: no replaying an earlier price.
    let feed = feed_of(&t.index(&fx).await, 1);
    let mut p = prices(now)[1];
    p.publish_time = now - 1;
    refused(
        &mut t,
        &fx,
        price_update_account(feed, p, VerificationLevel::Full),
        AidxError::OracleOlderThanLast,
    )
    .await;
}

#[tokio::test]
async fn zero_or_negative_price() {
    let (mut t, fx, now) = setup().await;
    t.post_prices(&fx, &prices(now)).await;
    let feed = feed_of(&t.index(&fx).await, 1);
    for price in [0i64, -1, i64::MIN] {
        let p = PythPrice {
            price,
            conf: 0,
            exponent: -8,
            publish_time: now,
        };
        refused(
            &mut t,
            &fx,
            price_update_account(feed, p, VerificationLevel::Full),
            AidxError::OracleNonPositivePrice,
        )
        .await;
    }
}

#[tokio::test]
async fn confidence_too_wide() {
    let (mut t, fx, now) = setup().await;
    let max_bps = IndexParams::default().oracle_max_conf_bps as u64; // 2%
    let mut p = prices(now);
    p[1].conf = p[1].price as u64 * max_bps / 10_000; // exactly at the bound: accepted
    t.post_prices(&fx, &p).await;
    events(t.refresh_prices(&fx).await);
    let feed = feed_of(&t.index(&fx).await, 1);
    p[1].conf += 1;
    refused(
        &mut t,
        &fx,
        price_update_account(feed, p[1], VerificationLevel::Full),
        AidxError::OracleConfidenceTooWide,
    )
    .await;
}

#[tokio::test]
async fn extreme_exponents() {
    let (mut t, fx, now) = setup().await;
    t.post_prices(&fx, &prices(now)).await;
    let feed = feed_of(&t.index(&fx).await, 1);
    for exponent in [-19, 7, i32::MIN, i32::MAX] {
        let p = PythPrice {
            price: 100,
            conf: 0,
            exponent,
            publish_time: now,
        };
        refused(
            &mut t,
            &fx,
            price_update_account(feed, p, VerificationLevel::Full),
            AidxError::OracleBadExponent,
        )
        .await;
    }
    // In range but too small for the index's precision, or too large for it.
    let tiny = PythPrice {
        price: 1,
        conf: 0,
        exponent: -18,
        publish_time: now,
    };
    refused(
        &mut t,
        &fx,
        price_update_account(feed, tiny, VerificationLevel::Full),
        AidxError::OraclePriceOutOfRange,
    )
    .await;
    // A mantissa of 1,999,999 at -18 would be stored as 1 unit (-50%): refused by name, as is
    // anything below 10,000 units; at 10,000 units it is accepted.
    for mantissa in [1_999_999i64, 9_999_999_999] {
        let low = PythPrice {
            price: mantissa,
            conf: 0,
            exponent: -18,
            publish_time: now,
        };
        refused(
            &mut t,
            &fx,
            price_update_account(feed, low, VerificationLevel::Full),
            AidxError::OraclePricePrecisionLost,
        )
        .await;
    }
    let edge = PythPrice {
        price: 10_000_000_000,
        conf: 1,
        exponent: -18,
        publish_time: now,
    };
    t.chain.set_account(
        &price_key(&fx, 1),
        price_update_account(feed, edge, VerificationLevel::Full),
    );
    events(t.refresh_prices(&fx).await);
    let c = t.index(&fx).await.constituents()[1];
    // price 1e-8 USD is 10,000 units; a confidence of 1e-18 rounds up to one unit
    assert_eq!((c.price, c.conf), (10_000, 1));
    let huge = PythPrice {
        price: i64::MAX,
        conf: 0,
        exponent: 6,
        publish_time: now,
    };
    refused(
        &mut t,
        &fx,
        price_update_account(feed, huge, VerificationLevel::Full),
        AidxError::OraclePriceOutOfRange,
    )
    .await;
}

#[tokio::test]
async fn price_accounts_of_any_subset_in_any_order() {
    let (mut t, fx, now) = setup().await;
    t.post_prices(&fx, &prices(now)).await;
    let keys: Vec<_> = (0..3).map(|i| price_key(&fx, i)).collect();
    // None, or more than one per row: refused by name.
    let ix = client::refresh_prices(&fx.key, &[]);
    assert_aidx_error(&t.send(ix, &[]).await, AidxError::PriceAccountsMismatch);
    let mut more = keys.clone();
    more.push(keys[0]);
    let ix = client::refresh_prices(&fx.key, &more);
    assert_aidx_error(&t.send(ix, &[]).await, AidxError::PriceAccountsMismatch);
    let ix = client::refresh_prices(&fx.key, &[keys[2], keys[0], keys[2]]);
    assert_aidx_error(&t.send(ix, &[]).await, AidxError::PriceAccountDuplicate);
    // A subset in any order: each update lands on the row of its feed, the others keep theirs.
    let ev = events(
        t.send(client::refresh_prices(&fx.key, &[keys[2], keys[0]]), &[])
            .await,
    );
    let e = &events_of::<aidx::events::PricesRefreshed>(&ev)[0];
    assert_eq!(e.refreshed, 0b101);
    let index = t.index(&fx).await;
    let p = prices(now);
    for (i, c) in index.constituents().iter().enumerate() {
        if i == 1 {
            assert_eq!(c.price, 0, "row 1 was not refreshed");
        } else {
            assert_eq!(c.publish_time, p[i].publish_time, "row {i}");
            assert!(c.price > 0, "row {i}");
        }
    }
    // Row 1 alone.
    let ev = events(
        t.send(client::refresh_prices(&fx.key, &[keys[1]]), &[])
            .await,
    );
    assert_eq!(
        events_of::<aidx::events::PricesRefreshed>(&ev)[0].refreshed,
        0b010
    );
    assert!(t.index(&fx).await.constituents()[1].price > 0);
}
