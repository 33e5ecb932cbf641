//! The account-substitution matrix: for every instruction of the program and every account it
//! takes (named accounts and the remaining-account legs and prices), each plausible wrong account
//! is put in its place and the exact named error is asserted.
//!
//! Everything is generated from one table, [`SPECS`]: per instruction, the kind of each account
//! in order (checked against the committed IDL, so a new instruction or account that is not in
//! the table fails the test). The wrong accounts tried follow from an account's kind
//! ([`candidates`]) and the error each must get follows from the kind and the substitution
//! ([`expected`]). Each instruction runs on a fresh world where its unaltered form succeeds (sent
//! last, after every substitution was refused, so that the refusals are known to be about the
//! account alone), and the world's balances, supply and index accounts are checked unchanged
//! after the refusals. The matrix size and coverage are printed.

use aidx::errors::AidxError;
use aidx::events::MethodologyInputRow;
use aidx::instructions::{
    AddConstituentArgs, InitializeIndexArgs, MintInKindArgs, MintSingleArgs, RebalanceSwapArgs,
    RedeemInKindArgs, RedeemSingleArgs, SetMethodologyInputsArgs, SetRolesArgs,
};
use aidx::math::{ONE_SHARE, USD_SCALE, WEIGHT_SCALE};
use aidx::state::{Bucket, IndexParams, SubSector, PAUSE_MINT_SINGLE};
use aidx_client::{self as client, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};
use aidx_tests::*;
use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::system_program;
use anchor_spl::token_2022::spl_token_2022;
use solana_sdk::{
    instruction::{Instruction, InstructionError},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::TransactionError,
};
use std::collections::{BTreeMap, BTreeSet};

/// Constituents of the index under test (decimals 6, 9, 8, 0 repeating; even rows SPL Token,
/// odd rows Token-2022), each at its 12.5% target at $1.
const N: usize = 8;
const SEED_SHARES: u64 = 100 * ONE_SHARE;

// ---------------------------------------------------------------------------------------------
// The table.

/// Who signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Payer,
    Admin,
    NewAdmin,
    PendingAdmin,
    Methodology,
    Guardian,
    FeeRecipient,
    Holder,
    Caller,
}

/// A program account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Prog {
    Token,
    Token2022,
    /// The token program of a row (an `Interface<TokenInterface>`).
    TokenOf(usize),
    System,
}

/// What an account slot is; decides the wrong accounts tried and the error each must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Signer(Role),
    /// `initialize_index`'s fresh share-mint keypair (signs, `init`).
    NewShareMint,
    /// `initialize_index`'s index, dead-share and fee-share PDAs (`init`).
    NewIndex,
    NewDeadShares,
    NewFeeShares,
    /// `add_constituent`'s new mint and its vault PDA.
    NewMint,
    NewVault,
    Index,
    ShareMint,
    DeadShares,
    FeeShares,
    /// The signer's own share account.
    OwnShares,
    Mint(usize),
    Vault(usize),
    /// The signer's own token account of a row.
    OwnToken(usize),
    /// Where `remove_constituent` sweeps donations: the admin's account of the row's mint.
    SweepTo(usize),
    /// A remaining-account `PriceUpdateV2` of a row.
    Price(usize),
    Program(Prog),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ix {
    InitializeIndex,
    AddConstituent,
    SetMethodologyInputs,
    OpenIndex,
    OpenReview,
    SetParams,
    SetRoles,
    ProposeAdmin,
    AcceptAdmin,
    SetPause,
    WindDownConstituent,
    RemoveConstituent,
    QuarantineConstituent,
    ReleaseConstituent,
    WriteOffConstituent,
    MintInKind,
    RedeemInKind,
    MintSingle,
    RedeemSingle,
    RefreshPrices,
    ReportNav,
    RecomputeTargets,
    PokeRebalance,
    RebalanceSwap,
    AccrueFees,
    ClaimFees,
}

/// Rows the single-asset and swap instructions use: in a single op row 0 (SPL Token) and in a
/// swap row 1 (Token-2022, underweight after the price move) in, row 0 out.
const SINGLE_ROW: usize = 0;
const SWAP_IN: usize = 1;
const SWAP_OUT: usize = 0;
/// The row the guardian quarantines and releases and the admin writes off: the pausable
/// Token-2022 row, paused (the proof that it cannot move) before a write-off.
const QUARANTINE_ROW: usize = 3;
/// The row `add_constituent` adds and `remove_constituent` removes.
const NEW_ROW: usize = N;

struct Spec {
    ix: Ix,
    name: &'static str,
    /// The named accounts in order (names as in the IDL).
    accounts: &'static [(&'static str, Kind)],
    /// What follows the named accounts.
    remaining: Remaining,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Remaining {
    None,
    /// `(mint, vault, holder token account)` per row.
    Legs,
    /// One price update per row.
    Prices,
}

use Kind::*;
use Prog::*;
use Role::*;

