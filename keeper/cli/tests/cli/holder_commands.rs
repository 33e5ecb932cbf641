//! The keeper's holder commands (`aidx nav`, `oracle`, `mint`, `redeem`) on a saved embedded
//! chain: state round trip, slippage bounds, skip lists.

use aidx::math::shares::{mint_deposit, redeem_payout};
use aidx::math::ONE_SHARE;
use aidx_cli::demo;
use aidx_client::holder::{self, less_slippage, plus_slippage, Request};
use aidx_client::universe::SAMPLE_UNIVERSE;
use aidx_client::DevChain as _;
use aidx_client::{self as client, AidxEvent};
use aidx_embedded::state;
use solana_sdk::signer::Signer;

fn temp_state(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("aidx-{name}-{}.state", std::process::id()))
}

#[tokio::test]
async fn holder_commands_on_a_saved_chain() {
    let path = temp_state("holder");
    let mut sink = Vec::new();
    demo::run(SAMPLE_UNIVERSE, &mut sink, Some(&path))
        .await
        .expect("demo");

    // The saved state loads into a fresh runtime with the same index.
    let (mut chain, book) = state::load(&path).await.unwrap();
    let index_key = book.index_key().unwrap();
    let before = chain.index(&index_key).await.unwrap();
    assert_eq!(book.symbols.len(), before.constituents().len());

    // Prices are re-published now (the saved ones may have aged), then NAV reads them.
    chain
        .publish_prices(&book, &[("TAO".into(), "500".into())], 10)
        .await
        .unwrap();
    let nav = holder::nav(&mut chain, &book, false).await.unwrap();
    assert_eq!(nav.constituents[0].symbol, "TAO");
    assert_eq!(nav.constituents[0].price_usd, "500.0000");
    // nav simulates: nothing is committed
    assert_eq!(
        chain.index(&index_key).await.unwrap().constituents()[0].price,
        before.constituents()[0].price
    );

    // In kind: deposits are exactly the program's share math, within the slippage bound.
    let alice = book.wallet("alice").unwrap();
    let shares_ata = client::ata(
        &alice.pubkey(),
        &before.share_mint,
        &client::TOKEN_PROGRAM_ID,
    );
    let held = chain.token_balance(&shares_ata).await.unwrap();
    let ev = holder::execute(
        &mut chain,
        &book,
        "alice",
        Request::MintInKind {
            shares: 3 * ONE_SHARE,
        },
        25,
    )
    .await
    .unwrap();
    let [AidxEvent::MintedInKind(m)] = &ev[..] else {
        panic!("{ev:?}")
    };
    for (c, amount) in before.constituents().iter().zip(&m.amounts_in) {
        let need = mint_deposit(3 * ONE_SHARE, c.balance, before.share_supply).unwrap();
        assert_eq!(*amount, need);
        assert!(*amount <= plus_slippage(need, 25).unwrap());
    }
    assert_eq!(
        chain.token_balance(&shares_ata).await.unwrap(),
        held + 3 * ONE_SHARE
    );

    // The transaction's shape is chosen by measurement and named: 17 plain legs fit through
    // the index's lookup table alone (8 accounts + 2 a leg + program, compute budget, payer).
    let dry = holder::execute_with(
        &mut chain,
        &book,
        "alice",
        Request::MintInKind { shares: ONE_SHARE },
        25,
        true,
    )
    .await
    .unwrap();
    assert_eq!(dry.shape, "the index's lookup table");
    assert_eq!(dry.footprint.locks, 8 + 2 * 17 + 3);
    assert!(dry.footprint.fits(), "{}", dry.describe());
    assert!(
        dry.describe()
            .starts_with("one v0 transaction through the index's lookup table: "),
        "{}",
        dry.describe()
    );
    // Without any lookup table the same mint fits no shape, and the error says why.
    let mut bare = book.clone();
    bare.lookup_tables.clear();
    let err = holder::execute_with(
        &mut chain,
        &bare,
        "alice",
        Request::MintInKind { shares: ONE_SHARE },
        25,
        true,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("fits no way of sending it (no lookup table: ")
            && err.contains("bytes of 1232, 45 account locks of 64"),
        "{err}"
    );

    // Redeem in kind skipping SOL: refused, SOL can move (only a frozen or paused leg may be
    // skipped); nothing is sent.
    let sol = book.row_of("sol").unwrap();
    let idx = chain.index(&index_key).await.unwrap();
    let err = holder::execute(
        &mut chain,
        &book,
        "bob",
        Request::RedeemInKind {
            shares: 2 * ONE_SHARE,
            skip: vec!["SOL".into()],
        },
        0,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("SkippedLegCanMove"), "{err}");
    assert_eq!(
        chain.index(&index_key).await.unwrap().share_supply,
        idx.share_supply
    );
    let ev = holder::execute(
        &mut chain,
        &book,
        "bob",
        Request::RedeemInKind {
            shares: 2 * ONE_SHARE,
            skip: vec![],
        },
        0,
    )
    .await
    .unwrap();
    let [AidxEvent::RedeemedInKind(r)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(r.skip_mask, 0);
    for (c, paid) in idx.constituents().iter().zip(&r.amounts_out) {
        assert_eq!(
            *paid,
            redeem_payout(2 * ONE_SHARE, c.balance, idx.share_supply).unwrap()
        );
    }
    assert!(r.amounts_out[sol] > 0);

    // Single-asset redeem into SOL (at its cap, so redeeming into it moves it down): quoted by
    // simulation, sent with a zero slippage bound, so it pays exactly the quote.
    let ev = holder::execute(
        &mut chain,
        &book,
        "alice",
        Request::RedeemSingle {
            symbol: "SOL".into(),
            shares: ONE_SHARE / 2,
        },
        0,
    )
    .await
    .unwrap();
    let paid = ev.iter().find_map(|e| match e {
        AidxEvent::RedeemedSingle(r) => Some(r.amount_out),
        _ => None,
    });
    assert!(paid.unwrap() > 0);

    bad_requests_are_refused(&mut chain, &book).await;

    // NAV from stored prices (no simulation: what works against any RPC node) equals the
    // simulated refresh + report once the same prices are stored.
    let index = chain.index(&index_key).await.unwrap();
    let feeds = client::price_feed_accounts(&index);
    chain
        .send_ok(&[client::refresh_prices(&index_key, &feeds)], &[])
        .await
        .unwrap();
    let simulated = holder::nav(&mut chain, &book, false).await.unwrap();
    let stored = holder::nav(&mut chain, &book, true).await.unwrap();
    assert_eq!(
        (
            simulated.nav_usd,
            simulated.value_per_share_usd,
            simulated.share_supply
        ),
        (
            stored.nav_usd,
            stored.value_per_share_usd,
            stored.share_supply
        )
    );

    // Save and load again: the index is byte-identical.
    state::save(&mut chain, &book, &path).await.unwrap();
    let data = chain.account_data(&index_key).await.unwrap();
    let (mut again, _) = state::load(&path).await.unwrap();
    assert_eq!(again.account_data(&index_key).await.unwrap(), data);
    std::fs::remove_file(&path).ok();
}

#[test]
fn slippage_rounds_toward_the_holder_bound() {
    assert_eq!(less_slippage(10_000, 50).unwrap(), 9_950);
    assert_eq!(less_slippage(999, 1).unwrap(), 998); // 998.9001 rounds down
    assert_eq!(plus_slippage(999, 1).unwrap(), 1_000); // 999.0999 rounds up
    assert_eq!(plus_slippage(0, 5_000).unwrap(), 0);
}

/// Bad requests are refused before anything is sent, and what the program refuses is named.
async fn bad_requests_are_refused(chain: &mut aidx_embedded::Embedded, book: &aidx_client::Book) {
    // Bad requests are refused before anything is sent.
    let err = holder::execute(
        chain,
        book,
        "carol",
        Request::MintInKind { shares: ONE_SHARE },
        0,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no wallet \"carol\""), "{err}");
    let err = holder::execute(
        chain,
        book,
        "alice",
        Request::MintSingle {
            symbol: "XYZ".into(),
            amount: "1".into(),
        },
        0,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no constituent \"XYZ\""), "{err}");
    let err = holder::execute(
        chain,
        book,
        "alice",
        Request::MintInKind { shares: ONE_SHARE },
        5_001,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("above 5000"), "{err}");

    // A holder who cannot pay is told which constituent and how much, before anything is sent.
    let err = holder::execute(
        chain,
        book,
        "alice",
        Request::MintInKind {
            shares: 1_000_000 * ONE_SHARE,
        },
        0,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("alice holds ")
            && err.contains(&format!(" {}; this mint needs ", book.symbols[0])),
        "{err}"
    );
    // A transaction the program refuses names the program's error.
    let err = holder::execute(
        chain,
        book,
        "alice",
        Request::RedeemInKind {
            shares: 200 * ONE_SHARE,
            skip: vec![],
        },
        0,
    )
    .await
    .unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "transaction failed at instruction 1: aidx InsufficientShares: Holder has fewer shares than requested (code 6055)",
    );
}

