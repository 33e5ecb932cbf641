//! Benchmarks (figures, not timed tests): run by `scripts/bench`, which writes BENCHMARKS.md.
//! Ignored in the normal test run.
//!
//! Two ignored tests:
//! * [`callgrind_handlers`] runs each measured kind of instruction a few times per basket size,
//!   each between two marker functions; `scripts/bench` runs it under callgrind (release
//!   build), collecting only inside `aidx::entry` minus the syscall stubs (CPIs, logs, events,
//!   sysvars), and dumping one profile per measured instruction. It lists what it measured in
//!   `$AIDX_CALLGRIND_DIR/manifest.tsv`.
//! * [`write_benchmarks`] measures the rest and writes BENCHMARKS.md, including the callgrind
//!   table read back from `$AIDX_CALLGRIND_DIR` when set.

use aidx::instructions::{
    MintInKindArgs, MintSingleArgs, RebalanceSwapArgs, RedeemInKindArgs, RedeemSingleArgs,
};
use aidx::math::methodology::{compute_targets, MethodologyParams, TokenFacts};
use aidx::math::shares::DEAD_SHARES;
use aidx::math::{ONE_SHARE, USD_SCALE, WEIGHT_SCALE};
use aidx::state::MAX_MAX_WEIGHT;
use aidx_client as client;
use aidx_tests::*;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
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

// ---------------------------------------------------------------------------------------------
// The program's own instructions, under callgrind.

/// Basket sizes measured under callgrind.
const CALLGRIND_SIZES: [usize; 3] = [1, 5, 20];

/// Instruction kinds measured under callgrind, in the order [`callgrind_handlers`] runs them.
const CALLGRIND_KINDS: [&str; 6] = [
    "refresh_prices",
    "mint_in_kind",
    "redeem_in_kind",
    "mint_single",
    "redeem_single",
    "rebalance_swap",
];

/// Callgrind zeroes its counters on entering this (`--zero-before`). Never inlined and distinct
/// from [`aidx_callgrind_measure_end`], so both symbols exist in every profile.
#[inline(never)]
#[no_mangle]
pub extern "C" fn aidx_callgrind_measure_start() {
    std::hint::black_box(1u8);
}

/// Callgrind dumps one profile on entering this (`--dump-before`).
#[inline(never)]
#[no_mangle]
pub extern "C" fn aidx_callgrind_measure_end() {
    std::hint::black_box(2u8);
}

/// Times each instruction is measured; the table reports the median (allocator state and the
/// random keys move a count by a few percent between runs).
const CALLGRIND_REPEATS: usize = 5;

/// Sends `ix` alone (through the index's lookup table if `basket`) between the two markers,
/// [`CALLGRIND_REPEATS`] times, and records each in the manifest. Panics unless all succeed.
async fn measure(
    t: &mut TestContext,
    fx: &IndexFixture,
    manifest: &mut String,
    (n, kind): (usize, &str),
    ix: Instruction,
    signers: &[&Keypair],
    basket: bool,
) {
    let accounts = ix.accounts.len();
    for _ in 0..CALLGRIND_REPEATS {
        let ix = ix.clone();
        aidx_callgrind_measure_start();
        let r = if basket {
            t.send_basket(fx, ix, signers).await
        } else {
            t.send(ix, signers).await
        };
        aidx_callgrind_measure_end();
        events(r);
        writeln!(manifest, "{n}\t{kind}\t{accounts}").unwrap();
    }
}

