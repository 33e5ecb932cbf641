//! The SBF heap at a full table: every instruction that grows with the basket, run at 24
//! constituents (both token programs), allocates in total less than the 32 KiB a program has
//! on SBF, where the bump allocator never frees. Measured by the embedded runtime's counting
//! allocator (installed in `main.rs`): only the program's own code counts, not the SPL programs
//! it calls nor the runtime's syscalls.

use aidx::events::MethodologyInputRow;
use aidx::instructions::RebalanceSwapArgs;
use aidx::math::{ONE_SHARE, USD_SCALE};
use aidx::state::{SubSector, MAX_CONSTITUENTS};
use aidx_client as client;
use aidx_embedded::heap::{self, SBF_HEAP_BYTES};
use aidx_tests::*;
use anchor_spl::token_2022::spl_token_2022;
use solana_sdk::signer::Signer;

const N: usize = MAX_CONSTITUENTS;

/// What the SBF entrypoint allocates before the program's code runs, per account passed: the
/// `AccountInfo` (48 bytes) in the accounts vector and its two `Rc<RefCell<..>>` boxes, for
/// lamports (32) and data (40). Natively the runtime builds them outside the program, so the
/// counting allocator does not see them: they are added here.
const ENTRYPOINT_BYTES_PER_ACCOUNT: u64 = 48 + 32 + 40;
/// An upper bound on the accounts any instruction here passes: `mint_in_kind`, 8 named
/// accounts and at most 3 per row (a row carries its mint only when its token program needs it,
/// and `add_constituent` keeps every basket within 53 leg accounts).
const MOST_ACCOUNTS: u64 = 8 + 3 * N as u64;

/// Runs `send`, asserts it succeeded and returns the bytes the program allocated for it.
macro_rules! measured {
    ($name:expr, $table:expr, $send:expr) => {{
        heap::take();
        events($send);
        let bytes = heap::take();
        $table.push(($name, bytes));
        bytes
    }};
}

