//! Account substitution on `mint_in_kind` and `redeem_in_kind`: a valid instruction on a seeded
//! 3-constituent mixed index (legs: 0 SPL Token `(vault, holder)`, 1 pausable Token-2022
//! `(mint, vault, holder)`, 2 SPL Token `(vault, holder)`) with exactly one
//! account meta swapped for a plausible wrong one, each refused with its exact error and with
//! nothing moved. Then the amount checks: slippage bounds at their exact edges, zero and
//! oversized amounts, the first-mint minimum and a redeem too small to pay anything.

use aidx::errors::AidxError;
use aidx::instructions::{MintInKindArgs, RedeemInKindArgs};
use aidx::math::shares::{mint_deposit, redeem_payout, DEAD_SHARES, MIN_FIRST_MINT};
use aidx::math::ONE_SHARE;
use aidx::state::Index;
use aidx_client::{self as client, AidxEvent, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};
use aidx_tests::*;
use anchor_lang::error::ErrorCode;
use anchor_lang::InstructionData;
use solana_sdk::{
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
};

fn units3(i: usize) -> u64 {
    [1_500_000, 2_000_000_000, 7][i] // 1.5 (6 dp), 2.0 (9 dp), 7 raw (8 dp)
}

/// Accounts per leg of the matrix index: only the pausable Token-2022 row carries its mint.
const WIDTHS: [usize; 3] = [2, 3, 2];

/// The matrix index: SPL Token, pausable Token-2022, SPL Token.
async fn matrix_index(t: &mut TestContext) -> IndexFixture {
    let rows: Vec<RowSpec> = (0..3)
        .map(|i| RowSpec {
            program: mixed_program(i),
            decimals: mixed_decimals(i),
            exts: if i == 1 {
                vec![MintExt::Pausable]
            } else {
                vec![]
            },
            units: units3(i),
            mint: None,
        })
        .collect();
    let args = t.default_args();
    t.create_index_of(args, &rows).await
}

/// Where leg `i` starts among the legs.
fn leg_start(i: usize) -> usize {
    WIDTHS[..i].iter().sum()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Mint,
    Redeem,
}

/// An account of an in-kind instruction.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Holder,
    Index,
    ShareMint,
    HolderShares,
    /// `mint_in_kind` only.
    DeadShares,
    /// The fee-share account (after the token programs).
    FeeShares,
    TokenProgram,
    Token2022Program,
    LegMint(usize),
    LegVault(usize),
    LegHolder(usize),
}

/// Where `slot` sits in the account metas of `kind` (`None`: the instruction has no such account).
fn position(kind: Kind, slot: Slot) -> Option<usize> {
    // mint:   holder, index, share_mint, holder_shares, dead_shares, token, token_2022, fee_shares, legs..
    // redeem: holder, index, share_mint, holder_shares, token, token_2022, fee_shares, legs..
    let fixed = match kind {
        Kind::Mint => 8,
        Kind::Redeem => 7,
    };
    let dead = usize::from(kind == Kind::Mint);
    Some(match slot {
        Slot::Holder => 0,
        Slot::Index => 1,
        Slot::ShareMint => 2,
        Slot::HolderShares => 3,
        Slot::DeadShares if kind == Kind::Mint => 4,
        Slot::DeadShares => return None,
        Slot::TokenProgram => 4 + dead,
        Slot::Token2022Program => 5 + dead,
        Slot::FeeShares => 6 + dead,
        Slot::LegMint(i) if i == WIDTHS.len() => fixed + leg_start(i),
        Slot::LegMint(i) if WIDTHS[i] == 3 => fixed + leg_start(i),
        Slot::LegMint(_) => return None,
        Slot::LegVault(i) => fixed + leg_start(i) + WIDTHS[i] - 2,
        Slot::LegHolder(i) => fixed + leg_start(i) + WIDTHS[i] - 1,
    })
}

/// One change to a valid instruction.
#[derive(Clone, Debug)]
enum Change {
    /// Replace the account in `Slot` (keeping its signer and writable flags).
    Key(Slot, Pubkey),
    /// Keep the account but do not sign for it.
    Unsigned(Slot),
    /// Keep the account but pass it read-only.
    ReadOnly(Slot),
    /// Drop the last `n` remaining accounts.
    DropLast(usize),
    /// Append an extra account after the legs.
    Extra(Pubkey),
    /// Swap two legs (their whole account groups).
    SwapLegs(usize, usize),
    /// Leave out leg `i`'s mint and append `extra` after the legs (same count, shifted legs).
    DropMintAppend(usize, Pubkey),
    /// Put `mint` before leg `i` (a plain leg given a mint).
    InsertBefore(usize, Pubkey),
    /// Arguments with one amount per leg replaced by `n` amounts.
    AmountsLen(usize),
}

#[derive(Clone, Copy, Debug)]
enum Want {
    Aidx(AidxError),
    Anchor(ErrorCode),
}

struct Case {
    name: &'static str,
    /// `None`: both instructions.
    only: Option<Kind>,
    change: Change,
    want: Want,
    /// A different error for `redeem_in_kind`, when it differs.
    redeem_want: Option<Want>,
}