/// Successful instructions of each kind of [`CALLGRIND_KINDS`] per basket size, each alone
/// between the markers (`rebalance_swap` needs two constituents, so not at one). Sizes from
/// `AIDX_CALLGRIND_SIZES` (comma-separated), default [`CALLGRIND_SIZES`]; the manifest (one
/// `size, kind, instruction accounts` line per measured instruction, in order) goes to
/// `$AIDX_CALLGRIND_DIR/manifest.tsv` when set.
///
/// The basket: `n` constituents of 10 whole tokens per share, seeded with 100 shares, priced $1
/// except row 1 at $1.50 (so row 1 is above its band and row 0 below target for the swap), cap
/// at its largest allowed value (20%) so that single-asset operations on 5 equal rows pass the
/// cap rule; the imbalance is recorded by an earlier refresh.
#[tokio::test]
#[ignore = "callgrind driver: run by scripts/bench under valgrind"]
async fn callgrind_handlers() {
    let sizes: Vec<usize> = match std::env::var("AIDX_CALLGRIND_SIZES") {
        Ok(v) => v.split(',').map(|x| x.trim().parse().unwrap()).collect(),
        Err(_) => CALLGRIND_SIZES.to_vec(),
    };
    let mut manifest = String::new();
    for n in sizes {
        let mut t = TestContext::new().await;
        let mut args = t.default_args();
        args.params.max_weight = MAX_MAX_WEIGHT;
        let fx = t.create_index_with(args, n, |i| whole(i, 10)).await;
        let a = t.holder(&fx, |_| 1_000_000_000_000_000).await;
        let usd: Vec<u128> = (0..n)
            .map(|i| if i == 1 { 3 * USD_SCALE / 2 } else { USD_SCALE })
            .collect();
        events(t.set_prices(&fx, &usd, 10).await);
        events(t.mint_in_kind(&fx, &a, 100 * ONE_SHARE - DEAD_SHARES).await);
        events(t.refresh_prices(&fx).await);
        let signers = [&a.keypair];
        let m = &mut manifest;

        let keys: Vec<Pubkey> = (0..n).map(|i| price_key(&fx, i)).collect();
        let ix = client::refresh_prices(&fx.key, &keys);
        measure(&mut t, &fx, m, (n, "refresh_prices"), ix, &[], false).await;

        let args = MintInKindArgs {
            shares: ONE_SHARE,
            max_amounts_in: vec![u64::MAX; n],
            min_shares_out: 0,
        };
        let ix = t.mint_in_kind_ix(&fx, &a, args).await;
        measure(&mut t, &fx, m, (n, "mint_in_kind"), ix, &signers, true).await;

        let args = RedeemInKindArgs {
            shares: ONE_SHARE / 2,
            min_amounts_out: vec![0; n],
            skip_mask: 0,
        };
        let ix = t.redeem_in_kind_ix(&fx, &a, args).await;
        measure(&mut t, &fx, m, (n, "redeem_in_kind"), ix, &signers, true).await;

        let index = t.index(&fx).await;
        let args = MintSingleArgs {
            amount_in: whole(0, 1),
            min_shares_out: 0,
        };
        let ix = client::mint_single(&fx.key, &index, &a.key(), 0, args);
        measure(&mut t, &fx, m, (n, "mint_single"), ix, &signers, false).await;

        let index = t.index(&fx).await;
        let args = RedeemSingleArgs {
            shares: ONE_SHARE / 10,
            min_amount_out: 0,
        };
        let ix = client::redeem_single(&fx.key, &index, &a.key(), 1.min(n - 1), args);
        measure(&mut t, &fx, m, (n, "redeem_single"), ix, &signers, false).await;

        if n >= 2 {
            let index = t.index(&fx).await;
            let args = RebalanceSwapArgs {
                amount_in: whole(0, 1),
                min_amount_out: 0,
            };
            let ix = client::rebalance_swap(&fx.key, &index, &a.key(), 0, 1, args);
            measure(&mut t, &fx, m, (n, "rebalance_swap"), ix, &signers, false).await;
        }
    }
    print!("{manifest}");
    if let Ok(dir) = std::env::var("AIDX_CALLGRIND_DIR") {
        std::fs::write(Path::new(&dir).join("manifest.tsv"), &manifest).unwrap();
    }
}

/// Instructions (`Ir`) collected in one callgrind dump.
fn callgrind_total(path: &Path) -> u64 {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/bench)", path.display()));
    let line = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
    };
    line("totals:")
        .or_else(|| line("summary:"))
        .unwrap_or_else(|| panic!("{}: no totals line", path.display()))
}

/// Per kind, `(size, instruction accounts, median instructions)` by increasing size, read back
/// from the dumps the driver left in `dir` (`callgrind.out.<k>` for the k-th manifest line).
fn callgrind_results(dir: &Path) -> BTreeMap<String, Vec<(usize, usize, u64)>> {
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).unwrap();
    let mut runs: BTreeMap<(String, usize), (usize, Vec<u64>)> = BTreeMap::new();
    for (k, line) in manifest.lines().enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        let ir = callgrind_total(&dir.join(format!("callgrind.out.{}", k + 1)));
        let (n, accounts) = (f[0].parse().unwrap(), f[2].parse().unwrap());
        let e = runs
            .entry((f[1].to_string(), n))
            .or_insert((accounts, vec![]));
        e.1.push(ir);
    }
    let extra = dir.join(format!("callgrind.out.{}", manifest.lines().count() + 1));
    assert!(
        !extra.exists(),
        "more callgrind dumps than measured instructions"
    );
    let mut out: BTreeMap<String, Vec<(usize, usize, u64)>> = BTreeMap::new();
    for ((kind, n), (accounts, mut irs)) in runs {
        irs.sort();
        out.entry(kind)
            .or_default()
            .push((n, accounts, irs[irs.len() / 2]));
    }
    out
}

