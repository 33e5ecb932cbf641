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
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
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
    let prices = s.prices.lock().expect("prices").clone();
    let mut messages = vec![];
    for id in &ids {
        if fault == HermesFault::Missing(*id) {
            continue;
        }
        match prices.get(id) {
            Some(m) => messages.push(Message::PriceFeedMessage(*m)),
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
