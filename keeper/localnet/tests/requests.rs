//! Bad requests get JSON-RPC errors and the node keeps serving.

use aidx_embedded::Embedded;
use aidx_localnet::LocalNet;
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
        "127.0.0.1:0".parse().unwrap(),
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