/// The one table: every instruction, every named account, and its kind.
const SPECS: &[Spec] = &[
    Spec {
        ix: Ix::InitializeIndex,
        name: "initialize_index",
        accounts: &[
            ("payer", Signer(Payer)),
            ("admin", Signer(NewAdmin)),
            ("share_mint", NewShareMint),
            ("index", NewIndex),
            ("dead_shares", NewDeadShares),
            ("fee_shares", NewFeeShares),
            ("token_program", Program(Token)),
            ("system_program", Program(System)),
        ],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::AddConstituent,
        name: "add_constituent",
        accounts: &[
            ("payer", Signer(Payer)),
            ("admin", Signer(Admin)),
            ("index", Index),
            ("mint", NewMint),
            ("vault", NewVault),
            ("token_program", Program(TokenOf(NEW_ROW))),
            ("system_program", Program(System)),
        ],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::SetMethodologyInputs,
        name: "set_methodology_inputs",
        accounts: &[
            ("methodology_authority", Signer(Methodology)),
            ("index", Index),
        ],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::OpenIndex,
        name: "open_index",
        accounts: &[("admin", Signer(Admin)), ("index", Index)],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::OpenReview,
        name: "open_review",
        accounts: &[("admin", Signer(Admin)), ("index", Index)],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::SetParams,
        name: "set_params",
        accounts: &[
            ("admin", Signer(Admin)),
            ("index", Index),
            ("share_mint", ShareMint),
            ("fee_shares", FeeShares),
            ("token_program", Program(Token)),
        ],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::SetRoles,
        name: "set_roles",
        accounts: &[("admin", Signer(Admin)), ("index", Index)],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::ProposeAdmin,
        name: "propose_admin",
        accounts: &[("admin", Signer(Admin)), ("index", Index)],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::AcceptAdmin,
        name: "accept_admin",
        accounts: &[("pending_admin", Signer(PendingAdmin)), ("index", Index)],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::SetPause,
        name: "set_pause",
        accounts: &[("authority", Signer(Guardian)), ("index", Index)],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::WindDownConstituent,
        name: "wind_down_constituent",
        accounts: &[("admin", Signer(Admin)), ("index", Index)],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::RemoveConstituent,
        name: "remove_constituent",
        accounts: &[
            ("admin", Signer(Admin)),
            ("index", Index),
            ("mint", Mint(NEW_ROW)),
            ("vault", Vault(NEW_ROW)),
            ("sweep_to", SweepTo(NEW_ROW)),
            ("token_program", Program(TokenOf(NEW_ROW))),
        ],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::QuarantineConstituent,
        name: "quarantine_constituent",
        accounts: QUARANTINE_ACCOUNTS,
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::ReleaseConstituent,
        name: "release_constituent",
        accounts: QUARANTINE_ACCOUNTS,
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::WriteOffConstituent,
        name: "write_off_constituent",
        accounts: &[
            ("admin", Signer(Admin)),
            ("index", Index),
            ("mint", Mint(QUARANTINE_ROW)),
            ("vault", Vault(QUARANTINE_ROW)),
        ],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::MintInKind,
        name: "mint_in_kind",
        accounts: &[
            ("holder", Signer(Holder)),
            ("index", Index),
            ("share_mint", ShareMint),
            ("holder_shares", OwnShares),
            ("dead_shares", DeadShares),
            ("token_program", Program(Token)),
            ("token_2022_program", Program(Token2022)),
            ("fee_shares", FeeShares),
        ],
        remaining: Remaining::Legs,
    },
    Spec {
        ix: Ix::RedeemInKind,
        name: "redeem_in_kind",
        accounts: &[
            ("holder", Signer(Holder)),
            ("index", Index),
            ("share_mint", ShareMint),
            ("holder_shares", OwnShares),
            ("token_program", Program(Token)),
            ("token_2022_program", Program(Token2022)),
            ("fee_shares", FeeShares),
        ],
        remaining: Remaining::Legs,
    },
    Spec {
        ix: Ix::MintSingle,
        name: "mint_single",
        accounts: SINGLE_ACCOUNTS,
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::RedeemSingle,
        name: "redeem_single",
        accounts: SINGLE_ACCOUNTS,
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::RefreshPrices,
        name: "refresh_prices",
        accounts: &[("index", Index)],
        remaining: Remaining::Prices,
    },
    Spec {
        ix: Ix::ReportNav,
        name: "report_nav",
        accounts: &[("index", Index)],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::RecomputeTargets,
        name: "recompute_targets",
        accounts: &[("index", Index)],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::PokeRebalance,
        name: "poke_rebalance",
        accounts: &[("index", Index)],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::RebalanceSwap,
        name: "rebalance_swap",
        accounts: &[
            ("caller", Signer(Caller)),
            ("index", Index),
            ("mint_in", Mint(SWAP_IN)),
            ("vault_in", Vault(SWAP_IN)),
            ("caller_in", OwnToken(SWAP_IN)),
            ("mint_out", Mint(SWAP_OUT)),
            ("vault_out", Vault(SWAP_OUT)),
            ("caller_out", OwnToken(SWAP_OUT)),
            ("token_program_in", Program(TokenOf(SWAP_IN))),
            ("token_program_out", Program(TokenOf(SWAP_OUT))),
        ],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::AccrueFees,
        name: "accrue_fees",
        accounts: &[
            ("index", Index),
            ("share_mint", ShareMint),
            ("fee_shares", FeeShares),
            ("token_program", Program(Token)),
        ],
        remaining: Remaining::None,
    },
    Spec {
        ix: Ix::ClaimFees,
        name: "claim_fees",
        accounts: &[
            ("fee_recipient", Signer(FeeRecipient)),
            ("index", Index),
            ("fee_shares", FeeShares),
            ("recipient_shares", OwnShares),
            ("token_program", Program(Token)),
        ],
        remaining: Remaining::None,
    },
];

const SINGLE_ACCOUNTS: &[(&str, Kind)] = &[
    ("holder", Signer(Holder)),
    ("index", Index),
    ("share_mint", ShareMint),
    ("holder_shares", OwnShares),
    ("mint", Mint(SINGLE_ROW)),
    ("vault", Vault(SINGLE_ROW)),
    ("holder_token", OwnToken(SINGLE_ROW)),
    ("token_program", Program(TokenOf(SINGLE_ROW))),
    ("share_token_program", Program(Token)),
    ("fee_shares", FeeShares),
];

/// `quarantine_constituent` and `release_constituent`, by the guardian (for any reason: the
/// row is not frozen or paused).
const QUARANTINE_ACCOUNTS: &[(&str, Kind)] = &[
    ("authority", Signer(Guardian)),
    ("index", Index),
    ("mint", Mint(QUARANTINE_ROW)),
    ("vault", Vault(QUARANTINE_ROW)),
];

/// The kinds of an instruction's accounts in meta order, named ones then remaining ones.
/// `widths`: each row's in-kind leg accounts (2, or 3 when the leg carries its mint).
fn slots(spec: &Spec, widths: &[u8]) -> Vec<(String, Kind)> {
    let rows = widths.len();
    let mut v: Vec<(String, Kind)> = spec
        .accounts
        .iter()
        .map(|(n, k)| (n.to_string(), *k))
        .collect();
    match spec.remaining {
        Remaining::None => {}
        Remaining::Legs => {
            for (r, w) in widths.iter().enumerate() {
                if *w == aidx::state::CHECKED_LEG_ACCOUNTS {
                    v.push((format!("leg {r} mint"), Mint(r)));
                }
                v.push((format!("leg {r} vault"), Vault(r)));
                v.push((format!("leg {r} holder account"), OwnToken(r)));
            }
        }
        Remaining::Prices => {
            for r in 0..rows {
                v.push((format!("price {r}"), Price(r)));
            }
        }
    }
    v
}

// ---------------------------------------------------------------------------------------------
// The substitutions.

/// A wrong account put in a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Wrong {
    /// The right account, not signing.
    NotSigner,
    /// Someone with no role signs instead.
    StrangerSigns,
    /// The same role of the other index signs instead.
    OtherIndexRoleSigns,
    /// Another role of this index signs instead.
    OtherRoleSigns,
    /// The same account of the other index (its index, share mint, share accounts, vault of the
    /// same mint, the holder's share account of it, its price update of the same row).
    OtherIndexTwin,
    /// The same kind of account of another row (mint, vault, the signer's token account, price).
    OtherRow,
    /// This index's state account.
    IndexState,
    /// This index's share mint.
    ShareMintAccount,
    /// A vault (of another row).
    AVault,
    /// A constituent mint (of another row).
    AMint,
    /// A token account of the wrong mint, right owner.
    OtherMintAccount,
    /// A token account of the right mint, someone else's.
    OtherOwnerAccount,
    /// The other token program (or SPL Token in a slot that is not a program).
    OtherTokenProgram,
    SystemProgram,
    /// The aidx program itself.
    AidxProgram,
    /// A funded wallet: owned by the System program, no data.
    Wallet,
    /// An address with no account.
    Uninitialised,
    /// A Pyth price update (owned by the receiver) of another index's feed.
    ForeignPriceUpdate,
}

/// An expected refusal.
#[derive(Clone, Debug)]
enum Want {
    Aidx(AidxError),
    Anchor(Anchor),
    /// A runtime error that is not a custom code.
    Ix(InstructionError),
}

