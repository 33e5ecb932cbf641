//! `initialize_index`: the accounts it creates (index PDA, share mint, dead-share account),
//! its event, and the bounds of every parameter and role, each refused with its own error and
//! each exact bound accepted.

use aidx::errors::AidxError;
use aidx::events::IndexInitialized;
use aidx::instructions::InitializeIndexArgs;
use aidx::math::SHARE_DECIMALS;
use aidx::state::*;
use aidx_client::{self as client, AidxEvent, TOKEN_PROGRAM_ID};
use aidx_tests::*;
use anchor_spl::token::spl_token::state::{Account as SplAccount, AccountState, Mint as SplMint};
use solana_sdk::{
    clock::Clock, program_option::COption, program_pack::Pack, pubkey::Pubkey, signer::Signer,
};

/// Non-default parameters (every field moved off its default) and distinct roles.
fn custom_args() -> InitializeIndexArgs {
    InitializeIndexArgs {
        params: IndexParams {
            max_weight: MAX_MAX_WEIGHT,
            band: MIN_BAND + 1,
            unlock_haircut: MAX_UNLOCK_HAIRCUT - 1,
            pure_play_share: MIN_PURE_PLAY_SHARE + 7,
            oracle_max_age_secs: 120,
            auction_duration_secs: 3_600,
            review_period_secs: 30 * 86_400,
            mint_fee_bps: 10,
            redeem_fee_bps: 20,
            management_fee_bps: 150,
            oracle_max_conf_bps: 77,
            auction_max_reward_bps: 33,
            trade_max_age_secs: 7,
            rebalance_window_secs: 2 * 86_400,
            breach_weight_bps: 2_500,
            clip: CLIP_TARGET,
            max_members: 12,
            exit_volume_usd: 3_000_000,
            rank_buffer: 3,
            reviews_under_entry: 3,
            _padding: [0; 2],
        },
        methodology_authority: Pubkey::new_unique(),
        guardian: Pubkey::new_unique(),
        fee_recipient: Pubkey::new_unique(),
    }
}

async fn unix_time(t: &mut TestContext) -> i64 {
    let clock: Clock = t.chain.ctx.banks_client.get_sysvar().await.unwrap();
    clock.unix_timestamp
}

#[tokio::test]
async fn valid_init_creates_index_share_mint_and_dead_shares() {
    let mut t = TestContext::new().await;
    let args = custom_args();
    let before = unix_time(&mut t).await;
    let (r, fx) = t.init_index(args.clone()).await;
    let ev = events(r);
    let after = unix_time(&mut t).await;

    let dead = client::dead_shares_address(&fx.key);
    assert_eq!(fx.key, client::index_address(&fx.share_mint));
    assert_eq!(
        ev,
        vec![AidxEvent::IndexInitialized(IndexInitialized {
            index: fx.key,
            share_mint: fx.share_mint,
            dead_shares: dead,
            fee_shares: client::fee_shares_address(&fx.key),
            admin: fx.admin.pubkey(),
            methodology_authority: args.methodology_authority,
            guardian: args.guardian,
            fee_recipient: args.fee_recipient,
            params: args.params,
        })]
    );

    // The index account.
    let acc = t
        .chain
        .account(&fx.key)
        .await
        .unwrap()
        .expect("index account");
    assert_eq!(acc.owner, client::PROGRAM_ID);
    assert_eq!(acc.data.len(), INDEX_ACCOUNT_SIZE);
    let index = t.index(&fx).await;
    assert_eq!(index.admin, fx.admin.pubkey());
    assert_ne!(
        index.admin,
        t.payer(),
        "admin is the admin signer, not the payer"
    );
    assert_eq!(index.pending_admin, Pubkey::default());
    assert_eq!(index.methodology_authority, args.methodology_authority);
    assert_eq!(index.guardian, args.guardian);
    assert_eq!(index.fee_recipient, args.fee_recipient);
    assert_eq!(index.share_mint, fx.share_mint);
    assert_eq!(index.dead_shares, dead);
    assert_eq!(index.params, args.params);
    assert_eq!(index.share_supply, 0);
    assert_eq!(index.num_constituents, 0);
    assert!(index.constituents().is_empty());
    assert!(index
        .constituents
        .iter()
        .all(|c| c.mint == Pubkey::default()));
    assert!(
        (before..=after).contains(&index.created_at),
        "created_at {}",
        index.created_at
    );
    let (_, bump) =
        Pubkey::find_program_address(&[INDEX_SEED, fx.share_mint.as_ref()], &client::PROGRAM_ID);
    assert_eq!(index.bump, bump);
    let (_, dead_bump) =
        Pubkey::find_program_address(&[DEAD_SHARES_SEED, fx.key.as_ref()], &client::PROGRAM_ID);
    assert_eq!(index.dead_shares_bump, dead_bump);

    // The share mint: SPL Token, 9 decimals, mint and freeze authority the index PDA, no supply.
    let acc = t
        .chain
        .account(&fx.share_mint)
        .await
        .unwrap()
        .expect("share mint");
    assert_eq!(acc.owner, TOKEN_PROGRAM_ID);
    let mint = SplMint::unpack(&acc.data).unwrap();
    assert_eq!(mint.decimals, SHARE_DECIMALS);
    assert_eq!(mint.decimals, 9);
    assert_eq!(mint.mint_authority, COption::Some(fx.key));
    assert_eq!(mint.freeze_authority, COption::Some(fx.key));
    assert_eq!(mint.supply, 0);
    assert!(mint.is_initialized);

    // The dead-share account: an SPL token account of the share mint owned by the index.
    let acc = t
        .chain
        .account(&dead)
        .await
        .unwrap()
        .expect("dead-share account");
    assert_eq!(acc.owner, TOKEN_PROGRAM_ID);
    let dead_acc = SplAccount::unpack(&acc.data).unwrap();
    assert_eq!(dead_acc.mint, fx.share_mint);
    assert_eq!(dead_acc.owner, fx.key);
    assert_eq!(dead_acc.amount, 0);
    assert_eq!(dead_acc.state, AccountState::Initialized);
    assert_eq!(dead_acc.delegate, COption::None);
    assert_eq!(dead_acc.close_authority, COption::None);
}

