//! In-kind mint and redeem: balances, supply and events for 3- and 20-constituent indexes
//! mixing SPL Token and Token-2022, round trips, slippage bounds, and the donation and
//! first-depositor attacks.

use aidx::errors::AidxError;
use aidx::instructions::{MintInKindArgs, RedeemInKindArgs};
use aidx::math::shares::{DEAD_SHARES, MIN_FIRST_MINT};
use aidx::math::ONE_SHARE;
use aidx_keeper::client::{vault_address, AidxEvent};
use aidx_tests::*;

fn units3(i: usize) -> u64 {
    [1_500_000, 2_000_000_000, 7][i] // 1.5 (6 dp), 2.0 (9 dp), 7 raw (8 dp)
}

#[tokio::test]
async fn mint_and_redeem_three_constituents() {
    let mut t = TestContext::new().await;
    let fx = t.create_index(3, units3).await;
    let start = [1_000_000_000u64, 1_000_000_000_000, 1_000_000];
    let a = t.holder(&fx, |i| start[i]).await;

    // First mint: 10 shares seeds the basket from the stated composition, plus dead shares.
    let shares = 10 * ONE_SHARE;
    let ev = events(t.mint_in_kind(&fx, &a, shares).await);
    let expected_in: Vec<u64> = (0..3)
        .map(|i| ((shares + DEAD_SHARES) as u128 * units3(i) as u128).div_ceil(ONE_SHARE as u128) as u64)
        .collect();
    // 15_000_001.5 -> 15_000_002; 20_000_002_000; 70.000007 -> 71
    assert_eq!(expected_in, vec![15_000_002, 20_000_002_000, 71]);
    let held: Vec<u64> = t.holder_balances(&a).await;
    for i in 0..3 {
        assert_eq!(held[i], start[i] - expected_in[i]);
    }
    assert_eq!(t.vault_balances(&fx).await, expected_in);
    assert_eq!(t.balance(&a.shares).await, shares);
    assert_eq!(t.share_supply(&fx).await, shares + DEAD_SHARES);
    let index = t.index(&fx).await;
    assert_eq!(index.share_supply, shares + DEAD_SHARES);
    assert_eq!(index.constituents().iter().map(|c| c.balance).collect::<Vec<_>>(), expected_in);
    assert_eq!(
        ev,
        vec![AidxEvent::MintedInKind(aidx::events::MintedInKind {
            index: fx.key,
            holder: a.key(),
            shares,
            dead_shares: DEAD_SHARES,
            amounts_in: expected_in.clone(),
            balances_after: expected_in.clone(),
            share_supply_after: shares + DEAD_SHARES,
        })]
    );

    // Second holder mints 4 shares at the basket's proportions, rounding up.
    let b = t.holder(&fx, |i| start[i]).await;
    let s2 = 4 * ONE_SHARE;
    let supply = shares + DEAD_SHARES;
    let dep2: Vec<u64> = expected_in
        .iter()
        .map(|bal| (s2 as u128 * *bal as u128).div_ceil(supply as u128) as u64)
        .collect();
    let ev = events(t.mint_in_kind(&fx, &b, s2).await);
    let bal2: Vec<u64> = expected_in.iter().zip(&dep2).map(|(x, y)| x + y).collect();
    assert_eq!(t.vault_balances(&fx).await, bal2);
    assert_eq!(t.balance(&b.shares).await, s2);
    assert_eq!(t.share_supply(&fx).await, supply + s2);
    match &ev[..] {
        [AidxEvent::MintedInKind(e)] => {
            assert_eq!(e.amounts_in, dep2);
            assert_eq!(e.dead_shares, 0);
            assert_eq!(e.share_supply_after, supply + s2);
        }
        other => panic!("{other:?}"),
    }

    // A redeems 3 shares: pro rata, rounding down.
    let supply2 = supply + s2;
    let r = 3 * ONE_SHARE;
    let out: Vec<u64> = bal2.iter().map(|bal| (r as u128 * *bal as u128 / supply2 as u128) as u64).collect();
    let before = t.holder_balances(&a).await;
    let ev = events(t.redeem_in_kind(&fx, &a, r).await);
    let after = t.holder_balances(&a).await;
    for i in 0..3 {
        assert_eq!(after[i] - before[i], out[i]);
    }
    let bal3: Vec<u64> = bal2.iter().zip(&out).map(|(x, y)| x - y).collect();
    assert_eq!(t.vault_balances(&fx).await, bal3);
    assert_eq!(t.balance(&a.shares).await, shares - r);
    assert_eq!(t.share_supply(&fx).await, supply2 - r);
    assert_eq!(
        ev,
        vec![AidxEvent::RedeemedInKind(aidx::events::RedeemedInKind {
            index: fx.key,
            holder: a.key(),
            shares: r,
            amounts_out: out,
            balances_after: bal3,
            share_supply_after: supply2 - r,
        })]
    );
}