impl Want {
    fn matches(&self, r: &TxResult) -> bool {
        let Err(f) = r else { return false };
        // Instruction 0 is the compute-budget instruction; the instruction under test is 1.
        let TransactionError::InstructionError(1, e) = &f.error else {
            return false;
        };
        match self {
            Want::Aidx(a) => *e == InstructionError::Custom(u32::from(*a)),
            Want::Anchor(a) => *e == InstructionError::Custom(u32::from(*a)),
            Want::Ix(i) => e == i,
        }
    }
}

fn describe(r: &TxResult) -> String {
    match r {
        Ok(_) => "OK".into(),
        Err(f) => match &f.error {
            TransactionError::InstructionError(_, InstructionError::Custom(c)) => {
                format!("Custom({c}) {}", error_name(*c))
            }
            e => format!("{e:?}"),
        },
    }
}

/// The committed IDL.
fn idl() -> serde_json::Value {
    serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../programs/aidx/idl/aidx.json"
    )))
    .unwrap()
}

fn error_name(code: u32) -> String {
    if code >= 6000 {
        for e in idl()["errors"].as_array().unwrap() {
            if e["code"].as_u64() == Some(u64::from(code)) {
                return e["name"].as_str().unwrap().to_string();
            }
        }
    }
    String::new()
}

// ---------------------------------------------------------------------------------------------
// The world.

struct IndexSide {
    fx: IndexFixture,
    methodology: Keypair,
    guardian: Keypair,
    fee_recipient: Keypair,
}

struct World {
    t: TestContext,
    a: IndexSide,
    b: IndexSide,
    /// Mints of rows 0..N, shared by both indexes (row NEW_ROW added to `a` when prepared).
    mints: Vec<(Pubkey, Pubkey)>,
    holder: aidx_tests::Holder,
    /// Holds accounts of every mint; signs as "a stranger".
    stranger: aidx_tests::Holder,
    payer: Keypair,
    new_admin: Keypair,
    new_share_mint: Keypair,
    pending_admin: Keypair,
    /// Signs as "a stranger": no role, no accounts.
    outsider: Keypair,
    wallet: Pubkey,
    /// Share accounts of the other index, per owner.
    b_shares: BTreeMap<Pubkey, Pubkey>,
    /// `add_constituent`'s / `remove_constituent`'s extra mint and program.
    new_mint: Option<(Pubkey, Pubkey)>,
    /// `open_index`'s index: not yet open, one row, the same admin as index `a`.
    unopened: Option<Pubkey>,
}

fn params() -> IndexParams {
    IndexParams {
        mint_fee_bps: 10,
        redeem_fee_bps: 10,
        management_fee_bps: 100,
        ..IndexParams::default()
    }
}

async fn side(t: &mut TestContext, seed: u8, mints: &[(Pubkey, Pubkey)]) -> IndexSide {
    let (methodology, guardian, fee_recipient) = (Keypair::new(), Keypair::new(), Keypair::new());
    let args = InitializeIndexArgs {
        params: params(),
        methodology_authority: methodology.pubkey(),
        guardian: guardian.pubkey(),
        fee_recipient: fee_recipient.pubkey(),
    };
    let (r, mut fx) = t.init_index(args).await;
    r.expect("initialize_index");
    for (i, (mint, program)) in mints.iter().enumerate() {
        let args = row_args(seed, i, N, whole(i, 1));
        t.add_constituent(&fx.key, &fx.admin, mint, program, args)
            .await
            .expect("add_constituent");
        fx.constituents.push(ConstituentFixture {
            mint: *mint,
            token_program: *program,
            decimals: mixed_decimals(i),
            units_per_share: whole(i, 1),
            feed_id: test_feed_id(seed, i),
        });
    }
    events(t.open_index(&fx).await);
    let index = t.index(&fx).await;
    let addresses = client::index_lookup_addresses(&fx.key, &index);
    fx.lut = Some(t.chain.create_lookup_table(&addresses).await.unwrap());
    IndexSide {
        fx,
        methodology,
        guardian,
        fee_recipient,
    }
}

fn rich(i: usize) -> u64 {
    1_000_000 * whole(i, 1)
}

/// Prices at `usd` (USD_SCALE per whole token) for every row of `fx`, posted now and refreshed.
async fn price(t: &mut TestContext, fx: &IndexFixture, usd: &[u128]) {
    events(t.set_prices(fx, usd, 10).await);
}

impl World {
    async fn new() -> World {
        let mut t = TestContext::new().await;
        let mut mints = vec![];
        for i in 0..N {
            let program = mixed_program(i);
            // Row 3 is a pausable Token-2022 mint: its in-kind leg carries the mint.
            let exts = if i == 3 {
                vec![MintExt::Pausable]
            } else {
                vec![]
            };
            mints.push((
                t.create_mint(program, mixed_decimals(i), &exts).await,
                program,
            ));
        }
        let a = side(&mut t, 1, &mints).await;
        let b = side(&mut t, 2, &mints).await;
        let holder = t.holder(&a.fx, rich).await;
        let stranger = t.holder(&a.fx, rich).await;
        let b_seeder = t.holder(&b.fx, rich).await;
        let ones = vec![USD_SCALE; N];
        price(&mut t, &a.fx, &ones).await;
        price(&mut t, &b.fx, &ones).await;
        events(t.mint_in_kind(&a.fx, &holder, SEED_SHARES).await);
        events(t.mint_in_kind(&b.fx, &b_seeder, SEED_SHARES).await);
        events(t.mint_in_kind(&a.fx, &stranger, ONE_SHARE).await);
        let mut b_shares = BTreeMap::new();
        for owner in [holder.key(), stranger.key(), a.fee_recipient.pubkey()] {
            let acc = t
                .chain
                .create_ata(&owner, &b.fx.share_mint, &TOKEN_PROGRAM_ID)
                .await
                .unwrap();
            b_shares.insert(owner, acc);
        }
        for s in [&a, &b] {
            t.chain
                .create_ata(
                    &s.fee_recipient.pubkey(),
                    &s.fx.share_mint,
                    &TOKEN_PROGRAM_ID,
                )
                .await
                .unwrap();
        }
        let (row2, row2_program) = mints[2];
        t.chain
            .create_ata(&a.fee_recipient.pubkey(), &row2, &row2_program)
            .await
            .unwrap();
        let payer = Keypair::new();
        let wallet = Keypair::new().pubkey();
        for k in [payer.pubkey(), wallet] {
            t.chain.airdrop(&k, 10_000_000_000).await.unwrap();
        }
        World {
            t,
            a,
            b,
            mints,
            holder,
            stranger,
            payer,
            new_admin: Keypair::new(),
            new_share_mint: Keypair::new(),
            pending_admin: Keypair::new(),
            outsider: Keypair::new(),
            wallet,
            b_shares,
            new_mint: None,
            unopened: None,
        }
    }

    fn rows(&self) -> usize {
        N + usize::from(self.new_mint.is_some())
    }

    fn mint(&self, row: usize) -> (Pubkey, Pubkey) {
        if row == NEW_ROW {
            self.new_mint.expect("new row")
        } else {
            self.mints[row]
        }
    }

    fn vault(&self, side: &IndexFixture, row: usize) -> Pubkey {
        client::vault_address(&side.key, &self.mint(row).0)
    }