/// One bounded parameter: how to set it, its bounds and its error.
struct Bound {
    name: &'static str,
    set: fn(&mut IndexParams, u64),
    /// `None`: the lower bound is the type's 0, so there is no value below it.
    min: Option<u64>,
    max: u64,
    err: AidxError,
}

fn bounds() -> Vec<Bound> {
    vec![
        Bound {
            name: "max_weight",
            set: |p, v| p.max_weight = v,
            min: Some(MIN_MAX_WEIGHT),
            max: MAX_MAX_WEIGHT,
            err: AidxError::InvalidMaxWeight,
        },
        Bound {
            name: "band",
            set: |p, v| p.band = v,
            min: Some(MIN_BAND),
            max: MAX_BAND,
            err: AidxError::InvalidBand,
        },
        Bound {
            name: "unlock_haircut",
            set: |p, v| p.unlock_haircut = v,
            min: Some(MIN_UNLOCK_HAIRCUT),
            max: MAX_UNLOCK_HAIRCUT,
            err: AidxError::InvalidUnlockHaircut,
        },
        Bound {
            name: "pure_play_share",
            set: |p, v| p.pure_play_share = v,
            min: Some(MIN_PURE_PLAY_SHARE),
            max: MAX_PURE_PLAY_SHARE,
            err: AidxError::InvalidPurePlayShare,
        },
        Bound {
            name: "mint_fee_bps",
            set: |p, v| p.mint_fee_bps = u16::try_from(v).unwrap(),
            min: None,
            max: MAX_MINT_FEE_BPS as u64,
            err: AidxError::InvalidMintFee,
        },
        Bound {
            name: "redeem_fee_bps",
            set: |p, v| p.redeem_fee_bps = u16::try_from(v).unwrap(),
            min: None,
            max: MAX_REDEEM_FEE_BPS as u64,
            err: AidxError::InvalidRedeemFee,
        },
        Bound {
            name: "management_fee_bps",
            set: |p, v| p.management_fee_bps = u16::try_from(v).unwrap(),
            min: None,
            max: MAX_MANAGEMENT_FEE_BPS as u64,
            err: AidxError::InvalidManagementFee,
        },
        Bound {
            name: "oracle_max_age_secs",
            // (With the trade age at its minimum, which may not exceed the oracle max age.)
            set: |p, v| {
                p.oracle_max_age_secs = u32::try_from(v).unwrap();
                p.trade_max_age_secs = MIN_TRADE_MAX_AGE_SECS;
            },
            min: Some(MIN_ORACLE_MAX_AGE_SECS as u64),
            max: MAX_ORACLE_MAX_AGE_SECS as u64,
            err: AidxError::InvalidOracleMaxAge,
        },
        Bound {
            name: "oracle_max_conf_bps",
            set: |p, v| p.oracle_max_conf_bps = u16::try_from(v).unwrap(),
            min: Some(MIN_ORACLE_MAX_CONF_BPS as u64),
            max: MAX_ORACLE_MAX_CONF_BPS as u64,
            err: AidxError::InvalidOracleConfidence,
        },
        Bound {
            name: "auction_duration_secs",
            set: |p, v| p.auction_duration_secs = u32::try_from(v).unwrap(),
            min: Some(MIN_AUCTION_DURATION_SECS as u64),
            max: MAX_AUCTION_DURATION_SECS as u64,
            err: AidxError::InvalidAuctionDuration,
        },
        Bound {
            name: "auction_max_reward_bps",
            set: |p, v| p.auction_max_reward_bps = u16::try_from(v).unwrap(),
            min: None,
            max: MAX_AUCTION_REWARD_BPS as u64,
            err: AidxError::InvalidAuctionReward,
        },
        // At most the oracle max age (60 s in the default arguments these run against).
        Bound {
            name: "trade_max_age_secs",
            set: |p, v| p.trade_max_age_secs = u16::try_from(v).unwrap(),
            min: Some(MIN_TRADE_MAX_AGE_SECS as u64),
            max: IndexParams::default_max_age() as u64,
            err: AidxError::InvalidTradeMaxAge,
        },
        Bound {
            name: "review_period_secs",
            set: |p, v| p.review_period_secs = u32::try_from(v).unwrap(),
            min: Some(MIN_REVIEW_PERIOD_SECS as u64),
            max: MAX_REVIEW_PERIOD_SECS as u64,
            err: AidxError::InvalidReviewPeriod,
        },
        // From the auction's length (6 h by default) to the review period (91 days); 0 is
        // "any time" (the continuous policy), checked on its own below.
        Bound {
            name: "rebalance_window_secs",
            set: |p, v| p.rebalance_window_secs = u32::try_from(v).unwrap(),
            min: Some(6 * 3_600),
            max: 91 * 86_400,
            err: AidxError::InvalidRebalanceWindow,
        },
        // From the cap (15% by default) to 100%; 0 is "no breach exception".
        Bound {
            name: "breach_weight_bps",
            set: |p, v| p.breach_weight_bps = u16::try_from(v).unwrap(),
            min: Some(1_500),
            max: 10_000,
            err: AidxError::InvalidBreachWeight,
        },
        Bound {
            name: "clip",
            set: |p, v| p.clip = u8::try_from(v).unwrap(),
            min: None,
            max: CLIP_EDGE as u64,
            err: AidxError::InvalidClip,
        },
        Bound {
            name: "max_members",
            set: |p, v| p.max_members = u8::try_from(v).unwrap(),
            min: None,
            max: MAX_CONSTITUENTS as u64,
            err: AidxError::InvalidMaxMembers,
        },
        // At most half the count (24 in the default arguments these run against).
        Bound {
            name: "rank_buffer",
            set: |p, v| p.rank_buffer = u8::try_from(v).unwrap(),
            min: None,
            max: MAX_CONSTITUENTS as u64 / 2,
            err: AidxError::InvalidRankBuffer,
        },
        Bound {
            name: "exit_volume_usd",
            set: |p, v| p.exit_volume_usd = u32::try_from(v).unwrap(),
            min: None,
            max: 5_000_000,
            err: AidxError::InvalidExitVolume,
        },
        Bound {
            name: "reviews_under_entry",
            set: |p, v| p.reviews_under_entry = u8::try_from(v).unwrap(),
            min: None,
            max: MAX_REVIEWS_UNDER_ENTRY as u64,
            err: AidxError::InvalidReviewsUnderEntry,
        },
    ]
}

