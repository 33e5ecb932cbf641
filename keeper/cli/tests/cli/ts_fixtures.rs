//! The Rust client's answers for the TypeScript client's tests (`app/client/test/`): the
//! index account of a demo run from fixed keys, every instruction the Rust client builds for it
//! (data and account metas) from fixed inputs, and the in-kind quotes. The TypeScript tests
//! check that the generated builders and the hand-written layer give the same bytes, metas and
//! amounts. Written with `AIDX_WRITE_FIXTURES=1`; otherwise this test fails when the committed
//! file is stale (the program, the client or the demo changed).

use aidx::events::MethodologyInputRow;
use aidx::instructions::{
    AddConstituentArgs, InitializeIndexArgs, MintInKindArgs, MintSingleArgs, RebalanceSwapArgs,
    RedeemInKindArgs, RedeemSingleArgs, SetMethodologyInputsArgs, SetRolesArgs,
};
use aidx::math::ONE_SHARE;
use aidx::state::IndexParams;
use aidx_cli::demo::{run_on, Setup};
use aidx_client::{self as client, holder, Chain};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde_json::{json, Value};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey, signer::Signer};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../app/client/test/fixtures/rust-client.json"
);

fn ix_json(name: &str, inputs: Value, ix: &Instruction) -> Value {
    json!({
        "name": name,
        "inputs": inputs,
        "programId": ix.program_id.to_string(),
        "data": B64.encode(&ix.data),
        "accounts": ix.accounts.iter().map(|m| json!({
            "address": m.pubkey.to_string(),
            "signer": m.is_signer,
            "writable": m.is_writable,
        })).collect::<Vec<_>>(),
    })
}