    fn ata(&self, owner: &Pubkey, row: usize) -> Pubkey {
        let (mint, program) = self.mint(row);
        client::ata(owner, &mint, &program)
    }

    fn keypairs(&self) -> Vec<&Keypair> {
        vec![
            &self.payer,
            &self.new_admin,
            &self.new_share_mint,
            &self.pending_admin,
            &self.a.fx.admin,
            &self.a.methodology,
            &self.a.guardian,
            &self.a.fee_recipient,
            &self.b.fx.admin,
            &self.b.methodology,
            &self.b.guardian,
            &self.b.fee_recipient,
            &self.holder.keypair,
            &self.stranger.keypair,
            &self.outsider,
        ]
    }

    /// The keypair of a role of index `a` (or `b`).
    fn role(&self, role: Role, other: bool) -> Option<&Keypair> {
        let s = if other { &self.b } else { &self.a };
        Some(match role {
            Payer => return None,
            Admin => &s.fx.admin,
            NewAdmin => &self.new_admin,
            PendingAdmin => &self.pending_admin,
            Methodology => &s.methodology,
            Guardian => &s.guardian,
            FeeRecipient => &s.fee_recipient,
            Holder | Caller => return None,
        })
    }

    /// Who signs for the instruction's own-account slots (holder, caller, fee recipient).
    fn owner_of(&self, ix: Ix) -> Pubkey {
        match ix {
            Ix::ClaimFees => self.a.fee_recipient.pubkey(),
            Ix::RebalanceSwap => self.stranger.key(),
            _ => self.holder.key(),
        }
    }

    /// Brings the world to where `ix` in its unaltered form succeeds.
    async fn prepare(&mut self, ix: Ix) {
        match ix {
            Ix::OpenIndex => {
                let admin = self.a.fx.admin.insecure_clone();
                let share_mint = Keypair::new();
                let payer = self.t.payer();
                let args = self.t.default_args();
                let init =
                    client::initialize_index(&payer, &admin.pubkey(), &share_mint.pubkey(), args);
                events(
                    self.t
                        .chain
                        .send(&[init], &[&admin, &share_mint])
                        .await
                        .unwrap(),
                );
                let key = client::index_address(&share_mint.pubkey());
                let (mint, program) = self.mints[0];
                let row = row_args(0x0e, 0, 1, 1_000);
                events(
                    self.t
                        .add_constituent(&key, &admin, &mint, &program, row)
                        .await,
                );
                self.unopened = Some(key);
            }
            Ix::AddConstituent | Ix::RemoveConstituent => {
                let mint = self.t.create_mint(TOKEN_2022_PROGRAM_ID, 9, &[]).await;
                self.new_mint = Some((mint, TOKEN_2022_PROGRAM_ID));
                if ix == Ix::RemoveConstituent {
                    let a = &self.a.fx;
                    let r = self
                        .t
                        .add_constituent(
                            &a.key,
                            &a.admin,
                            &mint,
                            &TOKEN_2022_PROGRAM_ID,
                            new_row_args(),
                        )
                        .await;
                    events(r);
                    let wind = client::wind_down_constituent(&a.key, &a.admin.pubkey(), mint);
                    let admin = a.admin.insecure_clone();
                    events(self.t.send(wind, &[&admin]).await);
                    for owner in [admin.pubkey(), self.stranger.key()] {
                        self.t
                            .chain
                            .create_ata(&owner, &mint, &TOKEN_2022_PROGRAM_ID)
                            .await
                            .unwrap();
                    }
                    let (row1, row1_program) = self.mints[1];
                    self.t
                        .chain
                        .create_ata(&admin.pubkey(), &row1, &row1_program)
                        .await
                        .unwrap();
                }
            }
            Ix::AcceptAdmin => {
                let a = &self.a.fx;
                let ixn =
                    client::propose_admin(&a.key, &a.admin.pubkey(), self.pending_admin.pubkey());
                let admin = a.admin.insecure_clone();
                events(self.t.send(ixn, &[&admin]).await);
            }
            Ix::RecomputeTargets => {
                let a = &self.a.fx;
                let now = self.t.now().await;
                let ixn = client::set_methodology_inputs(
                    &a.key,
                    &self.a.methodology.pubkey(),
                    SetMethodologyInputsArgs {
                        observed_at: now,
                        rows: a
                            .constituents
                            .iter()
                            .enumerate()
                            .map(|(i, c)| input_row(i, c.mint))
                            .collect(),
                    },
                );
                let m = self.a.methodology.insecure_clone();
                events(self.t.send(ixn, &[&m]).await);
                let admin = a.admin.insecure_clone();
                events(
                    self.t
                        .send(client::open_review(&a.key, &admin.pubkey()), &[&admin])
                        .await,
                );
            }
            Ix::ReleaseConstituent | Ix::WriteOffConstituent => {
                let a = &self.a.fx;
                let index = self.t.index(a).await;
                let guardian = self.a.guardian.insecure_clone();
                if ix == Ix::WriteOffConstituent {
                    // Paused: the row cannot move, as a write-off needs.
                    let payer = self.t.payer();
                    let pause = spl_token_2022::extension::pausable::instruction::pause(
                        &TOKEN_2022_PROGRAM_ID,
                        &self.mints[QUARANTINE_ROW].0,
                        &payer,
                        &[],
                    )
                    .unwrap();
                    self.t.chain.send_ok(&[pause], &[]).await.unwrap();
                }
                let q = client::quarantine_constituent(
                    &a.key,
                    &index,
                    &guardian.pubkey(),
                    QUARANTINE_ROW,
                );
                events(self.t.send(q, &[&guardian]).await);
                let wait = match ix {
                    Ix::WriteOffConstituent => aidx::state::WRITE_OFF_AFTER_SECS,
                    _ => aidx::state::MIN_QUARANTINE_SECS,
                };
                let now = self.t.now().await;
                self.t.warp_to_time(now + wait).await;
            }
            Ix::RebalanceSwap => {
                let mut usd = vec![USD_SCALE; N];
                usd[SWAP_OUT] = USD_SCALE * 13 / 10;
                usd[SWAP_IN] = USD_SCALE * 7 / 10;
                price(&mut self.t, &self.a.fx, &usd).await;
            }
            _ => {}
        }
    }