fn case(name: &'static str, change: Change, want: Want) -> Case {
    Case {
        name,
        only: None,
        change,
        want,
        redeem_want: None,
    }
}

/// Everything an in-kind instruction could move: balances of every token account involved and
/// the index accounts.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    balances: Vec<(Pubkey, u64)>,
    share_supply: u64,
    indexes: Vec<Vec<u8>>,
}

async fn snapshot(
    t: &mut TestContext,
    token_accounts: &[Pubkey],
    share_mint: &Pubkey,
    indexes: &[Pubkey],
) -> Snapshot {
    let mut balances = vec![];
    for a in token_accounts {
        balances.push((*a, t.balance(a).await));
    }
    let share_supply = t.chain.mint_supply(share_mint).await.unwrap();
    let mut data = vec![];
    for i in indexes {
        data.push(t.chain.account_data(i).await.unwrap());
    }
    Snapshot {
        balances,
        share_supply,
        indexes: data,
    }
}

/// Applies `change` to a valid instruction of `kind` (`n` legs).
fn apply(kind: Kind, base: &Instruction, change: &Change, n: usize, shares: u64) -> Instruction {
    let mut ix = base.clone();
    let legs_at = position(kind, Slot::LegVault(0)).unwrap();
    match change {
        Change::Key(slot, key) => {
            let k = position(kind, *slot).expect("slot exists");
            assert_ne!(
                ix.accounts[k].pubkey, *key,
                "replacement equals the original"
            );
            ix.accounts[k].pubkey = *key;
        }
        Change::Unsigned(slot) => {
            let k = position(kind, *slot).unwrap();
            assert!(ix.accounts[k].is_signer);
            ix.accounts[k].is_signer = false;
        }
        Change::ReadOnly(slot) => {
            let k = position(kind, *slot).unwrap();
            assert!(ix.accounts[k].is_writable);
            ix.accounts[k].is_writable = false;
        }
        Change::DropLast(m) => {
            let len = ix.accounts.len();
            ix.accounts.truncate(len - m);
        }
        Change::Extra(key) => ix.accounts.push(AccountMeta::new(*key, false)),
        Change::SwapLegs(a, b) => {
            let mut legs: Vec<Vec<AccountMeta>> = WIDTHS
                .iter()
                .enumerate()
                .map(|(i, w)| ix.accounts[legs_at + leg_start(i)..][..*w].to_vec())
                .collect();
            legs.swap(*a, *b);
            ix.accounts.truncate(legs_at);
            ix.accounts.extend(legs.into_iter().flatten());
        }
        Change::DropMintAppend(i, extra) => {
            let k = position(kind, Slot::LegMint(*i)).expect("leg carries its mint");
            ix.accounts.remove(k);
            ix.accounts.push(AccountMeta::new(*extra, false));
        }
        Change::InsertBefore(i, mint) => {
            ix.accounts.insert(
                legs_at + leg_start(*i),
                AccountMeta::new_readonly(*mint, false),
            );
        }
        Change::AmountsLen(m) => {
            assert_ne!(*m, n);
            ix.data = match kind {
                Kind::Mint => aidx::instruction::MintInKind {
                    args: MintInKindArgs {
                        shares,
                        max_amounts_in: vec![u64::MAX; *m],
                        min_shares_out: 0,
                    },
                }
                .data(),
                Kind::Redeem => aidx::instruction::RedeemInKind {
                    args: RedeemInKindArgs {
                        shares,
                        min_amounts_out: vec![0; *m],
                        skip_mask: 0,
                    },
                }
                .data(),
            };
        }
    }
    ix
}

/// The keypairs among `candidates` that `ix` needs signatures from.
fn signers_of<'a>(ix: &Instruction, candidates: &[&'a Keypair]) -> Vec<&'a Keypair> {
    candidates
        .iter()
        .copied()
        .filter(|k| {
            ix.accounts
                .iter()
                .any(|m| m.is_signer && m.pubkey == k.pubkey())
        })
        .collect()
}

#[track_caller]
fn assert_want(r: &TxResult, want: Want) {
    match want {
        Want::Aidx(e) => assert_aidx_error(r, e),
        Want::Anchor(e) => assert_anchor_error(r, e),
    }
}

/// Creates an index over existing mints (another index's vaults of the same tokens).
async fn index_over(t: &mut TestContext, mints: &[ConstituentFixture]) -> IndexFixture {
    let (r, mut fx) = t.init_index(t.default_args()).await;
    events(r);
    for (i, c) in mints.iter().enumerate() {
        let args = aidx::instructions::AddConstituentArgs {
            sub_sector: 0,
            bucket: 0,
            feed_id: test_feed_id(0xee, i),
            initial_units_per_share: c.units_per_share,
            target_weight: 0,
        };
        events(
            t.add_constituent(&fx.key, &fx.admin, &c.mint, &c.token_program, args)
                .await,
        );
        fx.constituents.push(c.clone());
    }
    fx
}