#[tokio::test]
async fn the_rust_clients_answers_for_the_typescript_tests_are_current() {
    let setup = Setup {
        seed: [42; 32],
        start_time: Some(1_900_000_000),
        max_members: aidx::state::DEFAULT_MAX_MEMBERS,
    };
    let chain = aidx_embedded::Embedded::start().await.unwrap();
    let mut sink = Vec::new();
    let mut demo = run_on(
        chain,
        setup,
        aidx_client::universe::SAMPLE_UNIVERSE,
        &mut sink,
    )
    .await
    .unwrap();
    demo.finish(&mut sink).await.unwrap();
    let book = demo.book();
    let mut chain = demo.into_chain();
    let key = book.index_key().unwrap();
    let data = chain.data_of(&key).await.unwrap();
    let index = client::decode_index(&data).unwrap();
    let n = index.constituents().len();
    let holder = book.wallet("alice").unwrap().pubkey();
    let admin = book.wallet("admin").unwrap().pubkey();
    let payer = Pubkey::new_from_array([7; 32]);
    let atas = client::holder_atas(&index, &holder);
    let (row_in, row_out) = (5, 0);
    let c = &index.constituents()[row_in];

    let shares = 3 * ONE_SHARE + 12_345;
    let deposits =
        holder::in_kind_deposits(&index, shares, 1_900_000_000, &vec![false; n]).unwrap();
    let payouts = holder::in_kind_payouts(&index, shares, 0).unwrap();
    // The same index charging fees, 90 days after its last accrual, 1,000 raw shares burned
    // outside the program: quotes on the index as the program will see it.
    let mut charged = index;
    charged.params.mint_fee_bps = 30;
    charged.params.redeem_fee_bps = 40;
    charged.params.management_fee_bps = 200;
    let fee_now = charged.last_fee_accrual_at + 90 * 86_400;
    let burned_supply = chain.supply_of(&index.share_mint).await.unwrap() - 1_000;
    let at = holder::as_of(&charged, burned_supply, fee_now).unwrap();
    let fee_deposits = holder::in_kind_deposits(&at, shares, fee_now, &vec![false; n]).unwrap();
    let fee_payouts = holder::in_kind_payouts(&at, shares, 0b100).unwrap();
    let net_shares = holder::in_kind_net_shares(&at, shares).unwrap();
    let max_in: Vec<u64> = deposits
        .iter()
        .map(|d| holder::plus_slippage(*d, 50).unwrap())
        .collect();
    let min_out: Vec<u64> = payouts
        .iter()
        .map(|p| holder::less_slippage(*p, 50).unwrap())
        .collect();
    let params = IndexParams {
        band: 150_000_000,
        ..IndexParams::default()
    };
    let rows = vec![
        MethodologyInputRow {
            mint: c.mint,
            circulating_supply: 1_000_000,
            avg_daily_volume_usd: 9_000_000,
            depth_usd: Some(1_000_000),
            unlock: true,
            sub_sector: 1,
            bucket: 0,
            rank: 3,
        },
        MethodologyInputRow {
            mint: index.constituents()[row_out].mint,
            circulating_supply: 5,
            avg_daily_volume_usd: 6,
            depth_usd: None,
            unlock: false,
            sub_sector: 7,
            bucket: 1,
            rank: 0,
        },
    ];
    let feeds = client::price_feed_accounts(&index);
    let ixs = vec![
        ix_json(
            "acceptAdmin",
            json!({}),
            &client::accept_admin(&key, &admin),
        ),
        ix_json("accrueFees", json!({}), &client::accrue_fees(&key, &index)),
        ix_json(
            "addConstituent",
            json!({"row": row_in}),
            &client::add_constituent(
                &payer,
                &admin,
                &key,
                &c.mint,
                &c.token_program,
                AddConstituentArgs {
                    sub_sector: 2,
                    bucket: 0,
                    feed_id: [9; 32],
                    initial_units_per_share: 777,
                    target_weight: 50_000_000,
                },
            ),
        ),
        ix_json("claimFees", json!({}), &client::claim_fees(&key, &index)),
        ix_json(
            "initializeIndex",
            json!({}),
            &client::initialize_index(
                &payer,
                &admin,
                &index.share_mint,
                InitializeIndexArgs {
                    params,
                    methodology_authority: admin,
                    guardian: payer,
                    fee_recipient: holder,
                },
            ),
        ),
        ix_json(
            "mintInKind",
            json!({"shares": shares.to_string(), "slippageBps": 50}),
            &client::mint_in_kind(
                &key,
                &index,
                &holder,
                &atas,
                MintInKindArgs {
                    shares,
                    max_amounts_in: max_in.clone(),
                    min_shares_out: shares,
                },
            ),
        ),
        ix_json(
            "mintSingle",
            json!({"row": row_in}),
            &client::mint_single(
                &key,
                &index,
                &holder,
                row_in,
                MintSingleArgs {
                    amount_in: 123_456_789,
                    min_shares_out: 42,
                },
            ),
        ),
        ix_json("openIndex", json!({}), &client::open_index(&key, &admin)),
        ix_json("openReview", json!({}), &client::open_review(&key, &admin)),
        ix_json("pokeRebalance", json!({}), &client::poke_rebalance(&key)),
        ix_json(
            "proposeAdmin",
            json!({}),
            &client::propose_admin(&key, &admin, holder),
        ),
        ix_json(
            "quarantineConstituent",
            json!({"row": row_in}),
            &client::quarantine_constituent(&key, &index, &admin, row_in),
        ),
        ix_json(
            "rebalanceSwap",
            json!({"rowIn": row_in, "rowOut": row_out}),
            &client::rebalance_swap(
                &key,
                &index,
                &holder,
                row_in,
                row_out,
                RebalanceSwapArgs {
                    amount_in: 5_000,
                    min_amount_out: 4_000,
                },
            ),
        ),
        ix_json(
            "recomputeTargets",
            json!({}),
            &client::recompute_targets(&key),
        ),
        ix_json(
            "redeemInKind",
            json!({"shares": shares.to_string(), "slippageBps": 50, "skipMask": 0}),
            &client::redeem_in_kind(
                &key,
                &index,
                &holder,
                &atas,
                RedeemInKindArgs {
                    shares,
                    min_amounts_out: min_out.clone(),
                    skip_mask: 0,
                },
            ),
        ),
        ix_json(
            "redeemSingle",
            json!({"row": row_in}),
            &client::redeem_single(
                &key,
                &index,
                &holder,
                row_in,
                RedeemSingleArgs {
                    shares: ONE_SHARE / 7,
                    min_amount_out: 99,
                },
            ),
        ),
        ix_json(
            "refreshPrices",
            json!({}),
            &client::refresh_prices(&key, &feeds),
        ),
        ix_json(
            "releaseConstituent",
            json!({"row": row_in}),
            &client::release_constituent(&key, &index, &admin, row_in),
        ),
        ix_json(
            "removeConstituent",
            json!({"row": row_in}),
            &client::remove_constituent(&key, &index, &admin, row_in),
        ),
        ix_json("reportNav", json!({}), &client::report_nav(&key)),
        ix_json(
            "setMethodologyInputs",
            json!({}),
            &client::set_methodology_inputs(
                &key,
                &admin,
                SetMethodologyInputsArgs {
                    observed_at: 1_899_999_000,
                    rows,
                },
            ),
        ),
        ix_json(
            "setParams",
            json!({}),
            &client::set_params(&key, &index, &admin, params),
        ),
        ix_json(
            "setPause",
            json!({}),
            &client::set_pause(&key, &admin, 0b101),
        ),
        ix_json(
            "setRoles",
            json!({}),
            &client::set_roles(
                &key,
                &admin,
                SetRolesArgs {
                    methodology_authority: holder,
                    guardian: admin,
                    fee_recipient: payer,
                },
            ),
        ),
        ix_json(
            "windDownConstituent",
            json!({"row": row_in}),
            &client::wind_down_constituent(&key, &admin, c.mint),
        ),
        ix_json(
            "writeOffConstituent",
            json!({"row": row_in}),
            &client::write_off_constituent(&key, &index, &admin, row_in),
        ),
    ];
    let fixture = json!({
        "about": "Written by keeper/cli/tests/cli/ts_fixtures.rs (AIDX_WRITE_FIXTURES=1): the Rust client's answers for a demo run from fixed keys.",
        "index": key.to_string(),
        "indexData": B64.encode(&data),
        "holder": holder.to_string(),
        "priceFeeds": feeds.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "holderAccounts": atas.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "quotes": {
            "shares": shares.to_string(),
            "slippageBps": 50,
            "mintInKindDeposits": deposits.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "mintInKindMaxAmountsIn": max_in.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "redeemInKindPayouts": payouts.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "redeemInKindMinAmountsOut": min_out.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        },
        "quotesWithFees": {
            "shares": shares.to_string(),
            "mintFeeBps": 30,
            "redeemFeeBps": 40,
            "managementFeeBps": 200,
            "mintSupply": burned_supply.to_string(),
            "now": fee_now.to_string(),
            "supplyAsOf": at.share_supply.to_string(),
            "netShares": net_shares.to_string(),
            "skipMask": 0b100,
            "mintInKindDeposits": fee_deposits.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "redeemInKindPayouts": fee_payouts.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        },
        "instructions": ixs,
    });
    let text = serde_json::to_string_pretty(&fixture).unwrap() + "\n";
    assert_eq!(fixture["instructions"].as_array().unwrap().len(), 26);
    if std::env::var_os("AIDX_WRITE_FIXTURES").is_some() {
        std::fs::create_dir_all(std::path::Path::new(PATH).parent().unwrap()).unwrap();
        std::fs::write(PATH, text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        committed == text,
        "{PATH} is stale: run AIDX_WRITE_FIXTURES=1 cargo test -p aidx-cli --test cli ts_fixtures"
    );
}