    /// The unaltered instruction.
    async fn build(&mut self, ix: Ix) -> Instruction {
        let a = &self.a.fx;
        let key = a.key;
        let index = self.t.index(a).await;
        let holder = self.holder.key();
        let admin = a.admin.pubkey();
        let rows = index.num_constituents as usize;
        match ix {
            Ix::InitializeIndex => client::initialize_index(
                &self.payer.pubkey(),
                &self.new_admin.pubkey(),
                &self.new_share_mint.pubkey(),
                InitializeIndexArgs {
                    params: params(),
                    methodology_authority: self.a.methodology.pubkey(),
                    guardian: self.a.guardian.pubkey(),
                    fee_recipient: self.a.fee_recipient.pubkey(),
                },
            ),
            Ix::AddConstituent => {
                let (mint, program) = self.mint(NEW_ROW);
                client::add_constituent(
                    &self.payer.pubkey(),
                    &admin,
                    &key,
                    &mint,
                    &program,
                    new_row_args(),
                )
            }
            Ix::SetMethodologyInputs => {
                let now = self.t.now().await;
                client::set_methodology_inputs(
                    &key,
                    &self.a.methodology.pubkey(),
                    SetMethodologyInputsArgs {
                        observed_at: now,
                        rows: self
                            .a
                            .fx
                            .constituents
                            .iter()
                            .enumerate()
                            .map(|(i, c)| input_row(i, c.mint))
                            .collect(),
                    },
                )
            }
            Ix::OpenIndex => client::open_index(&self.unopened.expect("prepared"), &admin),
            Ix::OpenReview => client::open_review(&key, &admin),
            Ix::SetParams => {
                let mut p = params();
                p.band = WEIGHT_SCALE / 100 * 25;
                client::set_params(&key, &index, &admin, p)
            }
            Ix::SetRoles => client::set_roles(
                &key,
                &admin,
                SetRolesArgs {
                    methodology_authority: self.b.methodology.pubkey(),
                    guardian: self.b.guardian.pubkey(),
                    fee_recipient: self.b.fee_recipient.pubkey(),
                },
            ),
            Ix::ProposeAdmin => client::propose_admin(&key, &admin, self.new_admin.pubkey()),
            Ix::AcceptAdmin => client::accept_admin(&key, &self.pending_admin.pubkey()),
            Ix::SetPause => client::set_pause(&key, &self.a.guardian.pubkey(), PAUSE_MINT_SINGLE),
            Ix::WindDownConstituent => client::wind_down_constituent(&key, &admin, self.mints[0].0),
            Ix::RemoveConstituent => client::remove_constituent(&key, &index, &admin, NEW_ROW),
            Ix::QuarantineConstituent => client::quarantine_constituent(
                &key,
                &index,
                &self.a.guardian.pubkey(),
                QUARANTINE_ROW,
            ),
            Ix::ReleaseConstituent => {
                client::release_constituent(&key, &index, &self.a.guardian.pubkey(), QUARANTINE_ROW)
            }
            Ix::WriteOffConstituent => {
                client::write_off_constituent(&key, &index, &admin, QUARANTINE_ROW)
            }
            Ix::MintInKind => client::mint_in_kind(
                &key,
                &index,
                &holder,
                &self.holder.token_accounts,
                MintInKindArgs {
                    shares: ONE_SHARE,
                    max_amounts_in: vec![u64::MAX; rows],
                    min_shares_out: 0,
                },
            ),
            Ix::RedeemInKind => client::redeem_in_kind(
                &key,
                &index,
                &holder,
                &self.holder.token_accounts,
                RedeemInKindArgs {
                    shares: ONE_SHARE,
                    min_amounts_out: vec![0; rows],
                    skip_mask: 0,
                },
            ),
            Ix::MintSingle => client::mint_single(
                &key,
                &index,
                &holder,
                SINGLE_ROW,
                MintSingleArgs {
                    amount_in: whole(SINGLE_ROW, 1),
                    min_shares_out: 0,
                },
            ),
            Ix::RedeemSingle => client::redeem_single(
                &key,
                &index,
                &holder,
                SINGLE_ROW,
                RedeemSingleArgs {
                    shares: ONE_SHARE,
                    min_amount_out: 0,
                },
            ),
            Ix::RefreshPrices => {
                let keys: Vec<Pubkey> = (0..rows).map(|r| price_key(a, r)).collect();
                client::refresh_prices(&key, &keys)
            }
            Ix::ReportNav => client::report_nav(&key),
            Ix::RecomputeTargets => client::recompute_targets(&key),
            Ix::PokeRebalance => client::poke_rebalance(&key),
            Ix::RebalanceSwap => client::rebalance_swap(
                &key,
                &index,
                &self.stranger.key(),
                SWAP_IN,
                SWAP_OUT,
                RebalanceSwapArgs {
                    amount_in: whole(SWAP_IN, 1),
                    min_amount_out: 0,
                },
            ),
            Ix::AccrueFees => client::accrue_fees(&key, &index),
            Ix::ClaimFees => client::claim_fees(&key, &index),
        }
    }

    /// Sends `ix` (v0 through index `a`'s lookup table), signed by whoever its metas say signs.
    async fn send(&mut self, ix: Instruction) -> TxResult {
        let signers: Vec<Keypair> = ix
            .accounts
            .iter()
            .filter(|m| m.is_signer)
            .map(|m| {
                self.keypairs()
                    .into_iter()
                    .find(|k| k.pubkey() == m.pubkey)
                    .unwrap_or_else(|| panic!("no keypair for signer {}", m.pubkey))
                    .insecure_clone()
            })
            .collect();
        let refs: Vec<&Keypair> = signers.iter().collect();
        let lut = self.a.fx.lut.clone().unwrap();
        self.t
            .chain
            .send_v0(&[ix], &refs, std::slice::from_ref(&lut))
            .await
            .unwrap()
    }

    /// Every balance, supply and index account the world holds, to show refusals moved nothing.
    async fn snapshot(&mut self) -> Vec<(Pubkey, Vec<u8>)> {
        let mut keys: BTreeSet<Pubkey> = BTreeSet::new();
        for s in [&self.a.fx, &self.b.fx] {
            keys.insert(s.key);
            keys.insert(s.share_mint);
            keys.insert(client::dead_shares_address(&s.key));
            keys.insert(client::fee_shares_address(&s.key));
        }
        for row in 0..self.rows() {
            for s in [&self.a.fx, &self.b.fx] {
                keys.insert(self.vault(s, row));
            }
            for owner in [self.holder.key(), self.stranger.key()] {
                keys.insert(self.ata(&owner, row));
            }
        }
        keys.insert(self.holder.shares);
        keys.insert(self.stranger.shares);
        let mut v = vec![];
        for k in keys {
            let data = self
                .t
                .chain
                .ctx
                .banks_client
                .get_account(k)
                .await
                .unwrap()
                .map(|a| a.data)
                .unwrap_or_default();
            v.push((k, data));
        }
        v
    }
}

fn new_row_args() -> AddConstituentArgs {
    AddConstituentArgs {
        sub_sector: 1,
        bucket: Bucket::PurePlay as u8,
        feed_id: test_feed_id(9, 0),
        initial_units_per_share: 0,
        target_weight: 0,
    }
}

fn input_row(i: usize, mint: Pubkey) -> MethodologyInputRow {
    MethodologyInputRow {
        mint,
        circulating_supply: 1_000_000 * (i as u64 + 1),
        avg_daily_volume_usd: 50_000_000,
        depth_usd: Some(2_000_000),
        unlock: false,
        sub_sector: (i % 8) as u8,
        bucket: u8::from(i % 8 == SubSector::Host as usize),
        rank: i as u16 + 1,
    }
}

/// The row a slot belongs to.
fn row_of(k: Kind) -> Option<usize> {
    match k {
        Mint(r) | Vault(r) | OwnToken(r) | SweepTo(r) | Price(r) => Some(r),
        Program(TokenOf(r)) => Some(r),
        NewMint | NewVault => Some(NEW_ROW),
        _ => None,
    }
}