#[tokio::test]
async fn substituted_accounts_are_refused() {
    use Slot::*;
    use Want::{Aidx, Anchor};

    let mut t = TestContext::new().await;
    let fx = matrix_index(&mut t).await;
    // Another index with other mints, and another index over the same mints.
    let other = matrix_index(&mut t).await;
    let same_mints = index_over(&mut t, &fx.constituents).await;
    assert_eq!(fx.constituents[0].token_program, TOKEN_PROGRAM_ID);
    assert_eq!(fx.constituents[1].token_program, TOKEN_2022_PROGRAM_ID);
    assert_eq!(fx.constituents[2].token_program, TOKEN_PROGRAM_ID);
    assert_eq!(other.constituents[1].token_program, TOKEN_2022_PROGRAM_ID);

    let rich = |_| 1_000_000_000_000_000u64;
    let a = t.holder(&fx, rich).await; // seeds the basket; the "other holder"
    let b = t.holder(&fx, rich).await; // the holder whose instructions are tampered with
    events(t.mint_in_kind(&fx, &a, 10 * ONE_SHARE).await);
    events(t.mint_in_kind(&fx, &b, 5 * ONE_SHARE).await);
    // The other index is seeded too, so its dead-share account holds shares.
    let other_holder = t.holder(&other, rich).await;
    events(t.mint_in_kind(&other, &other_holder, ONE_SHARE).await);
    // b's token account of the other index's Token-2022 mint: right program, wrong mint.
    let b_other_t22 = t
        .chain
        .create_ata(
            &b.key(),
            &other.constituents[1].mint,
            &TOKEN_2022_PROGRAM_ID,
        )
        .await
        .unwrap();
    let b_wallet = b.key();
    assert_ne!(b_wallet, t.payer(), "the holder must not be the fee payer");
    let vault =
        |fx: &IndexFixture, i: usize| client::vault_address(&fx.key, &fx.constituents[i].mint);

    let n = 3;
    let shares = ONE_SHARE;
    let mint_ix = t
        .mint_in_kind_ix(
            &fx,
            &b,
            MintInKindArgs {
                shares,
                max_amounts_in: vec![u64::MAX; n],
                min_shares_out: shares,
            },
        )
        .await;
    let redeem_ix = t
        .redeem_in_kind_ix(
            &fx,
            &b,
            RedeemInKindArgs {
                shares,
                min_amounts_out: vec![0; n],
                skip_mask: 0,
            },
        )
        .await;
    // The slot map matches the instructions the client builds.
    for (kind, ix) in [(Kind::Mint, &mint_ix), (Kind::Redeem, &redeem_ix)] {
        let at = |s| ix.accounts[position(kind, s).unwrap()].pubkey;
        assert_eq!(ix.accounts.len(), position(kind, LegMint(n)).unwrap());
        assert_eq!(at(Holder), b.key());
        assert_eq!(at(Index), fx.key);
        assert_eq!(at(ShareMint), fx.share_mint);
        assert_eq!(at(HolderShares), b.shares);
        assert_eq!(at(TokenProgram), TOKEN_PROGRAM_ID);
        assert_eq!(at(Token2022Program), TOKEN_2022_PROGRAM_ID);
        for i in 0..n {
            if let Some(k) = position(kind, LegMint(i)) {
                assert_eq!(ix.accounts[k].pubkey, fx.constituents[i].mint);
                assert!(!ix.accounts[k].is_writable);
            }
            assert_eq!(at(LegVault(i)), vault(&fx, i));
            assert_eq!(at(LegHolder(i)), b.token_accounts[i]);
        }
    }
    assert_eq!(
        mint_ix.accounts[position(Kind::Mint, DeadShares).unwrap()].pubkey,
        client::dead_shares_address(&fx.key)
    );
    for (kind, ix) in [(Kind::Mint, &mint_ix), (Kind::Redeem, &redeem_ix)] {
        assert_eq!(
            ix.accounts[position(kind, FeeShares).unwrap()].pubkey,
            client::fee_shares_address(&fx.key)
        );
    }

    let cases: Vec<Case> = vec![
        // ---- signer
        case(
            "holder does not sign",
            Change::Unsigned(Holder),
            Anchor(ErrorCode::AccountNotSigner),
        ),
        case(
            "another holder signs as holder",
            Change::Key(Holder, a.key()),
            Aidx(AidxError::ShareAccountOwnerMismatch),
        ),
        // ---- index and share mint
        case(
            "index of another index",
            Change::Key(Index, other.key),
            Aidx(AidxError::ShareMintMismatch),
        ),
        case(
            "index of another index over the same mints",
            Change::Key(Index, same_mints.key),
            Aidx(AidxError::ShareMintMismatch),
        ),
        case(
            "index: a token-program account",
            Change::Key(Index, fx.share_mint),
            Anchor(ErrorCode::AccountOwnedByWrongProgram),
        ),
        case(
            "index read-only",
            Change::ReadOnly(Index),
            Anchor(ErrorCode::ConstraintMut),
        ),
        case(
            "share mint of another index",
            Change::Key(ShareMint, other.share_mint),
            Aidx(AidxError::ShareMintMismatch),
        ),
        case(
            "share mint: a constituent mint",
            Change::Key(ShareMint, fx.constituents[0].mint),
            Aidx(AidxError::ShareMintMismatch),
        ),
        case(
            "share mint read-only",
            Change::ReadOnly(ShareMint),
            Anchor(ErrorCode::ConstraintMut),
        ),
        // ---- holder share account
        case(
            "holder shares of another holder",
            Change::Key(HolderShares, a.shares),
            Aidx(AidxError::ShareAccountOwnerMismatch),
        ),
        case(
            "holder shares: the holder's SPL account of a constituent",
            Change::Key(HolderShares, b.token_accounts[0]),
            Aidx(AidxError::ShareAccountMintMismatch),
        ),
        case(
            "holder shares: the holder's account of another index's shares",
            Change::Key(HolderShares, other_holder.shares),
            Aidx(AidxError::ShareAccountMintMismatch),
        ),
        case(
            "holder shares: a Token-2022 account",
            Change::Key(HolderShares, b.token_accounts[1]),
            Anchor(ErrorCode::AccountOwnedByWrongProgram),
        ),
        Case {
            name: "holder shares: the index's dead-share account",
            only: None,
            change: Change::Key(HolderShares, client::dead_shares_address(&fx.key)),
            // mint_in_kind also passes it as `dead_shares`: the same account twice as `mut`.
            want: Anchor(ErrorCode::ConstraintDuplicateMutableAccount),
            redeem_want: Some(Aidx(AidxError::ShareAccountOwnerMismatch)),
        },
        case(
            "holder shares read-only",
            Change::ReadOnly(HolderShares),
            Anchor(ErrorCode::ConstraintMut),
        ),
        // ---- dead shares (mint only)
        Case {
            name: "dead shares of another index",
            only: Some(Kind::Mint),
            change: Change::Key(DeadShares, client::dead_shares_address(&other.key)),
            want: Aidx(AidxError::DeadSharesMismatch),
            redeem_want: None,
        },
        Case {
            name: "dead shares: the holder's own share account",
            only: Some(Kind::Mint),
            change: Change::Key(DeadShares, b.shares),
            // The same account twice as `mut` (holder_shares and dead_shares): Anchor's
            // duplicate-mutable-account check runs before the `has_one` constraints.
            want: Anchor(ErrorCode::ConstraintDuplicateMutableAccount),
            redeem_want: None,
        },
        Case {
            name: "dead shares read-only",
            only: Some(Kind::Mint),
            change: Change::ReadOnly(DeadShares),
            want: Anchor(ErrorCode::ConstraintMut),
            redeem_want: None,
        },
        // ---- fee shares
        case(
            "fee shares of another index",
            Change::Key(FeeShares, client::fee_shares_address(&other.key)),
            Aidx(AidxError::FeeSharesMismatch),
        ),
        case(
            "fee shares read-only",
            Change::ReadOnly(FeeShares),
            Anchor(ErrorCode::ConstraintMut),
        ),
        // ---- programs
        case(
            "token program: Token-2022",
            Change::Key(TokenProgram, TOKEN_2022_PROGRAM_ID),
            Anchor(ErrorCode::InvalidProgramId),
        ),
        case(
            "token-2022 program: SPL Token",
            Change::Key(Token2022Program, TOKEN_PROGRAM_ID),
            Anchor(ErrorCode::InvalidProgramId),
        ),
        case(
            "token program: the aidx program",
            Change::Key(TokenProgram, client::PROGRAM_ID),
            Anchor(ErrorCode::InvalidProgramId),
        ),
        // ---- leg mints (only the pausable row carries one)
        case(
            "leg 1 mint: another constituent's mint",
            Change::Key(LegMint(1), fx.constituents[2].mint),
            Aidx(AidxError::ConstituentMintMismatch),
        ),
        case(
            "leg 1 mint: another index's pausable Token-2022 mint",
            Change::Key(LegMint(1), other.constituents[1].mint),
            Aidx(AidxError::ConstituentMintMismatch),
        ),
        case(
            "leg 1 mint: the share mint",
            Change::Key(LegMint(1), fx.share_mint),
            Aidx(AidxError::ConstituentMintMismatch),
        ),
        case(
            "leg 1 mint: its own vault",
            Change::Key(LegMint(1), vault(&fx, 1)),
            Aidx(AidxError::ConstituentMintMismatch),
        ),
        case(
            "leg 1 without its mint, an extra account at the end",
            Change::DropMintAppend(1, b.token_accounts[1]),
            Aidx(AidxError::ConstituentMintMismatch),
        ),
        case(
            "leg 0 (plain) given its mint",
            Change::InsertBefore(0, fx.constituents[0].mint),
            Aidx(AidxError::LegAccountsMismatch),
        ),
        case(
            "leg 2 (plain) given its mint",
            Change::InsertBefore(2, fx.constituents[2].mint),
            Aidx(AidxError::LegAccountsMismatch),
        ),
        // ---- leg vaults
        case(
            "leg 0 vault: another index's vault of the same mint",
            Change::Key(LegVault(0), vault(&same_mints, 0)),
            Aidx(AidxError::VaultMismatch),
        ),
        case(
            "leg 1 vault: another index's vault of the same mint",
            Change::Key(LegVault(1), vault(&same_mints, 1)),
            Aidx(AidxError::VaultMismatch),
        ),
        case(
            "leg 2 vault: another index's vault of another mint",
            Change::Key(LegVault(2), vault(&other, 2)),
            Aidx(AidxError::VaultMismatch),
        ),
        case(
            "leg 0 vault: another constituent's vault",
            Change::Key(LegVault(0), vault(&fx, 2)),
            Aidx(AidxError::VaultMismatch),
        ),
        case(
            "leg 0 vault: the holder's own account of the mint",
            Change::Key(LegVault(0), b.token_accounts[0]),
            Aidx(AidxError::VaultMismatch),
        ),
        case(
            "leg 0 vault read-only",
            Change::ReadOnly(LegVault(0)),
            Aidx(AidxError::AccountNotWritable),
        ),
        case(
            "leg 1 vault read-only",
            Change::ReadOnly(LegVault(1)),
            Aidx(AidxError::AccountNotWritable),
        ),
        // ---- leg holder token accounts
        case(
            "leg 0 (SPL) holder account: holder's account of constituent 2 (SPL)",
            Change::Key(LegHolder(0), b.token_accounts[2]),
            Aidx(AidxError::TokenAccountMintMismatch),
        ),
        case(
            "leg 0 (SPL) holder account: holder's account of constituent 1 (Token-2022)",
            Change::Key(LegHolder(0), b.token_accounts[1]),
            Aidx(AidxError::TokenProgramMismatch),
        ),
        case(
            "leg 1 (Token-2022) holder account: holder's account of constituent 0 (SPL)",
            Change::Key(LegHolder(1), b.token_accounts[0]),
            Aidx(AidxError::TokenProgramMismatch),
        ),
        case(
            "leg 1 (Token-2022) holder account: holder's Token-2022 account of another mint",
            Change::Key(LegHolder(1), b_other_t22),
            Aidx(AidxError::TokenAccountMintMismatch),
        ),
        case(
            "leg 0 holder account: holder's share account",
            Change::Key(LegHolder(0), b.shares),
            Aidx(AidxError::TokenAccountMintMismatch),
        ),
        case(
            "leg 0 holder account: another holder's account of the mint",
            Change::Key(LegHolder(0), a.token_accounts[0]),
            Aidx(AidxError::TokenAccountOwnerMismatch),
        ),
        case(
            "leg 1 holder account: another holder's account of the mint",
            Change::Key(LegHolder(1), a.token_accounts[1]),
            Aidx(AidxError::TokenAccountOwnerMismatch),
        ),
        case(
            "leg 2 holder account: the vault of the mint",
            Change::Key(LegHolder(2), vault(&fx, 2)),
            Aidx(AidxError::TokenAccountOwnerMismatch),
        ),
        case(
            "leg 1 holder account: the vault of the mint",
            Change::Key(LegHolder(1), vault(&fx, 1)),
            Aidx(AidxError::TokenAccountOwnerMismatch),
        ),
        case(
            "leg 2 holder account: the holder's wallet (system-owned)",
            Change::Key(LegHolder(2), b_wallet),
            Aidx(AidxError::TokenProgramMismatch),
        ),
        case(
            "leg 0 holder account: the mint (SPL-owned, not a token account)",
            Change::Key(LegHolder(0), fx.constituents[0].mint),
            Aidx(AidxError::InvalidTokenAccount),
        ),
        case(
            "leg 0 holder account read-only",
            Change::ReadOnly(LegHolder(0)),
            Aidx(AidxError::AccountNotWritable),
        ),
        case(
            "leg 1 holder account read-only",
            Change::ReadOnly(LegHolder(1)),
            Aidx(AidxError::AccountNotWritable),
        ),
        // ---- leg layout
        case(
            "one leg missing",
            Change::DropLast(WIDTHS[n - 1]),
            Aidx(AidxError::LegAccountsMismatch),
        ),
        case(
            "one account missing",
            Change::DropLast(1),
            Aidx(AidxError::LegAccountsMismatch),
        ),
        case(
            "no legs",
            Change::DropLast(WIDTHS.iter().sum()),
            Aidx(AidxError::LegAccountsMismatch),
        ),
        case(
            "one extra account",
            Change::Extra(b.token_accounts[0]),
            Aidx(AidxError::LegAccountsMismatch),
        ),
        case(
            "legs 0 and 2 swapped (both plain)",
            Change::SwapLegs(0, 2),
            Aidx(AidxError::VaultMismatch),
        ),
        case(
            // leg 0 reads (mint 1, vault 1): the first account is not its vault
            "legs 0 and 1 swapped",
            Change::SwapLegs(0, 1),
            Aidx(AidxError::VaultMismatch),
        ),
        case(
            // leg 1 reads (vault 2, holder 2, mint 1)
            "legs 1 and 2 swapped",
            Change::SwapLegs(1, 2),
            Aidx(AidxError::ConstituentMintMismatch),
        ),
        // ---- arguments
        case(
            "one amount too few",
            Change::AmountsLen(n - 1),
            Aidx(AidxError::LegAmountsMismatch),
        ),
        case(
            "one amount too many",
            Change::AmountsLen(n + 1),
            Aidx(AidxError::LegAmountsMismatch),
        ),
        case(
            "no amounts",
            Change::AmountsLen(0),
            Aidx(AidxError::LegAmountsMismatch),
        ),
    ];

    let mut watched: Vec<Pubkey> = vec![
        a.shares,
        b.shares,
        client::dead_shares_address(&fx.key),
        b_other_t22,
    ];
    for fxx in [&fx, &other, &same_mints] {
        watched.extend((0..n).map(|i| vault(fxx, i)));
    }
    watched.extend(&a.token_accounts);
    watched.extend(&b.token_accounts);
    let indexes = [fx.key, other.key, same_mints.key];
    let candidates = [&a.keypair, &b.keypair];

    let before = snapshot(&mut t, &watched, &fx.share_mint, &indexes).await;
    let mut run = 0;
    for c in &cases {
        for (kind, base) in [(Kind::Mint, &mint_ix), (Kind::Redeem, &redeem_ix)] {
            if c.only.is_some_and(|k| k != kind) {
                continue;
            }
            let want = match kind {
                Kind::Redeem => c.redeem_want.unwrap_or(c.want),
                Kind::Mint => c.want,
            };
            let ix = apply(kind, base, &c.change, n, shares);
            let signers = signers_of(&ix, &candidates);
            println!("{kind:?} / {}: expecting {want:?}", c.name);
            let r = t.send_basket(&fx, ix, &signers).await;
            assert_want(&r, want);
            let now = snapshot(&mut t, &watched, &fx.share_mint, &indexes).await;
            assert_eq!(now, before, "{kind:?} / {}: something moved", c.name);
            run += 1;
        }
    }
    println!(
        "{run} account-substitution cases run ({} table rows)",
        cases.len()
    );
    assert_eq!(run, 2 * cases.len() - 3);

    // The untouched instructions are valid: the refusals above came from the substitutions.
    let ev = events(t.send_basket(&fx, mint_ix, &[&b.keypair]).await);
    assert!(
        matches!(&ev[..], [AidxEvent::MintedInKind(e)] if e.holder == b.key() && e.shares == shares)
    );
    assert_eq!(t.balance(&b.shares).await, 5 * ONE_SHARE + shares);
    let ev = events(t.send_basket(&fx, redeem_ix, &[&b.keypair]).await);
    assert!(
        matches!(&ev[..], [AidxEvent::RedeemedInKind(e)] if e.holder == b.key() && e.shares == shares)
    );
    assert_eq!(t.balance(&b.shares).await, 5 * ONE_SHARE);
    assert_ne!(
        snapshot(&mut t, &watched, &fx.share_mint, &indexes).await,
        before
    );
}

