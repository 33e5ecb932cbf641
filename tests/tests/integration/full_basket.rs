//! The whole basket in one mainnet transaction (64 account locks, 1,232 bytes): which rows
//! can move by the plain transfer (measured against the real token programs), a full
//! 24-constituent table mixing SPL Token, plain Token-2022 and every admitted Token-2022
//! extension minted and redeemed in kind on the 64-lock runtime, and `add_constituent`
//! refusing a row that would take the basket past one transaction.

use aidx::errors::AidxError;
use aidx::math::shares::DEAD_SHARES;
use aidx::math::ONE_SHARE;
use aidx::state::{CHECKED_LEG_ACCOUNTS, MAX_LEG_ACCOUNTS, PLAIN_LEG_ACCOUNTS};
use aidx_client::chain::Chain as _;
use aidx_client::tx::{self, MAINNET_ACCOUNT_LOCKS, PACKET_DATA_SIZE};
use aidx_client::{vault_address, AidxEvent, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};
use aidx_tests::*;
use anchor_spl::token_2022::spl_token_2022::{self, error::TokenError, state::AccountState};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

/// A transfer hook with neither program nor authority: nothing runs, nobody can change it.
fn inert_hook() -> MintExt {
    MintExt::InertTransferHook
}

/// Every mint the extension policy admits, one row each: the plain transfer out of one of
/// its token accounts either moves the amount or fails with `MintRequiredForTransfer`, and
/// `add_constituent` gives the row exactly the leg that works: two accounts when the plain
/// transfer moved, three (with the mint) when it did not.
#[tokio::test]
async fn plain_transfer_by_extension() {
    let mut t = TestContext::new().await;
    let (r, fx) = t.init_index(t.default_args()).await;
    events(r);
    let group = t
        .create_mint(
            TOKEN_2022_PROGRAM_ID,
            6,
            &[MintExt::GroupPointer, MintExt::TokenGroup],
        )
        .await;
    let cases: Vec<(&str, Pubkey, Vec<MintExt>)> = vec![
        ("SPL Token", TOKEN_PROGRAM_ID, vec![]),
        ("Token-2022, no extension", TOKEN_2022_PROGRAM_ID, vec![]),
        (
            "MetadataPointer",
            TOKEN_2022_PROGRAM_ID,
            vec![MintExt::MetadataPointer],
        ),
        (
            "MetadataPointer + TokenMetadata",
            TOKEN_2022_PROGRAM_ID,
            vec![MintExt::MetadataPointer, MintExt::TokenMetadata],
        ),
        (
            "GroupPointer",
            TOKEN_2022_PROGRAM_ID,
            vec![MintExt::GroupPointer],
        ),
        (
            "GroupPointer + TokenGroup",
            TOKEN_2022_PROGRAM_ID,
            vec![MintExt::GroupPointer, MintExt::TokenGroup],
        ),
        (
            "GroupMemberPointer",
            TOKEN_2022_PROGRAM_ID,
            vec![MintExt::GroupMemberPointer],
        ),
        (
            "GroupMemberPointer + TokenGroupMember",
            TOKEN_2022_PROGRAM_ID,
            vec![
                MintExt::GroupMemberPointer,
                MintExt::TokenGroupMember { group },
            ],
        ),
        (
            "DefaultAccountState = Initialized",
            TOKEN_2022_PROGRAM_ID,
            vec![MintExt::DefaultState(AccountState::Initialized)],
        ),
        ("Pausable", TOKEN_2022_PROGRAM_ID, vec![MintExt::Pausable]),
        (
            "TransferHook (inert)",
            TOKEN_2022_PROGRAM_ID,
            vec![inert_hook()],
        ),
    ];
    let payer = t.payer();
    let other = Keypair::new().pubkey();
    let mut table = vec![];
    for (i, (name, program, exts)) in cases.iter().enumerate() {
        let mint = t.create_mint(*program, 6, exts).await;
        let from = t.chain.create_ata(&payer, &mint, program).await.unwrap();
        let to = t.chain.create_ata(&other, &mint, program).await.unwrap();
        t.chain.mint_to(&mint, &from, program, 1_000).await.unwrap();
        #[allow(deprecated)]
        let plain =
            spl_token_2022::instruction::transfer(program, &from, &to, &payer, &[], 400).unwrap();
        let r = t.chain.send(&[plain], &[]).await.unwrap();
        let plain_moves = r.is_ok();
        if plain_moves {
            assert_eq!(
                (t.balance(&from).await, t.balance(&to).await),
                (600, 400),
                "{name}"
            );
        } else {
            // index 1: the embedded runtime puts a compute-budget instruction first
            assert_failed_at(&r, 1, TokenError::MintRequiredForTransfer as u32);
            assert_eq!(t.balance(&from).await, 1_000, "{name}");
        }
        events(
            t.add_constituent(
                &fx.key,
                &fx.admin,
                &mint,
                program,
                row_args(0x5a, i, cases.len(), 0),
            )
            .await,
        );
        let leg = t.index(&fx).await.constituents()[i].leg_accounts;
        let want = if plain_moves {
            PLAIN_LEG_ACCOUNTS
        } else {
            CHECKED_LEG_ACCOUNTS
        };
        assert_eq!(leg, want, "{name}");
        table.push(format!(
            "{name}: plain transfer {}; leg of {leg} accounts",
            if plain_moves { "moves" } else { "refused" }
        ));
    }
    for line in &table {
        println!("{line}");
    }
    let needs_mint: Vec<&str> = cases
        .iter()
        .zip(&table)
        .filter(|(_, l)| l.ends_with("3 accounts"))
        .map(|((n, ..), _)| *n)
        .collect();
    assert_eq!(needs_mint, ["Pausable", "TransferHook (inert)"]);
}

