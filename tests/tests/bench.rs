//! Benchmarks (figures, not timed tests): run by `scripts/bench`, which writes BENCHMARKS.md.
//! Ignored in the normal test run.

use aidx::instructions::{MintInKindArgs, RedeemInKindArgs};
use aidx::math::methodology::{compute_targets, MethodologyParams, TokenFacts};
use aidx::math::{ONE_SHARE, USD_SCALE, WEIGHT_SCALE};
use aidx_tests::*;
use std::fmt::Write as _;
use std::time::Instant;

/// Compute units the bundled SPL programs reported (`Program X consumed N of M`); the aidx
/// program runs natively here and is not metered.
fn spl_compute_units(logs: &[String]) -> u64 {
    logs.iter()
        .filter_map(|l| {
            let rest = l.split(" consumed ").nth(1)?;
            rest.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum()
}

#[tokio::test]
#[ignore = "benchmark: run by scripts/bench"]
async fn write_benchmarks() {
    let mut md = String::new();
    writeln!(md, "# Benchmarks\n\nFigures, not timed tests. Reproduce with `scripts/bench` (writes this file).\n").unwrap();

    // In-kind baskets: accounts, transaction size (v0 with the index and holder lookup tables),
    // and the SPL Token / Token-2022 compute units of the legs' CPIs.
    writeln!(md, "## In-kind mint and redeem per basket size\n").unwrap();
    writeln!(md, "| constituents | accounts | v0 bytes (index + holder tables) | fits 64 locks | SPL CU, mint | SPL CU, redeem |").unwrap();
    writeln!(md, "|---:|---:|---:|:---:|---:|---:|").unwrap();
    let mut per_leg = vec![];
    for n in [1usize, 5, 10, 17, 20, 24] {
        let mut t = TestContext::new().await;
        let fx = t.create_index(n, |_| 1_000).await;
        let a = t.holder(&fx, |_| 1_000_000_000).await;
        let mut holder_accounts = a.token_accounts.clone();
        holder_accounts.push(a.shares);
        let tables = [
            fx.lut.clone().unwrap(),
            t.chain.create_lookup_table(&holder_accounts).await.unwrap(),
        ];
        let ix = t
            .mint_in_kind_ix(
                &fx,
                &a,
                MintInKindArgs {
                    shares: ONE_SHARE,
                    max_amounts_in: vec![u64::MAX; n],
                    min_shares_out: 0,
                },
            )
            .await;
        let accounts = ix.accounts.len() + 2; // + the aidx and compute-budget programs
        let tx = t
            .chain
            .build_v0(&[ix], &[&a.keypair], &tables)
            .await
            .unwrap();
        let size = bincode::serialize(&tx).unwrap().len();
        let mint = t.chain.process_versioned(tx).await.unwrap().expect("mint");
        let ix = t
            .redeem_in_kind_ix(
                &fx,
                &a,
                RedeemInKindArgs {
                    shares: ONE_SHARE / 2,
                    min_amounts_out: vec![0; n],
                    skip_mask: 0,
                },
            )
            .await;
        let tx = t
            .chain
            .build_v0(&[ix], &[&a.keypair], &tables)
            .await
            .unwrap();
        let redeem = t
            .chain
            .process_versioned(tx)
            .await
            .unwrap()
            .expect("redeem");
        let (cu_mint, cu_redeem) = (
            spl_compute_units(&mint.logs),
            spl_compute_units(&redeem.logs),
        );
        per_leg.push((n, cu_mint));
        writeln!(
            md,
            "| {n} | {accounts} (+1 fee payer if not the holder) | {size} | {} | {cu_mint} | {cu_redeem} |",
            if accounts < 64 { "yes" } else { "no" }
        )
        .unwrap();
    }
    let (n0, c0) = per_leg[0];
    let (n1, c1) = *per_leg.last().unwrap();
    writeln!(
        md,
        "\nCost growth per constituent: {} SPL compute units and 3 accounts per leg for an in-kind mint ({} CU at {n0} leg, {} CU at {n1} legs).\n",
        (c1 - c0) / (n1 - n0) as u64,
        c0,
        c1
    )
    .unwrap();

    // The keeper's target computation.
    writeln!(md, "## Target computation (keeper, shared methodology)\n\n| tokens | time per compute_targets |\n|---:|---:|").unwrap();
    let p = MethodologyParams {
        max_weight: WEIGHT_SCALE / 100 * 15,
        unlock_haircut: WEIGHT_SCALE / 4,
        pure_play_share: 0,
        min_volume_usd: 5_000_000,
        min_depth_usd: 500_000,
    };
    for n in [10usize, 100, 1_000] {
        let tokens: Vec<TokenFacts> = (0..n)
            .map(|i| TokenFacts {
                price: USD_SCALE * (1 + (i as u128 * 7919) % 500),
                circulating_supply: 1_000_000 + (i as u128 * 104_729) % 9_000_000,
                avg_daily_volume_usd: 10_000_000,
                depth_usd: Some(1_000_000),
                unlock: i % 9 == 0,
                host: i % 4 == 0,
            })
            .collect();
        let runs = 50;
        let start = Instant::now();
        for _ in 0..runs {
            compute_targets(&tokens, &p).unwrap();
        }
        writeln!(md, "| {n} | {:?} |", start.elapsed() / runs).unwrap();
    }

    // The demo.
    let start = Instant::now();
    aidx_keeper::demo::run(
        aidx_keeper::universe::SAMPLE_UNIVERSE,
        &mut std::io::sink(),
        None,
    )
    .await
    .unwrap();
    writeln!(
        md,
        "\n## Demo\n\n`aidx demo` (17 constituents, in-process, debug build): {:?} wall time.",
        start.elapsed()
    )
    .unwrap();
    writeln!(
        md,
        "\nTimings are from a debug build on the machine that ran `scripts/bench`; compute units are the bundled SPL programs' own metering (the aidx program runs natively in-process and is not metered)."
    )
    .unwrap();

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    std::fs::write(&path, &md).unwrap();
    println!("{md}");
}