/// Deposits for `shares` against the current basket.
fn deposits(index: &Index, shares: u64) -> Vec<u64> {
    index
        .constituents()
        .iter()
        .map(|c| mint_deposit(shares, c.balance, index.share_supply).unwrap())
        .collect()
}

fn payouts(index: &Index, shares: u64) -> Vec<u64> {
    index
        .constituents()
        .iter()
        .map(|c| redeem_payout(shares, c.balance, index.share_supply).unwrap())
        .collect()
}

async fn mint_with(
    t: &mut TestContext,
    fx: &IndexFixture,
    h: &Holder,
    args: MintInKindArgs,
) -> TxResult {
    let ix = t.mint_in_kind_ix(fx, h, args).await;
    t.send_basket(fx, ix, &[&h.keypair]).await
}

async fn redeem_with(
    t: &mut TestContext,
    fx: &IndexFixture,
    h: &Holder,
    args: RedeemInKindArgs,
) -> TxResult {
    let ix = t.redeem_in_kind_ix(fx, h, args).await;
    t.send_basket(fx, ix, &[&h.keypair]).await
}

/// Holder balances, vaults and supply: what a refused instruction must leave as it was.
async fn state(
    t: &mut TestContext,
    fx: &IndexFixture,
    holders: &[&Holder],
) -> (Vec<u64>, Vec<u64>, u64, Vec<u8>) {
    let mut held = vec![];
    for h in holders {
        held.extend(t.holder_balances(h).await);
        held.push(t.balance(&h.shares).await);
    }
    let vaults = t.vault_balances(fx).await;
    let supply = t.share_supply(fx).await;
    let index = t.chain.account_data(&fx.key).await.unwrap();
    (held, vaults, supply, index)
}

