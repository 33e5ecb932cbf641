//! The methodology on-chain: `set_methodology_inputs` (methodology authority only),
//! `recompute_targets` (permissionless, fresh prices, once per review period or after
//! `open_review`), and targets equal to the keeper's off-chain computation, unit for unit.

use aidx::errors::AidxError;
use aidx::events::MethodologyInputRow;
use aidx::instructions::SetMethodologyInputsArgs;
use aidx::math::methodology::{
    compute_targets, MethodologyParams, TokenFacts, DEFAULT_MIN_DEPTH_USD, DEFAULT_MIN_VOLUME_USD,
};
use aidx::math::{USD_SCALE, WEIGHT_SCALE};
use aidx::state::IndexParams;
use aidx_client::{self as client, AidxEvent};
use aidx_tests::*;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

const N: usize = 10;

fn row(i: usize) -> MethodologyInputRow {
    MethodologyInputRow {
        circulating_supply: 1_000_000 * (i as u64 + 1) * (i as u64 + 1),
        avg_daily_volume_usd: if i == 6 { 4_999_999 } else { 50_000_000 },
        depth_usd: if i == 5 {
            Some(499_999)
        } else if i == 4 {
            None
        } else {
            Some(2_000_000)
        },
        unlock: i == 3,
        sub_sector: (i % 8) as u8,
        bucket: u8::from(i % 8 == 7),
    }
}

fn usd(i: usize) -> u128 {
    USD_SCALE * (i as u128 + 2) / 2
}

async fn setup() -> (TestContext, IndexFixture) {
    let mut t = TestContext::new().await;
    let fx = t.create_index(N, |_| 1_000).await;
    (t, fx)
}

async fn post_inputs(
    t: &mut TestContext,
    fx: &IndexFixture,
    observed_at: i64,
    rows: Vec<MethodologyInputRow>,
) -> TxResult {
    let payer = t.payer();
    let ix = client::set_methodology_inputs(
        &fx.key,
        &payer,
        SetMethodologyInputsArgs { observed_at, rows },
    );
    t.send(ix, &[]).await
}

async fn recompute(t: &mut TestContext, fx: &IndexFixture) -> TxResult {
    let n = t.index(fx).await.num_constituents as usize;
    let keys: Vec<_> = (0..n).map(|i| price_key(fx, i)).collect();
    let ixs = [
        client::refresh_prices(&fx.key, &keys),
        client::recompute_targets(&fx.key),
    ];
    t.chain.send(&ixs, &[]).await.unwrap()
}

fn params() -> MethodologyParams {
    let p = IndexParams::default();
    MethodologyParams {
        max_weight: p.max_weight,
        unlock_haircut: p.unlock_haircut,
        pure_play_share: p.pure_play_share,
        min_volume_usd: DEFAULT_MIN_VOLUME_USD as u128,
        min_depth_usd: DEFAULT_MIN_DEPTH_USD as u128,
    }
}