/// The wrong accounts tried in a slot of kind `kind` whose right account is `right`: a label,
/// the key, and whether it signs. Duplicates and the right account itself are dropped.
fn candidates(w: &World, ix: Ix, kind: Kind, right: Pubkey) -> Vec<(Wrong, Pubkey, bool)> {
    let a = &w.a.fx;
    let b = &w.b.fx;
    let owner = w.owner_of(ix);
    let row = row_of(kind).unwrap_or(0);
    // Another of the index's original rows, of the other token program where it matters.
    let other_row = if row == NEW_ROW { 1 } else { (row + 1) % N };
    let mut v: Vec<(Wrong, Pubkey, bool)> = vec![];
    if let Signer(role) = kind {
        v.push((Wrong::NotSigner, right, false));
        v.push((Wrong::StrangerSigns, w.outsider.pubkey(), true));
        if let Some(k) = w.role(role, true) {
            v.push((Wrong::OtherIndexRoleSigns, k.pubkey(), true));
        }
        let other_role = match role {
            Admin | NewAdmin | PendingAdmin => Some(Guardian),
            Guardian => Some(Methodology),
            Methodology | FeeRecipient => Some(Admin),
            Payer | Holder | Caller => None,
        };
        if let Some(r) = other_role.and_then(|r| w.role(r, false)) {
            v.push((Wrong::OtherRoleSigns, r.pubkey(), true));
        }
    } else if kind == NewShareMint {
        v.push((Wrong::NotSigner, right, false));
        v.push((Wrong::StrangerSigns, w.outsider.pubkey(), true));
        v.push((Wrong::OtherIndexTwin, b.share_mint, false));
        v.push((Wrong::Uninitialised, Pubkey::new_unique(), false));
    } else {
        let twin = match kind {
            Index | NewIndex => Some(b.key),
            ShareMint => Some(b.share_mint),
            DeadShares | NewDeadShares => Some(client::dead_shares_address(&b.key)),
            FeeShares | NewFeeShares => Some(client::fee_shares_address(&b.key)),
            OwnShares => w.b_shares.get(&owner).copied(),
            Vault(r) => Some(w.vault(b, r)),
            NewVault => Some(w.vault(b, NEW_ROW)),
            Price(r) => Some(price_key(b, r)),
            _ => None,
        };
        if let Some(k) = twin {
            v.push((Wrong::OtherIndexTwin, k, false));
        }
        let same_kind_other_row = match kind {
            Mint(_) | NewMint => Some(w.mints[other_row].0),
            Vault(_) | NewVault => Some(w.vault(a, other_row)),
            OwnToken(_) => Some(w.ata(&owner, other_row)),
            SweepTo(_) => Some(w.ata(&a.admin.pubkey(), other_row)),
            Price(r) => Some(price_key(a, (r + 1) % N)),
            _ => None,
        };
        if let Some(k) = same_kind_other_row {
            v.push((Wrong::OtherRow, k, false));
        }
        v.push((Wrong::IndexState, a.key, false));
        v.push((Wrong::ShareMintAccount, a.share_mint, false));
        v.push((Wrong::AVault, w.vault(a, other_row), false));
        v.push((Wrong::AMint, w.mints[other_row].0, false));
        // A token account of the wrong mint that the slot's owner holds.
        // (Share accounts: of row 2, an SPL Token mint no instruction here moves.)
        let not_owner = if owner == w.stranger.key() {
            w.holder.key()
        } else {
            w.stranger.key()
        };
        let wrong_mint = match kind {
            OwnShares => w.ata(&owner, 2),
            DeadShares | FeeShares | NewDeadShares | NewFeeShares => w.vault(a, 2),
            _ => w.ata(&owner, other_row),
        };
        v.push((Wrong::OtherMintAccount, wrong_mint, false));
        // A token account of the right mint, someone else's.
        let wrong_owner = match kind {
            OwnShares | DeadShares | FeeShares | NewDeadShares | NewFeeShares => {
                if owner == w.stranger.key() {
                    w.holder.shares
                } else {
                    w.stranger.shares
                }
            }
            Vault(r) | OwnToken(r) | SweepTo(r) => w.ata(&not_owner, r),
            _ => w.ata(&w.stranger.key(), row.min(N - 1)),
        };
        v.push((Wrong::OtherOwnerAccount, wrong_owner, false));
        let other_program = match kind {
            Program(Token) => TOKEN_2022_PROGRAM_ID,
            Program(TokenOf(r)) if w.mint(r).1 == TOKEN_PROGRAM_ID => TOKEN_2022_PROGRAM_ID,
            _ => TOKEN_PROGRAM_ID,
        };
        v.push((Wrong::OtherTokenProgram, other_program, false));
        v.push((Wrong::SystemProgram, system_program::ID, false));
        v.push((Wrong::AidxProgram, client::PROGRAM_ID, false));
        v.push((Wrong::Wallet, w.wallet, false));
        v.push((Wrong::Uninitialised, Pubkey::new_unique(), false));
        v.push((Wrong::ForeignPriceUpdate, price_key(b, 0), false));
    }
    let mut seen = BTreeSet::new();
    seen.insert((right, true));
    v.retain(|(_, k, s)| {
        let sig = *s || !matches!(kind, Signer(_) | NewShareMint);
        seen.insert((*k, sig))
    });
    v
}

/// The exact refusal for `wrong` in a slot of `kind` of `ix`, or `None` where the substitute is
/// not wrong (e.g. anyone may pay rent).
/// Where a substitution happens, as far as the expected error depends on it.
struct Case {
    ix: Ix,
    kind: Kind,
    wrong: Wrong,
    /// A remaining account (an in-kind leg or a price), checked by the handler, not by Anchor.
    remaining: bool,
    /// Whether the slot's row is on Token-2022.
    row_2022: bool,
    /// The substitute already sits in another mutable named account of the instruction.
    duplicate: bool,
    /// The substitute's owner, if it exists.
    owner: Option<Pubkey>,
}