/// The 24 rows of the full table: SPL Token on even rows; Token-2022 on odd rows, plain and
/// with every admitted extension (alone and combined). Four rows carry their mint in a leg.
fn full_table(group: Pubkey) -> Vec<RowSpec> {
    let t22: [Vec<MintExt>; 12] = [
        vec![],
        vec![MintExt::MetadataPointer, MintExt::TokenMetadata],
        vec![MintExt::GroupPointer, MintExt::TokenGroup],
        vec![
            MintExt::GroupMemberPointer,
            MintExt::TokenGroupMember { group },
        ],
        vec![MintExt::DefaultState(AccountState::Initialized)],
        vec![MintExt::Pausable],
        vec![inert_hook()],
        vec![
            MintExt::MetadataPointer,
            MintExt::TokenMetadata,
            MintExt::DefaultState(AccountState::Initialized),
            MintExt::Pausable,
        ],
        vec![],
        vec![MintExt::MetadataPointer],
        vec![MintExt::GroupPointer],
        vec![MintExt::Pausable, inert_hook()],
    ];
    (0..24)
        .map(|i| {
            let exts = if i % 2 == 1 {
                t22[i / 2].clone()
            } else {
                vec![]
            };
            RowSpec {
                program: mixed_program(i),
                decimals: mixed_decimals(i),
                exts,
                units: whole(i, 1) / 4 + i as u64 + 1,
                mint: None,
            }
        })
        .collect()
}

/// Deposits of an in-kind mint of `shares`, computed here from the index's balances.
fn deposits(balances: &[u64], supply: u64, shares: u64) -> Vec<u64> {
    balances
        .iter()
        .map(|b| (shares as u128 * *b as u128).div_ceil(supply as u128) as u64)
        .collect()
}

/// Payouts of an in-kind redeem of `shares`, computed here from the index's balances.
fn payouts(balances: &[u64], supply: u64, shares: u64) -> Vec<u64> {
    balances
        .iter()
        .map(|b| (shares as u128 * *b as u128 / supply as u128) as u64)
        .collect()
}