#[tokio::test]
async fn targets_equal_the_off_chain_methodology_unit_for_unit() {
    let (mut t, fx) = setup().await;
    let now = t.now().await;
    let rows: Vec<_> = (0..N).map(row).collect();
    let ev = events(post_inputs(&mut t, &fx, now, rows.clone()).await);
    let [AidxEvent::MethodologyInputsSet(e)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!((e.observed_at, &e.rows), (now, &rows));

    let prices: Vec<u128> = (0..N).map(usd).collect();
    let now = t.now().await;
    let pyth: Vec<PythPrice> = prices
        .iter()
        .map(|p| PythPrice::from_usd_scaled(*p, 10, now))
        .collect();
    t.post_prices(&fx, &pyth).await;
    let ev = events(recompute(&mut t, &fx).await);
    let Some(AidxEvent::TargetsRecomputed(r)) = ev
        .iter()
        .find(|e| matches!(e, AidxEvent::TargetsRecomputed(_)))
    else {
        panic!("{ev:?}")
    };

    // Off-chain, from the same facts.
    let facts: Vec<TokenFacts> = rows
        .iter()
        .zip(&prices)
        .map(|(r, p)| TokenFacts {
            price: *p,
            circulating_supply: r.circulating_supply as u128,
            avg_daily_volume_usd: r.avg_daily_volume_usd as u128,
            depth_usd: r.depth_usd.map(u128::from),
            unlock: r.unlock,
            host: r.bucket == 1,
        })
        .collect();
    let off = compute_targets(&facts, &params()).unwrap();
    let want: Vec<u64> = off.iter().map(|x| x.target).collect();
    let index = t.index(&fx).await;
    let stored: Vec<u64> = index
        .constituents()
        .iter()
        .map(|c| c.target_weight)
        .collect();
    assert_eq!(stored, want);
    assert_eq!(r.targets, want);
    assert_eq!(want.iter().sum::<u64>(), WEIGHT_SCALE);
    // row 6: volume below the floor; row 5: depth below the floor; row 4: depth not reported
    assert_eq!(r.ineligible, vec![0, 0, 0, 0, 0, 2, 1, 0, 0, 0]);
    assert_eq!((want[5], want[6]), (0, 0));
    assert!(want[4] > 0);
    // row 3 is unlock-flagged: it keeps 75% of its capped weight
    assert_eq!(want[3], (off[3].capped_weight as u128 * 75 / 100) as u64);
    // The event carries every input and price: replaying it gives the same targets.
    assert_eq!(r.inputs, rows);
    assert_eq!(
        r.prices,
        prices.iter().map(|p| *p as u64).collect::<Vec<_>>()
    );
    assert_eq!(r.max_weight, params().max_weight);
    assert_eq!(index.last_review_at, t.now().await);
}

#[tokio::test]
async fn review_period_and_open_review() {
    let (mut t, fx) = setup().await;
    let now = t.now().await;
    events(post_inputs(&mut t, &fx, now, (0..N).map(row).collect()).await);
    let prices: Vec<u128> = (0..N).map(usd).collect();
    events(t.set_prices(&fx, &prices, 10).await);
    events(recompute(&mut t, &fx).await);
    // Again in the same period: refused.
    assert_aidx_error(&recompute(&mut t, &fx).await, AidxError::ReviewNotDue);
    // Only the admin opens a review.
    let stranger = Keypair::new();
    let ix = client::open_review(&fx.key, &stranger.pubkey());
    assert_aidx_error(
        &t.send(ix, &[&stranger]).await,
        AidxError::UnauthorizedAdmin,
    );
    let ix = client::open_review(&fx.key, &fx.admin.pubkey());
    let ev = events(t.send(ix, &[&fx.admin]).await);
    assert!(matches!(&ev[..], [AidxEvent::ReviewOpened(_)]));
    events(recompute(&mut t, &fx).await);
    assert_aidx_error(&recompute(&mut t, &fx).await, AidxError::ReviewNotDue);
    // A quarter later it is due again (prices must be fresh then too).
    let period = IndexParams::default().review_period_secs as i64;
    let later = t.now().await + period;
    t.warp_to_time(later).await;
    assert_aidx_error(&recompute(&mut t, &fx).await, AidxError::OracleStale);
    let now = t.now().await;
    let pyth: Vec<PythPrice> = prices
        .iter()
        .map(|p| PythPrice::from_usd_scaled(*p, 10, now))
        .collect();
    t.post_prices(&fx, &pyth).await;
    events(recompute(&mut t, &fx).await);
}

#[tokio::test]
async fn stale_prices_stop_recompute() {
    let (mut t, fx) = setup().await;
    let now = t.now().await;
    events(post_inputs(&mut t, &fx, now, (0..N).map(row).collect()).await);
    let prices: Vec<u128> = (0..N).map(usd).collect();
    events(t.set_prices(&fx, &prices, 10).await);
    let later = t.now().await + IndexParams::default().oracle_max_age_secs as i64 + 1;
    t.warp_to_time(later).await;
    let ix = client::recompute_targets(&fx.key);
    assert_aidx_error(&t.send(ix, &[]).await, AidxError::StalePrice);
}

#[tokio::test]
async fn infeasible_cap_is_a_named_error() {
    let mut t = TestContext::new().await;
    let fx = t.create_index(3, |_| 1_000).await;
    let now = t.now().await;
    events(post_inputs(&mut t, &fx, now, (0..3).map(row).collect()).await);
    events(t.set_prices(&fx, &[USD_SCALE; 3], 10).await);
    assert_aidx_error(&recompute(&mut t, &fx).await, AidxError::CapInfeasible);
    let stored: Vec<u64> = t
        .index(&fx)
        .await
        .constituents()
        .iter()
        .map(|c| c.target_weight)
        .collect();
    assert_eq!(stored, vec![WEIGHT_SCALE / 3; 3], "targets unchanged");
}

#[tokio::test]
async fn inputs_are_checked() {
    let (mut t, fx) = setup().await;
    let now = t.now().await;
    let rows: Vec<_> = (0..N).map(row).collect();
    // only the methodology authority
    let stranger = Keypair::new();
    let ix = client::set_methodology_inputs(
        &fx.key,
        &stranger.pubkey(),
        SetMethodologyInputsArgs {
            observed_at: now,
            rows: rows.clone(),
        },
    );
    assert_aidx_error(
        &t.send(ix, &[&stranger]).await,
        AidxError::UnauthorizedMethodologyAuthority,
    );
    assert_aidx_error(
        &post_inputs(&mut t, &fx, now, rows[..N - 1].to_vec()).await,
        AidxError::InputsLengthMismatch,
    );
    assert_aidx_error(
        &post_inputs(&mut t, &fx, now + 1, rows.clone()).await,
        AidxError::InputsFromFuture,
    );
    let mut bad = rows.clone();
    bad[2].sub_sector = 8;
    assert_aidx_error(
        &post_inputs(&mut t, &fx, now, bad).await,
        AidxError::InvalidSubSector,
    );
    let mut bad = rows.clone();
    bad[2].bucket = 2;
    assert_aidx_error(
        &post_inputs(&mut t, &fx, now, bad).await,
        AidxError::InvalidBucket,
    );
    events(post_inputs(&mut t, &fx, now, rows.clone()).await);
    assert_aidx_error(
        &post_inputs(&mut t, &fx, now - 1, rows.clone()).await,
        AidxError::InputsOlderThanLast,
    );
    // Reclassification goes through the same instruction.
    let mut moved = rows.clone();
    moved[0].sub_sector = 5;
    moved[0].bucket = 1;
    events(post_inputs(&mut t, &fx, now, moved).await);
    let c = t.index(&fx).await.constituents()[0];
    assert_eq!((c.sub_sector, c.bucket), (5, 1));
}
