//! Keepers with fresh Pyth prices: against a mock Hermes on loopback (accumulator updates built
//! with pythnet-sdk, signed by its test guardians), the keeper plans the transactions that post
//! them (sizes and compute-unit limits), posts them through the embedded runtime's emulated
//! Wormhole receiver and push oracle, and the trade that needed them goes through; a Hermes that
//! is down, slow, failing, malformed, stale or missing a feed gets a named error and no trade.

use aidx::math::ONE_SHARE;
use aidx_cli::keeper::{run, RunConfig, RunOptions};
use aidx_client::holder::{self, Request};
use aidx_client::pull::hermes::{Hermes, HermesError};
use aidx_client::pull::post::Poster;
use aidx_client::{AidxEvent, Chain as _};
use aidx_embedded::Embedded;
use aidx_localnet::hermes::{HermesFault, MockHermes};
use anchor_lang::AnchorDeserialize;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};
use std::time::Duration;

/// The demo's chain a minute later (every stored and pushed price too old to trade), and a
/// mock Hermes publishing each constituent's stored price at `published` seconds before then.
async fn setup(tag: &str, published: i64) -> (Embedded, aidx_client::Book, MockHermes, i64) {
    let (mut chain, book) = crate::demo_chain(tag).await;
    let now = chain.get_clock().await.unwrap().unix_timestamp + 60;
    chain.set_unix_timestamp(now).await.unwrap();
    let index = chain.index(&book.index_key().unwrap()).await.unwrap();
    let hermes = MockHermes::start().unwrap();
    for c in index.constituents() {
        // Stored prices carry 12 decimals; Pyth's crypto feeds 8.
        hermes.set_price(c.feed_id, (c.price / 10_000) as i64, now - published);
    }
    (chain, book, hermes, now)
}

fn poster(url: &str, timeout: Duration) -> Poster {
    Poster {
        hermes: Hermes::new(url, timeout).unwrap(),
        treasury_id: None,
        compute_unit_price: 1_000,
        margin_secs: aidx_client::pull::post::POSTING_MARGIN_SECS,
    }
}

async fn pushed(chain: &mut Embedded, feed: &[u8; 32]) -> PriceUpdateV2 {
    let key = aidx_client::push_feed_address(0, feed);
    let data = chain
        .get_account(&key)
        .await
        .unwrap()
        .expect("a push feed")
        .data;
    PriceUpdateV2::deserialize(&mut &data[8..]).unwrap()
}

async fn raw(chain: &mut Embedded, feed: &[u8; 32]) -> Vec<u8> {
    let key = aidx_client::push_feed_address(0, feed);
    chain
        .get_account(&key)
        .await
        .unwrap()
        .expect("a push feed")
        .data
}

fn mint_one_tao() -> Request {
    Request::MintSingle {
        symbol: "TAO".into(),
        amount: "1".into(),
    }
}

#[tokio::test]
async fn a_keeper_posts_fresh_pyth_prices_then_the_trade_goes_through() {
    let (mut chain, book, hermes, now) = setup("pyth-post", 2).await;
    let index = chain.index(&book.index_key().unwrap()).await.unwrap();
    let feeds = aidx_client::refresh_feed_ids(&index);

    // Without fresh prices the trade is refused by the oracle gate.
    let err = holder::execute(&mut chain, &book, "alice", mint_one_tao(), 100)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("PriceTooOldToTrade"), "{err}");

    // The plan: the VAA written and verified, one push-feed update per constituent, every
    // transaction inside a packet with its compute-unit limit; nothing sent.
    let p = poster(&hermes.url, Duration::from_secs(5));
    let before = raw(&mut chain, &feeds[0]).await;
    let planned = p.post_for_index(&mut chain, &index, true).await.unwrap();
    let labels: Vec<&str> = planned
        .transactions
        .iter()
        .map(|t| t.label.as_str())
        .collect();
    assert_eq!(
        labels[0],
        "create the VAA's account, init the VAA's account, write the VAA"
    );
    assert!(
        labels[1].starts_with("write the VAA, verify the VAA"),
        "{labels:?}"
    );
    assert_eq!(labels.last(), Some(&"close the VAA's account"));
    let updates: usize = planned
        .transactions
        .iter()
        .map(|t| t.label.matches("update a push feed").count())
        .sum();
    assert!(
        updates >= 1 && planned.transactions.len() >= 4,
        "{labels:?}"
    );
    for t in &planned.transactions {
        assert!(t.bytes <= 1232 && t.compute_units <= 1_400_000, "{t:?}");
        assert!(t.signature.is_none());
    }
    assert_eq!(raw(&mut chain, &feeds[0]).await, before);
    for t in &planned.transactions {
        println!("{} bytes, {} CU: {}", t.bytes, t.compute_units, t.label);
    }

    // Posted: every push feed holds Hermes' price, fully verified, published 2 s ago.
    let posted = p.post_for_index(&mut chain, &index, false).await.unwrap();
    assert_eq!(posted.transactions.len(), planned.transactions.len());
    assert!(posted.transactions.iter().all(|t| t.signature.is_some()));
    for (c, feed) in index.constituents().iter().zip(&feeds) {
        let u = pushed(&mut chain, feed).await;
        assert_eq!(u.verification_level, VerificationLevel::Full);
        assert_eq!(u.price_message.publish_time, now - 2);
        assert_eq!(u.price_message.price, (c.price / 10_000) as i64);
        assert_eq!(u.price_message.exponent, -8);
    }
    assert_eq!(hermes.served(), 2);

    // And the trade goes through, at those prices: a redeem into the row furthest above its
    // target (which moves it toward the target).
    let value = |c: &aidx::state::Constituent| {
        c.balance as u128 * c.price as u128 / 10u128.pow(c.decimals as u32)
    };
    let total: u128 = index.constituents().iter().map(value).sum();
    let over = |c: &aidx::state::Constituent| {
        (value(c) * 1_000_000_000 / total) as i128 - c.target_weight as i128
    };
    let heaviest = (0..index.constituents().len())
        .max_by_key(|i| over(&index.constituents()[*i]))
        .unwrap();
    let request = Request::RedeemSingle {
        symbol: book.symbol(heaviest),
        shares: ONE_SHARE / 10,
    };
    let events = holder::execute(&mut chain, &book, "alice", request, 100)
        .await
        .unwrap();
    let redeemed = events
        .iter()
        .find_map(|e| match e {
            AidxEvent::RedeemedSingle(r) => Some(r.clone()),
            _ => None,
        })
        .expect("redeemed");
    assert!(redeemed.amount_out > 0);
    let refreshed = chain.index(&book.index_key().unwrap()).await.unwrap();
    assert!(refreshed
        .constituents()
        .iter()
        .all(|c| c.publish_time == now - 2));
}