/// `(base, per constituent)`: the line through the smallest and largest size measured.
fn growth(points: &[(usize, u64)]) -> (i64, i64) {
    let (n0, c0) = points[0];
    let (n1, c1) = *points.last().unwrap();
    let per = (c1 as i64 - c0 as i64) / (n1 - n0) as i64;
    (c0 as i64 - per * n0 as i64, per)
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.lines().next().unwrap_or("").trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("({cmd} not found)"))
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

#[tokio::test]
#[ignore = "benchmark: run by scripts/bench"]
async fn write_benchmarks() {
    let mut md = String::new();
    writeln!(md, "# Benchmarks\n\nFigures, not timed tests. Reproduce with `scripts/bench` (writes this file; see [How to reproduce](#how-to-reproduce)).\n").unwrap();

    // In-kind baskets: accounts, transaction size (v0 with the index and holder lookup tables),
    // and the SPL Token / Token-2022 compute units of the legs' CPIs.
    writeln!(md, "## In-kind mint and redeem per basket size\n").unwrap();
    writeln!(md, "| constituents | accounts | v0 bytes (index + holder tables) | fits 64 locks | SPL CU, mint | SPL CU, redeem |").unwrap();
    writeln!(md, "|---:|---:|---:|:---:|---:|---:|").unwrap();
    let mut per_leg = vec![];
    let mut accounts_per_size = vec![];
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
        accounts_per_size.push((n, accounts));
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
        per_leg.push((n, cu_mint, cu_redeem));
        writeln!(
            md,
            "| {n} | {accounts} (+1 fee payer if not the holder) | {size} | {} | {cu_mint} | {cu_redeem} |",
            if accounts < 64 { "yes" } else { "no" }
        )
        .unwrap();
    }
    let (n0, c0, r0) = per_leg[0];
    let (n1, c1, r1) = *per_leg.last().unwrap();
    let cu_per_leg = (c1 - c0) / (n1 - n0) as u64;
    let cu_per_leg_redeem = (r1 - r0) / (n1 - n0) as u64;
    let accounts_per_leg = (accounts_per_size.last().unwrap().1 - accounts_per_size[0].1)
        / (accounts_per_size.last().unwrap().0 - accounts_per_size[0].0);

    // The program's own instructions, measured by the callgrind driver.
    writeln!(
        md,
        "\n## The program's own instructions per basket size (callgrind)\n"
    )
    .unwrap();
    let callgrind = std::env::var("AIDX_CALLGRIND_DIR")
        .ok()
        .map(|d| callgrind_results(&PathBuf::from(d)));
    let profile = std::env::var("AIDX_CALLGRIND_PROFILE").unwrap_or_else(|_| "release".into());
    let mut own_growth = BTreeMap::new();
    match &callgrind {
        None => writeln!(
            md,
            "Not measured in this run (`scripts/bench` measures it under valgrind).\n"
        )
        .unwrap(),
        Some(results) => {
            writeln!(
                md,
                "x86-64 instructions (callgrind `Ir`) executed by the aidx handler itself, from `aidx::entry` \
                 (Anchor dispatch, account deserialization and constraints, handler, exit serialization) \
                 with every syscall stub excluded: the CPIs into SPL Token / Token-2022 (metered above as SPL CU), \
                 logs, events and sysvar reads. The runtime and the harness around the call are not counted. \
                 Median of {CALLGRIND_REPEATS} successful instructions per cell (single runs vary by a few percent: allocator state, random keys). \
                 Build: {profile}. These are native instructions, not SBF compute units: \
                 they show how the program's own work grows with the basket, not what it costs on chain.\n"
            )
            .unwrap();
            let sizes: Vec<usize> = {
                let mut v: Vec<usize> = results
                    .values()
                    .flat_map(|r| r.iter().map(|x| x.0))
                    .collect();
                v.sort();
                v.dedup();
                v
            };
            write!(md, "| instruction |").unwrap();
            for n in &sizes {
                write!(md, " {n} constituent{} |", if *n == 1 { "" } else { "s" }).unwrap();
            }
            writeln!(md, " per constituent | fixed part | instruction accounts |").unwrap();
            write!(md, "|---|").unwrap();
            for _ in &sizes {
                write!(md, "---:|").unwrap();
            }
            writeln!(md, "---:|---:|---|").unwrap();
            for kind in CALLGRIND_KINDS {
                let Some(rows) = results.get(kind) else {
                    continue;
                };
                write!(md, "| {kind} |").unwrap();
                for n in &sizes {
                    match rows.iter().find(|r| r.0 == *n) {
                        Some(r) => write!(md, " {} |", r.2).unwrap(),
                        None => write!(md, " n/a |").unwrap(),
                    }
                }
                let points: Vec<(usize, u64)> = rows.iter().map(|r| (r.0, r.2)).collect();
                let (base, per) = growth(&points);
                let accounts: Vec<String> = rows.iter().map(|r| r.1.to_string()).collect();
                writeln!(md, " {per} | {base} | {} |", accounts.join(" / ")).unwrap();
                own_growth.insert(kind, (base, per));
            }
            writeln!(md).unwrap();
            let line = CALLGRIND_KINDS
                .iter()
                .filter_map(|k| {
                    own_growth
                        .get(k)
                        .map(|(b, p)| format!("{k}: {b} + {p} per constituent"))
                })
                .collect::<Vec<_>>()
                .join("; ");
            writeln!(md, "Fitted through the smallest and largest basket: {line}. \"rebalance_swap\" needs two constituents, so its line starts at 5. \
                \"instruction accounts\" are the instruction's own account metas at each size (the transaction adds the program, the compute-budget program and the fee payer).\n").unwrap();
        }
    }

    let own = |k: &str| {
        own_growth
            .get(k)
            .map(|(_, p)| format!("{p}"))
            .unwrap_or_else(|| "(not measured)".into())
    };
    writeln!(
        md,
        "**Cost growth per constituent:** an in-kind mint adds {accounts_per_leg} accounts, {cu_per_leg} SPL compute units and {} program instructions per leg \
         ({c0} SPL CU at {n0} leg, {c1} at {n1} legs); an in-kind redeem adds {accounts_per_leg} accounts, {cu_per_leg_redeem} SPL CU and {} program instructions per leg; \
         single-asset mint / redeem add no account and no SPL CU, but {} / {} program instructions per constituent (every holding is valued); \
         refresh_prices adds 1 account and {} program instructions per constituent.\n",
        own("mint_in_kind"),
        own("redeem_in_kind"),
        own("mint_single"),
        own("redeem_single"),
        own("refresh_prices"),
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

    // The demo, timed by scripts/bench around the `aidx` binary (the CLI is not linked here).
    if let Ok(ms) = std::env::var("AIDX_DEMO_MS") {
        writeln!(
            md,
            "\n## Demo\n\n`aidx demo` (17 constituents, in-process, debug build): {ms} ms wall time (the whole process)."
        )
        .unwrap();
    }
    writeln!(
        md,
        "\nTimings are from a debug build on the machine that ran `scripts/bench`; compute units are the bundled SPL programs' own metering (the aidx program runs natively in-process and is not metered: its own cost is the callgrind table above)."
    )
    .unwrap();

    // How to reproduce.
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    writeln!(md, "\n## How to reproduce\n").unwrap();
    writeln!(
        md,
        "```sh\nscripts/bench                 # everything below, then writes this file\n\
         scripts/bench --no-callgrind  # without valgrind: the callgrind table is left out\n```\n\n\
         Machine: {cores} cores ({}), {}, {}, {}.\n\n\
         What `scripts/bench` runs:\n\n\
         1. `CARGO_PROFILE_RELEASE_LTO=off cargo test --release -p aidx-tests --test integration --no-run`: the callgrind driver, \
         built with the workspace release profile (opt-level 3, overflow checks on, one codegen unit) but without LTO, \
         so `aidx::entry` stays a function of its own that callgrind can toggle on.\n\
         2. `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='aidx::entry' \
         --toggle-collect='<aidx_embedded::CaptureStubs as solana_sysvar::program_stubs::SyscallStubs>::sol_invoke_signed' \
         (and the same for every other stub method) --zero-before=aidx_callgrind_measure_start --dump-before=aidx_callgrind_measure_end \
         <bench binary> --ignored --exact bench::callgrind_handlers`: collection is on only inside `aidx::entry` and off again inside \
         every syscall stub the embedded runtime installs (CPIs, logs, events and sysvar reads go through them), and each measured \
         instruction is dumped on its own (`target/callgrind/callgrind.out.<k>`, listed in `target/callgrind/manifest.tsv`).\n\
         3. `AIDX_CALLGRIND_DIR=target/callgrind cargo test -p aidx-tests --test integration -- --ignored --exact bench::write_benchmarks`: \
         the in-kind table, SPL compute units, target computation and demo timings (debug build), and this file.\n",
        cpu_model(),
        command_output("rustc", &["-V"]),
        command_output("cargo", &["-V"]),
        command_output("valgrind", &["--version"]),
    )
    .unwrap();

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    std::fs::write(&path, &md).unwrap();
    println!("{md}");
}