/// Initializes an index with `args`; on success checks the stored parameters, on failure the
/// exact error and that no index account was left behind.
async fn check_init(
    t: &mut TestContext,
    case: &str,
    args: InitializeIndexArgs,
    want: Result<(), AidxError>,
) {
    let (r, fx) = t.init_index(args.clone()).await;
    match want {
        Ok(()) => {
            let ev = events(r);
            assert!(
                matches!(&ev[..], [AidxEvent::IndexInitialized(e)] if e.params == args.params),
                "{case}: {ev:?}"
            );
            let index = t.index(&fx).await;
            assert_eq!(index.params, args.params, "{case}");
        }
        Err(e) => {
            println!("{case}: expecting {e:?}");
            assert_aidx_error(&r, e);
            assert!(
                t.chain.account(&fx.key).await.unwrap().is_none(),
                "{case}: index account exists"
            );
            assert!(
                t.chain.account(&fx.share_mint).await.unwrap().is_none(),
                "{case}: share mint exists"
            );
        }
    }
}

#[tokio::test]
async fn every_parameter_bound_is_enforced_and_inclusive() {
    let mut t = TestContext::new().await;
    let mut base = t.default_args();
    // The defaults themselves are valid.
    base.params.validate().unwrap();
    // The window is bounded by the auction's length and the review period: at 0 ("any time")
    // those two can move to their own bounds.
    base.params.rebalance_window_secs = 0;
    let mut cases = 0;
    for b in bounds() {
        let mut values: Vec<(u64, Result<(), AidxError>)> = vec![];
        match b.min {
            Some(min) => {
                assert!(min > 0, "{}: a zero minimum has no value below it", b.name);
                values.push((min - 1, Err(b.err)));
                values.push((min, Ok(())));
            }
            None => values.push((0, Ok(()))),
        }
        values.push((b.max, Ok(())));
        values.push((b.max + 1, Err(b.err)));
        for (v, want) in values {
            let mut args = base.clone();
            (b.set)(&mut args.params, v);
            check_init(&mut t, &format!("{} = {v}", b.name), args, want).await;
            cases += 1;
        }
    }

    // pure_play_share: 0 turns the split off and is valid; 1 is neither off nor within bounds.
    for (v, want) in [(0, Ok(())), (1, Err(AidxError::InvalidPurePlayShare))] {
        let mut args = base.clone();
        args.params.pure_play_share = v;
        check_init(&mut t, &format!("pure_play_share = {v}"), args, want).await;
        cases += 1;
    }

    // The trade age may not exceed the oracle max age, whatever that is.
    for (v, want) in [(20, Ok(())), (21, Err(AidxError::InvalidTradeMaxAge))] {
        let mut args = base.clone();
        args.params.oracle_max_age_secs = 20;
        args.params.trade_max_age_secs = v;
        check_init(
            &mut t,
            &format!("trade_max_age_secs = {v} of 20"),
            args,
            want,
        )
        .await;
        cases += 1;
    }

    // Every padding byte must be zero.
    for i in 0..2 {
        let mut args = base.clone();
        args.params._padding[i] = 1;
        check_init(
            &mut t,
            &format!("_padding[{i}] = 1"),
            args,
            Err(AidxError::InvalidPadding),
        )
        .await;
        cases += 1;
    }

    // No role may be the default key.
    type ClearRole = fn(&mut InitializeIndexArgs);
    let roles: [(&str, ClearRole); 3] = [
        ("methodology_authority", |a| {
            a.methodology_authority = Pubkey::default()
        }),
        ("guardian", |a| a.guardian = Pubkey::default()),
        ("fee_recipient", |a| a.fee_recipient = Pubkey::default()),
    ];
    for (name, clear) in roles {
        let mut args = base.clone();
        clear(&mut args);
        check_init(
            &mut t,
            &format!("{name} = default"),
            args,
            Err(AidxError::InvalidRole),
        )
        .await;
        cases += 1;
    }
    println!("{cases} initialize_index parameter cases");
    // 11 bounds with a minimum (4 values each), 9 without (3 values each)
    assert_eq!(cases, 11 * 4 + 9 * 3 + 2 + 2 + 2 + 3);
}

/// Both ends of every bound at once form a valid parameter set.
#[tokio::test]
async fn all_parameters_at_their_bounds_together() {
    let mut t = TestContext::new().await;
    for at_max in [false, true] {
        let mut args = t.default_args();
        for b in bounds() {
            let v = if at_max { b.max } else { b.min.unwrap_or(0) };
            (b.set)(&mut args.params, v);
        }
        check_init(
            &mut t,
            if at_max { "all at max" } else { "all at min" },
            args,
            Ok(()),
        )
        .await;
    }
}