/// A full 24-constituent table, mixing both token programs and every admitted Token-2022
/// extension, mints and redeems in kind in one transaction each way on mainnet's limits:
/// exact deposits, payouts, supply and events; a round trip never gains a unit; a donation to
/// every vault moves nothing.
#[tokio::test]
async fn full_table_in_kind_on_mainnet_limits() {
    let mut t = TestContext::new().await;
    let group = t
        .create_mint(
            TOKEN_2022_PROGRAM_ID,
            9,
            &[MintExt::GroupPointer, MintExt::TokenGroup],
        )
        .await;
    let rows = full_table(group);
    let args = t.default_args();
    let fx = t.create_index_of(args, &rows).await;
    let index = t.index(&fx).await;
    assert_eq!(index.constituents().len(), 24);
    let widths: Vec<u8> = index
        .constituents()
        .iter()
        .map(|c| c.leg_accounts)
        .collect();
    let checked: Vec<usize> = (0..24)
        .filter(|i| widths[*i] == CHECKED_LEG_ACCOUNTS)
        .collect();
    assert_eq!(checked, [11, 13, 15, 23], "pausable or hooked rows");
    assert_eq!(index.leg_accounts(), 52);
    assert!(index.leg_accounts() <= MAX_LEG_ACCOUNTS);

    let rich = |i: usize| whole(i, 1_000_000);
    let a = t.holder(&fx, rich).await;
    let b = t.holder(&fx, rich).await;
    let a_start = t.holder_balances(&a).await;
    let b_start = t.holder_balances(&b).await;

    // a seeds the basket in one transaction through the index's and a's lookup tables.
    let seed = 3 * ONE_SHARE;
    let ix = t
        .mint_in_kind_ix(
            &fx,
            &a,
            aidx::instructions::MintInKindArgs {
                shares: seed,
                max_amounts_in: vec![u64::MAX; 24],
                min_shares_out: seed,
            },
        )
        .await;
    let mut all = t.chain.budget_instructions();
    all.push(ix.clone());
    let index_lut = fx.lut.clone().unwrap();
    let index_only = tx::measure(&t.payer(), &all, std::slice::from_ref(&index_lut)).unwrap();
    let mut own = a.token_accounts.clone();
    own.push(a.shares);
    let holder_lut = t.chain.create_lookup_table(&own).await.unwrap();
    let tables = [index_lut, holder_lut];
    let both = tx::measure(&t.payer(), &all, &tables).unwrap();
    println!("24-leg mint_in_kind: index table only {index_only}; with the holder's table {both}");
    // 8 named accounts + 52 leg accounts + the program, the compute-budget program, the payer
    assert_eq!(ix.accounts.len(), 60);
    assert_eq!(both.locks, 63);
    assert!(both.locks <= MAINNET_ACCOUNT_LOCKS && both.bytes <= PACKET_DATA_SIZE);
    assert!(index_only.bytes > PACKET_DATA_SIZE, "{index_only}");
    let ev = events(
        t.chain
            .send_v0(&[ix], &[&a.keypair], &tables)
            .await
            .unwrap(),
    );
    let want_in: Vec<u64> = rows
        .iter()
        .map(|r| {
            ((seed + DEAD_SHARES) as u128 * r.units as u128).div_ceil(ONE_SHARE as u128) as u64
        })
        .collect();
    let [AidxEvent::MintedInKind(e)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(e.amounts_in, want_in);
    assert_eq!((e.shares, e.dead_shares), (seed, DEAD_SHARES));
    assert_eq!(e.balances_after, want_in);
    assert_eq!(t.vault_balances(&fx).await, want_in);
    let a_now = t.holder_balances(&a).await;
    for i in 0..24 {
        assert_eq!(a_start[i] - a_now[i], want_in[i], "leg {i}");
    }
    let mut supply = seed + DEAD_SHARES;
    assert_eq!(t.share_supply(&fx).await, supply);

    // b mints an odd amount: every deposit rounds up, computed from internal balances.
    let shares = 7 * ONE_SHARE + 3;
    let bal = want_in.clone();
    let dep = deposits(&bal, supply, shares);
    let ev = events(t.mint_in_kind(&fx, &b, shares).await);
    let [AidxEvent::MintedInKind(e)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(e.amounts_in, dep);
    let b_mid = t.holder_balances(&b).await;
    for i in 0..24 {
        assert_eq!(b_start[i] - b_mid[i], dep[i], "leg {i}");
    }
    let bal: Vec<u64> = bal.iter().zip(&dep).map(|(x, d)| x + d).collect();
    supply += shares;
    assert_eq!(e.balances_after, bal);
    assert_eq!(t.share_supply(&fx).await, supply);
    assert_eq!(t.balance(&b.shares).await, shares);

    // A donation to every vault: the index's balances and every later payout ignore it.
    for (i, c) in fx.constituents.iter().enumerate() {
        t.chain
            .mint_to(
                &c.mint,
                &vault_address(&fx.key, &c.mint),
                &c.token_program,
                whole(i, 5),
            )
            .await
            .unwrap();
    }
    let index = t.index(&fx).await;
    let internal: Vec<u64> = index.constituents().iter().map(|c| c.balance).collect();
    assert_eq!(internal, bal);

    // b redeems everything: payouts round down from internal balances; the round trip never
    // returns more than b put in, on any leg.
    let out = payouts(&bal, supply, shares);
    let ev = events(t.redeem_in_kind(&fx, &b, shares).await);
    let [AidxEvent::RedeemedInKind(e)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(e.amounts_out, out);
    let b_end = t.holder_balances(&b).await;
    for i in 0..24 {
        assert_eq!(b_end[i] - b_mid[i], out[i], "leg {i}");
        assert!(b_end[i] <= b_start[i], "leg {i}: the round trip gained");
    }
    let bal: Vec<u64> = bal.iter().zip(&out).map(|(x, o)| x - o).collect();
    supply -= shares;
    assert_eq!(e.balances_after, bal);
    assert_eq!(t.share_supply(&fx).await, supply);
    assert_eq!(t.balance(&b.shares).await, 0);

    // a leaves too; the dead shares keep their backing, the donations stay in the vaults.
    let out = payouts(&bal, supply, seed);
    let ev = events(t.redeem_in_kind(&fx, &a, seed).await);
    let [AidxEvent::RedeemedInKind(e)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(e.amounts_out, out);
    let bal: Vec<u64> = bal.iter().zip(&out).map(|(x, o)| x - o).collect();
    assert_eq!(t.share_supply(&fx).await, DEAD_SHARES);
    let vaults = t.vault_balances(&fx).await;
    let index = t.index(&fx).await;
    for (i, c) in index.constituents().iter().enumerate() {
        assert_eq!(c.balance, bal[i], "leg {i}");
        assert_eq!(vaults[i], bal[i] + whole(i, 5), "leg {i}");
    }
}

/// A row added after the first 17 of [`add_constituent_refuses_past_one_transaction`], once the
/// index is open: empty (no seed units), target 0 (the first 17 hold it all), its own feed.
fn extra_row(i: usize) -> aidx::instructions::AddConstituentArgs {
    aidx::instructions::AddConstituentArgs {
        target_weight: 0,
        ..row_args(0x77, i, 24, 0)
    }
}

/// `add_constituent` keeps every in-kind transaction inside 64 locks: 17 pausable rows take
/// 51 leg accounts, an 18th would take 54 of the 53 available and is refused by name (no
/// vault made), a plain 18th fits exactly, and nothing more fits after it although the table
/// has 6 free rows. The 53-account basket then mints and redeems in one transaction locking
/// exactly 64 accounts, with a fee payer other than the holder.
#[tokio::test]
async fn add_constituent_refuses_past_one_transaction() {
    let mut t = TestContext::new().await;
    let pausable: Vec<RowSpec> = (0..17)
        .map(|i| RowSpec {
            program: TOKEN_2022_PROGRAM_ID,
            decimals: 6,
            exts: vec![MintExt::Pausable],
            units: 1_000 + i as u64,
            mint: None,
        })
        .collect();
    let args = t.default_args();
    let mut fx = t.create_index_of(args, &pausable).await;
    assert_eq!(t.index(&fx).await.leg_accounts(), 51);

    let one_more = t
        .create_mint(TOKEN_2022_PROGRAM_ID, 6, &[MintExt::Pausable])
        .await;
    let r = t
        .add_constituent(
            &fx.key,
            &fx.admin,
            &one_more,
            &TOKEN_2022_PROGRAM_ID,
            extra_row(17),
        )
        .await;
    assert_aidx_error(&r, AidxError::BasketExceedsOneTransaction);
    assert!(t
        .chain
        .account(&vault_address(&fx.key, &one_more))
        .await
        .unwrap()
        .is_none());
    assert_eq!(t.index(&fx).await.num_constituents, 17);

    let plain = t.create_mint(TOKEN_PROGRAM_ID, 6, &[]).await;
    events(
        t.add_constituent(&fx.key, &fx.admin, &plain, &TOKEN_PROGRAM_ID, extra_row(17))
            .await,
    );
    assert_eq!(t.index(&fx).await.leg_accounts(), MAX_LEG_ACCOUNTS);
    fx.constituents.push(ConstituentFixture {
        mint: plain,
        token_program: TOKEN_PROGRAM_ID,
        decimals: 6,
        units_per_share: 0,
        feed_id: extra_row(17).feed_id,
    });
    let another = t.create_mint(TOKEN_PROGRAM_ID, 6, &[]).await;
    let r = t
        .add_constituent(
            &fx.key,
            &fx.admin,
            &another,
            &TOKEN_PROGRAM_ID,
            extra_row(18),
        )
        .await;
    assert_aidx_error(&r, AidxError::BasketExceedsOneTransaction);

    // The widest basket the program allows, at exactly 64 locks.
    let index = t.index(&fx).await;
    let addresses = aidx_client::index_lookup_addresses(&fx.key, &index);
    fx.lut = Some(t.chain.create_lookup_table(&addresses).await.unwrap());
    let h = t.holder(&fx, |_| 1_000_000_000).await;
    assert_ne!(h.key(), t.payer());
    let ix = t
        .mint_in_kind_ix(
            &fx,
            &h,
            aidx::instructions::MintInKindArgs {
                shares: ONE_SHARE,
                max_amounts_in: vec![u64::MAX; 18],
                min_shares_out: 0,
            },
        )
        .await;
    let mut all = t.chain.budget_instructions();
    all.push(ix.clone());
    let mut own = h.token_accounts.clone();
    own.push(h.shares);
    let holder_lut = t.chain.create_lookup_table(&own).await.unwrap();
    let tables = [fx.lut.clone().unwrap(), holder_lut];
    let f = tx::measure(&t.payer(), &all, &tables).unwrap();
    println!("18-row, 53-leg-account mint_in_kind: {f}");
    assert_eq!(f.locks, MAINNET_ACCOUNT_LOCKS);
    assert!(f.fits());
    let ev = events(
        t.chain
            .send_v0(&[ix], &[&h.keypair], &tables)
            .await
            .unwrap(),
    );
    assert!(matches!(&ev[..], [AidxEvent::MintedInKind(e)] if e.shares == ONE_SHARE));
    let ev = events(t.redeem_in_kind(&fx, &h, ONE_SHARE).await);
    assert!(matches!(&ev[..], [AidxEvent::RedeemedInKind(e)] if e.shares == ONE_SHARE));
    assert_eq!(t.balance(&h.shares).await, 0);
}
