//! The keeper's Prometheus metrics (`aidx run --metrics-addr`), with `prometheus-client`, the
//! Prometheus project's Rust client (OpenMetrics text), served at `/metrics` by axum.

use anyhow::Result;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// What failed.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// `round` (planning or the chain), `swap` (a rebalance swap), `pyth` (posting prices).
    pub kind: String,
}

/// A constituent.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SymbolLabel {
    /// Its symbol.
    pub symbol: String,
}

/// Every metric the loop keeps.
pub struct Metrics {
    registry: Registry,
    /// Rounds run.
    pub rounds: Counter,
    /// Swaps that landed.
    pub swaps: Counter,
    /// Auction rewards paid to the keeper, USD.
    pub reward_paid_usd: Counter<f64, AtomicU64>,
    /// Failures by kind.
    pub failures: Family<KindLabel, Counter>,
    /// Each constituent's stored price's age at the end of a round, seconds.
    pub price_age: Family<SymbolLabel, Gauge>,
    /// One JSON-RPC round trip (the cluster's clock), seconds.
    pub rpc_latency: Histogram,
    /// When the last round without a failure ended, unix seconds.
    pub last_success: Gauge,
    /// 1 while a round runs.
    pub round_in_progress: Gauge,
    /// 1 while the index's rebalance window is open (every out-of-band row may trade).
    pub window_open: Gauge,
    /// Seconds the index's auction has run at the end of a round (0: none).
    pub auction_seconds: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// The metrics, registered under `aidx_keeper_`.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("aidx_keeper");
        let m = Metrics {
            registry: Registry::default(),
            rounds: Counter::default(),
            swaps: Counter::default(),
            reward_paid_usd: Counter::default(),
            failures: Family::default(),
            price_age: Family::default(),
            rpc_latency: Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            last_success: Gauge::default(),
            round_in_progress: Gauge::default(),
            window_open: Gauge::default(),
            auction_seconds: Gauge::default(),
        };
        registry.register("rounds", "Rounds run", m.rounds.clone());
        registry.register("swaps", "Rebalance swaps that landed", m.swaps.clone());
        registry.register(
            "reward_paid_usd",
            "Auction rewards paid to the keeper, USD",
            m.reward_paid_usd.clone(),
        );
        registry.register(
            "failures",
            "Failures by kind (round, swap, pyth)",
            m.failures.clone(),
        );
        registry.register(
            "price_age_seconds",
            "Age of each constituent's stored price at the end of a round",
            m.price_age.clone(),
        );
        registry.register(
            "rpc_latency_seconds",
            "One JSON-RPC round trip (the cluster's clock)",
            m.rpc_latency.clone(),
        );
        registry.register(
            "last_success_timestamp_seconds",
            "When the last round without a failure ended",
            m.last_success.clone(),
        );
        registry.register(
            "round_in_progress",
            "1 while a round runs",
            m.round_in_progress.clone(),
        );
        registry.register(
            "rebalance_window_open",
            "1 while the index's rebalance window is open (every out-of-band row may trade)",
            m.window_open.clone(),
        );
        registry.register(
            "auction_seconds",
            "How long the index's auction has run at the end of a round (0: none)",
            m.auction_seconds.clone(),
        );
        Metrics { registry, ..m }
    }

    /// A failure of `kind`.
    pub fn fail(&self, kind: &str) {
        self.failures
            .get_or_create(&KindLabel {
                kind: kind.to_string(),
            })
            .inc();
    }

    /// The metrics in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}

/// Serves `metrics` at `http://addr/metrics` in the background; the bound address (port 0
/// picks a free one).
pub async fn serve(metrics: Arc<Metrics>, addr: SocketAddr) -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let m = metrics.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    m.encode(),
                )
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(bound)
}
