//! A fault-injecting JSON-RPC proxy in front of a node, for tests of the keeper's retries: it
//! forwards every request to the node (whose address may change: a restart) and, on a
//! deterministic schedule, drops or delays an answer, answers `429 Too Many Requests` or
//! "node unhealthy" instead, or lets a transaction's blockhash expire before it can be
//! confirmed. Every fault it injects is counted, so a test can show it was met.

use anyhow::{anyhow, Result};
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde_json::{json, Value};
use solana_sdk::transaction::VersionedTransaction;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// One kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forwards the request (it takes effect) and answers with a body cut short: the answer
    /// is lost.
    DropAnswer,
    /// Forwards the request and answers after this long.
    Delay(Duration),
    /// Answers `429 Too Many Requests` (`Retry-After: 0`) without forwarding.
    TooManyRequests,
    /// Answers JSON-RPC `-32005` ("Node is unhealthy") without forwarding.
    Unhealthy,
    /// `sendTransaction` only: forwards the transaction (it lands), moves the node past its
    /// blockhash, and loses the answer: the client's resend is answered `BlockhashNotFound`, as a
    /// validator answers it (the blockhash is checked before the signature), though it landed.
    DropAnswerThenExpire,
    /// `sendTransaction` only: acknowledges the transaction with its signature but never
    /// forwards it (a leader that dropped it), and moves the node 151 slots on, so that its
    /// blockhash expires before it could be confirmed.
    ExpireBlockhash,
}

/// When faults are injected: on every `every`-th request whose method is in `methods` (all
/// methods when empty), at most `limit` times.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    pub fault: Fault,
    pub every: u64,
    pub methods: Vec<&'static str>,
    pub limit: u64,
}

struct Shared {
    upstream: Mutex<String>,
    plan: FaultPlan,
    http: reqwest::Client,
    seen: AtomicU64,
    injected: AtomicU64,
}

/// A running proxy.
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultProxy {
    /// Serves on a free loopback port, forwarding to `upstream` as `plan` says.
    pub fn start(upstream: &str, plan: FaultPlan) -> Result<FaultProxy> {
        if plan.every == 0 {
            return Err(anyhow!("a fault plan needs every >= 1"));
        }
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream.to_string()),
            plan,
            http: reqwest::Client::new(),
            seen: AtomicU64::new(0),
            injected: AtomicU64::new(0),
        });
        let (shutdown, stop) = oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::Builder::new()
            .name("aidx-fault-proxy".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("proxy runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    let app = Router::new().route("/", post(handle)).with_state(state);
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stop.await;
                        })
                        .await;
                });
            })?;
        Ok(FaultProxy {
            url,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Forwards to `url` from now on (the node restarted elsewhere).
    pub fn set_upstream(&self, url: &str) {
        *self.shared.upstream.lock().expect("upstream") = url.to_string();
    }

    /// Faults injected so far.
    pub fn injected(&self) -> u64 {
        self.shared.injected.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Whether this request gets the fault.
fn due(s: &Shared, method: &str) -> bool {
    let p = &s.plan;
    if !(p.methods.is_empty() || p.methods.contains(&method)) {
        return false;
    }
    let n = s.seen.fetch_add(1, Ordering::Relaxed) + 1;
    if !n.is_multiple_of(p.every) {
        return false;
    }
    s.injected
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |i| {
            (i < p.limit).then_some(i + 1)
        })
        .is_ok()
}

async fn forward(s: &Shared, body: String) -> Response {
    let upstream = s.upstream.lock().expect("upstream").clone();
    match s
        .http
        .post(&upstream)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
    {
        Ok(r) => {
            let status =
                StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let bytes = r.bytes().await.unwrap_or_default();
            (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
        }
        // The node is down (restarting): what a load balancer answers.
        Err(e) => (StatusCode::BAD_GATEWAY, format!("upstream: {e}")).into_response(),
    }
}

async fn handle(State(s): State<Arc<Shared>>, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let method = request["method"].as_str().unwrap_or("").to_string();
    let id = request["id"].clone();
    if !due(&s, &method) {
        return forward(&s, body).await;
    }
    match s.plan.fault {
        Fault::DropAnswer => {
            let _ = forward(&s, body).await;
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "{\"jsonrpc\":\"2.0\",\"result\":",
            )
                .into_response()
        }
        Fault::DropAnswerThenExpire => {
            let _ = forward(&s, body).await;
            match warp_past_blockhash(&s).await {
                Ok(()) => (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"jsonrpc\":\"2.0\",\"result\":",
                )
                    .into_response(),
                Err(e) => (StatusCode::BAD_GATEWAY, format!("fault proxy: {e}")).into_response(),
            }
        }
        Fault::Delay(d) => {
            let r = forward(&s, body).await;
            tokio::time::sleep(d).await;
            r
        }
        Fault::TooManyRequests => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "0")],
            "Too many requests",
        )
            .into_response(),
        Fault::Unhealthy => axum::Json(json!({
            "jsonrpc": "2.0", "id": id,
            "error": {"code": -32005, "message": "Node is unhealthy", "data": {"numSlotsBehind": 200}}
        }))
        .into_response(),
        Fault::ExpireBlockhash => match expire(&s, &request).await {
            Ok(signature) => axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": signature}))
                .into_response(),
            Err(e) => (StatusCode::BAD_GATEWAY, format!("fault proxy: {e}")).into_response(),
        },
    }
}

/// Swallows a `sendTransaction` and moves the node past its blockhash; the signature.
async fn expire(s: &Shared, request: &Value) -> Result<String> {
    let encoded = request["params"][0]
        .as_str()
        .ok_or_else(|| anyhow!("no transaction"))?;
    let bytes = match request["params"][1]["encoding"].as_str() {
        Some("base64") => B64.decode(encoded)?,
        _ => bs58::decode(encoded).into_vec()?,
    };
    let tx: VersionedTransaction = bincode::deserialize(&bytes)?;
    let signature = *tx
        .signatures
        .first()
        .ok_or_else(|| anyhow!("a transaction without signatures"))?;
    warp_past_blockhash(s).await?;
    Ok(signature.to_string())
}

/// Moves the node `MAX_BLOCKHASH_AGE_SLOTS + 1` slots on: every blockhash handed out expires.
async fn warp_past_blockhash(s: &Shared) -> Result<()> {
    let call = |method: &str, params: Value| {
        json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string()
    };
    let upstream = s.upstream.lock().expect("upstream").clone();
    let slot: Value = s
        .http
        .post(&upstream)
        .header(header::CONTENT_TYPE, "application/json")
        .body(call("getSlot", json!([])))
        .send()
        .await?
        .json()
        .await?;
    let slot = slot["result"]
        .as_u64()
        .ok_or_else(|| anyhow!("getSlot: {slot}"))?;
    let travelled: Value = s
        .http
        .post(&upstream)
        .header(header::CONTENT_TYPE, "application/json")
        .body(call(
            "surfnet_timeTravel",
            json!([{"absoluteSlot": slot.saturating_add(crate::chain::MAX_BLOCKHASH_AGE_SLOTS + 1)}]),
        ))
        .send()
        .await?
        .json()
        .await?;
    if travelled.get("error").is_some() {
        return Err(anyhow!("surfnet_timeTravel: {travelled}"));
    }
    Ok(())
}