/// Bytes the program allocated per instruction at a full table, in the order run (also
/// written to BENCHMARKS.md by the bench).
pub async fn heap_per_instruction() -> Vec<(&'static str, u64)> {
    let mut t = TestContext::new().await;
    let mut table: Vec<(&'static str, u64)> = vec![];
    let args = t.default_args();
    heap::take();
    let (r, mut fx) = t.init_index(args).await;
    events(r);
    table.push(("initialize_index", heap::take()));

    // 24 rows, alternating SPL Token and Token-2022; the largest add_constituent is kept.
    let mut add_max = 0;
    for i in 0..N {
        let (program, decimals) = (mixed_program(i), mixed_decimals(i));
        // Row 5 has a freeze authority: the quarantine below freezes its vault.
        let mint = if i == 5 {
            t.create_mint_with_freeze(program, decimals).await
        } else {
            t.create_mint(program, decimals, &[]).await
        };
        let args = row_args(0x42, i, N, units(i));
        let feed_id = args.feed_id;
        heap::take();
        events(
            t.add_constituent(&fx.key, &fx.admin, &mint, &program, args)
                .await,
        );
        add_max = add_max.max(heap::take());
        fx.constituents.push(ConstituentFixture {
            mint,
            token_program: program,
            decimals,
            units_per_share: units(i),
            feed_id,
        });
    }
    table.push(("add_constituent (largest of 24)", add_max));
    let index = t.index(&fx).await;
    fx.lut = Some(
        t.chain
            .create_lookup_table(&client::index_lookup_addresses(&fx.key, &index))
            .await
            .unwrap(),
    );

    heap::take();
    events(t.open_index(&fx).await);
    table.push(("open_index", heap::take()));

    // In kind: the seed, a later mint, a redeem.
    let seeder = t.holder(&fx, rich).await;
    measured!(
        "mint_in_kind (first: seeds)",
        table,
        t.mint_in_kind(&fx, &seeder, SEED_SHARES).await
    );
    let holder = t.holder(&fx, rich).await;
    measured!(
        "mint_in_kind",
        table,
        t.mint_in_kind(&fx, &holder, 10 * ONE_SHARE).await
    );
    measured!(
        "redeem_in_kind",
        table,
        t.redeem_in_kind(&fx, &holder, 4 * ONE_SHARE).await
    );

    // Prices, NAV, single-asset flows at $1 a token.
    let ones = vec![USD_SCALE; N];
    measured!("refresh_prices", table, t.set_prices(&fx, &ones, 10).await);
    measured!(
        "report_nav",
        table,
        t.send(client::report_nav(&fx.key), &[]).await
    );
    measured!(
        "mint_single",
        table,
        t.mint_single(&fx, &holder, 1, whole(1, 1), 0).await
    );
    measured!(
        "redeem_single",
        table,
        t.redeem_single(&fx, &holder, 1, ONE_SHARE / 10, 0).await
    );

    // A rebalance: row 0 doubles, the imbalance is recorded, a swap sells some of it.
    let mut moved = ones.clone();
    moved[0] = 2 * USD_SCALE;
    t.set_prices(&fx, &moved, 10).await.unwrap();
    measured!(
        "poke_rebalance",
        table,
        t.send(client::poke_rebalance(&fx.key), &[]).await
    );
    let index = t.index(&fx).await;
    let swap = client::rebalance_swap(
        &fx.key,
        &index,
        &seeder.keypair.pubkey(),
        1,
        0,
        RebalanceSwapArgs {
            amount_in: whole(1, 1),
            min_amount_out: 0,
        },
    );
    measured!(
        "rebalance_swap",
        table,
        t.send(swap, &[&seeder.keypair]).await
    );
    // The methodology on-chain.
    let rows: Vec<MethodologyInputRow> = (0..N)
        .map(|i| MethodologyInputRow {
            mint: fx.constituents[i].mint,
            circulating_supply: 1_000_000 * (i as u64 + 1),
            avg_daily_volume_usd: 50_000_000,
            depth_usd: Some(2_000_000),
            unlock: i == 3,
            sub_sector: (i % 8) as u8,
            bucket: u8::from(i % 8 == SubSector::Host as usize),
            rank: i as u16 + 1,
        })
        .collect();
    let now = t.now().await;
    let payer = t.payer();
    // A full table of rows goes in batches that fit a packet; the largest batch is kept.
    let mut inputs_max = 0;
    for ix in client::set_methodology_inputs_batched(&fx.key, &payer, now, &rows) {
        heap::take();
        events(t.send(ix, &[]).await);
        inputs_max = inputs_max.max(heap::take());
    }
    table.push(("set_methodology_inputs (largest batch)", inputs_max));
    measured!(
        "recompute_targets",
        table,
        t.send(client::recompute_targets(&fx.key), &[]).await
    );

    let index = t.index(&fx).await;
    measured!(
        "accrue_fees",
        table,
        t.send(client::accrue_fees(&fx.key, &index), &[]).await
    );
    let mut params = index.params;
    params.management_fee_bps = 100;
    let admin = fx.admin.pubkey();
    measured!(
        "set_params",
        table,
        t.send(
            client::set_params(&fx.key, &index, &admin, params),
            &[&fx.admin]
        )
        .await
    );

    // A quarantine of row 5 (made freezable above: its vault frozen, so an in-kind mint pays
    // for its slice at prices), a release once thawed, and a write-off 30 days on, frozen.
    let freeze = |thaw: bool| {
        let c = &fx.constituents[5];
        let vault = client::vault_address(&fx.key, &c.mint);
        let f = if thaw {
            spl_token_2022::instruction::thaw_account
        } else {
            spl_token_2022::instruction::freeze_account
        };
        f(&c.token_program, &vault, &c.mint, &payer, &[]).unwrap()
    };
    t.set_prices(&fx, &ones, 10).await.unwrap();
    t.chain.send_ok(&[freeze(false)], &[]).await.unwrap();
    let index = t.index(&fx).await;
    measured!(
        "quarantine_constituent",
        table,
        t.send(
            client::quarantine_constituent(&fx.key, &index, &admin, 5),
            &[&fx.admin]
        )
        .await
    );
    measured!(
        "mint_in_kind (a row quarantined)",
        table,
        t.mint_in_kind(&fx, &holder, ONE_SHARE).await
    );
    t.chain.send_ok(&[freeze(true)], &[]).await.unwrap();
    let now = t.now().await;
    t.warp_to_time(now + aidx::state::MIN_QUARANTINE_SECS).await;
    measured!(
        "release_constituent",
        table,
        t.send(
            client::release_constituent(&fx.key, &index, &admin, 5),
            &[&fx.admin]
        )
        .await
    );
    t.chain.send_ok(&[freeze(false)], &[]).await.unwrap();
    events(
        t.send(
            client::quarantine_constituent(&fx.key, &index, &admin, 5),
            &[&fx.admin],
        )
        .await,
    );
    let since = t.index(&fx).await.constituents()[5].quarantined_at;
    t.warp_to_time(since + aidx::state::WRITE_OFF_AFTER_SECS)
        .await;
    measured!(
        "write_off_constituent",
        table,
        t.send(
            client::write_off_constituent(&fx.key, &index, &admin, 5),
            &[&fx.admin]
        )
        .await
    );

    table
}

/// The entrypoint's allocation for the most accounts any of these instructions passes.
pub const ENTRYPOINT_BYTES: u64 = ENTRYPOINT_BYTES_PER_ACCOUNT * MOST_ACCOUNTS;

#[tokio::test]
async fn every_instruction_fits_the_sbf_heap_at_a_full_table() {
    let table = heap_per_instruction().await;
    let entrypoint = ENTRYPOINT_BYTES;
    println!(
        "heap bytes per instruction at {N} constituents (SBF limit {SBF_HEAP_BYTES}; \
         plus at most {entrypoint} for the entrypoint's account infos):"
    );
    for (name, bytes) in &table {
        println!("  {name:<32} {bytes:>6}");
    }
    let (largest, most) = table.iter().max_by_key(|(_, b)| *b).copied().unwrap();
    println!(
        "largest: {largest}, {most} bytes; with the entrypoint {} of {SBF_HEAP_BYTES}",
        most + entrypoint
    );
    assert!(most > 0, "the counting allocator is installed and counts");
    for (name, bytes) in &table {
        assert!(
            bytes + entrypoint < SBF_HEAP_BYTES,
            "{name} allocates {bytes} bytes (+{entrypoint} at the entrypoint), over the \
             {SBF_HEAP_BYTES}-byte SBF heap"
        );
    }
}
