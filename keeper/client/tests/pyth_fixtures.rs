//! The keeper's Pyth instructions for the TypeScript test that compares them with Pyth's own
//! SDK (`app/test/pyth.test.ts`, `@pythnetwork/pyth-solana-receiver`): for a real Hermes
//! update (SOL/USD and ETH/USD, guardian set 3, 13 signatures; the example of Pyth's SDK), every
//! instruction of both ways of posting it (push feeds, the keeper's own accounts) and of closing
//! what was opened, with the inputs. Written with `AIDX_WRITE_FIXTURES=1`; otherwise this test
//! fails when the committed file is stale. Also: how the plan packs them.

use aidx_client::pull::{accumulator, plan};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde_json::{json, Value};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey, rent::Rent};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../app/test/fixtures/pyth-instructions.json"
);
const UPDATE: &str = include_str!("data/hermes-sol-eth.b64");

fn ix_json(ix: &Instruction) -> Value {
    json!({
        "programId": ix.program_id.to_string(),
        "data": hex::encode(&ix.data),
        "keys": ix.accounts.iter().map(|m| json!({
            "pubkey": m.pubkey.to_string(),
            "isSigner": m.is_signer,
            "isWritable": m.is_writable,
        })).collect::<Vec<_>>(),
    })
}

#[test]
fn the_keepers_pyth_instructions_for_the_typescript_test_are_current() {
    let bytes = B64.decode(UPDATE.trim()).unwrap();
    let acc = accumulator::parse(&bytes).unwrap();
    assert_eq!(
        (acc.guardian_set_index, acc.signatures, acc.vaa.len()),
        (3, 13, 952)
    );
    assert_eq!(acc.updates.len(), 2);
    let payer = Pubkey::new_from_array([11; 32]);
    let encoded_vaa = Pubkey::new_from_array([12; 32]);
    let price_keys = [
        Pubkey::new_from_array([13; 32]),
        Pubkey::new_from_array([14; 32]),
    ];
    let rent = Rent::default().minimum_balance(aidx_client::pull::receiver::encoded_vaa_space(
        acc.vaa.len(),
    ));
    let options = |destination| plan::Options {
        destination,
        treasury_id: 7,
        encoded_vaa_rent: rent,
        compute_unit_price: 50_000,
    };
    let push = options(plan::Destination::PushFeed { shard: 0 });
    let own = options(plan::Destination::Accounts);
    let flow = |o: &plan::Options| {
        let s = plan::steps(&payer, &acc, &encoded_vaa, &price_keys, o).unwrap();
        let p = plan::plan(&payer, &acc, &encoded_vaa, &price_keys, o).unwrap();
        for t in p.post.iter().chain(&p.close) {
            assert!(t.bytes <= 1232, "{} is {} bytes", t.label, t.bytes);
            assert!(t.compute_units <= plan::MAX_TX_COMPUTE_UNITS);
        }
        json!({
            "post": s.post.iter().map(|(ix, _, _)| ix_json(ix)).collect::<Vec<_>>(),
            "close": s.close.iter().map(|(ix, _, _)| ix_json(ix)).collect::<Vec<_>>(),
            "postComputeUnits": s.post.iter().map(|(_, cu, _)| *cu).collect::<Vec<_>>(),
            "closeComputeUnits": s.close.iter().map(|(_, cu, _)| *cu).collect::<Vec<_>>(),
            "priceAccounts": s.price_accounts.iter().map(|(f, k)| json!([hex::encode(f), k.to_string()])).collect::<Vec<_>>(),
            "transactions": p.post.iter().chain(&p.close).map(|t| json!({
                "label": t.label,
                "bytes": t.bytes,
                "computeUnits": t.compute_units,
                "signers": t.signers.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    };
    let fixture = json!({
        "about": "Written by keeper/client/tests/pyth_fixtures.rs (AIDX_WRITE_FIXTURES=1): the keeper's instructions posting a Hermes update, for app/test/pyth.test.ts to compare with @pythnetwork/pyth-solana-receiver's.",
        "update": UPDATE.trim(),
        "payer": payer.to_string(),
        "encodedVaa": encoded_vaa.to_string(),
        "priceAccounts": price_keys.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "treasuryId": 7,
        "shard": 0,
        "encodedVaaRent": rent,
        "pushFeed": flow(&push),
        "accounts": flow(&own),
    });
    // The VAA of 952 bytes needs two writes; the push flow packs into three posting
    // transactions (create/init/write; write/verify/update; update) and one close.
    let txs = fixture["pushFeed"]["transactions"].as_array().unwrap();
    assert_eq!(fixture["pushFeed"]["post"].as_array().unwrap().len(), 5 + 2);
    assert!(txs.len() >= 3, "{txs:?}");
    let text = serde_json::to_string_pretty(&fixture).unwrap() + "\n";
    if std::env::var_os("AIDX_WRITE_FIXTURES").is_some() {
        std::fs::create_dir_all(std::path::Path::new(PATH).parent().unwrap()).unwrap();
        std::fs::write(PATH, text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        committed == text,
        "{PATH} is stale: run AIDX_WRITE_FIXTURES=1 cargo test -p aidx-client --test pyth_fixtures"
    );
}
