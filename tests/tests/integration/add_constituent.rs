//! `add_constituent`: the stored row, the vault it creates under either token program, its
//! event, every refusal with its exact error (admin, table checks, token program, table size,
//! seed composition lock), the Token-2022 extension policy, and a pre-funded vault address.

use aidx::errors::AidxError;
use aidx::events::ConstituentAdded;
use aidx::instructions::{AddConstituentArgs, RedeemInKindArgs};
use aidx::state::{Constituent, ConstituentStatus, Index, MAX_CONSTITUENTS, VAULT_SEED};
use aidx_client::{self as client, AidxEvent, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};
use aidx_tests::*;
use anchor_lang::error::ErrorCode;
use anchor_spl::token_2022::spl_token_2022::{
    self,
    extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
    state::{Account as Account2022, AccountState},
};
use solana_sdk::{
    instruction::{Instruction, InstructionError},
    program_option::COption,
    program_pack::Pack,
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
};

fn args(sub_sector: u8, bucket: u8, feed_id: [u8; 32], units: u64) -> AddConstituentArgs {
    AddConstituentArgs {
        sub_sector,
        bucket,
        feed_id,
        initial_units_per_share: units,
        target_weight: 0,
    }
}

fn feed(n: u8) -> [u8; 32] {
    test_feed_id(0xa0, n as usize)
}

/// What a vault account holds, decoded under either token program.
struct VaultState {
    owner_program: Pubkey,
    mint: Pubkey,
    authority: Pubkey,
    amount: u64,
    state: AccountState,
    delegate: COption<Pubkey>,
    close_authority: COption<Pubkey>,
    extensions: Vec<ExtensionType>,
    lamports: u64,
    len: usize,
}

async fn vault_state(t: &mut TestContext, vault: &Pubkey) -> VaultState {
    let acc = t.chain.account(vault).await.unwrap().expect("vault exists");
    // The SPL Token layout is the base of the Token-2022 one; StateWithExtensions reads both.
    let st = StateWithExtensions::<Account2022>::unpack(&acc.data).expect("token account");
    VaultState {
        owner_program: acc.owner,
        mint: st.base.mint,
        authority: st.base.owner,
        amount: st.base.amount,
        state: st.base.state,
        delegate: st.base.delegate,
        close_authority: st.base.close_authority,
        extensions: if acc.data.len() > Account2022::LEN {
            st.get_extension_types().unwrap()
        } else {
            vec![]
        },
        lamports: acc.lamports,
        len: acc.data.len(),
    }
}

/// The vault of `mint` exists, belongs to `program`, holds `mint`, is owned by the index PDA,
/// is usable (not frozen) and has no delegate or close authority.
async fn assert_vault(
    t: &mut TestContext,
    index: &Pubkey,
    mint: &Pubkey,
    program: &Pubkey,
) -> VaultState {
    let vault = client::vault_address(index, mint);
    let v = vault_state(t, &vault).await;
    assert_eq!(v.owner_program, *program, "vault token program");
    assert_eq!(v.mint, *mint, "vault mint");
    assert_eq!(v.authority, *index, "vault authority is the index PDA");
    assert_eq!(v.amount, 0);
    assert_eq!(v.state, AccountState::Initialized);
    assert_eq!(v.delegate, COption::None);
    assert_eq!(v.close_authority, COption::None);
    let rent = t
        .chain
        .ctx
        .banks_client
        .get_rent()
        .await
        .unwrap()
        .minimum_balance(v.len);
    assert!(
        v.lamports >= rent,
        "vault rent exempt: {} < {rent}",
        v.lamports
    );
    v
}

/// The row of `mint` in the index.
fn row<'a>(index: &'a Index, mint: &Pubkey) -> &'a Constituent {
    index
        .constituents()
        .iter()
        .find(|c| c.mint == *mint)
        .expect("constituent row")
}

#[tokio::test]
async fn adds_spl_token_and_token_2022_constituents() {
    let mut t = TestContext::new().await;
    let (r, fx) = t.init_index(t.default_args()).await;
    events(r);

    let cases = [
        (TOKEN_PROGRAM_ID, 6u8, args(0, 0, feed(1), 1_500_000)),
        (TOKEN_2022_PROGRAM_ID, 9u8, args(7, 1, feed(2), 0)),
        (TOKEN_PROGRAM_ID, 0u8, args(3, 0, feed(3), 42)),
    ];
    for (position, (program, decimals, a)) in cases.iter().enumerate() {
        let mint = t.create_mint(*program, *decimals, &[]).await;
        let vault = client::vault_address(&fx.key, &mint);
        assert!(t.chain.account(&vault).await.unwrap().is_none());
        let ev = events(
            t.add_constituent(&fx.key, &fx.admin, &mint, program, a.clone())
                .await,
        );
        assert_eq!(
            ev,
            vec![AidxEvent::ConstituentAdded(ConstituentAdded {
                index: fx.key,
                position: position as u8,
                mint,
                vault,
                token_program: *program,
                feed_id: a.feed_id,
                decimals: *decimals,
                sub_sector: a.sub_sector,
                bucket: a.bucket,
                initial_units_per_share: a.initial_units_per_share,
                target_weight: a.target_weight,
                leg_accounts: 2,
                freeze_authority: None,
                pausable: false,
            })]
        );

        let index = t.index(&fx).await;
        assert_eq!(index.num_constituents as usize, position + 1);
        let c = index.constituents()[position];
        let (_, vault_bump) = Pubkey::find_program_address(
            &[VAULT_SEED, fx.key.as_ref(), mint.as_ref()],
            &client::PROGRAM_ID,
        );
        assert_eq!(c.mint, mint);
        assert_eq!(c.vault, vault);
        assert_eq!(c.token_program, *program);
        assert_eq!(c.feed_id, a.feed_id);
        assert_eq!(c.decimals, *decimals);
        assert_eq!(c.sub_sector, a.sub_sector);
        assert_eq!(c.bucket, a.bucket);
        assert_eq!(c.initial_units_per_share, a.initial_units_per_share);
        assert_eq!(c.balance, 0);
        assert_eq!(c.status, ConstituentStatus::Active as u8);
        assert_eq!(c.vault_bump, vault_bump);
        assert_eq!(c.leg_accounts, 2, "no extension: a plain transfer moves it");
        assert_eq!(index.share_supply, 0);

        let v = assert_vault(&mut t, &fx.key, &mint, program).await;
        if *program == TOKEN_PROGRAM_ID {
            assert_eq!(v.len, spl_token_2022::state::Account::LEN);
        }
    }
    // Rows past the table end stay empty.
    let index = t.index(&fx).await;
    assert!(index.constituents[cases.len()..]
        .iter()
        .all(|c| c.mint == Pubkey::default()));
}