#[tokio::test]
async fn amount_checks_at_their_exact_edges() {
    let mut t = TestContext::new().await;
    // Every constituent has fewer raw units per share than one: a single raw share redeems to 0
    // on every leg.
    let units = |i: usize| [1_500_000u64, 2_000_000, 7][i];
    let fx = t.create_index(3, units).await;
    let rich = |_| 1_000_000_000_000_000u64;
    let a = t.holder(&fx, rich).await;
    let b = t.holder(&fx, rich).await;
    let n = 3;
    let open_mint = |shares| MintInKindArgs {
        shares,
        max_amounts_in: vec![u64::MAX; n],
        min_shares_out: 0,
    };

    // ---- before the first mint
    let s0 = state(&mut t, &fx, &[&a, &b]).await;
    for (shares, err) in [
        (0, AidxError::ZeroShares),
        (1, AidxError::FirstMintTooSmall),
        (MIN_FIRST_MINT - 1, AidxError::FirstMintTooSmall),
    ] {
        assert_aidx_error(&mint_with(&mut t, &fx, &a, open_mint(shares)).await, err);
        assert_eq!(
            state(&mut t, &fx, &[&a, &b]).await,
            s0,
            "first mint of {shares}"
        );
    }
    // The exact minimum with its exact seed deposit as the maximum succeeds.
    let seed: Vec<u64> = (0..n)
        .map(|i| ((MIN_FIRST_MINT + DEAD_SHARES) * units(i)).div_ceil(ONE_SHARE))
        .collect();
    for i in 0..n {
        let mut max = seed.clone();
        max[i] -= 1;
        let args = MintInKindArgs {
            shares: MIN_FIRST_MINT,
            max_amounts_in: max,
            min_shares_out: MIN_FIRST_MINT,
        };
        assert_aidx_error(
            &mint_with(&mut t, &fx, &a, args).await,
            AidxError::MaxAmountInExceeded,
        );
        assert_eq!(state(&mut t, &fx, &[&a, &b]).await, s0, "seed leg {i}");
    }
    let args = MintInKindArgs {
        shares: MIN_FIRST_MINT,
        max_amounts_in: seed.clone(),
        min_shares_out: MIN_FIRST_MINT,
    };
    events(mint_with(&mut t, &fx, &a, args).await);
    assert_eq!(t.vault_balances(&fx).await, seed);
    // Grow the basket a little so that later amounts are not all trivial.
    events(t.mint_in_kind(&fx, &a, 9 * ONE_SHARE).await);

    // ---- mint slippage
    let shares = 3 * ONE_SHARE + 7;
    let index = t.index(&fx).await;
    let need = deposits(&index, shares);
    assert!(need.iter().all(|d| *d > 0), "{need:?}");
    let s1 = state(&mut t, &fx, &[&a, &b]).await;
    for i in 0..n {
        let mut max = need.clone();
        max[i] -= 1;
        let args = MintInKindArgs {
            shares,
            max_amounts_in: max,
            min_shares_out: shares,
        };
        assert_aidx_error(
            &mint_with(&mut t, &fx, &b, args).await,
            AidxError::MaxAmountInExceeded,
        );
        assert_eq!(state(&mut t, &fx, &[&a, &b]).await, s1, "max in, leg {i}");
    }
    for min_out in [shares + 1, u64::MAX] {
        let args = MintInKindArgs {
            shares,
            max_amounts_in: need.clone(),
            min_shares_out: min_out,
        };
        assert_aidx_error(
            &mint_with(&mut t, &fx, &b, args).await,
            AidxError::MinSharesOutNotMet,
        );
        assert_eq!(
            state(&mut t, &fx, &[&a, &b]).await,
            s1,
            "min shares out {min_out}"
        );
    }
    // Exactly the needed amounts and exactly the shares minted as the minimum.
    let before = t.holder_balances(&b).await;
    let args = MintInKindArgs {
        shares,
        max_amounts_in: need.clone(),
        min_shares_out: shares,
    };
    let ev = events(mint_with(&mut t, &fx, &b, args).await);
    assert!(
        matches!(&ev[..], [AidxEvent::MintedInKind(e)] if e.amounts_in == need),
        "{ev:?}"
    );
    let after = t.holder_balances(&b).await;
    for i in 0..n {
        assert_eq!(before[i] - after[i], need[i], "leg {i}");
    }
    assert_eq!(t.balance(&b.shares).await, shares);

    // ---- redeem slippage
    let r = ONE_SHARE + 3;
    let index = t.index(&fx).await;
    let pay = payouts(&index, r);
    assert!(pay.iter().all(|p| *p > 0), "{pay:?}");
    let s2 = state(&mut t, &fx, &[&a, &b]).await;
    for i in 0..n {
        let mut min = pay.clone();
        min[i] += 1;
        let args = RedeemInKindArgs {
            shares: r,
            min_amounts_out: min,
            skip_mask: 0,
        };
        assert_aidx_error(
            &redeem_with(&mut t, &fx, &b, args).await,
            AidxError::MinAmountOutNotMet,
        );
        assert_eq!(state(&mut t, &fx, &[&a, &b]).await, s2, "min out, leg {i}");
    }
    let args = RedeemInKindArgs {
        shares: r,
        min_amounts_out: pay.clone(),
        skip_mask: 0,
    };
    let ev = events(redeem_with(&mut t, &fx, &b, args).await);
    assert!(
        matches!(&ev[..], [AidxEvent::RedeemedInKind(e)] if e.amounts_out == pay),
        "{ev:?}"
    );
    let back = t.holder_balances(&b).await;
    for i in 0..n {
        assert_eq!(back[i] - after[i], pay[i], "leg {i}");
    }
    let held = shares - r;
    assert_eq!(t.balance(&b.shares).await, held);

    // ---- share amounts
    let s3 = state(&mut t, &fx, &[&a, &b]).await;
    let zero = vec![0; n];
    let outsider = t.holder(&fx, |_| 0).await;
    let refused: [(&str, &Holder, u64, AidxError); 5] = [
        ("redeem zero", &b, 0, AidxError::ZeroShares),
        (
            "redeem one more than held",
            &b,
            held + 1,
            AidxError::InsufficientShares,
        ),
        (
            "redeem far more than held",
            &b,
            u64::MAX,
            AidxError::InsufficientShares,
        ),
        (
            "redeem without shares",
            &outsider,
            1,
            AidxError::InsufficientShares,
        ),
        ("redeem one raw share", &b, 1, AidxError::RedeemTooSmall),
    ];
    for (name, h, shares, err) in refused {
        let args = RedeemInKindArgs {
            shares,
            min_amounts_out: zero.clone(),
            skip_mask: 0,
        };
        println!("{name}: expecting {err:?}");
        assert_aidx_error(&redeem_with(&mut t, &fx, h, args).await, err);
        assert_eq!(state(&mut t, &fx, &[&a, &b]).await, s3, "{name}");
    }
    assert_aidx_error(
        &mint_with(&mut t, &fx, &b, open_mint(0)).await,
        AidxError::ZeroShares,
    );
    assert_eq!(state(&mut t, &fx, &[&a, &b]).await, s3, "mint zero");

    // The smallest redeem that pays anything: one raw share less pays nothing on every leg.
    let index = t.index(&fx).await;
    let smallest = index
        .constituents()
        .iter()
        .map(|c| index.share_supply.div_ceil(c.balance))
        .min()
        .unwrap();
    assert!(smallest > 1 && smallest <= held, "smallest {smallest}");
    assert!(payouts(&index, smallest - 1).iter().all(|p| *p == 0));
    let args = RedeemInKindArgs {
        shares: smallest - 1,
        min_amounts_out: zero.clone(),
        skip_mask: 0,
    };
    assert_aidx_error(
        &redeem_with(&mut t, &fx, &b, args).await,
        AidxError::RedeemTooSmall,
    );
    assert_eq!(
        state(&mut t, &fx, &[&a, &b]).await,
        s3,
        "redeem {}",
        smallest - 1
    );
    let pay = payouts(&index, smallest);
    assert!(pay.iter().any(|p| *p > 0));
    let before = t.holder_balances(&b).await;
    let ev = events(
        redeem_with(
            &mut t,
            &fx,
            &b,
            RedeemInKindArgs {
                shares: smallest,
                min_amounts_out: pay.clone(),
                skip_mask: 0,
            },
        )
        .await,
    );
    assert!(
        matches!(&ev[..], [AidxEvent::RedeemedInKind(e)] if e.amounts_out == pay),
        "{ev:?}"
    );
    let after = t.holder_balances(&b).await;
    for i in 0..n {
        assert_eq!(after[i] - before[i], pay[i], "leg {i}");
    }
}