/// The exact refusal of `c`, or `None` where the substitute is not wrong (anyone may pay rent,
/// anyone may create an index, the admin may sweep donations anywhere, and the permissionless
/// read-only instructions may be run on any index).
fn expected(c: &Case) -> Option<Want> {
    use Wrong as W;
    let aidx = |e| Some(Want::Aidx(e));
    let anchor = |e| Some(Want::Anchor(e));
    let ix_err = |e| Some(Want::Ix(e));
    let row_program = if c.row_2022 {
        TOKEN_2022_PROGRAM_ID
    } else {
        TOKEN_PROGRAM_ID
    };
    // What an Anchor-typed token slot (`Account` / `InterfaceAccount`) says before its
    // constraints: the account must exist, be owned by a token program the slot accepts
    // (`spl_only`: SPL Token's `Account`), decode as the slot's type, and not already be another
    // mutable account of the instruction.
    let typed = |is_mint: bool, spl_only: bool| -> Option<Option<Want>> {
        let Some(owner) = c.owner else {
            return Some(anchor(Anchor::AccountNotInitialized));
        };
        let accepted = owner == TOKEN_PROGRAM_ID || (!spl_only && owner == TOKEN_2022_PROGRAM_ID);
        let is_token_account = matches!(
            c.wrong,
            W::AVault | W::OtherMintAccount | W::OtherOwnerAccount
        ) || (c.wrong == W::OtherIndexTwin && !is_mint)
            || matches!(c.kind, Vault(_) | OwnToken(_) | SweepTo(_)) && c.wrong == W::OtherRow;
        Some(if !accepted {
            anchor(Anchor::AccountOwnedByWrongProgram)
        } else if is_mint == is_token_account {
            ix_err(InstructionError::InvalidAccountData)
        } else if c.duplicate {
            anchor(Anchor::ConstraintDuplicateMutableAccount)
        } else {
            return None;
        })
    };
    match c.kind {
        Signer(role) => match (role, c.wrong) {
            (_, W::NotSigner) => anchor(Anchor::AccountNotSigner),
            // Anyone may sign with proof; without it, only the admin or guardian.
            (Guardian, _) if c.ix == Ix::QuarantineConstituent => {
                aidx(AidxError::QuarantineNeedsProof)
            }
            (Guardian, _) if c.ix == Ix::ReleaseConstituent => {
                aidx(AidxError::QuarantineReleaseUnauthorized)
            }
            (Payer | NewAdmin, _) => None,
            (Admin, _) => aidx(AidxError::UnauthorizedAdmin),
            (PendingAdmin, _) => aidx(AidxError::NotPendingAdmin),
            (Methodology, _) => aidx(AidxError::UnauthorizedMethodologyAuthority),
            (Guardian, _) => aidx(AidxError::UnauthorizedGuardian),
            (FeeRecipient, _) => aidx(AidxError::UnauthorizedFeeRecipient),
            (Holder, _) => aidx(AidxError::ShareAccountOwnerMismatch),
            (Caller, _) => aidx(AidxError::TokenAccountOwnerMismatch),
        },
        // `init` of the keypair account: without its signature the System program's
        // create_account is a privilege escalation, which the in-process runtime reports as
        // ProgramFailedToComplete (a cluster: PrivilegeEscalation); another keypair signing
        // derives another index address.
        NewShareMint => match c.wrong {
            W::StrangerSigns => anchor(Anchor::ConstraintSeeds),
            _ => ix_err(InstructionError::ProgramFailedToComplete),
        },
        NewIndex | NewDeadShares | NewFeeShares | NewVault => anchor(Anchor::ConstraintSeeds),
        Index => match c.wrong {
            W::OtherIndexTwin => match c.ix {
                Ix::ReportNav | Ix::PokeRebalance => None,
                Ix::AcceptAdmin => aidx(AidxError::NotPendingAdmin),
                Ix::SetMethodologyInputs => aidx(AidxError::UnauthorizedMethodologyAuthority),
                Ix::SetPause => aidx(AidxError::UnauthorizedGuardian),
                Ix::ClaimFees => aidx(AidxError::UnauthorizedFeeRecipient),
                Ix::AccrueFees
                | Ix::MintInKind
                | Ix::RedeemInKind
                | Ix::MintSingle
                | Ix::RedeemSingle => aidx(AidxError::ShareMintMismatch),
                // The other index holds the same mints in its own vaults.
                Ix::RebalanceSwap | Ix::QuarantineConstituent | Ix::ReleaseConstituent => {
                    aidx(AidxError::VaultMismatch)
                }
                // This index's price updates are of other feeds than the other index's.
                Ix::RefreshPrices => aidx(AidxError::OracleWrongFeed),
                // A valid target, refused for its own state: it has no methodology inputs
                // observed since its last review.
                Ix::RecomputeTargets => aidx(AidxError::MethodologyInputsStale),
                _ => aidx(AidxError::UnauthorizedAdmin),
            },
            // open_index targets a fresh index of the same admin: index `a` is a valid index
            // of that admin, refused for its state.
            W::IndexState if c.ix == Ix::OpenIndex => aidx(AidxError::IndexAlreadyOpen),
            _ => anchor(Anchor::AccountOwnedByWrongProgram),
        },
        Program(TokenOf(_)) if c.wrong == W::OtherTokenProgram => {
            anchor(Anchor::ConstraintMintTokenProgram)
        }
        Program(_) => anchor(Anchor::InvalidProgramId),
        Price(_) => match c.wrong {
            // Another row's update names that row, which the instruction then has twice.
            W::OtherRow => aidx(AidxError::PriceAccountDuplicate),
            W::OtherIndexTwin | W::ForeignPriceUpdate => aidx(AidxError::OracleWrongFeed),
            _ => aidx(AidxError::OracleWrongOwner),
        },
        // In-kind legs are checked by the handler against the table.
        Mint(_) if c.remaining => aidx(AidxError::ConstituentMintMismatch),
        Vault(_) if c.remaining => aidx(AidxError::VaultMismatch),
        OwnToken(_) if c.remaining => match c.wrong {
            W::OtherOwnerAccount => aidx(AidxError::TokenAccountOwnerMismatch),
            // SPL Token's share mint passes the owner check of an SPL Token leg and fails to
            // decode as a token account.
            W::ShareMintAccount if !c.row_2022 => aidx(AidxError::InvalidTokenAccount),
            _ => aidx(AidxError::TokenProgramMismatch),
        },
        // SPL Token typed slots.
        ShareMint => typed(true, true).unwrap_or(aidx(AidxError::ShareMintMismatch)),
        DeadShares => typed(false, true).unwrap_or(aidx(AidxError::DeadSharesMismatch)),
        FeeShares => typed(false, true).unwrap_or(aidx(AidxError::FeeSharesMismatch)),
        OwnShares => typed(false, true).unwrap_or(match c.wrong {
            W::OtherOwnerAccount => aidx(AidxError::ShareAccountOwnerMismatch),
            _ => aidx(AidxError::ShareAccountMintMismatch),
        }),
        // The quarantine's mint is read, not moved: any table mint names its own row, whose
        // vault is not the one passed; any other mint names no row.
        Mint(_)
            if matches!(
                c.ix,
                Ix::QuarantineConstituent | Ix::ReleaseConstituent | Ix::WriteOffConstituent
            ) =>
        {
            typed(true, false).unwrap_or(match c.wrong {
                W::ShareMintAccount => aidx(AidxError::UnknownConstituent),
                _ => aidx(AidxError::VaultMismatch),
            })
        }
        // Interface slots (either token program).
        Mint(_) | NewMint => typed(true, false).unwrap_or(
            // A mint of the other token program than the slot's program account.
            if c.owner != Some(row_program) {
                anchor(Anchor::ConstraintMintTokenProgram)
            } else if c.kind == NewMint {
                // add_constituent: the vault address is derived from the mint.
                anchor(Anchor::ConstraintSeeds)
            } else {
                // A mint of the same program: the signer's token account is not of it.
                aidx(AidxError::TokenAccountMintMismatch)
            },
        ),
        Vault(_) => typed(false, false).unwrap_or(aidx(AidxError::VaultMismatch)),
        OwnToken(_) | SweepTo(_) => typed(false, false).unwrap_or(match c.wrong {
            W::OtherOwnerAccount => aidx(AidxError::TokenAccountOwnerMismatch),
            _ => aidx(AidxError::TokenAccountMintMismatch),
        }),
    }
    .filter(|_| !(matches!(c.kind, SweepTo(_)) && c.wrong == W::OtherOwnerAccount))
}

