//! A JSON-RPC transport that retries what a node may answer differently a moment later, under
//! `solana-rpc-client`'s own [`RpcClient`](solana_rpc_client::nonblocking::rpc_client::RpcClient)
//! (its `RpcSender` extension point, around its `HttpSender`, which itself waits out `429 Too
//! Many Requests` five times).
//!
//! Retried, with bounded exponential backoff: a lost or refused connection, a timeout, a body
//! cut short, an HTTP error status (5xx, or 429 once `HttpSender` has given up) and a node that
//! says it is unhealthy (`-32005`). Not retried: anything the node answered on purpose (a 4xx, a
//! bad request, a failed preflight), and `requestAirdrop` (not idempotent). Retrying `sendTransaction` resends the same signed
//! transaction, which a node never applies twice (the second answer is `AlreadyProcessed`,
//! which [`crate::rpc::Rpc`] reads as sent).

use async_trait::async_trait;
use solana_rpc_client::http_sender::HttpSender;
use solana_rpc_client::rpc_sender::{RpcSender, RpcTransportStats};
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind, Result};
use solana_rpc_client_api::request::{RpcError, RpcRequest};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// JSON-RPC's "node is unhealthy" (behind the cluster).
pub const NODE_UNHEALTHY: i64 = -32005;

/// How often and how patiently a request is retried.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts in all (the first included).
    pub attempts: u32,
    /// The pause before the second attempt; doubled before each next one.
    pub base: Duration,
    /// The longest pause.
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// 8 attempts, 100 ms doubling to at most 3.2 s: about 10 s of pauses in all (each attempt
    /// may also wait up to the HTTP sender's 30 s timeout), enough to ride out a node's restart.
    fn default() -> Self {
        RetryPolicy {
            attempts: 8,
            base: Duration::from_millis(100),
            max: Duration::from_millis(3_200),
        }
    }
}

/// What the transport met, for reports and metrics.
#[derive(Debug, Default)]
pub struct RetryStats {
    /// Requests sent again after a transient failure.
    pub retried: AtomicU64,
    /// Requests given up after every attempt failed.
    pub gave_up: AtomicU64,
}

/// [`HttpSender`] with retries (see the module's documentation).
pub struct RetrySender {
    inner: HttpSender,
    policy: RetryPolicy,
    stats: Arc<RetryStats>,
}

impl RetrySender {
    /// A transport to `url` retrying as `policy` says, counting into `stats`.
    pub fn new(url: String, policy: RetryPolicy, stats: Arc<RetryStats>) -> Self {
        RetrySender {
            inner: HttpSender::new(url),
            policy,
            stats,
        }
    }
}

/// Whether a moment later the same request may be answered: the connection or the answer was
/// lost (refused, reset, timed out, cut short), the server erred (5xx) or rate-limited (429),
/// or the node says it is unhealthy. A request the server refused on purpose (4xx) is not.
pub fn is_transient(e: &ClientError) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Io(_) => true,
        ErrorKind::Reqwest(r) => match r.status() {
            Some(s) => s.is_server_error() || s.as_u16() == 429,
            None => {
                r.is_connect() || r.is_timeout() || r.is_body() || r.is_decode() || r.is_request()
            }
        },
        ErrorKind::RpcError(RpcError::RpcResponseError { code, .. }) => *code == NODE_UNHEALTHY,
        _ => false,
    }
}

/// Whether resending `request` is harmless. `requestAirdrop` builds a new transaction each time:
/// a lost answer retried would pay twice.
fn idempotent(request: &RpcRequest) -> bool {
    !matches!(request, RpcRequest::RequestAirdrop)
}

#[async_trait]
impl RpcSender for RetrySender {
    async fn send(
        &self,
        request: RpcRequest,
        params: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let mut pause = self.policy.base;
        let mut attempt = 1;
        loop {
            match self.inner.send(request, params.clone()).await {
                Err(e) if is_transient(&e) && idempotent(&request) => {
                    if attempt >= self.policy.attempts {
                        self.stats.gave_up.fetch_add(1, Ordering::Relaxed);
                        return Err(ErrorKind::Custom(format!(
                            "{request}: no answer after {attempt} attempts: {e}"
                        ))
                        .into());
                    }
                    self.stats.retried.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(self.policy.max);
                    attempt += 1;
                }
                r => return r,
            }
        }
    }

    fn get_transport_stats(&self) -> RpcTransportStats {
        self.inner.get_transport_stats()
    }

    fn url(&self) -> String {
        self.inner.url()
    }
}