#[tokio::test]
async fn non_admin_signer_is_refused() {
    let mut t = TestContext::new().await;
    let (r, fx) = t.init_index(t.default_args()).await;
    events(r);
    let mint = t.create_mint(TOKEN_PROGRAM_ID, 6, &[]).await;
    let vault = client::vault_address(&fx.key, &mint);
    // A stranger, and the payer (who paid for the index but is not its admin).
    let stranger = Keypair::new();
    let payer = t.chain.ctx.payer.insecure_clone();
    for signer in [&stranger, &payer] {
        let r = t
            .add_constituent(
                &fx.key,
                signer,
                &mint,
                &TOKEN_PROGRAM_ID,
                args(0, 0, feed(1), 1),
            )
            .await;
        assert_aidx_error(&r, AidxError::UnauthorizedAdmin);
        assert_eq!(t.index(&fx).await.num_constituents, 0);
        assert!(t.chain.account(&vault).await.unwrap().is_none());
    }
    // The admin key without its signature.
    let payer_key = t.payer();
    let mut ix = client::add_constituent(
        &payer_key,
        &fx.admin.pubkey(),
        &fx.key,
        &mint,
        &TOKEN_PROGRAM_ID,
        args(0, 0, feed(1), 1),
    );
    ix.accounts[1].is_signer = false;
    assert_eq!(ix.accounts[1].pubkey, fx.admin.pubkey());
    assert_anchor_error(&t.send(ix, &[]).await, ErrorCode::AccountNotSigner);
    // The admin succeeds.
    events(
        t.add_constituent(
            &fx.key,
            &fx.admin,
            &mint,
            &TOKEN_PROGRAM_ID,
            args(0, 0, feed(1), 1),
        )
        .await,
    );
    assert_eq!(t.index(&fx).await.num_constituents, 1);
}