/// An index with no constituents, or whose seed composition is all zero, has nothing to mint.
#[tokio::test]
async fn empty_basket_cannot_be_minted() {
    let mut t = TestContext::new().await;
    let empty = t.create_index(0, |_| 0).await;
    let h = t.holder(&empty, |_| 0).await;
    let args = MintInKindArgs {
        shares: ONE_SHARE,
        max_amounts_in: vec![],
        min_shares_out: 0,
    };
    assert_aidx_error(
        &mint_with(&mut t, &empty, &h, args).await,
        AidxError::EmptyBasket,
    );

    // A table whose seed composition is all zero cannot be opened, so nobody can mint it.
    let zero = t.create_index(2, |_| 0).await;
    assert_aidx_error(&t.open_index(&zero).await, AidxError::EmptyBasket);
    let h = t.holder(&zero, |_| 1_000).await;
    let args = MintInKindArgs {
        shares: ONE_SHARE,
        max_amounts_in: vec![u64::MAX; 2],
        min_shares_out: 0,
    };
    assert_aidx_error(
        &mint_with(&mut t, &zero, &h, args).await,
        AidxError::IndexNotOpen,
    );
    assert_eq!(t.share_supply(&zero).await, 0);
    assert_eq!(t.share_supply(&zero).await, 0);
    assert_eq!(t.holder_balances(&h).await, vec![1_000, 1_000]);
}
