//! Bad requests get JSON-RPC errors and the node keeps serving.

use aidx_client::DevChain as _;
use aidx_embedded::Embedded;
use aidx_localnet::LocalNet;
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use serde_json::{json, Value};
use std::io::{Read, Write};

/// POSTs `body` to the node over a plain HTTP/1.1 connection and returns the parsed answer.
fn post(net: &LocalNet, body: &str) -> Value {
    let mut s = std::net::TcpStream::connect(net.addr).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (_, json) = out.split_once("\r\n\r\n").expect("an HTTP answer");
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn code(v: &Value) -> i64 {
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error: {v}"))
}

fn start() -> LocalNet {
    LocalNet::start(
        Box::new(|| Box::pin(async { Embedded::start().await })),
        aidx_localnet::Config::loopback(0, 0),
    )
    .unwrap()
}

#[test]
fn bad_requests_get_json_rpc_errors_and_the_node_keeps_serving() {
    let net = start();
    let call = |method: &str, params: Value| {
        json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
    };
    assert_eq!(post(&net, &call("getHealth", json!([])))["result"], "ok");
    // Unknown method, unparsable JSON, no method.
    assert_eq!(code(&post(&net, &call("getEverything", json!([])))), -32601);
    assert_eq!(
        code(&post(&net, "{\"jsonrpc\": \"2.0\", \"id\": 1, ")),
        -32700
    );
    assert_eq!(
        code(&post(&net, "{\"jsonrpc\": \"2.0\", \"id\": 1}")),
        -32600
    );
    // Wrong types.
    assert_eq!(code(&post(&net, &call("getBalance", json!([42])))), -32602);
    assert_eq!(
        code(&post(&net, &call("getBalance", json!(["not a key"])))),
        -32602
    );
    assert_eq!(
        code(&post(&net, &call("getSignatureStatuses", json!(["x"])))),
        -32602
    );
    // Invalid encodings and an oversize transaction.
    let send = |tx: &str, enc: &str| call("sendTransaction", json!([tx, {"encoding": enc}]));
    assert_eq!(code(&post(&net, &send("***", "base64"))), -32602);
    assert_eq!(code(&post(&net, &send("0OIl", "base58"))), -32602);
    let big = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, vec![1u8; 2_000]);
    let r = post(&net, &send(&big, "base64"));
    assert_eq!(code(&r), -32602);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{r}"
    );
    // A transaction without signatures (bincode accepts it; a validator's sanitizer does not).
    let unsigned = {
        let mut tx = solana_sdk::transaction::VersionedTransaction::from(
            solana_sdk::transaction::Transaction::new_with_payer(
                &[],
                Some(&solana_sdk::pubkey::Pubkey::new_unique()),
            ),
        );
        tx.signatures.clear();
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            bincode::serialize(&tx).unwrap(),
        )
    };
    for skip in [false, true] {
        let r = post(
            &net,
            &call(
                "sendTransaction",
                json!([unsigned, {"encoding": "base64", "skipPreflight": skip}]),
            ),
        );
        assert_eq!(code(&r), -32602, "{r}");
    }
    // A rent question larger than any account.
    assert_eq!(
        code(&post(
            &net,
            &call("getMinimumBalanceForRentExemption", json!([u64::MAX]))
        )),
        -32602
    );
    // A huge batch, an empty one, and a batch mixing good and bad requests.
    let batch: Vec<Value> = (0..101)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "getSlot"}))
        .collect();
    assert_eq!(code(&post(&net, &Value::Array(batch).to_string())), -32600);
    assert_eq!(code(&post(&net, "[]")), -32600);
    let mixed = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "getSlot"},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"}
    ]);
    let r = post(&net, &mixed.to_string());
    assert!(r[0]["result"].is_u64(), "{r}");
    assert_eq!(code(&r[1]), -32601);
    // Still serving.
    assert_eq!(post(&net, &call("getHealth", json!([])))["result"], "ok");
    net.stop();
}