/// On a full table (the 24-token universe) `mint` and `redeem` need the holder's lookup table
/// as well as the index's: they pick that shape by measurement, say so, and fit mainnet's
/// limits; without the holder's table no shape fits and the error says why.
#[tokio::test]
async fn a_full_table_goes_through_the_holders_lookup_table() {
    let universe = include_str!("../data/universe-24.csv");
    let path = temp_state("full-table");
    let mut sink = Vec::new();
    let setup = demo::Setup {
        max_members: 24,
        ..demo::Setup::random()
    };
    demo::run_with(setup, universe, &mut sink, Some(&path))
        .await
        .expect("demo");
    let (mut chain, book) = state::load(&path).await.unwrap();
    std::fs::remove_file(&path).ok();
    let index_key = book.index_key().unwrap();
    assert_eq!(chain.index(&index_key).await.unwrap().num_constituents, 24);
    for request in [
        Request::MintInKind { shares: ONE_SHARE },
        Request::RedeemInKind {
            shares: ONE_SHARE,
            skip: vec![],
        },
    ] {
        let done = holder::execute_with(&mut chain, &book, "alice", request, 25, false)
            .await
            .unwrap();
        assert_eq!(done.shape, "the index's and alice's lookup tables");
        assert!(done.footprint.fits(), "{}", done.describe());
        assert!(done.footprint.locks <= 59, "{}", done.describe());
        assert_eq!(done.events.len(), 1);
    }
    let mut index_only = book.clone();
    index_only.lookup_tables.remove("alice");
    let err = holder::execute_with(
        &mut chain,
        &index_only,
        "alice",
        Request::MintInKind { shares: ONE_SHARE },
        25,
        true,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("the index's lookup table: ") && err.contains("bytes of 1232"),
        "{err}"
    );
}