#[tokio::test]
async fn a_hermes_that_fails_gets_a_named_error_and_nothing_is_posted() {
    let (mut chain, book, hermes, now) = setup("pyth-faults", 2).await;
    let index = chain.index(&book.index_key().unwrap()).await.unwrap();
    let feeds = aidx_client::refresh_feed_ids(&index);
    let before = raw(&mut chain, &feeds[0]).await;
    let fails = |e: anyhow::Error| e.downcast::<HermesError>().expect("a Hermes error");

    // Down.
    let down = poster("http://127.0.0.1:9", Duration::from_secs(2));
    let e = fails(
        down.post_for_index(&mut chain, &index, false)
            .await
            .unwrap_err(),
    );
    assert!(matches!(e, HermesError::Unreachable { .. }), "{e}");
    // Slow.
    hermes.set_fault(HermesFault::Slow(Duration::from_secs(3)));
    let p = poster(&hermes.url, Duration::from_secs(1));
    let e = fails(
        p.post_for_index(&mut chain, &index, false)
            .await
            .unwrap_err(),
    );
    assert!(matches!(e, HermesError::Timeout { .. }), "{e}");
    // Failing.
    hermes.set_fault(HermesFault::Status(503));
    let e = fails(
        p.post_for_index(&mut chain, &index, false)
            .await
            .unwrap_err(),
    );
    assert!(matches!(e, HermesError::Status { status: 503, .. }), "{e}");
    // Malformed.
    hermes.set_fault(HermesFault::Malformed);
    let e = fails(
        p.post_for_index(&mut chain, &index, false)
            .await
            .unwrap_err(),
    );
    assert!(matches!(e, HermesError::Malformed(_)), "{e}");
    // A feed left out.
    hermes.set_fault(HermesFault::Missing(feeds[3]));
    let e = fails(
        p.post_for_index(&mut chain, &index, false)
            .await
            .unwrap_err(),
    );
    assert_eq!(e, HermesError::MissingFeed(hex::encode(feeds[3])));
    // Stale: published 8 s before the clock, the trade age (10 s) less the posting margin
    // (4 s) allows 6.
    hermes.set_fault(HermesFault::None);
    hermes.set_price(feeds[5], 1_00000000, now - 8);
    let e = fails(
        p.post_for_index(&mut chain, &index, false)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        HermesError::Stale {
            feed: hex::encode(feeds[5]),
            publish_time: now - 8,
            age: 8,
            max_age: 6
        }
    );
    assert_eq!(
        e.to_string(),
        format!(
            "Hermes' price for feed 0x{} was published at {}, 8 s before the cluster's clock; a trade needs it within 6 s",
            hex::encode(feeds[5]),
            now - 8
        )
    );
    // Nothing was posted by any of them.
    assert_eq!(raw(&mut chain, &feeds[0]).await, before);

    // The keeper's loop: a round that cannot post trades nothing, and says why.
    hermes.set_fault(HermesFault::Status(500));
    let config = RunConfig {
        interval_secs: 5,
        keeper: "keeper".into(),
        max_slippage_bps: 50,
        retries: 0,
        kill_switch: std::env::temp_dir().join("aidx-pyth-no-kill-switch"),
        max_rounds: Some(1),
    };
    let options = RunOptions {
        poster: Some(&p),
        ..Default::default()
    };
    let s = run(&mut chain, &book, &config, options, |_| Ok(()))
        .await
        .unwrap();
    assert_eq!((s.rounds, s.swaps, s.pyth_failures), (1, 0, 1));
    assert_eq!(raw(&mut chain, &feeds[0]).await, before);
}