/// Token balances, supply and scans, answered from the runtime's accounts as a cluster answers
/// them.
#[test]
fn token_methods_and_program_account_scans() {
    let (tx, rx) = std::sync::mpsc::channel();
    let net = LocalNet::start(
        Box::new(move || {
            Box::pin(async move {
                let mut chain = Embedded::start().await?;
                let program = aidx_client::TOKEN_2022_PROGRAM_ID;
                let mint = chain.create_mint(&program, 6).await?;
                let owner = solana_sdk::pubkey::Pubkey::new_unique();
                let ata = chain.create_ata(&owner, &mint, &program).await?;
                chain.mint_to(&mint, &ata, &program, 1_234_500).await?;
                tx.send((mint, owner, ata)).unwrap();
                Ok(chain)
            })
        }),
        aidx_localnet::Config::loopback(0, 0),
    )
    .unwrap();
    let (mint, owner, ata) = rx.recv().unwrap();
    let call = |method: &str, params: Value| {
        post(
            &net,
            &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
        )
    };
    let amount = json!({"amount": "1234500", "decimals": 6, "uiAmount": 1.2345,
                        "uiAmountString": "1.2345"});
    let r = call("getTokenAccountBalance", json!([ata.to_string()]));
    assert_eq!(r["result"]["value"], amount, "{r}");
    let r = call("getTokenSupply", json!([mint.to_string()]));
    assert_eq!(r["result"]["value"], amount, "{r}");
    let r = call(
        "getTokenAccountsByOwner",
        json!([owner.to_string(), {"mint": mint.to_string()}, {"encoding": "base64"}]),
    );
    let found = r["result"]["value"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{r}");
    assert_eq!(found[0]["pubkey"], ata.to_string());
    // Token accounts of the program owned by `owner`: the owner sits at offset 32.
    let r = call(
        "getProgramAccounts",
        json!([aidx_client::TOKEN_2022_PROGRAM_ID.to_string(), {
            "encoding": "base64",
            "filters": [{"memcmp": {"offset": 32, "bytes": owner.to_string()}}]
        }]),
    );
    let found = r["result"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{r}");
    assert_eq!(found[0]["pubkey"], ata.to_string());
    let r = call(
        "getProgramAccounts",
        json!([aidx_client::TOKEN_2022_PROGRAM_ID.to_string(), {"filters": [{"dataSize": 1}]}]),
    );
    assert_eq!(r["result"], json!([]));
    // jsonParsed, by the validators' own encoder: the account with its mint's decimals.
    let r = call(
        "getAccountInfo",
        json!([ata.to_string(), {"encoding": "jsonParsed"}]),
    );
    let data = &r["result"]["value"]["data"];
    assert_eq!(data["program"], "spl-token-2022", "{r}");
    assert_eq!(data["parsed"]["type"], "account");
    assert_eq!(data["parsed"]["info"]["owner"], owner.to_string());
    assert_eq!(
        data["parsed"]["info"]["tokenAmount"]["uiAmountString"],
        "1.2345"
    );
    let r = call(
        "getAccountInfo",
        json!([mint.to_string(), {"encoding": "jsonParsed"}]),
    );
    assert_eq!(
        r["result"]["value"]["data"]["parsed"]["type"], "mint",
        "{r}"
    );
    assert_eq!(
        code(&call(
            "getAccountInfo",
            json!([mint.to_string(), {"encoding": "hex"}])
        )),
        -32602
    );
    // Not a token account: a named error.
    assert_eq!(
        code(&call("getTokenAccountBalance", json!([mint.to_string()]))),
        -32602
    );
    // dataSlice, as a validator applies it: the amount's 8 bytes at offset 64; nothing; a
    // window past the end is empty; base58 judged on the window; a bad slice named.
    let r = call(
        "getAccountInfo",
        json!([ata.to_string(), {"encoding": "base64", "dataSlice": {"offset": 64, "length": 8}}]),
    );
    assert_eq!(
        r["result"]["value"]["data"][0],
        B64.encode(1_234_500u64.to_le_bytes()),
        "{r}"
    );
    let r = call(
        "getMultipleAccounts",
        json!([[ata.to_string(), mint.to_string()], {"dataSlice": {"offset": 0, "length": 0}}]),
    );
    assert_eq!(r["result"]["value"][0]["data"][0], "", "{r}");
    assert_eq!(r["result"]["value"][1]["data"][0], "", "{r}");
    let r = call(
        "getAccountInfo",
        json!([ata.to_string(), {"encoding": "base58", "dataSlice": {"offset": 10_000, "length": 8}}]),
    );
    assert_eq!(r["result"]["value"]["data"][0], "", "{r}");
    let r = call(
        "getProgramAccounts",
        json!([aidx_client::TOKEN_2022_PROGRAM_ID.to_string(), {
            "encoding": "base58",
            "dataSlice": {"offset": 32, "length": 32},
            "filters": [{"memcmp": {"offset": 32, "bytes": owner.to_string()}}]
        }]),
    );
    assert_eq!(
        r["result"][0]["account"]["data"][0],
        owner.to_string(),
        "{r}"
    );
    assert_eq!(
        code(&call(
            "getAccountInfo",
            json!([ata.to_string(), {"encoding": "base64", "dataSlice": {"offset": -1}}])
        )),
        -32602
    );
    net.stop();
}

/// The development methods (surfpool's cheatcode names): an account written is read back as
/// written; the clock and the slot move forward only; bad input is refused by name.
#[test]
fn cheatcodes_write_accounts_and_move_time_forward_only() {
    let net = start();
    let call = |method: &str, params: Value| {
        json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
    };
    let key = solana_sdk::pubkey::Pubkey::new_unique().to_string();
    let owner = solana_sdk::pubkey::Pubkey::new_unique().to_string();
    let r = post(
        &net,
        &call(
            "surfnet_setAccount",
            json!([key, {"lamports": 777, "data": "0a0b0c", "owner": owner}]),
        ),
    );
    assert!(r["result"]["value"].is_null(), "{r}");
    let a = post(
        &net,
        &call("getAccountInfo", json!([key, {"encoding": "base64"}])),
    );
    assert_eq!(a["result"]["value"]["lamports"], 777);
    assert_eq!(a["result"]["value"]["owner"], owner.as_str());
    assert_eq!(a["result"]["value"]["data"][0], "CgsM");
    // Only the lamports: the data and owner stay.
    post(
        &net,
        &call("surfnet_setAccount", json!([key, {"lamports": 5}])),
    );
    let a = post(
        &net,
        &call("getAccountInfo", json!([key, {"encoding": "base64"}])),
    );
    assert_eq!(a["result"]["value"]["lamports"], 5);
    assert_eq!(a["result"]["value"]["data"][0], "CgsM");
    for bad in [
        json!([key, {"data": "zz"}]),
        json!([key, {"lamports": "many"}]),
        json!([key, {"color": "blue"}]),
        json!(["not a key", {}]),
        json!([key]),
    ] {
        assert_eq!(code(&post(&net, &call("surfnet_setAccount", bad))), -32602);
    }

    let clock = |net: &LocalNet| -> solana_sdk::clock::Clock {
        let a = post(
            net,
            &call(
                "getAccountInfo",
                json!(["SysvarC1ock11111111111111111111111111111111", {"encoding": "base64"}]),
            ),
        );
        let data = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            a["result"]["value"]["data"][0].as_str().unwrap(),
        )
        .unwrap();
        bincode::deserialize(&data).unwrap()
    };
    let now = clock(&net).unix_timestamp;
    let to = now + 86_400;
    let r = post(
        &net,
        &call(
            "surfnet_timeTravel",
            json!([{"absoluteTimestamp": to * 1000}]),
        ),
    );
    assert!(r["result"]["absoluteSlot"].is_u64(), "{r}");
    assert!(clock(&net).unix_timestamp >= to);
    let back = post(
        &net,
        &call(
            "surfnet_timeTravel",
            json!([{"absoluteTimestamp": now * 1000}]),
        ),
    );
    // Back in time changes nothing (the clock never goes back; a retried request is harmless).
    assert!(back["result"]["absoluteSlot"].is_u64(), "{back}");
    assert!(clock(&net).unix_timestamp >= to);
    let slot = post(&net, &call("getSlot", json!([])))["result"]
        .as_u64()
        .unwrap();
    let r = post(
        &net,
        &call("surfnet_timeTravel", json!([{"absoluteSlot": slot + 50}])),
    );
    assert!(
        r["result"]["absoluteSlot"].as_u64().unwrap() >= slot + 50,
        "{r}"
    );
    let before = post(&net, &call("getSlot", json!([])))["result"]
        .as_u64()
        .unwrap();
    post(
        &net,
        &call("surfnet_timeTravel", json!([{"absoluteSlot": 1}])),
    );
    assert_eq!(
        post(&net, &call("getSlot", json!([])))["result"]
            .as_u64()
            .unwrap(),
        before
    );
    // A jump past what the runtime can warp to is refused, and the node keeps serving.
    for far in [u64::MAX, before + 2_000_000] {
        let r = post(
            &net,
            &call("surfnet_timeTravel", json!([{"absoluteSlot": far}])),
        );
        assert_eq!(code(&r), -32602, "{r}");
    }
    assert_eq!(
        code(&post(
            &net,
            &call("surfnet_timeTravel", json!([{"absoluteEpoch": 3}]))
        )),
        -32602
    );
    assert_eq!(post(&net, &call("getHealth", json!([])))["result"], "ok");
    net.stop();
}

/// The mock Hermes beside a node (`aidx localnet --hermes-port`): live prices published at the
/// node's clock, even a day ahead of the wall clock after a time travel; an unknown feed is a
/// 404 as Hermes answers.
#[test]
fn a_live_mock_hermes_publishes_at_the_nodes_clock() {
    use aidx_client::pull::accumulator;
    let net = start();
    let call = |method: &str, params: Value| {
        json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
    };
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let r = post(
        &net,
        &call(
            "surfnet_timeTravel",
            json!([{"absoluteTimestamp": (wall + 86_400) * 1000}]),
        ),
    );
    assert!(r["result"]["absoluteSlot"].is_u64(), "{r}");
    let hermes = aidx_localnet::hermes::MockHermes::start().unwrap();
    hermes.set_live(true);
    hermes.set_clock_of(&net.url);
    hermes.set_price([5; 32], 123_00000000, 0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client =
        aidx_client::pull::hermes::Hermes::new(&hermes.url, std::time::Duration::from_secs(5))
            .unwrap();
    let updates: Vec<accumulator::Accumulator> = rt.block_on(client.latest(&[[5; 32]])).unwrap();
    let published = updates[0].updates[0].price.publish_time;
    assert!(
        published >= wall + 86_400 && published < wall + 86_400 + 60,
        "{published} vs {wall}"
    );
    assert_eq!(updates[0].updates[0].price.price, 123_00000000);
    let e = rt.block_on(client.latest(&[[6; 32]])).unwrap_err();
    assert!(
        matches!(
            e,
            aidx_client::pull::hermes::HermesError::Status { status: 404, .. }
        ),
        "{e}"
    );
    net.stop();
}