// ---------------------------------------------------------------------------------------------
// The test.

#[derive(Default)]
struct Coverage {
    instructions: usize,
    accounts: usize,
    cases: usize,
    not_wrong: usize,
    per_wrong: BTreeMap<Wrong, usize>,
    /// The fewest substitutions any one account was tried with.
    min_per_account: usize,
    rows: Vec<String>,
}

fn idl_accounts() -> BTreeMap<String, Vec<String>> {
    idl()["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                i["accounts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["name"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn the_table_covers_every_instruction_and_account_of_the_idl() {
    let idl = idl_accounts();
    let table: BTreeMap<String, Vec<String>> = SPECS
        .iter()
        .map(|s| {
            (
                s.name.to_string(),
                s.accounts.iter().map(|(n, _)| n.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(table, idl, "the matrix table and the IDL disagree");
}

/// Records a case that did not fail with `want`; with `AIDX_MATRIX_DISCOVER` set, prints every
/// outcome instead (and the last log lines of a failure without a custom code), which is how
/// the rules of [`expected`] are maintained.
fn check(discover: bool, label: &str, want: &Want, r: &TxResult, failures: &mut Vec<String>) {
    if discover {
        println!("DISCOVER {label} | {}", describe(r));
        if let Err(f) = r {
            if !matches!(
                f.error,
                TransactionError::InstructionError(_, InstructionError::Custom(_))
            ) {
                for l in f.logs.iter().rev().take(4).rev() {
                    println!("    {l}");
                }
            }
        }
    } else if !want.matches(r) {
        failures.push(format!("{label}: expected {want:?}, got {}", describe(r)));
    }
}

async fn run_instruction(spec: &Spec, cov: &mut Coverage, failures: &mut Vec<String>) {
    let discover = std::env::var("AIDX_MATRIX_DISCOVER").is_ok();
    let mut w = World::new().await;
    w.prepare(spec.ix).await;
    let right = w.build(spec.ix).await;
    let mut widths: Vec<u8> =
        w.t.index(&w.a.fx)
            .await
            .constituents()
            .iter()
            .map(|c| c.leg_accounts)
            .collect();
    // A row prepared but not yet added (add_constituent's) has no leg in any instruction.
    widths.resize(w.rows(), aidx::state::PLAIN_LEG_ACCOUNTS);
    let slots = slots(spec, &widths);
    assert_eq!(
        slots.len(),
        right.accounts.len(),
        "{}: table and instruction disagree on the account count",
        spec.name
    );
    let before = w.snapshot().await;
    let mut cases = 0;
    for (pos, (slot, kind)) in slots.iter().enumerate() {
        let original = right.accounts[pos].clone();
        let mut tried = 0;
        for (wrong, key, signs) in candidates(&w, spec.ix, *kind, original.pubkey) {
            let mut ix = right.clone();
            ix.accounts[pos].pubkey = key;
            ix.accounts[pos].is_signer = signs;
            let named = spec.accounts.len();
            let row_2022 = row_of(*kind).is_some_and(|r| w.mint(r).1 == TOKEN_2022_PROGRAM_ID);
            let duplicate = pos < named
                && original.is_writable
                && right.accounts[..named]
                    .iter()
                    .enumerate()
                    .any(|(i, m)| i != pos && m.is_writable && m.pubkey == key);
            let owner =
                w.t.chain
                    .ctx
                    .banks_client
                    .get_account(key)
                    .await
                    .unwrap()
                    .map(|a| a.owner);
            let want = expected(&Case {
                ix: spec.ix,
                kind: *kind,
                wrong,
                remaining: pos >= named,
                row_2022,
                duplicate,
                owner,
            });
            let Some(want) = want else {
                cov.not_wrong += 1;
                continue;
            };
            let r = w.send(ix).await;
            cases += 1;
            tried += 1;
            *cov.per_wrong.entry(wrong).or_default() += 1;
            let label = format!("{} / {slot} ({kind:?}) / {wrong:?}", spec.name);
            check(discover, &label, &want, &r, failures);
        }
        assert!(tried > 0, "{} / {slot}: no substitution tried", spec.name);
        cov.min_per_account = cov.min_per_account.min(tried);
    }
    // One account short (refresh_prices takes any nonempty subset of price accounts: for it,
    // every price account short).
    let mut short = right.clone();
    short.accounts.pop();
    if spec.remaining == Remaining::Prices {
        short.accounts.truncate(spec.accounts.len());
    }
    let r = w.send(short).await;
    cases += 1;
    let want = match spec.remaining {
        Remaining::None => Want::Anchor(Anchor::AccountNotEnoughKeys),
        Remaining::Legs => Want::Aidx(AidxError::LegAccountsMismatch),
        Remaining::Prices => Want::Aidx(AidxError::PriceAccountsMismatch),
    };
    let label = format!("{} / last account missing", spec.name);
    check(discover, &label, &want, &r, failures);
    let after = w.snapshot().await;
    let moved: Vec<String> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(b, _)| b.0.to_string())
        .collect();
    assert!(
        moved.is_empty(),
        "{}: refused substitutions changed {moved:?}",
        spec.name
    );
    let r = w.send(right.clone()).await;
    assert!(
        r.is_ok(),
        "{}: the unaltered instruction fails: {}",
        spec.name,
        describe(&r)
    );
    cov.instructions += 1;
    cov.accounts += slots.len();
    cov.cases += cases;
    cov.rows.push(format!(
        "{:<24} {:>3} accounts {:>5} cases",
        spec.name,
        slots.len(),
        cases
    ));
}

#[tokio::test]
async fn every_account_of_every_instruction_refuses_every_plausible_substitute() {
    let mut cov = Coverage {
        min_per_account: usize::MAX,
        ..Coverage::default()
    };
    let mut failures = vec![];
    // `AIDX_MATRIX_ONLY=<part of a name>` runs only those instructions (while maintaining it).
    let only = std::env::var("AIDX_MATRIX_ONLY").ok();
    for spec in SPECS {
        if only.as_deref().is_some_and(|o| !spec.name.contains(o)) {
            continue;
        }
        run_instruction(spec, &mut cov, &mut failures).await;
    }
    println!("account-substitution matrix:");
    for r in &cov.rows {
        println!("  {r}");
    }
    println!(
        "  total: {} instructions (all of the IDL's), {} accounts (every named account and every \
         remaining-account leg and price), {} cases: {} substitutions and {} missing-account \
         cases, each refused with its exact error; every account tried with at least {} wrong \
         accounts; {} substitutes skipped as not wrong by design",
        cov.instructions,
        cov.accounts,
        cov.cases,
        cov.cases - cov.instructions,
        cov.instructions,
        cov.min_per_account,
        cov.not_wrong
    );
    let kinds: Vec<String> = cov
        .per_wrong
        .iter()
        .map(|(w, n)| format!("{w:?} {n}"))
        .collect();
    println!("  substitutes: {}", kinds.join(", "));
    if only.is_none() {
        assert_eq!(cov.instructions, SPECS.len());
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
