//! A local Solana JSON-RPC node over the embedded runtime: the aidx program natively, beside the
//! real SPL Token, Token-2022, Associated Token and lookup-table programs, served on loopback
//! with the Solana crates' own request and response types, so that the keeper's RPC backend
//! (and any standard client) works against it as against a cluster.
//!
//! The runtime must live on one thread under a current-thread Tokio runtime (its bank runs
//! inline and its event capture is thread-local), so it runs on a thread of its own
//! ([`chain`]), which takes one request at a time from the HTTP server's tasks.

pub mod chain;
pub mod rpc;

use aidx_embedded::Embedded;
use anyhow::{anyhow, Result};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// Starts the runtime, on the chain's own thread.
pub type StartFn = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = Result<Embedded>>>> + Send>;

/// A running node: its URL, and what stops it.
pub struct LocalNet {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    jobs: mpsc::UnboundedSender<chain::Job>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<std::thread::JoinHandle<()>>,
    chain: Option<std::thread::JoinHandle<()>>,
}

impl LocalNet {
    /// Starts the runtime with `start` on a thread of its own and serves it at `addr` (port 0:
    /// any free port), a slot about every 400 ms with the clock following the wall clock.
    /// Returns once the node answers.
    pub fn start(start: StartFn, addr: SocketAddr) -> Result<LocalNet> {
        Self::start_with(start, addr, true)
    }

    /// [`LocalNet::start`]; without `ticking` the chain moves only with the transactions it
    /// processes (one slot each) and its clock stands still: runs that must match another
    /// runtime unit for unit.
    pub fn start_with(start: StartFn, addr: SocketAddr, ticking: bool) -> Result<LocalNet> {
        let (jobs, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();
        let chain = std::thread::Builder::new()
            .name("aidx-localnet-chain".into())
            .spawn(move || chain::run(start, rx, ready_tx, ticking))?;
        ready_rx
            .recv()
            .map_err(|_| anyhow!("the chain thread ended before it started"))??;

        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
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
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    let app = rpc::router(server_jobs);
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stop.await;
                        })
                        .await
                        .expect("serve");
                });
            })?;
        Ok(LocalNet {
            url: format!("http://{addr}"),
            addr,
            jobs,
            shutdown: Some(shutdown),
            server: Some(server),
            chain: Some(chain),
        })
    }

    /// Saves the chain as it is now (every account it touched) with `book` to `path`, between
    /// two requests: a saved state `--state` loads.
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