/// The table checks, each refused with its own error and nothing written; then the boundary
/// values of sub-sector and bucket accepted.
#[tokio::test]
async fn table_checks_refuse_with_exact_errors() {
    let mut t = TestContext::new().await;
    let fx = t.create_index_unopened(2, |i| [10, 20][i]).await;
    let existing = fx.constituents[0].clone();
    let existing_feed = test_feed_id(1, 0); // the first index created by this context
    assert_eq!(t.index(&fx).await.constituents()[0].feed_id, existing_feed);
    let spl_mint = t.create_mint(TOKEN_PROGRAM_ID, 6, &[]).await;
    let t22_mint = t.create_mint(TOKEN_2022_PROGRAM_ID, 6, &[]).await;

    struct Case {
        name: &'static str,
        mint: Pubkey,
        program: Pubkey,
        args: AddConstituentArgs,
        err: AidxError,
    }
    let cases = vec![
        Case {
            name: "duplicate mint",
            mint: existing.mint,
            program: existing.token_program,
            args: args(0, 0, feed(9), 1),
            err: AidxError::DuplicateConstituent,
        },
        Case {
            name: "duplicate mint, zero units",
            mint: fx.constituents[1].mint,
            program: fx.constituents[1].token_program,
            args: args(2, 0, feed(10), 0),
            err: AidxError::DuplicateConstituent,
        },
        Case {
            name: "duplicate feed id (SPL)",
            mint: spl_mint,
            program: TOKEN_PROGRAM_ID,
            args: args(0, 0, existing_feed, 1),
            err: AidxError::DuplicateFeedId,
        },
        Case {
            name: "duplicate feed id (Token-2022)",
            mint: t22_mint,
            program: TOKEN_2022_PROGRAM_ID,
            args: args(0, 0, test_feed_id(1, 1), 1),
            err: AidxError::DuplicateFeedId,
        },
        Case {
            name: "zero feed id",
            mint: spl_mint,
            program: TOKEN_PROGRAM_ID,
            args: args(0, 0, [0; 32], 1),
            err: AidxError::MissingFeedId,
        },
        Case {
            name: "sub_sector 8",
            mint: spl_mint,
            program: TOKEN_PROGRAM_ID,
            args: args(8, 0, feed(11), 1),
            err: AidxError::InvalidSubSector,
        },
        Case {
            name: "sub_sector 255",
            mint: t22_mint,
            program: TOKEN_2022_PROGRAM_ID,
            args: args(255, 0, feed(11), 1),
            err: AidxError::InvalidSubSector,
        },
        Case {
            name: "bucket 2",
            mint: spl_mint,
            program: TOKEN_PROGRAM_ID,
            args: args(0, 2, feed(12), 1),
            err: AidxError::InvalidBucket,
        },
        Case {
            name: "bucket 255",
            mint: t22_mint,
            program: TOKEN_2022_PROGRAM_ID,
            args: args(0, 255, feed(12), 1),
            err: AidxError::InvalidBucket,
        },
        Case {
            name: "share mint as constituent",
            mint: fx.share_mint,
            program: TOKEN_PROGRAM_ID,
            args: args(0, 0, feed(13), 1),
            err: AidxError::ShareMintAsConstituent,
        },
    ];
    let before = t.chain.account_data(&fx.key).await.unwrap();
    for c in &cases {
        println!("{}: expecting {:?}", c.name, c.err);
        let r = t
            .add_constituent(&fx.key, &fx.admin, &c.mint, &c.program, c.args.clone())
            .await;
        assert_aidx_error(&r, c.err);
        assert_eq!(
            t.chain.account_data(&fx.key).await.unwrap(),
            before,
            "{}: index changed",
            c.name
        );
        if c.mint != existing.mint && c.mint != fx.constituents[1].mint {
            let vault = client::vault_address(&fx.key, &c.mint);
            assert!(
                t.chain.account(&vault).await.unwrap().is_none(),
                "{}: vault created",
                c.name
            );
        }
    }
    println!("{} table cases", cases.len());

    // The last sub-sector and bucket are accepted.
    events(
        t.add_constituent(
            &fx.key,
            &fx.admin,
            &spl_mint,
            &TOKEN_PROGRAM_ID,
            args(7, 1, feed(20), 3),
        )
        .await,
    );
    events(
        t.add_constituent(
            &fx.key,
            &fx.admin,
            &t22_mint,
            &TOKEN_2022_PROGRAM_ID,
            args(0, 0, feed(21), 0),
        )
        .await,
    );
    let index = t.index(&fx).await;
    assert_eq!(index.num_constituents, 4);
    assert_eq!(
        (
            row(&index, &spl_mint).sub_sector,
            row(&index, &spl_mint).bucket
        ),
        (7, 1)
    );
    assert_eq!(
        (
            row(&index, &t22_mint).sub_sector,
            row(&index, &t22_mint).bucket
        ),
        (0, 0)
    );
}

/// The mint must belong to the token program passed; a non-mint account is refused by Anchor.
#[tokio::test]
async fn mint_and_token_program_must_match() {
    let mut t = TestContext::new().await;
    let (r, fx) = t.init_index(t.default_args()).await;
    events(r);
    let spl_mint = t.create_mint(TOKEN_PROGRAM_ID, 6, &[]).await;
    let t22_mint = t.create_mint(TOKEN_2022_PROGRAM_ID, 6, &[]).await;
    let wallet = Keypair::new();
    t.chain.airdrop(&wallet.pubkey(), 10_000_000).await.unwrap();
    let token_account = t
        .chain
        .create_ata(&wallet.pubkey(), &spl_mint, &TOKEN_PROGRAM_ID)
        .await
        .unwrap();

    enum Want {
        Anchor(ErrorCode),
        Instruction(InstructionError),
    }
    use Want::*;
    let cases = [
        (
            "SPL Token mint with Token-2022",
            spl_mint,
            TOKEN_2022_PROGRAM_ID,
            Anchor(ErrorCode::ConstraintMintTokenProgram),
        ),
        (
            "Token-2022 mint with SPL Token",
            t22_mint,
            TOKEN_PROGRAM_ID,
            Anchor(ErrorCode::ConstraintMintTokenProgram),
        ),
        (
            "system-owned wallet as mint",
            wallet.pubkey(),
            TOKEN_PROGRAM_ID,
            Anchor(ErrorCode::AccountOwnedByWrongProgram),
        ),
        (
            "missing account as mint",
            Pubkey::new_unique(),
            TOKEN_PROGRAM_ID,
            Anchor(ErrorCode::AccountNotInitialized),
        ),
        // A token account is owned by the token program but does not decode as a mint: the
        // token-state decoder's ProgramError passes through unchanged.
        (
            "token account as mint",
            token_account,
            TOKEN_PROGRAM_ID,
            Instruction(InstructionError::InvalidAccountData),
        ),
        (
            "token program: System",
            spl_mint,
            anchor_lang::system_program::ID,
            Anchor(ErrorCode::InvalidProgramId),
        ),
    ];
    for (i, (name, mint, program, want)) in cases.iter().enumerate() {
        let r = t
            .add_constituent(
                &fx.key,
                &fx.admin,
                mint,
                program,
                args(0, 0, feed(i as u8), 1),
            )
            .await;
        match want {
            Anchor(e) => {
                println!("{name}: expecting {e:?}");
                assert_anchor_error(&r, *e);
            }
            Instruction(e) => {
                println!("{name}: expecting {e:?}");
                assert_instruction_error(&r, e.clone());
            }
        }
        assert_eq!(t.index(&fx).await.num_constituents, 0, "{name}");
    }
    // With the right programs both succeed.
    events(
        t.add_constituent(
            &fx.key,
            &fx.admin,
            &spl_mint,
            &TOKEN_PROGRAM_ID,
            args(0, 0, feed(30), 1),
        )
        .await,
    );
    events(
        t.add_constituent(
            &fx.key,
            &fx.admin,
            &t22_mint,
            &TOKEN_2022_PROGRAM_ID,
            args(0, 0, feed(31), 1),
        )
        .await,
    );
    assert_vault(&mut t, &fx.key, &spl_mint, &TOKEN_PROGRAM_ID).await;
    assert_vault(&mut t, &fx.key, &t22_mint, &TOKEN_2022_PROGRAM_ID).await;
}

