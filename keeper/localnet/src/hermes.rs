//! A Hermes on loopback for tests and local runs: `GET /v2/updates/price/latest` answers as
//! Pyth's Hermes does (`{binary: {encoding: "base64", data: [...]}, parsed: [...]}`), with
//! accumulator updates built by `pythnet-sdk` and signed by its test guardians (the guardian set
//! the embedded runtime's emulated Wormhole receiver holds), from the Pythnet accumulator
//! emitter. It serves the prices it is given; a [`HermesFault`] makes it slow, fail, serve
//! malformed bytes, or leave a feed out.

use aidx_embedded::pyth::PYTHNET_EMITTER;
use anyhow::Result;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use pythnet_sdk::messages::{Message, PriceFeedMessage};
use pythnet_sdk::test_utils::{create_accumulator_message, DataSource};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// How the mock misbehaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum HermesFault {
    /// Answers as Hermes does.
    #[default]
    None,
    /// Waits this long before answering.
    Slow(Duration),
    /// Answers this HTTP status.
    Status(u16),
    /// Answers JSON whose update is not an accumulator update.
    Malformed,
    /// Leaves this feed out of its answers.
    Missing([u8; 32]),
}

#[derive(Default)]
struct Shared {
    prices: Mutex<BTreeMap<[u8; 32], PriceFeedMessage>>,
    fault: Mutex<HermesFault>,
    served: Mutex<u64>,
    live: std::sync::atomic::AtomicBool,
    /// A node whose clock live prices are published at (the wall clock without one).
    clock_of: Mutex<Option<String>>,
    /// A node whose push feeds' prices are served, read at each request.
    prices_of: Mutex<Option<String>>,
}

/// A running mock Hermes.
pub struct MockHermes {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockHermes {
    /// Serves on a free loopback port.
    pub fn start() -> Result<MockHermes> {
        Self::start_on(0)
    }

