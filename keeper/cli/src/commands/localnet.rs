//! `aidx localnet`: the embedded runtime served as a Solana JSON-RPC node on loopback.

use aidx_client::Book;
use aidx_embedded::state;
use aidx_localnet::LocalNet;
use anyhow::{Context, Result};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// `aidx localnet` options.
#[derive(Args)]
pub struct LocalnetArgs {
    /// Port of the JSON-RPC endpoint on 127.0.0.1.
    #[arg(long, default_value_t = 8899, env = "AIDX_RPC_PORT")]
    rpc_port: u16,
    /// Port of the PubSub WebSocket endpoint (default: the JSON-RPC port + 1).
    #[arg(long, env = "AIDX_WS_PORT")]
    ws_port: Option<u16>,
    /// Start from this saved chain (a new, empty one when the file does not exist), and save
    /// it back on ctrl-c, with the node's transaction history in the same file;
    /// with `--demo`: where the demo's final state is written. Without `--state` or `--demo`:
    /// an empty chain.
    #[arg(long, env = "AIDX_STATE")]
    state: Option<PathBuf>,
    /// Start a new chain and run the demo on it over JSON-RPC first (its history is the
    /// node's own, from the index's creation on).
    #[arg(long)]
    demo: bool,
    /// Universe CSV for `--demo` (defaults to the bundled sample universe).
    #[arg(long, env = "AIDX_UNIVERSE", requires = "demo")]
    universe: Option<PathBuf>,
    /// Serve this many seconds, then stop and save (otherwise until ctrl-c).
    #[arg(long)]
    serve_secs: Option<u64>,
    /// Save the state this often while serving, seconds (0: only on stopping).
    #[arg(long, default_value_t = 30)]
    save_every_secs: u64,
    /// Keep the clock still: a slot passes only with each transaction and time only with
    /// `surfnet_timeTravel` (for runs that compare quotes unit for unit; prices do not age).
    #[arg(long)]
    still_clock: bool,
    /// Also serve a Hermes on this port of 127.0.0.1: a mock publishing the node's push-feed
    /// prices (what `aidx oracle` last published) at each request, at the node's clock, in
    /// accumulator updates signed by the test guardians the node's emulated Wormhole receiver
    /// holds (for `--hermes-url` against this node).
    #[arg(long, env = "AIDX_HERMES_PORT")]
    hermes_port: Option<u16>,
}

/// Starts a node on a new, empty chain and runs the demo on it over JSON-RPC (so that its
/// history, every transaction from the index's creation on, is the node's own); the node and
/// the demo's book (its wallets, with the fee payer as `payer`).
pub async fn demo_node(
    universe_csv: &str,
    config: aidx_localnet::Config,
) -> Result<(LocalNet, Book)> {
    let net = LocalNet::start(
        Box::new(|| Box::pin(async { aidx_embedded::Embedded::start().await })),
        config,
    )?;
    let setup = crate::demo::Setup::random();
    let payer = setup.keypair("payer");
    let rpc = aidx_client::rpc::Rpc::new(&net.url, payer.insecure_clone(), "confirmed")?;
    rpc.airdrop_to_payer(10_000 * 1_000_000_000).await?;
    let mut sink = Vec::new();
    let mut demo = crate::demo::run_on(rpc, setup, universe_csv, &mut sink)
        .await
        .context("running the demo on the node")?;
    demo.finish(&mut sink).await?;
    let mut book = demo.book();
    book.add_wallet("payer", &payer);
    Ok((net, book))
}

impl LocalnetArgs {
    /// Serves until ctrl-c (or `--serve-secs`), then saves the state (to a temporary file
    /// without `--state`).
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let path = self.state.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("aidx-localnet-{}.state", std::process::id()))
        });
        let config = aidx_localnet::Config {
            history: Some(path.clone()),
            ticking: !self.still_clock,
            ..aidx_localnet::Config::loopback(
                self.rpc_port,
                self.ws_port.unwrap_or(self.rpc_port.wrapping_add(1)),
            )
        };
        let (net, book) = if self.demo {
            // A new chain: no history from an earlier one.
            std::fs::remove_file(&path).ok();
            let csv = super::read_universe(self.universe.as_deref())?;
            let (net, book) = demo_node(&csv, config).await?;
            net.save(&path, &book).await?;
            (net, book)
        } else {
            // A state file that does not exist yet: a new, empty chain saved there.
            if !path.exists() {
                let mut chain = aidx_embedded::Embedded::start().await?;
                state::save(&mut chain, &Book::default(), &path).await?;
            }
            let (_, book): (_, Book) = state::read(&path)?;
            let load = path.clone();
            let net = LocalNet::start(
                Box::new(move || Box::pin(async move { Ok(state::load(&load).await?.0) })),
                config,
            )?;
            (net, book)
        };
        // The wallets as Solana CLI keypair files, for any client.
        let wallets = path.with_extension("wallets");
        std::fs::create_dir_all(&wallets)
            .with_context(|| format!("creating {}", wallets.display()))?;
        for (name, bytes) in &book.wallets {
            std::fs::write(
                wallets.join(format!("{name}.json")),
                serde_json::to_string(bytes)?,
            )?;
        }
        writeln!(
            out,
            "aidx localnet: JSON-RPC at {}, PubSub at {}",
            net.url, net.ws_url
        )?;
        if book.index.is_empty() {
            writeln!(out, "an empty chain (try `aidx demo --url {}`)", net.url)?;
        } else {
            writeln!(out, "index {}", book.index)?;
            writeln!(out, "symbols {}", book.symbols.join(","))?;
            let tables: Vec<String> = book
                .lookup_tables
                .iter()
                .map(|(name, address)| format!("{name}={address}"))
                .collect();
            writeln!(out, "lookup tables {}", tables.join(","))?;
        }
        writeln!(
            out,
            "wallets (Solana CLI keypair files) in {}",
            wallets.display()
        )?;
        let _hermes = match self.hermes_port {
            Some(port) => {
                let hermes = aidx_localnet::hermes::MockHermes::start_on(port)?;
                hermes.set_live(true);
                hermes.set_clock_of(&net.url);
                hermes.set_prices_of(&net.url);
                writeln!(
                    out,
                    "hermes {} (a mock: the node's push-feed prices at each request, as `aidx oracle` publishes them, at the node's clock)",
                    hermes.url
                )?;
                Some(hermes)
            }
            None => None,
        };
        writeln!(
            out,
            "state {} (saved every {} s and on ctrl-c)",
            path.display(),
            self.save_every_secs
        )?;
        out.flush()?;
        let stop = async {
            match self.serve_secs {
                Some(s) => {
                    tokio::time::sleep(std::time::Duration::from_secs(s)).await;
                    Ok(())
                }
                None => tokio::signal::ctrl_c().await,
            }
        };
        tokio::pin!(stop);
        // Saved periodically too, so that little is lost if the process is killed.
        let every = std::time::Duration::from_secs(self.save_every_secs.max(1));
        let mut save = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tokio::select! {
                r = &mut stop => { r?; break; }
                _ = save.tick(), if self.save_every_secs > 0 => net.save(&path, &book).await?,
            }
        }
        // Requests in hand are answered before the last save; none after it.
        let (p, b) = (path.clone(), book.clone());
        tokio::task::spawn_blocking(move || net.stop_and_save(&p, &b)).await??;
        writeln!(out, "saved {}", path.display())?;
        Ok(())
    }
}