#[tokio::test]
async fn table_holds_at_most_max_constituents() {
    let mut t = TestContext::new().await;
    assert_eq!(MAX_CONSTITUENTS, 24);
    let fx = t.create_index(MAX_CONSTITUENTS, |i| i as u64).await;
    let index = t.index(&fx).await;
    assert_eq!(index.num_constituents as usize, MAX_CONSTITUENTS);
    // The last row is in place.
    assert_eq!(
        index.constituents()[MAX_CONSTITUENTS - 1].mint,
        fx.constituents[MAX_CONSTITUENTS - 1].mint
    );
    for program in [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID] {
        let mint = t.create_mint(program, 6, &[]).await;
        let r = t
            .add_constituent(&fx.key, &fx.admin, &mint, &program, args(0, 0, feed(99), 1))
            .await;
        assert_aidx_error(&r, AidxError::TooManyConstituents);
        assert!(t
            .chain
            .account(&client::vault_address(&fx.key, &mint))
            .await
            .unwrap()
            .is_none());
    }
    assert_eq!(
        t.index(&fx).await.num_constituents as usize,
        MAX_CONSTITUENTS
    );
}

/// The seed composition is the admin's: nobody can mint before the admin opens the index
/// (so nobody can seed a half-configured table and lock it at one row), only the admin opens
/// it, and once open a row can only be added empty.
#[tokio::test]
async fn seed_composition_is_locked_when_the_index_opens() {
    let mut t = TestContext::new().await;
    let fx = t.create_index_unopened(2, |i| [1_000, 2_000][i]).await;
    // Before the index is open a nonzero composition is accepted.
    let early = t.create_mint(TOKEN_2022_PROGRAM_ID, 4, &[]).await;
    events(
        t.add_constituent(
            &fx.key,
            &fx.admin,
            &early,
            &TOKEN_2022_PROGRAM_ID,
            args(1, 0, feed(1), 5),
        )
        .await,
    );
    let mut fx = fx;
    fx.constituents.push(ConstituentFixture {
        mint: early,
        token_program: TOKEN_2022_PROGRAM_ID,
        decimals: 4,
        units_per_share: 5,
        feed_id: feed(1),
    });
    // Nobody seeds the half-configured index: the mint is refused by name, nothing moves.
    let holder = t.holder(&fx, |_| 1_000_000_000).await;
    let held = t.holder_balances(&holder).await;
    let before = t.chain.account_data(&fx.key).await.unwrap();
    assert_aidx_error(
        &t.mint_in_kind(&fx, &holder, aidx::math::ONE_SHARE).await,
        AidxError::IndexNotOpen,
    );
    assert_eq!(t.chain.account_data(&fx.key).await.unwrap(), before);
    assert_eq!(t.holder_balances(&holder).await, held);
    assert_eq!(t.share_supply(&fx).await, 0);
    // Only the admin opens it; the event states the composition the first mint will take.
    let stranger = solana_sdk::signature::Keypair::new();
    assert_aidx_error(
        &t.send(
            client::open_index(&fx.key, &stranger.pubkey()),
            &[&stranger],
        )
        .await,
        AidxError::UnauthorizedAdmin,
    );
    let ev = events(t.open_index(&fx).await);
    assert!(
        matches!(&ev[..], [AidxEvent::IndexOpened(e)] if e.initial_units_per_share == [1_000, 2_000, 5]),
        "{ev:?}"
    );
    assert_aidx_error(&t.open_index(&fx).await, AidxError::IndexAlreadyOpen);
    // Open, not yet seeded: a seeded row cannot be wound down (nor so removed), the composition
    // is final.
    let wind = client::wind_down_constituent(&fx.key, &fx.admin.pubkey(), fx.constituents[0].mint);
    assert_aidx_error(
        &t.send(wind, &[&fx.admin]).await,
        AidxError::SeedCompositionLocked,
    );
    // Open but not yet minted: the composition is already final.
    let late = t.create_mint(TOKEN_PROGRAM_ID, 6, &[]).await;
    assert_aidx_error(
        &t.add_constituent(
            &fx.key,
            &fx.admin,
            &late,
            &TOKEN_PROGRAM_ID,
            args(0, 0, feed(9), 1),
        )
        .await,
        AidxError::SeedCompositionLocked,
    );
    events(t.mint_in_kind(&fx, &holder, aidx::math::ONE_SHARE).await);
    assert!(t.index(&fx).await.share_supply > 0);

    for (program, units) in [
        (TOKEN_PROGRAM_ID, 1u64),
        (TOKEN_2022_PROGRAM_ID, 1),
        (TOKEN_PROGRAM_ID, u64::MAX),
    ] {
        let mint = t.create_mint(program, 6, &[]).await;
        let r = t
            .add_constituent(
                &fx.key,
                &fx.admin,
                &mint,
                &program,
                args(0, 0, feed(2), units),
            )
            .await;
        assert_aidx_error(&r, AidxError::SeedCompositionLocked);
    }
    let before = t.index(&fx).await;
    for (i, program) in [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID]
        .into_iter()
        .enumerate()
    {
        let mint = t.create_mint(program, 6, &[]).await;
        let ev = events(
            t.add_constituent(
                &fx.key,
                &fx.admin,
                &mint,
                &program,
                args(0, 0, feed(3 + i as u8), 0),
            )
            .await,
        );
        assert!(
            matches!(&ev[..], [AidxEvent::ConstituentAdded(e)] if e.initial_units_per_share == 0 && e.position == 3 + i as u8),
            "{ev:?}"
        );
        let index = t.index(&fx).await;
        let c = row(&index, &mint);
        assert_eq!((c.initial_units_per_share, c.balance), (0, 0));
        // Existing rows and the share supply are untouched.
        assert_eq!(index.share_supply, before.share_supply);
        assert_eq!(&index.constituents()[..3], before.constituents());
        assert_vault(&mut t, &fx.key, &mint, &program).await;
    }
}

