//! A backtest path replayed through the program on the embedded chain: the backtest's
//! simulation (the index in memory, moved by the program's shared code and the keeper's own
//! planner) and the chain (the program's instructions, sent by the keeper's `rebalance`) make
//! the same trades, unit for unit, and end with the same index.

use aidx::math::membership::MemberState;
use aidx_cli::backtest::{program, Config};
use aidx_client::sim::{drive, ChainVenue, Schedule, Sim, Venue};
use aidx_client::targets::{input_row, ranks};
use aidx_client::universe::{parse, Token, SAMPLE_UNIVERSE};
use aidx_client::Chain as _;

#[tokio::test]
async fn a_backtest_path_replayed_through_the_program_makes_the_same_trades() {
    // The default policy (a day's window after each review, the edge clip): trades at the
    // reviews only.
    let trades = replay("replay-default", None, 4).await;
    assert!(trades >= 4, "{trades}");
    // What the program allowed before (any day, to target): trades all along.
    let continuous = aidx::state::IndexParams {
        rebalance_window_secs: 0,
        clip: aidx::state::CLIP_TARGET,
        ..Default::default()
    };
    let trades = replay("replay-continuous", Some(continuous), 2).await;
    assert!(trades >= 20, "{trades}");
}

/// Replays `reviews` quarters of a backtest path from the demo's chain under `params` (the
/// demo's when `None`), in memory and on the chain; asserts the same trades, NAVs and index;
/// returns the number of trades.
async fn replay(tag: &str, params: Option<aidx::state::IndexParams>, reviews: usize) -> usize {
    let (mut chain, book) = crate::demo_chain(tag).await;
    let index_key = book.index_key().unwrap();
    if let Some(p) = params {
        let admin = book.wallet("admin").unwrap();
        let index = chain.load_index(&index_key).await.unwrap();
        let ix = aidx_client::instructions::set_params(
            &index_key,
            &index,
            &solana_sdk::signer::Signer::pubkey(&admin),
            p,
        );
        chain.send_ixs_ok(&[ix], &[&admin]).await.unwrap();
    }
    let index = chain.load_index(&index_key).await.unwrap();
    // The demo's constituents, table order, with their mints' methodology inputs.
    let universe = parse(SAMPLE_UNIVERSE).unwrap();
    let tokens: Vec<Token> = (0..index.constituents().len())
        .map(|row| {
            let symbol = book.symbol(row);
            universe
                .iter()
                .find(|t| t.symbol == symbol)
                .cloned()
                .unwrap()
        })
        .collect();
    let members: Vec<MemberState> = index
        .constituents()
        .iter()
        .map(|c| MemberState {
            member: c.member == 1,
            reviews_under_entry: c.reviews_under_entry,
        })
        .collect();
    let ranks = ranks(
        &tokens,
        &index.params.methodology(),
        &index.params.membership(),
        &members,
    )
    .unwrap();
    let rows: Vec<_> = tokens
        .iter()
        .zip(index.constituents())
        .zip(ranks)
        .map(|((t, c), r)| input_row(t, c.mint, r))
        .collect();
    // The keeper holds ten times each vault: it can pay in whatever a rebalance asks (its token
    // accounts' amounts written directly: a saved chain's mints answer to a payer of the past).
    let keeper = book.wallet("keeper").unwrap();
    for c in index.constituents() {
        let ata = aidx_client::address::ata(
            &solana_sdk::signer::Signer::pubkey(&keeper),
            &c.mint,
            &c.token_program,
        );
        let mut account = chain
            .account(&ata)
            .await
            .unwrap()
            .expect("the keeper's account");
        account.data[64..72].copy_from_slice(&c.balance.saturating_mul(10).to_le_bytes());
        chain.set_account(&ata, account);
    }

    // The backtest's price model from the demo's clock.
    let cfg = Config {
        years: 2,
        seed: 7,
        ..Config::default()
    };
    let usd = program::usd_path(&program::prices_of(&tokens, &cfg).unwrap()).unwrap();
    let start = chain.get_clock().await.unwrap().unix_timestamp;
    let s = Schedule {
        start,
        days: reviews * cfg.review_every_days as usize + 3,
        ..program::schedule(&cfg, &index.params).unwrap()
    };

    let mut sim = Sim::of(index, book.clone(), 2);
    let expected = drive(&mut sim, &usd, &rows, &s, |_| {}).await.unwrap();
    let mut venue = ChainVenue {
        chain,
        book: book.clone(),
        methodology_authority: book.wallet("admin").unwrap(),
        keeper,
        retries: 2,
    };
    let replayed = drive(&mut venue, &usd, &rows, &s, |_| {}).await.unwrap();

    let days: std::collections::BTreeSet<i64> = expected
        .trades
        .iter()
        .map(|t| (t.at - start) / 86_400)
        .collect();
    println!(
        "{} trades on days {days:?}; NAV ${:.2} -> ${:.2}",
        expected.trades.len(),
        expected.navs[0] as f64 / 1e12,
        expected.navs.last().copied().unwrap_or(0) as f64 / 1e12
    );
    // With a window, trades only in the windows after the reviews.
    if on_window(&params) {
        assert!(days.iter().all(|d| d % 91 == 0), "{days:?}");
    }
    assert_eq!(replayed.trades, expected.trades);
    assert_eq!(replayed.refused, expected.refused);
    assert_eq!(replayed.navs, expected.navs);
    // The same index: balances, targets, prices, the auction clock, the window, the review.
    let on_chain = venue.index().await.unwrap();
    let mem = sim.index().await.unwrap();
    for (a, b) in on_chain.constituents().iter().zip(mem.constituents()) {
        assert_eq!(
            (a.balance, a.target_weight, a.price, a.conf, a.publish_time),
            (b.balance, b.target_weight, b.price, b.conf, b.publish_time)
        );
        assert_eq!(
            (a.member, a.rank, a.reviews_under_entry, a.status),
            (b.member, b.rank, b.reviews_under_entry, b.status)
        );
    }
    assert_eq!(
        (
            on_chain.imbalance_started_at,
            on_chain.breach_started_at,
            on_chain.window_opened_at,
            on_chain.last_review_at,
            on_chain.share_supply
        ),
        (
            mem.imbalance_started_at,
            mem.breach_started_at,
            mem.window_opened_at,
            mem.last_review_at,
            mem.share_supply
        )
    );
    expected.trades.len()
}

fn on_window(params: &Option<aidx::state::IndexParams>) -> bool {
    params.is_none_or(|p| p.rebalance_window_secs > 0)
}