/// An index that charges mint, redeem and management fees: the holder's in-kind quotes ask
/// for the shares net of the mint fee and the payouts net of the redeem fee, divided by the
/// supply after the management fee's accrual (the program's order), so both land; the amounts
/// are exactly the quotes.
#[tokio::test]
async fn in_kind_quotes_follow_the_fees_the_index_charges() {
    use aidx_cli::commands::admin::{AdminCommand, ParamChanges};
    use aidx_client::Chain as _;
    let (mut chain, book) = crate::demo_chain("holder-fees").await;
    let index_key = book.index_key().unwrap();
    let changes = ParamChanges {
        mint_fee_bps: Some(30),
        redeem_fee_bps: Some(40),
        management_fee_bps: Some(200),
        ..Default::default()
    };
    aidx_cli::commands::admin::run(
        &mut chain,
        &book,
        "admin",
        AdminCommand::SetParams(changes),
        false,
    )
    .await
    .unwrap();
    // Ninety days without a supply change: 2% a year accrues about 0.49% of the supply, far
    // past a 10 bps slippage bound, on the next mint or redeem.
    let now = chain.get_clock().await.unwrap().unix_timestamp;
    chain.set_unix_timestamp(now + 90 * 86_400).await.unwrap();
    let before = chain.index(&index_key).await.unwrap();
    let mint_supply = chain.supply_of(&before.share_mint).await.unwrap();
    let at = holder::as_of(&before, mint_supply, now + 90 * 86_400).unwrap();
    assert!(at.share_supply > before.share_supply + before.share_supply / 250);

    let ev = holder::execute(
        &mut chain,
        &book,
        "alice",
        Request::MintInKind {
            shares: 2 * ONE_SHARE,
        },
        10,
    )
    .await
    .unwrap();
    let minted = ev
        .iter()
        .find_map(|e| match e {
            AidxEvent::MintedInKind(m) => Some(m.clone()),
            _ => None,
        })
        .expect("minted");
    let fee = aidx::math::fees::fee_on(2 * ONE_SHARE, 30).unwrap();
    assert_eq!(
        (minted.shares, minted.fee_shares),
        (2 * ONE_SHARE - fee, fee)
    );
    assert_eq!(
        holder::in_kind_net_shares(&at, 2 * ONE_SHARE).unwrap(),
        minted.shares
    );
    // Deposits divide by the supply after the accrual: exactly the quote on the index as of now.
    let quoted =
        holder::in_kind_deposits(&at, 2 * ONE_SHARE, now + 90 * 86_400, &[false; 17]).unwrap();
    assert_eq!(minted.amounts_in, quoted);

    // Another ninety days, then a redeem: paid on the net shares against the accrued supply.
    chain.set_unix_timestamp(now + 180 * 86_400).await.unwrap();
    let before = chain.index(&index_key).await.unwrap();
    let mint_supply = chain.supply_of(&before.share_mint).await.unwrap();
    let at = holder::as_of(&before, mint_supply, now + 180 * 86_400).unwrap();
    let quoted = holder::in_kind_payouts(&at, ONE_SHARE, 0).unwrap();
    let ev = holder::execute(
        &mut chain,
        &book,
        "alice",
        Request::RedeemInKind {
            shares: ONE_SHARE,
            skip: vec![],
        },
        10,
    )
    .await
    .unwrap();
    let redeemed = ev
        .iter()
        .find_map(|e| match e {
            AidxEvent::RedeemedInKind(r) => Some(r.clone()),
            _ => None,
        })
        .expect("redeemed");
    let fee = aidx::math::fees::fee_on(ONE_SHARE, 40).unwrap();
    assert_eq!(redeemed.fee_shares, fee);
    assert_eq!(redeemed.amounts_out, quoted);
    for (c, paid) in before.constituents().iter().zip(&redeemed.amounts_out) {
        assert_eq!(
            *paid,
            redeem_payout(ONE_SHARE - fee, c.balance, at.share_supply).unwrap()
        );
    }
    // What a quote on the stored supply would have promised: more than is paid.
    let naive: u64 = before
        .constituents()
        .iter()
        .map(|c| redeem_payout(ONE_SHARE - fee, c.balance, before.share_supply).unwrap())
        .sum();
    assert!(redeemed.amounts_out.iter().sum::<u64>() < naive);
}