/// Token-2022 extensions: each refused one with its own error, each allowed one accepted
/// with a working vault.
#[tokio::test]
async fn token_2022_extension_policy() {
    let mut t = TestContext::new().await;
    let (r, fx) = t.init_index(t.default_args()).await;
    events(r);
    let someone = Pubkey::new_unique();
    let payer = t.payer();
    // The bundled Token-2022 (10.0.0) refuses to initialise a transfer hook with neither a
    // program nor an authority ("requires at least an authority or a program id"). Such a mint
    // is made the way it happens on mainnet: initialise the hook with an authority and no
    // program, then revoke the authority (`SetAuthority(TransferHookProgramId, None)`).
    let inert_hook = MintExt::TransferHook {
        authority: Some(payer),
        program: None,
    };
    struct Case {
        name: &'static str,
        exts: Vec<MintExt>,
        revoke_hook_authority: bool,
        want: Option<AidxError>,
    }
    let case = |name, exts, want| Case {
        name,
        exts,
        revoke_hook_authority: false,
        want,
    };
    let cases: Vec<Case> = vec![
        case(
            "TransferFee",
            vec![MintExt::TransferFee { bps: 50 }],
            Some(AidxError::MintHasTransferFee),
        ),
        case(
            "TransferFee at 0 bps",
            vec![MintExt::TransferFee { bps: 0 }],
            Some(AidxError::MintHasTransferFee),
        ),
        case(
            "TransferHook with a program",
            vec![MintExt::TransferHook {
                authority: None,
                program: Some(someone),
            }],
            Some(AidxError::MintHasTransferHook),
        ),
        case(
            "TransferHook with only an authority",
            vec![MintExt::TransferHook {
                authority: Some(someone),
                program: None,
            }],
            Some(AidxError::MintHasTransferHook),
        ),
        case(
            "TransferHook with program and authority",
            vec![MintExt::TransferHook {
                authority: Some(someone),
                program: Some(someone),
            }],
            Some(AidxError::MintHasTransferHook),
        ),
        Case {
            name: "TransferHook with a program, authority revoked",
            exts: vec![MintExt::TransferHook {
                authority: Some(payer),
                program: Some(someone),
            }],
            revoke_hook_authority: true,
            want: Some(AidxError::MintHasTransferHook),
        },
        case(
            "NonTransferable",
            vec![MintExt::NonTransferable],
            Some(AidxError::MintNonTransferable),
        ),
        case(
            "DefaultState(Frozen)",
            vec![MintExt::DefaultState(AccountState::Frozen)],
            Some(AidxError::MintDefaultFrozen),
        ),
        case(
            "PermanentDelegate",
            vec![MintExt::PermanentDelegate(someone)],
            Some(AidxError::MintHasPermanentDelegate),
        ),
        case(
            "InterestBearing",
            vec![MintExt::InterestBearing { rate_bps: 500 }],
            Some(AidxError::MintUiAmountScaled),
        ),
        case(
            "InterestBearing at 0",
            vec![MintExt::InterestBearing { rate_bps: 0 }],
            Some(AidxError::MintUiAmountScaled),
        ),
        case(
            "ConfidentialTransfer",
            vec![MintExt::ConfidentialTransfer],
            Some(AidxError::MintConfidential),
        ),
        // An allowed extension does not excuse a refused one.
        case(
            "MetadataPointer + PermanentDelegate",
            vec![
                MintExt::MetadataPointer,
                MintExt::PermanentDelegate(someone),
            ],
            Some(AidxError::MintHasPermanentDelegate),
        ),
        // A closable mint could be closed and re-created with refused extensions.
        case(
            "MintCloseAuthority",
            vec![MintExt::MintCloseAuthority],
            Some(AidxError::MintClosable),
        ),
        case("MetadataPointer", vec![MintExt::MetadataPointer], None),
        Case {
            name: "TransferHook with neither program nor authority",
            exts: vec![inert_hook.clone()],
            revoke_hook_authority: true,
            want: None,
        },
        case(
            "DefaultState(Initialized)",
            vec![MintExt::DefaultState(AccountState::Initialized)],
            None,
        ),
        case("Pausable", vec![MintExt::Pausable], None),
        Case {
            name: "all allowed together",
            exts: vec![
                MintExt::MetadataPointer,
                inert_hook.clone(),
                MintExt::DefaultState(AccountState::Initialized),
                MintExt::Pausable,
            ],
            revoke_hook_authority: true,
            want: None,
        },
    ];
    let mut added = 0u8;
    for (i, c) in cases.iter().enumerate() {
        let (name, exts, want) = (c.name, &c.exts, &c.want);
        let mint = t.create_mint(TOKEN_2022_PROGRAM_ID, 6, exts).await;
        if c.revoke_hook_authority {
            let ix = spl_token_2022::instruction::set_authority(
                &TOKEN_2022_PROGRAM_ID,
                &mint,
                None,
                spl_token_2022::instruction::AuthorityType::TransferHookProgramId,
                &payer,
                &[],
            )
            .unwrap();
            t.chain.send_ok(&[ix], &[]).await.unwrap();
        }
        let hook = hook_of(&mut t, &mint).await;
        if exts
            .iter()
            .any(|e| matches!(e, MintExt::TransferHook { .. }))
        {
            let (authority, program) = hook.expect("hook extension");
            if c.revoke_hook_authority {
                assert_eq!(authority, None, "{name}");
            }
            if want.is_none() {
                assert_eq!((authority, program), (None, None), "{name}: an inert hook");
            }
        }
        let vault = client::vault_address(&fx.key, &mint);
        let r = t
            .add_constituent(
                &fx.key,
                &fx.admin,
                &mint,
                &TOKEN_2022_PROGRAM_ID,
                args(0, 0, feed(i as u8), 1),
            )
            .await;
        match want {
            Some(err) => {
                println!("{name}: expecting {err:?}");
                assert_aidx_error(&r, *err);
                assert!(
                    t.chain.account(&vault).await.unwrap().is_none(),
                    "{name}: vault created"
                );
                assert_eq!(t.index(&fx).await.num_constituents, added, "{name}");
            }
            None => {
                println!("{name}: expecting success");
                let ev = events(r);
                assert!(
                    matches!(&ev[..], [AidxEvent::ConstituentAdded(e)] if e.mint == mint),
                    "{name}: {ev:?}"
                );
                added += 1;
                assert_eq!(t.index(&fx).await.num_constituents, added, "{name}");
                let v = assert_vault(&mut t, &fx.key, &mint, &TOKEN_2022_PROGRAM_ID).await;
                // The vault carries the account extensions its mint requires.
                let kinds: Vec<ExtensionType> = exts
                    .iter()
                    .map(|e| match e {
                        MintExt::MintCloseAuthority => ExtensionType::MintCloseAuthority,
                        MintExt::MetadataPointer => ExtensionType::MetadataPointer,
                        MintExt::TransferHook { .. } => ExtensionType::TransferHook,
                        MintExt::DefaultState(_) => ExtensionType::DefaultAccountState,
                        MintExt::Pausable => ExtensionType::Pausable,
                        other => panic!("not an allowed extension: {other:?}"),
                    })
                    .collect();
                for required in ExtensionType::get_required_init_account_extensions(&kinds) {
                    assert!(
                        v.extensions.contains(&required),
                        "{name}: vault lacks {required:?}"
                    );
                }
                // And it can receive a transfer.
                deposit_into_vault(&mut t, &mint, &vault, 6, 1_234).await;
                assert_eq!(t.balance(&vault).await, 1_234, "{name}");
            }
        }
    }
    println!("{} extension cases", cases.len());
}