    /// Serves on `port` of 127.0.0.1 (0: a free one).
    pub fn start_on(port: u16) -> Result<MockHermes> {
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared::default());
        let (shutdown, stop) = oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::Builder::new()
            .name("aidx-mock-hermes".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .expect("hermes runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    let app = Router::new()
                        .route("/v2/updates/price/latest", get(latest))
                        .with_state(state);
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stop.await;
                        })
                        .await;
                });
            })?;
        Ok(MockHermes {
            url,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Publishes `price` (mantissa, exponent -8, confidence 0.1%) for `feed` at `publish_time`.
    pub fn set_price(&self, feed: [u8; 32], price: i64, publish_time: i64) {
        let m = PriceFeedMessage {
            feed_id: feed,
            price,
            conf: (price / 1_000) as u64,
            exponent: -8,
            publish_time,
            prev_publish_time: publish_time - 1,
            ema_price: price,
            ema_conf: (price / 1_000) as u64,
        };
        self.shared.prices.lock().expect("prices").insert(feed, m);
    }

    /// Live: every answer publishes its prices now (the wall clock), as Hermes serves the
    /// latest prices; otherwise at the times given to [`MockHermes::set_price`].
    pub fn set_live(&self, live: bool) {
        self.shared
            .live
            .store(live, std::sync::atomic::Ordering::Relaxed);
    }

    /// Live prices are published at the clock of the node at `rpc_url` (its Clock sysvar, read
    /// at each request): a development node's clock may run ahead of the wall clock after a
    /// time travel.
    pub fn set_clock_of(&self, rpc_url: &str) {
        *self.shared.clock_of.lock().expect("clock") = Some(rpc_url.to_string());
    }

    /// Serves the prices in the push feeds (shard 0) of the node at `rpc_url`, read at each
    /// request: what `aidx oracle` last published there is what this Hermes serves.
    pub fn set_prices_of(&self, rpc_url: &str) {
        *self.shared.prices_of.lock().expect("prices of") = Some(rpc_url.to_string());
    }

    /// Misbehaves as `fault` says from now on.
    pub fn set_fault(&self, fault: HermesFault) {
        *self.shared.fault.lock().expect("fault") = fault;
    }

    /// Requests answered so far.
    pub fn served(&self) -> u64 {
        *self.shared.served.lock().expect("served")
    }
}

impl Drop for MockHermes {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The feed ids of `ids[]=0x...` parameters.
fn requested(query: &str) -> Result<Vec<[u8; 32]>, String> {
    let mut out = vec![];
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k != "ids[]" && k != "ids%5B%5D" {
            continue;
        }
        let hex_id = v.trim_start_matches("0x");
        let bytes = hex::decode(hex_id).map_err(|_| format!("invalid price id {v}"))?;
        out.push(<[u8; 32]>::try_from(bytes).map_err(|_| format!("invalid price id {v}"))?);
    }
    if out.is_empty() {
        return Err("no price ids".into());
    }
    Ok(out)
}

async fn latest(State(s): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    *s.served.lock().expect("served") += 1;
    let fault = s.fault.lock().expect("fault").clone();
    match &fault {
        HermesFault::Slow(d) => tokio::time::sleep(*d).await,
        HermesFault::Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, "mock Hermes: injected failure").into_response();
        }
        HermesFault::Malformed => {
            let body = serde_json::json!({"binary": {"encoding": "base64", "data": [B64.encode(b"PNAU not an update")]}, "parsed": []});
            return axum::Json(body).into_response();
        }
        _ => {}
    }
    let ids = match requested(query.as_deref().unwrap_or("")) {
        Ok(ids) => ids,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    let prices_of = s.prices_of.lock().expect("prices of").clone();
    if let (Some(url), Ok(ids)) = (prices_of, requested(query.as_deref().unwrap_or(""))) {
        for id in ids {
            match push_feed_price(&url, &id).await {
                Ok(Some(m)) => {
                    s.prices.lock().expect("prices").insert(id, m);
                }
                Ok(None) => {}
                Err(e) => {
                    return (
                        StatusCode::BAD_GATEWAY,
                        format!("the node's push feed: {e}"),
                    )
                        .into_response()
                }
            }
        }
    }
    let prices = s.prices.lock().expect("prices").clone();
    let clock_of = s.clock_of.lock().expect("clock").clone();
    let live_now = match s.live.load(std::sync::atomic::Ordering::Relaxed) {
        false => None,
        true => match clock_of {
            Some(url) => match node_clock(&url).await {
                Ok(t) => Some(t),
                Err(e) => {
                    return (StatusCode::BAD_GATEWAY, format!("the node's clock: {e}"))
                        .into_response()
                }
            },
            None => Some(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0),
            ),
        },
    };
    let mut messages = vec![];
    for id in &ids {
        if fault == HermesFault::Missing(*id) {
            continue;
        }
        match prices.get(id) {
            Some(m) => {
                let mut m = *m;
                if let Some(now) = live_now {
                    (m.publish_time, m.prev_publish_time) = (now, now - 1);
                }
                messages.push(Message::PriceFeedMessage(m))
            }
            // Hermes answers 404 for an id it does not know.
            None => {
                return (
                    StatusCode::NOT_FOUND,
                    format!("Price ids not found: 0x{}", hex::encode(id)),
                )
                    .into_response()
            }
        }
    }
    if messages.is_empty() {
        return axum::Json(
            serde_json::json!({"binary": {"encoding": "base64", "data": []}, "parsed": []}),
        )
        .into_response();
    }
    let refs: Vec<&Message> = messages.iter().collect();
    let source = DataSource {
        address: wormhole_sdk::Address(PYTHNET_EMITTER),
        chain: wormhole_sdk::Chain::Pythnet,
    };
    let update = create_accumulator_message(&refs, &refs, false, false, Some(source));
    let parsed: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| match m {
            Message::PriceFeedMessage(p) => serde_json::json!({
                "id": hex::encode(p.feed_id),
                "price": {"price": p.price.to_string(), "conf": p.conf.to_string(), "expo": p.exponent, "publish_time": p.publish_time},
            }),
            _ => serde_json::Value::Null,
        })
        .collect();
    axum::Json(serde_json::json!({
        "binary": {"encoding": "base64", "data": [B64.encode(update)]},
        "parsed": parsed,
    }))
    .into_response()
}

/// The data of the account at `key` on the node at `url` (base64 `getAccountInfo`), if any.
async fn account_data(url: &str, key: &str) -> Result<Option<Vec<u8>>> {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "getAccountInfo",
        "params": [key, {"encoding": "base64"}]});
    let v: serde_json::Value = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    match v["result"]["value"]["data"][0].as_str() {
        Some(data) => Ok(Some(B64.decode(data)?)),
        None => Ok(None),
    }
}

/// The unix time of the node at `url` (its Clock sysvar).
async fn node_clock(url: &str) -> Result<i64> {
    let bytes = account_data(url, "SysvarC1ock11111111111111111111111111111111")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the node at {url} has no clock"))?;
    let at = bytes
        .get(32..40)
        .ok_or_else(|| anyhow::anyhow!("a clock of {} bytes", bytes.len()))?;
    Ok(i64::from_le_bytes(at.try_into()?))
}

/// The price in the push feed (shard 0) of `feed` on the node at `url`, if it has one.
async fn push_feed_price(url: &str, feed: &[u8; 32]) -> Result<Option<PriceFeedMessage>> {
    let key = aidx_client::push_feed_address(0, feed);
    let Some(bytes) = account_data(url, &key.to_string()).await? else {
        return Ok(None);
    };
    let update = <pyth_solana_receiver_sdk::price_update::PriceUpdateV2 as anchor_lang::AnchorDeserialize>::deserialize(
        &mut bytes.get(8..).ok_or_else(|| anyhow::anyhow!("a push feed of {} bytes", bytes.len()))?,
    )?;
    Ok(Some(update.price_message))
}
