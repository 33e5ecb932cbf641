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
use aidx::state::{IN_KIND_FIXED_LOCKS, MAX_CONSTITUENTS, MAX_LEG_ACCOUNTS, MAX_MAX_WEIGHT};
use aidx_client as client;
use aidx_client::chain::Chain as _;
use aidx_client::tx::{self, MAINNET_ACCOUNT_LOCKS, PACKET_DATA_SIZE};
use aidx_embedded::heap;
use aidx_tests::*;
use anchor_spl::token_2022::spl_token_2022;
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
const CALLGRIND_SIZES: [usize; 3] = [1, 8, 24];

/// Instruction kinds measured under callgrind, in the order [`callgrind_handlers`] runs them.
const CALLGRIND_KINDS: [&str; 8] = [
    "refresh_prices",
    "mint_in_kind",
    "redeem_in_kind",
    "mint_single",
    "redeem_single",
    "rebalance_swap",
    "quarantine_constituent",
    "mint_in_kind, a row quarantined",
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

/// The measured basket (see [`callgrind_handlers`]): `n` constituents of 10 whole tokens per
/// share, seeded with 100 shares by the returned holder, priced $1 except row 1 at $1.50, cap
/// at 20%, the imbalance recorded.
async fn priced_basket(n: usize) -> (TestContext, IndexFixture, Holder) {
    let mut t = TestContext::new().await;
    let mut args = t.default_args();
    args.params.max_weight = MAX_MAX_WEIGHT;
    // The last row has a freeze authority (the payer): the quarantine measurements freeze it.
    let mut rows = mixed_rows(n, |i| whole(i, 10));
    let last = n - 1;
    rows[last].mint = Some(
        t.create_mint_with_freeze(mixed_program(last), mixed_decimals(last))
            .await,
    );
    let fx = t.create_index_of(args, &rows).await;
    let a = t.holder(&fx, |_| 1_000_000_000_000_000).await;
    let usd: Vec<u128> = (0..n)
        .map(|i| if i == 1 { 3 * USD_SCALE / 2 } else { USD_SCALE })
        .collect();
    events(t.set_prices(&fx, &usd, 10).await);
    events(t.mint_in_kind(&fx, &a, 100 * ONE_SHARE - DEAD_SHARES).await);
    events(t.refresh_prices(&fx).await);
    (t, fx, a)
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
        let (mut t, fx, a) = priced_basket(n).await;
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

            // The last row's vault frozen and the row quarantined (by the guardian, the payer
            // here), thawed and released after each measurement; then, frozen and quarantined,
            // an in-kind mint that pays for its slice in the other rows.
            let payer = t.payer();
            let index = t.index(&fx).await;
            let q = client::quarantine_constituent(&fx.key, &index, &payer, n - 1);
            let release = client::release_constituent(&fx.key, &index, &payer, n - 1);
            for _ in 0..CALLGRIND_REPEATS {
                t.chain
                    .send_ok(&[freeze(&fx, n - 1, &payer, false)], &[])
                    .await
                    .unwrap();
                aidx_callgrind_measure_start();
                let r = t.send(q.clone(), &[]).await;
                aidx_callgrind_measure_end();
                events(r);
                writeln!(m, "{n}\tquarantine_constituent\t{}", q.accounts.len()).unwrap();
                t.chain
                    .send_ok(&[freeze(&fx, n - 1, &payer, true)], &[])
                    .await
                    .unwrap();
                let now = t.now().await;
                t.warp_to_time(now + aidx::state::MIN_QUARANTINE_SECS).await;
                events(t.send(release.clone(), &[]).await);
                // prices within the trade age again for what is measured next
                let usd: Vec<u128> = (0..n)
                    .map(|i| if i == 1 { 3 * USD_SCALE / 2 } else { USD_SCALE })
                    .collect();
                events(t.set_prices(&fx, &usd, 10).await);
            }
            t.chain
                .send_ok(&[freeze(&fx, n - 1, &payer, false)], &[])
                .await
                .unwrap();
            events(t.send(q, &[]).await);
            let args = MintInKindArgs {
                shares: ONE_SHARE,
                max_amounts_in: vec![u64::MAX; n],
                min_shares_out: 0,
            };
            let ix = t.mint_in_kind_ix(&fx, &a, args).await;
            let kind = (n, "mint_in_kind, a row quarantined");
            measure(&mut t, &fx, m, kind, ix, &signers, true).await;
        }
    }
    print!("{manifest}");
    if let Ok(dir) = std::env::var("AIDX_CALLGRIND_DIR") {
        std::fs::write(Path::new(&dir).join("manifest.tsv"), &manifest).unwrap();
    }
}