/// The transfer hook extension of a Token-2022 mint as (authority, program), if it has one.
async fn hook_of(t: &mut TestContext, mint: &Pubkey) -> Option<(Option<Pubkey>, Option<Pubkey>)> {
    use spl_token_2022::extension::transfer_hook::TransferHook;
    let data = t.chain.account_data(mint).await.unwrap();
    let st = StateWithExtensions::<spl_token_2022::state::Mint>::unpack(&data).unwrap();
    st.get_extension::<TransferHook>()
        .ok()
        .map(|h| (h.authority.into(), h.program_id.into()))
}

/// Mints `amount` to a payer-owned account and `transfer_checked`s it into `vault`.
async fn deposit_into_vault(
    t: &mut TestContext,
    mint: &Pubkey,
    vault: &Pubkey,
    decimals: u8,
    amount: u64,
) {
    let payer = t.payer();
    let from = t
        .chain
        .create_ata(&payer, mint, &TOKEN_2022_PROGRAM_ID)
        .await
        .unwrap();
    t.chain
        .mint_to(mint, &from, &TOKEN_2022_PROGRAM_ID, amount)
        .await
        .unwrap();
    let ix = spl_token_2022::instruction::transfer_checked(
        &TOKEN_2022_PROGRAM_ID,
        &from,
        mint,
        vault,
        &payer,
        &[],
        amount,
        decimals,
    )
    .unwrap();
    t.chain.send_ok(&[ix], &[]).await.unwrap();
}

