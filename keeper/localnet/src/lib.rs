//! A local Solana JSON-RPC node over the embedded runtime: the aidx program natively, beside the
//! real SPL Token, Token-2022, Associated Token and lookup-table programs, served on loopback
//! with the Solana crates' own request and response types, so that the keeper's RPC backend
//! (and any standard client) works against it as against a cluster.
//!
//! The runtime must live on one thread under a current-thread Tokio runtime (its bank runs
//! inline and its event capture is thread-local), so it runs on a thread of its own
//! ([`chain`]), which takes one request at a time from the HTTP server's tasks.

pub mod chain;
pub mod cheat;
pub mod faults;
pub mod hermes;
pub mod pubsub;
pub mod rpc;

use aidx_embedded::Embedded;
use anyhow::{anyhow, Result};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use tokio::sync::{broadcast, mpsc, oneshot};

/// Where a node serves, and how its chain moves.
#[derive(Clone, Debug)]
pub struct Config {
    /// The JSON-RPC endpoint (port 0: any free port).
    pub rpc: SocketAddr,
    /// The PubSub WebSocket endpoint (port 0: any free port).
    pub ws: SocketAddr,
    /// A slot about every 400 ms with the clock following the wall clock; without it the chain
    /// moves only with the transactions it processes (one slot each) and its clock stands
    /// still: runs that must match another runtime unit for unit.
    pub ticking: bool,
    /// The saved state the node starts from, whose transaction history (saved in the same
    /// file by a node) it starts with; every save writes the history with the accounts.
    pub history: Option<std::path::PathBuf>,
}

impl Config {
    /// 127.0.0.1 at `rpc_port` and `ws_port`, ticking.
    pub fn loopback(rpc_port: u16, ws_port: u16) -> Config {
        Config {
            rpc: ([127, 0, 0, 1], rpc_port).into(),
            ws: ([127, 0, 0, 1], ws_port).into(),
            ticking: true,
            history: None,
        }
    }
}

/// Starts the runtime, on the chain's own thread.
pub type StartFn = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = Result<Embedded>>>> + Send>;

/// A running node: its URL, and what stops it.
pub struct LocalNet {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The bound JSON-RPC address.
    pub addr: SocketAddr,
    /// `ws://127.0.0.1:<port>`: PubSub.
    pub ws_url: String,
    jobs: mpsc::UnboundedSender<chain::Job>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<std::thread::JoinHandle<()>>,
    chain: Option<std::thread::JoinHandle<()>>,
}

impl LocalNet {
    /// Starts the runtime with `start` on a thread of its own and serves it as `config` says.
    /// Returns once the node answers.
    pub fn start(start: StartFn, config: Config) -> Result<LocalNet> {
        let (jobs, rx) = mpsc::unbounded_channel();
        let (notices, _) = broadcast::channel::<pubsub::Notice>(4096);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();
        let chain_notices = notices.clone();
        let (rpc_addr, ws_addr) = (config.rpc, config.ws);
        let chain = std::thread::Builder::new()
            .name("aidx-localnet-chain".into())
            .spawn(move || chain::run(start, rx, ready_tx, config, chain_notices))?;
        ready_rx
            .recv()
            .map_err(|_| anyhow!("the chain thread ended before it started"))??;

        let bind = |addr: SocketAddr| -> Result<std::net::TcpListener> {
            let l = std::net::TcpListener::bind(addr)?;
            l.set_nonblocking(true)?;
            Ok(l)
        };
        let (rpc_listener, ws_listener) = (bind(rpc_addr)?, bind(ws_addr)?);
        let (addr, ws_addr) = (rpc_listener.local_addr()?, ws_listener.local_addr()?);
        let (shutdown, stop) = oneshot::channel::<()>();
        let server_jobs = jobs.clone();
        let server = std::thread::Builder::new()
            .name("aidx-localnet-http".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("http runtime");
                rt.block_on(async move {
                    let (stop_ws, ws_stop) = oneshot::channel::<()>();
                    let rpc = tokio::net::TcpListener::from_std(rpc_listener).expect("listener");
                    let ws = tokio::net::TcpListener::from_std(ws_listener).expect("listener");
                    let ws_app = pubsub::router(server_jobs.clone(), notices);
                    let ws_task = tokio::spawn(async move {
                        axum::serve(ws, ws_app)
                            .with_graceful_shutdown(async {
                                let _ = ws_stop.await;
                            })
                            .await
                    });
                    axum::serve(rpc, rpc::router(server_jobs))
                        .with_graceful_shutdown(async {
                            let _ = stop.await;
                        })
                        .await
                        .expect("serve");
                    // Open WebSockets would hold a graceful stop: the endpoint is dropped.
                    let _ = stop_ws.send(());
                    ws_task.abort();
                });
            })?;
        Ok(LocalNet {
            url: format!("http://{addr}"),
            addr,
            ws_url: format!("ws://{ws_addr}"),
            jobs,
            shutdown: Some(shutdown),
            server: Some(server),
            chain: Some(chain),
        })
    }

    /// Saves the chain as it is now (every account it touched), its transaction history and
    /// `book` to `path`, between two requests: a saved state `--state` loads.
    pub async fn save(&self, path: &std::path::Path, book: &aidx_client::Book) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(chain::Job::Save {
                path: path.to_path_buf(),
                book: Box::new(book.clone()),
                reply,
            })
            .map_err(|_| anyhow!("the node has stopped"))?;
        rx.await
            .map_err(|_| anyhow!("the node stopped before saving"))?
    }

    /// Stops serving and ends the chain thread (after the request in hand).
    pub fn stop(mut self) {
        self.stop_inner();
    }

    /// Stops taking requests (those in hand are answered), then saves the chain, its
    /// transaction history and `book` to `path`, then ends: nothing acknowledged is lost.
    /// Blocks; call it off an async runtime's threads.
    pub fn stop_and_save(mut self, path: &std::path::Path, book: &aidx_client::Book) -> Result<()> {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.join();
        }
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(chain::Job::Save {
                path: path.to_path_buf(),
                book: Box::new(book.clone()),
                reply,
            })
            .map_err(|_| anyhow!("the node has stopped"))?;
        let saved = rx
            .blocking_recv()
            .map_err(|_| anyhow!("the node stopped before saving"))?;
        self.stop_inner();
        saved
    }

    fn stop_inner(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.join();
        }
        let _ = self.jobs.send(chain::Job::Stop);
        if let Some(h) = self.chain.take() {
            let _ = h.join();
        }
    }
}

impl Drop for LocalNet {
    fn drop(&mut self) {
        self.stop_inner();
    }
}
