//! The PubSub WebSocket endpoint: signature, account, slot and logs subscriptions (and their
//! unsubscribes), notified as a validator notifies them. The chain thread broadcasts what
//! happened ([`Notice`]); each connection keeps its own subscriptions.

use crate::chain::Job;
use crate::rpc::RpcErr;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use serde_json::{json, Value};
use solana_sdk::{pubkey::Pubkey, signature::Signature, transaction::TransactionError};
use std::collections::HashMap;
use std::str::FromStr;
use tokio::sync::{broadcast, mpsc, oneshot};

/// What the chain thread tells every connection.
#[derive(Clone, Debug)]
pub enum Notice {
    /// A new slot.
    Slot(u64),
    /// A processed transaction.
    Tx {
        signature: Signature,
        slot: u64,
        err: Option<TransactionError>,
        logs: Vec<String>,
        keys: Vec<Pubkey>,
    },
    /// An account a transaction wrote, as it is now (JSON of `UiAccount`, base64).
    Account {
        key: Pubkey,
        slot: u64,
        account: Value,
    },
}

#[derive(Clone)]
struct Shared {
    jobs: mpsc::UnboundedSender<Job>,
    notices: broadcast::Sender<Notice>,
}

/// The WebSocket routes (on `/`).
pub fn router(jobs: mpsc::UnboundedSender<Job>, notices: broadcast::Sender<Notice>) -> Router {
    Router::new()
        .route("/", any(upgrade))
        .with_state(Shared { jobs, notices })
}

async fn upgrade(ws: WebSocketUpgrade, State(s): State<Shared>) -> Response {
    ws.on_upgrade(move |socket| connection(socket, s))
}

enum Sub {
    Signature(Signature),
    Account(Pubkey),
    Slot,
    /// `None`: all transactions; otherwise those naming the key.
    Logs(Option<Pubkey>),
}

async fn connection(mut socket: WebSocket, s: Shared) {
    let mut notices = s.notices.subscribe();
    let mut subs: HashMap<u64, Sub> = HashMap::new();
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            msg = socket.recv() => {
                let Some(Ok(msg)) = msg else { break };
                let text = match msg {
                    Message::Text(t) => t.to_string(),
                    Message::Close(_) => break,
                    _ => continue,
                };
                let replies = request(&s, &text, &mut subs, &mut next_id).await;
                for r in replies {
                    if socket.send(Message::Text(r.to_string().into())).await.is_err() {
                        return;
                    }
                }
            }
            notice = notices.recv() => {
                let notice = match notice {
                    Ok(n) => n,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                };
                let mut done = vec![];
                for (id, sub) in &subs {
                    if let Some(n) = notify(*id, sub, &notice) {
                        if socket.send(Message::Text(n.to_string().into())).await.is_err() {
                            return;
                        }
                        if matches!(sub, Sub::Signature(_)) {
                            done.push(*id);
                        }
                    }
                }
                for id in done {
                    subs.remove(&id);
                }
            }
        }
    }
}

fn notification(method: &str, id: u64, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": {"result": result, "subscription": id}})
}

fn notify(id: u64, sub: &Sub, notice: &Notice) -> Option<Value> {
    let ctx = |slot: u64, value: Value| json!({"context": {"slot": slot}, "value": value});
    match (sub, notice) {
        (Sub::Slot, Notice::Slot(slot)) => Some(notification(
            "slotNotification",
            id,
            json!({"parent": slot.saturating_sub(1), "root": slot, "slot": slot}),
        )),
        (
            Sub::Signature(want),
            Notice::Tx {
                signature,
                slot,
                err,
                ..
            },
        ) if want == signature => Some(notification(
            "signatureNotification",
            id,
            ctx(*slot, json!({"err": err})),
        )),
        (
            Sub::Logs(filter),
            Notice::Tx {
                signature,
                slot,
                err,
                logs,
                keys,
            },
        ) if filter.is_none_or(|k| keys.contains(&k)) => Some(notification(
            "logsNotification",
            id,
            ctx(
                *slot,
                json!({"signature": signature.to_string(), "err": err, "logs": logs}),
            ),
        )),
        (Sub::Account(want), Notice::Account { key, slot, account }) if want == key => Some(
            notification("accountNotification", id, ctx(*slot, account.clone())),
        ),
        _ => None,
    }
}

fn error(id: Value, e: RpcErr) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": e.code, "message": e.message}})
}

/// Answers one subscribe or unsubscribe request (a signature already processed is notified at
/// once, as a validator does).
async fn request(
    s: &Shared,
    text: &str,
    subs: &mut HashMap<u64, Sub>,
    next_id: &mut u64,
) -> Vec<Value> {
    let req: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return vec![error(
                Value::Null,
                RpcErr {
                    code: -32700,
                    message: format!("parse error: {e}"),
                    data: None,
                },
            )]
        }
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let method = req.get("method").and_then(Value::as_str).unwrap_or("");
    let params = req.get("params").cloned().unwrap_or(Value::Array(vec![]));
    let first = params.get(0);
    let bad = |m: &str| {
        vec![error(
            id.clone(),
            RpcErr {
                code: -32602,
                message: m.to_string(),
                data: None,
            },
        )]
    };
    let key_of = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .and_then(|s| Pubkey::from_str(s).ok())
    };
    let sub = match method {
        "slotSubscribe" => Sub::Slot,
        "accountSubscribe" => match key_of(first) {
            Some(k) => Sub::Account(k),
            None => return bad("param 0: expected a public key"),
        },
        "signatureSubscribe" => match first
            .and_then(Value::as_str)
            .and_then(|s| Signature::from_str(s).ok())
        {
            Some(sig) => Sub::Signature(sig),
            None => return bad("param 0: expected a signature"),
        },
        "logsSubscribe" => match first {
            Some(Value::String(s)) if s == "all" || s == "allWithVotes" => Sub::Logs(None),
            Some(Value::Object(o)) => match key_of(o.get("mentions").and_then(|m| m.get(0))) {
                Some(k) => Sub::Logs(Some(k)),
                None => return bad("mentions: expected one public key"),
            },
            _ => return bad("param 0: expected \"all\" or {\"mentions\": [key]}"),
        },
        m if m.ends_with("Unsubscribe") => {
            let Some(n) = first.and_then(Value::as_u64) else {
                return bad("param 0: expected a subscription id");
            };
            let removed = subs.remove(&n).is_some();
            return vec![json!({"jsonrpc": "2.0", "id": id, "result": removed})];
        }
        other => {
            return vec![error(
                id,
                RpcErr {
                    code: -32601,
                    message: format!("Method not found: {other}"),
                    data: None,
                },
            )]
        }
    };
    let n = *next_id;
    *next_id += 1;
    let mut out = vec![json!({"jsonrpc": "2.0", "id": id, "result": n})];
    // A signature already processed: notify now.
    if let Sub::Signature(sig) = &sub {
        let (reply, rx) = oneshot::channel();
        let call = Job::Call {
            method: "getSignatureStatuses".into(),
            params: json!([[sig.to_string()]]),
            reply,
        };
        if s.jobs.send(call).is_ok() {
            if let Ok(Ok(v)) = rx.await {
                let status = &v["value"][0];
                if !status.is_null() {
                    let slot = status["slot"].as_u64().unwrap_or(0);
                    out.push(notification(
                        "signatureNotification",
                        n,
                        json!({"context": {"slot": slot}, "value": {"err": status["err"]}}),
                    ));
                    return out;
                }
            }
        }
    }
    subs.insert(n, sub);
    out
}