/// Lamports sent to a vault address before the constituent is added do not block it: the
/// vault is topped up to rent exemption (or keeps the larger balance) and initialised.
#[tokio::test]
async fn prefunded_vault_address_does_not_block_add() {
    let mut t = TestContext::new().await;
    let (r, fx) = t.init_index(t.default_args()).await;
    events(r);
    let rent = t.chain.ctx.banks_client.get_rent().await.unwrap();
    let cases = [
        // below the rent of a token account (top-up path), and above it
        (TOKEN_PROGRAM_ID, rent.minimum_balance(0) + 1),
        (TOKEN_PROGRAM_ID, 50_000_000),
        (TOKEN_2022_PROGRAM_ID, rent.minimum_balance(0) + 1),
        (TOKEN_2022_PROGRAM_ID, 50_000_000),
    ];
    for (i, (program, lamports)) in cases.into_iter().enumerate() {
        let mint = t.create_mint(program, 6, &[]).await;
        let vault = client::vault_address(&fx.key, &mint);
        t.chain.airdrop(&vault, lamports).await.unwrap();
        let acc = t.chain.account(&vault).await.unwrap().unwrap();
        assert_eq!(
            (acc.owner, acc.lamports, acc.data.len()),
            (anchor_lang::system_program::ID, lamports, 0)
        );

        events(
            t.add_constituent(
                &fx.key,
                &fx.admin,
                &mint,
                &program,
                args(0, 0, feed(i as u8), 1),
            )
            .await,
        );
        let v = assert_vault(&mut t, &fx.key, &mint, &program).await;
        assert_eq!(
            v.lamports,
            lamports.max(rent.minimum_balance(v.len)),
            "case {i}"
        );
        assert_eq!(row(&t.index(&fx).await, &mint).vault, vault);
    }
    assert_eq!(t.index(&fx).await.num_constituents, 4);
}