/// Freezes (or thaws) the vault of row `row` of `fx`, signed by its mint's freeze authority.
fn freeze(fx: &IndexFixture, row: usize, authority: &Pubkey, thaw: bool) -> Instruction {
    let c = &fx.constituents[row];
    let vault = client::vault_address(&fx.key, &c.mint);
    let f = if thaw {
        spl_token_2022::instruction::thaw_account
    } else {
        spl_token_2022::instruction::freeze_account
    };
    f(&c.token_program, &vault, &c.mint, authority, &[]).unwrap()
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

/// Per kind, `(size, instruction accounts, median instructions)` by increasing size.
type CallgrindResults = BTreeMap<String, Vec<(usize, usize, u64)>>;

/// Per kind, `(size, instruction accounts, median instructions)` by increasing size, read back
/// from the dumps the driver left in `dir` (`callgrind.out.<k>` for the k-th manifest line).
fn callgrind_results(dir: &Path) -> CallgrindResults {
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

/// One basket size of the in-kind table.
struct InKindRow {
    n: usize,
    /// Every row carries its mint (pausable Token-2022) instead of none.
    with_mint: bool,
    /// `mint_in_kind`'s instruction accounts.
    accounts: usize,
    /// Locks of the mint and the redeem transaction.
    locks: (usize, usize),
    /// Bytes of the mint transaction through the index's table alone, and through both.
    bytes: (usize, usize),
    /// Bytes of the redeem transaction through both tables.
    redeem_bytes: usize,
    spl_cu: (u64, u64),
    heap: (u64, u64),
}

/// Sends `ix` through `tables` (with the compute-budget instruction the runtime adds) and
/// returns the outcome's logs, the program's heap bytes, and the footprint.
async fn run_measured(
    t: &mut TestContext,
    ix: Instruction,
    signers: &[&Keypair],
    tables: &[solana_sdk::message::AddressLookupTableAccount],
) -> (Vec<String>, u64, tx::Footprint) {
    let tx = t.chain.build_v0(&[ix], signers, tables).await.unwrap();
    let f = tx::footprint(&tx).unwrap();
    heap::take();
    let o = t
        .chain
        .process_versioned(tx)
        .await
        .unwrap()
        .expect("basket");
    (o.logs, heap::take(), f)
}

/// The in-kind table: per basket size, on the 64-lock runtime, a mint and a redeem through
/// the index's and the holder's lookup tables. Plain rows alternate SPL Token and Token-2022
/// (2 accounts a leg); "with mint" rows are all pausable Token-2022 (3 a leg), refused by
/// `add_constituent` past 17.
async fn in_kind_table(md: &mut String) -> Vec<InKindRow> {
    writeln!(
        md,
        "## In-kind mint and redeem per basket size, on mainnet's limits\n"
    )
    .unwrap();
    writeln!(md, "Every transaction below ran on the embedded runtime with mainnet-beta's limits (64 account locks, \
        `increase_tx_account_lock_limit` off, 1,232-byte packets): one v0 transaction each way through the index's lookup table \
        (programs, index accounts, mints, vaults, price accounts) and one of the holder's accounts, with a fee payer other than the holder \
        and the compute-budget instruction the keeper sends. \"accounts\" are `mint_in_kind`'s own (8 named, then the legs); locks add \
        the aidx program, the compute-budget program and the fee payer. Heap: bytes the program allocated in the instruction (the SBF heap \
        is 32 KiB and never frees; the entrypoint's own allocation for each account, 120 bytes, comes on top).\n").unwrap();
    writeln!(md, "| constituents | legs | accounts | locks, mint / redeem | v0 bytes, index table only | v0 bytes, index + holder tables (mint / redeem) | fits 64 locks | fits 1,232 bytes | SPL CU, mint / redeem | heap bytes, mint / redeem |").unwrap();
    writeln!(md, "|---:|---|---:|---:|---:|---:|:---:|:---:|---:|---:|").unwrap();
    let mut rows = vec![];
    for (with_mint, sizes) in [
        (false, &[1usize, 8, 16, 17, 18, 24][..]),
        (true, &[1, 8, 16, 17, 18][..]),
    ] {
        for &n in sizes {
            let legs = if with_mint {
                "mint, vault, holder (pausable Token-2022)"
            } else {
                "vault, holder (SPL Token / Token-2022)"
            };
            if with_mint && 3 * n > MAX_LEG_ACCOUNTS {
                writeln!(md, "| {n} | {legs} | {} | {} (mint) | – | – | no | – | refused by `add_constituent` (`BasketExceedsOneTransaction`) | – |", 8 + 3 * n, 8 + 3 * n + 3).unwrap();
                continue;
            }
            let mut t = TestContext::new().await;
            let fx = if with_mint {
                let spec: Vec<RowSpec> = (0..n)
                    .map(|i| RowSpec {
                        program: client::TOKEN_2022_PROGRAM_ID,
                        decimals: mixed_decimals(i),
                        exts: vec![MintExt::Pausable],
                        units: 1_000,
                        mint: None,
                    })
                    .collect();
                let args = t.default_args();
                t.create_index_of(args, &spec).await
            } else {
                t.create_index(n, |_| 1_000).await
            };
            let a = t.holder(&fx, |_| 1_000_000_000).await;
            let mut own = a.token_accounts.clone();
            own.push(a.shares);
            let index_table = fx.lut.clone().unwrap();
            let tables = [
                index_table.clone(),
                t.chain.create_lookup_table(&own).await.unwrap(),
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
            let accounts = ix.accounts.len();
            let mut all = t.chain.budget_instructions();
            all.push(ix.clone());
            let index_only =
                tx::measure(&t.payer(), &all, std::slice::from_ref(&index_table)).unwrap();
            let (mint_logs, mint_heap, mint_f) =
                run_measured(&mut t, ix, &[&a.keypair], &tables).await;
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
            let (redeem_logs, redeem_heap, redeem_f) =
                run_measured(&mut t, ix, &[&a.keypair], &tables).await;
            let row = InKindRow {
                n,
                with_mint,
                accounts,
                locks: (mint_f.locks, redeem_f.locks),
                bytes: (index_only.bytes, mint_f.bytes),
                redeem_bytes: redeem_f.bytes,
                spl_cu: (
                    spl_compute_units(&mint_logs),
                    spl_compute_units(&redeem_logs),
                ),
                heap: (mint_heap, redeem_heap),
            };
            let yes = |b: bool| if b { "yes" } else { "no" };
            writeln!(
                md,
                "| {n} | {legs} | {} | {} / {} | {}{} | {} / {} | {} | {} | {} / {} | {} / {} |",
                row.accounts,
                row.locks.0,
                row.locks.1,
                row.bytes.0,
                if row.bytes.0 > PACKET_DATA_SIZE {
                    " (too large)"
                } else {
                    ""
                },
                row.bytes.1,
                row.redeem_bytes,
                yes(row.locks.0.max(row.locks.1) <= MAINNET_ACCOUNT_LOCKS),
                yes(row.bytes.1.max(row.redeem_bytes) <= PACKET_DATA_SIZE),
                row.spl_cu.0,
                row.spl_cu.1,
                row.heap.0,
                row.heap.1,
            )
            .unwrap();
            rows.push(row);
        }
    }
    writeln!(md, "\n**On paper.** A mainnet transaction locks at most {MAINNET_ACCOUNT_LOCKS} accounts. An in-kind mint takes {IN_KIND_FIXED_LOCKS} besides its legs \
        (8 named accounts, the aidx program, the compute-budget program, a fee payer other than the holder; a redeem has 7 named), so \
        ({MAINNET_ACCOUNT_LOCKS} − {IN_KIND_FIXED_LOCKS}) / 2 = {} plain legs fit and ({MAINNET_ACCOUNT_LOCKS} − {IN_KIND_FIXED_LOCKS}) / 3 = {} legs that carry their mint. \
        The table holds {MAX_CONSTITUENTS} rows, so an index of plain rows is bounded by its table, not by locks: a full table locks {} of {MAINNET_ACCOUNT_LOCKS} \
        (fewer when the holder pays its own fees). `add_constituent` admits a row while the legs take at most {MAX_LEG_ACCOUNTS} accounts: \
        every admitted basket mints and redeems in one transaction, for example 24 rows of which 5 carry their mint, or 17 pausable rows and one plain. \
        Bytes are not the binding limit once the holder's accounts are in a lookup table: the largest in-kind transaction is {} bytes. \
        Through the index's table alone each holder account stays a 32-byte static key: of the sizes measured, {} plain legs is the largest that fits 1,232 bytes \
        (the keeper and the demo then add the holder's table, and say so).\n",
        MAX_LEG_ACCOUNTS / 2,
        MAX_LEG_ACCOUNTS / 3,
        rows.iter().filter(|r| !r.with_mint).map(|r| r.locks.0).max().unwrap(),
        rows.iter().map(|r| r.bytes.1.max(r.redeem_bytes)).max().unwrap(),
        rows.iter()
            .filter(|r| !r.with_mint && r.bytes.0 <= PACKET_DATA_SIZE)
            .map(|r| r.n)
            .max()
            .unwrap_or(0),
    )
    .unwrap();
    rows
}

/// The x86-64 to SBF instruction ratio the compute estimate assumes (see [`compute_table`]).
const SBF_PER_X86: u64 = 2;

/// Compute per transaction at a full table (24 constituents), as the keeper sends each one:
/// the SPL programs' metered units, the program's syscalls at Agave's costs (the embedded
/// runtime's meter), the program's own instructions (callgrind, when measured) times
/// [`SBF_PER_X86`], the limit the keeper requests and the margin to 1.4M.
async fn compute_table(md: &mut String, callgrind: Option<&CallgrindResults>) {
    let n = MAX_CONSTITUENTS;
    writeln!(
        md,
        "## Compute per transaction at a full table ({n} constituents)\n"
    )
    .unwrap();
    writeln!(md, "Each transaction as the keeper sends it (priced ones refresh every price first), on the 64-lock runtime. \
        **SPL CU**: the bundled SPL Token / Token-2022 programs' own metering of the CPIs. \
        **Syscalls**: what the program's syscalls cost at Agave 3.1's execution costs (SIMD-0339 on): {INVOKE}-unit CPIs plus their translated bytes \
        at 250 bytes a unit, logs, events (`sol_log_data`), sysvar reads; counted by the embedded runtime's syscall stubs (`aidx_embedded::meter`). \
        **Own, estimated**: the program cannot be compiled to SBF on this machine, so its own instructions are the callgrind count of native x86-64 \
        instructions in `aidx::entry` (the table above) times {SBF_PER_X86}, an assumed SBF-to-x86 ratio (SBF has no memory operands or complex \
        addressing; every executed SBF instruction costs one unit). None of these paths derives a PDA (only the admin instructions do). \
        **Requested**: the compute-unit limit the keeper's RPC backend sets on every transaction (`aidx_client::rpc::DEFAULT_COMPUTE_UNIT_LIMIT`). \
        **Margin**: 1.4M less the estimated total.\n",
        INVOKE = aidx_embedded::meter::INVOKE_UNITS).unwrap();
    writeln!(md, "| transaction | CPIs | SPL CU | syscalls CU | own x86 instructions | own CU, estimated | total, estimated | requested | margin to 1.4M |").unwrap();
    writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|").unwrap();

    let (mut t, fx, a) = priced_basket(n).await;
    let keys: Vec<Pubkey> = (0..n).map(|i| price_key(&fx, i)).collect();
    let refresh = client::refresh_prices(&fx.key, &keys);
    let mut own = a.token_accounts.clone();
    own.push(a.shares);
    let tables = [
        fx.lut.clone().unwrap(),
        t.chain.create_lookup_table(&own).await.unwrap(),
    ];
    let index = t.index(&fx).await;
    // One share in kind: alone, and again once the last row is quarantined.
    let mint_one = t
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
    let cases: Vec<(&str, Vec<&str>, Vec<Instruction>)> = vec![
        (
            "refresh_prices",
            vec!["refresh_prices"],
            vec![refresh.clone()],
        ),
        ("mint_in_kind", vec!["mint_in_kind"], vec![mint_one.clone()]),
        (
            "redeem_in_kind",
            vec!["redeem_in_kind"],
            vec![
                t.redeem_in_kind_ix(
                    &fx,
                    &a,
                    RedeemInKindArgs {
                        shares: ONE_SHARE / 2,
                        min_amounts_out: vec![0; n],
                        skip_mask: 0,
                    },
                )
                .await,
            ],
        ),
        (
            "refresh_prices + mint_single",
            vec!["refresh_prices", "mint_single"],
            vec![
                refresh.clone(),
                client::mint_single(
                    &fx.key,
                    &index,
                    &a.key(),
                    0,
                    MintSingleArgs {
                        amount_in: whole(0, 1),
                        min_shares_out: 0,
                    },
                ),
            ],
        ),
        (
            "refresh_prices + redeem_single",
            vec!["refresh_prices", "redeem_single"],
            vec![
                refresh.clone(),
                client::redeem_single(
                    &fx.key,
                    &index,
                    &a.key(),
                    1,
                    RedeemSingleArgs {
                        shares: ONE_SHARE / 10,
                        min_amount_out: 0,
                    },
                ),
            ],
        ),
        (
            "refresh_prices + rebalance_swap",
            vec!["refresh_prices", "rebalance_swap"],
            vec![
                refresh.clone(),
                client::rebalance_swap(
                    &fx.key,
                    &index,
                    &a.key(),
                    0,
                    1,
                    RebalanceSwapArgs {
                        amount_in: whole(0, 1),
                        min_amount_out: 0,
                    },
                ),
            ],
        ),
        (
            "quarantine_constituent",
            vec!["quarantine_constituent"],
            vec![client::quarantine_constituent(
                &fx.key,
                &index,
                &t.payer(),
                n - 1,
            )],
        ),
        (
            "mint_in_kind, a row quarantined",
            vec!["mint_in_kind, a row quarantined"],
            vec![mint_one.clone()],
        ),
    ];
    let requested = client::rpc::DEFAULT_COMPUTE_UNIT_LIMIT as u64;
    let mut largest: Option<(&str, u64)> = None;
    let payer = t.payer();
    for (name, kinds, ixs) in cases {
        if name == "quarantine_constituent" {
            // Its row cannot move: the in-kind mint after it pays for the row's slice.
            t.chain
                .send_ok(&[freeze(&fx, n - 1, &payer, false)], &[])
                .await
                .unwrap();
        }
        aidx_embedded::meter::take();
        let o = t
            .chain
            .send_v0(&ixs, &[&a.keypair], &tables)
            .await
            .unwrap()
            .unwrap_or_else(|f| panic!("{name}: {f}"));
        let sys = aidx_embedded::meter::take();
        let spl = spl_compute_units(&o.logs);
        let ir: Option<u64> = callgrind.and_then(|c| {
            kinds
                .iter()
                .map(|k| c.get(*k)?.iter().find(|r| r.0 == n).map(|r| r.2))
                .sum()
        });
        let own = ir.map(|x| x * SBF_PER_X86);
        let total = own.map(|o| o + spl + sys.units);
        if let Some(tot) = total {
            if largest.is_none_or(|(_, l)| tot > l) {
                largest = Some((name, tot));
            }
        }
        let show = |v: Option<u64>| {
            v.map(|x| x.to_string())
                .unwrap_or_else(|| "not measured".into())
        };
        writeln!(
            md,
            "| {name} | {} | {spl} | {} | {} | {} | {} | {requested} | {} |",
            sys.cpis,
            sys.units,
            show(ir),
            show(own),
            show(total),
            show(total.map(|t| 1_400_000u64.saturating_sub(t))),
        )
        .unwrap();
    }
    match largest {
        Some((name, tot)) => writeln!(
            md,
            "\nThe largest is **{name}** at about {tot} CU estimated, {:.1}% of the 1.4M a transaction may use. \
             The keeper requests the full 1.4M on every transaction; sizing the request from the simulation would make room in blocks \
             and lower the priority fee (the fee is the price per unit times the units requested).\n",
            tot as f64 / 14_000.0
        )
        .unwrap(),
        None => writeln!(md, "\nThe program's own share was not measured in this run (`scripts/bench` runs callgrind).\n").unwrap(),
    }
}

/// The SBF heap per instruction at a full table (the heap test's measurement) and the largest
/// native stack frames (`scripts/stack-frames`, passed in by `scripts/bench` as
/// `$AIDX_STACK_FRAMES`).
async fn heap_and_stack(md: &mut String) {
    use crate::heap::{heap_per_instruction, ENTRYPOINT_BYTES};
    let table = heap_per_instruction().await;
    writeln!(
        md,
        "## SBF heap per instruction at a full table ({MAX_CONSTITUENTS} constituents)\n"
    )
    .unwrap();
    writeln!(md, "Bytes the program's own code allocated during each instruction (the embedded runtime's counting allocator, \
        paused inside every syscall stub), as `tests/tests/integration/heap.rs` measures and asserts. The SBF heap is a 32 KiB bump \
        allocator that never frees; the entrypoint also allocates 120 bytes per account passed, at most {ENTRYPOINT_BYTES} here.\n").unwrap();
    writeln!(
        md,
        "| instruction | heap bytes | with the entrypoint's most, of 32768 |"
    )
    .unwrap();
    writeln!(md, "|---|---:|---:|").unwrap();
    for (name, bytes) in &table {
        writeln!(md, "| {name} | {bytes} | {} |", bytes + ENTRYPOINT_BYTES).unwrap();
    }
    let (largest, most) = table.iter().max_by_key(|(_, b)| *b).copied().unwrap();
    writeln!(md, "\nThe largest is **{largest}**: {most} bytes, {} with the entrypoint ({:.0}% of 32 KiB).\n",
        most + ENTRYPOINT_BYTES, (most + ENTRYPOINT_BYTES) as f64 * 100.0 / 32768.0).unwrap();

    writeln!(md, "## Native stack frames\n").unwrap();
    match std::env::var("AIDX_STACK_FRAMES")
        .ok()
        .and_then(|p| std::fs::read_to_string(p).ok())
    {
        Some(text) => {
            writeln!(md, "From `scripts/stack-frames` (the prologues of the release build without LTO; SBF gives each frame 4 KiB, \
                so a native frame above 4 KiB would have to be removed or explained):\n\n```\n{}```\n", text).unwrap();
        }
        None => writeln!(
            md,
            "Not measured in this run (`scripts/bench` runs `scripts/stack-frames`).\n"
        )
        .unwrap(),
    }
}

#[tokio::test]
#[ignore = "benchmark: run by scripts/bench"]
async fn write_benchmarks() {
    let mut md = String::new();
    writeln!(md, "# Benchmarks\n\nFigures, not timed tests. Reproduce with `scripts/bench` (writes this file; see [How to reproduce](#how-to-reproduce)).\n").unwrap();

    // In-kind baskets on mainnet's limits: accounts, locks, bytes, SPL CU and heap.
    let in_kind = in_kind_table(&mut md).await;
    let plain: Vec<&InKindRow> = in_kind.iter().filter(|r| !r.with_mint).collect();
    let (first, last) = (plain[0], *plain.last().unwrap());
    let (n0, c0, r0) = (first.n, first.spl_cu.0, first.spl_cu.1);
    let (n1, c1, r1) = (last.n, last.spl_cu.0, last.spl_cu.1);
    let cu_per_leg = (c1 - c0) / (n1 - n0) as u64;
    let cu_per_leg_redeem = (r1 - r0) / (n1 - n0) as u64;
    let accounts_per_leg = (last.accounts - first.accounts) / (n1 - n0);

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
            writeln!(md, "Fitted through the smallest and largest basket: {line}. \"rebalance_swap\" needs two constituents, and the quarantine rows a row to set aside besides the one minted, so their lines start at 8. \
                \"mint_in_kind, a row quarantined\" is an in-kind mint while the last row is quarantined: it values the other rows at their trade prices to pay for the quarantined row's slice. \
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

    compute_table(&mut md, callgrind.as_ref()).await;
    heap_and_stack(&mut md).await;

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

    // Sections other drivers write (the local node under load) are kept as they are.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let mut rest = old.as_str();
    while let Some(a) = rest.find("<!-- kept: ") {
        let Some(b) = rest[a..].find("<!-- /kept -->") else {
            break;
        };
        let end = a + b + "<!-- /kept -->".len();
        writeln!(md, "\n{}", &rest[a..end]).unwrap();
        rest = &rest[end..];
    }

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
         instruction is dumped on its own (`target/callgrind/callgrind.out.<k>`, listed in `target/callgrind/manifest.tsv`). \
         Then `scripts/stack-frames 10` on the same build (objdump).\n\
         3. `AIDX_CALLGRIND_DIR=target/callgrind AIDX_STACK_FRAMES=target/callgrind/stack-frames.txt cargo test -p aidx-tests --test integration -- --ignored --exact bench::write_benchmarks`: \
         the in-kind table on mainnet's limits, compute per transaction at a full table (SPL CU, syscall units from the embedded runtime's meter, \
         the callgrind counts), the SBF heap per instruction, target computation and demo timings (debug build), and this file.\n",
        cpu_model(),
        command_output("rustc", &["-V"]),
        command_output("cargo", &["-V"]),
        command_output("valgrind", &["--version"]),
    )
    .unwrap();

    std::fs::write(&path, &md).unwrap();
    println!("{md}");
}