/// A paused Token-2022 constituent must not trap holders: a plain redeem fails inside the
/// paused leg's transfer, and the same redeem with that leg in `skip_mask` succeeds, paying the
/// other legs and leaving the skipped leg's share in the basket.
#[tokio::test]
async fn paused_constituent_does_not_block_redeem_in_kind() {
    use spl_token_2022::{error::TokenError, extension::pausable};
    let mut t = TestContext::new().await;
    let (r, mut fx) = t.init_index(t.default_args()).await;
    events(r);
    let plain = t.create_mint(TOKEN_PROGRAM_ID, 6, &[]).await;
    let pausable_mint = t
        .create_mint(TOKEN_2022_PROGRAM_ID, 6, &[MintExt::Pausable])
        .await;
    for (i, (mint, program)) in [
        (plain, TOKEN_PROGRAM_ID),
        (pausable_mint, TOKEN_2022_PROGRAM_ID),
    ]
    .into_iter()
    .enumerate()
    {
        events(
            t.add_constituent(
                &fx.key,
                &fx.admin,
                &mint,
                &program,
                args(0, 0, feed(i as u8), 1_000),
            )
            .await,
        );
        fx.constituents.push(ConstituentFixture {
            mint,
            token_program: program,
            decimals: 6,
            units_per_share: 1_000,
            feed_id: feed(i as u8),
        });
    }
    events(t.open_index(&fx).await);
    let holder = t.holder(&fx, |_| 1_000_000).await;
    events(
        t.mint_in_kind(&fx, &holder, 2 * aidx::math::ONE_SHARE)
            .await,
    );

    let payer = t.payer();
    let pause =
        pausable::instruction::pause(&TOKEN_2022_PROGRAM_ID, &pausable_mint, &payer, &[]).unwrap();
    t.chain.send_ok(&[pause], &[]).await.unwrap();
    // The audit shows the pausable row as paused now (not a violation).
    let report = t.audit(&fx).await;
    assert_eq!(
        (report.rows[1].controls.clone(), report.rows[1].stopped),
        (vec!["freeze", "pause"], Some("mint paused"))
    );
    assert_eq!(report.rows[0].stopped, None);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    let before = t.holder_balances(&holder).await;
    let vaults_before = t.vault_balances(&fx).await;
    let r = t.redeem_in_kind(&fx, &holder, aidx::math::ONE_SHARE).await;
    assert_instruction_error(&r, InstructionError::Custom(TokenError::MintPaused as u32));

    let args = RedeemInKindArgs {
        shares: aidx::math::ONE_SHARE,
        min_amounts_out: vec![1, 1],
        skip_mask: 0b10,
    };
    let ix = t.redeem_in_kind_ix(&fx, &holder, args).await;
    let ev = events(t.send(ix, &[&holder.keypair]).await);
    let [AidxEvent::RedeemedInKind(e)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(e.skip_mask, 0b10);
    assert_eq!(e.amounts_out[1], 0);
    let after = t.holder_balances(&holder).await;
    assert_eq!(after[0] - before[0], e.amounts_out[0]);
    assert!(e.amounts_out[0] > 0, "the unpaused leg pays out");
    assert_eq!(after[1], before[1], "the paused leg is skipped");
    let vaults = t.vault_balances(&fx).await;
    assert_eq!(
        vaults[1], vaults_before[1],
        "the skipped leg's share stays in the basket"
    );
    assert_eq!(t.balance(&holder.shares).await, aidx::math::ONE_SHARE);

    // A mask naming a row past the table is refused.
    let args = RedeemInKindArgs {
        shares: 1,
        min_amounts_out: vec![0, 0],
        skip_mask: 0b100,
    };
    let ix = t.redeem_in_kind_ix(&fx, &holder, args).await;
    assert_aidx_error(
        &t.send(ix, &[&holder.keypair]).await,
        AidxError::InvalidSkipMask,
    );
}

/// Creates a 6-decimal Token-2022 mint at `mint` with the extensions `kinds` initialised by
/// `init`; mint authority the payer.
async fn create_t22_mint_at(
    t: &mut TestContext,
    mint: &Keypair,
    kinds: &[ExtensionType],
    init: Vec<Instruction>,
) {
    let payer = t.payer();
    let space =
        ExtensionType::try_calculate_account_len::<spl_token_2022::state::Mint>(kinds).unwrap();
    let rent = t
        .chain
        .ctx
        .banks_client
        .get_rent()
        .await
        .unwrap()
        .minimum_balance(space);
    let mut ixs = vec![
        anchor_lang::solana_program::system_instruction::create_account(
            &payer,
            &mint.pubkey(),
            rent,
            space as u64,
            &TOKEN_2022_PROGRAM_ID,
        ),
    ];
    ixs.extend(init);
    ixs.push(
        spl_token_2022::instruction::initialize_mint2(
            &TOKEN_2022_PROGRAM_ID,
            &mint.pubkey(),
            &payer,
            None,
            6,
        )
        .unwrap(),
    );
    t.chain.send_ok(&ixs, &[mint]).await.unwrap();
}

/// The extension policy is checked once, in `add_constituent`. A Token-2022 mint with a close
/// authority and no supply could be closed after being added and re-created at the same
/// address with a refused extension (a permanent delegate that could then empty the vault),
/// so closable mints are refused outright.
#[tokio::test]
async fn closable_mint_cannot_be_recreated_with_a_refused_extension() {
    let mut t = TestContext::new().await;
    let (r, fx) = t.init_index(t.default_args()).await;
    events(r);
    let payer = t.payer();
    let mint = Keypair::new();
    create_t22_mint_at(
        &mut t,
        &mint,
        &[ExtensionType::MintCloseAuthority],
        vec![
            spl_token_2022::instruction::initialize_mint_close_authority(
                &TOKEN_2022_PROGRAM_ID,
                &mint.pubkey(),
                Some(&payer),
            )
            .unwrap(),
        ],
    )
    .await;
    let r = t
        .add_constituent(
            &fx.key,
            &fx.admin,
            &mint.pubkey(),
            &TOKEN_2022_PROGRAM_ID,
            args(0, 0, feed(1), 1_000),
        )
        .await;
    assert_aidx_error(&r, AidxError::MintClosable);
    assert_eq!(t.index(&fx).await.num_constituents, 0);
    assert!(t
        .chain
        .account(&client::vault_address(&fx.key, &mint.pubkey()))
        .await
        .unwrap()
        .is_none());
}

/// A freeze authority (either token program) and a pause authority are recorded, not refused:
/// the row's `controls` and the event say who can stop the vault moving.
#[tokio::test]
async fn freeze_and_pause_authorities_are_recorded() {
    use aidx::state::{CONTROL_FREEZE, CONTROL_PAUSE};
    let mut t = TestContext::new().await;
    let (r, fx) = t.init_index(t.default_args()).await;
    events(r);
    let payer = t.payer();
    let plain = t.create_mint(TOKEN_PROGRAM_ID, 6, &[]).await;
    let freezable = t.create_mint_with_freeze(TOKEN_PROGRAM_ID, 6).await;
    let freezable_2022 = t.create_mint_with_freeze(TOKEN_2022_PROGRAM_ID, 6).await;
    let pausable = t
        .create_mint(TOKEN_2022_PROGRAM_ID, 6, &[MintExt::Pausable])
        .await;
    let cases = [
        (plain, TOKEN_PROGRAM_ID, None, false, 0),
        (
            freezable,
            TOKEN_PROGRAM_ID,
            Some(payer),
            false,
            CONTROL_FREEZE,
        ),
        (
            freezable_2022,
            TOKEN_2022_PROGRAM_ID,
            Some(payer),
            false,
            CONTROL_FREEZE,
        ),
        // the harness's Token-2022 mints keep the payer as freeze authority
        (
            pausable,
            TOKEN_2022_PROGRAM_ID,
            Some(payer),
            true,
            CONTROL_FREEZE | CONTROL_PAUSE,
        ),
    ];
    for (i, (mint, program, freeze, pause, controls)) in cases.into_iter().enumerate() {
        let ev = events(
            t.add_constituent(
                &fx.key,
                &fx.admin,
                &mint,
                &program,
                args(0, 0, feed(i as u8), 1),
            )
            .await,
        );
        let [AidxEvent::ConstituentAdded(e)] = &ev[..] else {
            panic!("{ev:?}")
        };
        assert_eq!(
            (e.freeze_authority, e.pausable),
            (freeze, pause),
            "case {i}"
        );
        assert_eq!(
            row(&t.index(&fx).await, &mint).controls,
            controls,
            "case {i}"
        );
    }
}
