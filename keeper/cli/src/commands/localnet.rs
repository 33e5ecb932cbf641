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
    /// it back on ctrl-c (with `--demo`: where the demo's final state is written first).
    /// Without `--state` or `--demo`: an empty chain.
    #[arg(long, env = "AIDX_STATE")]
    state: Option<PathBuf>,
    /// Start from the demo's final state.
    #[arg(long)]
    demo: bool,
    /// Serve this many seconds, then stop and save (otherwise until ctrl-c).
    #[arg(long)]
    serve_secs: Option<u64>,
    /// Save the state this often while serving, seconds (0: only on stopping).
    #[arg(long, default_value_t = 30)]
    save_every_secs: u64,
}

impl LocalnetArgs {
    /// Serves until ctrl-c (or `--serve-secs`), then saves the state when it came from a file.
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let path = match (&self.state, self.demo) {
            (Some(p), false) => p.clone(),
            (state, true) => {
                let p = state.clone().unwrap_or_else(|| {
                    std::env::temp_dir().join(format!("aidx-localnet-{}.state", std::process::id()))
                });
                let mut sink = Vec::new();
                crate::demo::run(aidx_client::universe::SAMPLE_UNIVERSE, &mut sink, Some(&p))
                    .await
                    .context("running the demo")?;
                // A new chain: no history from an earlier one.
                std::fs::remove_file(p.with_extension("ledger")).ok();
                p
            }
            (None, false) => {
                std::env::temp_dir().join(format!("aidx-localnet-{}.state", std::process::id()))
            }
        };
        // A state file that does not exist yet: a new, empty chain saved there.
        if !path.exists() {
            let mut chain = aidx_embedded::Embedded::start().await?;
            state::save(&mut chain, &Book::default(), &path).await?;
            std::fs::remove_file(path.with_extension("ledger")).ok();
        }
        let (_, book): (_, Book) = state::read(&path)?;
        // The demo's wallets as Solana CLI keypair files, for any client.
        let wallets = path.with_extension("wallets");
        std::fs::create_dir_all(&wallets)
            .with_context(|| format!("creating {}", wallets.display()))?;
        for (name, bytes) in &book.wallets {
            std::fs::write(
                wallets.join(format!("{name}.json")),
                serde_json::to_string(bytes)?,
            )?;
        }
        let load = path.clone();
        let net = LocalNet::start(
            Box::new(move || Box::pin(async move { Ok(state::load(&load).await?.0) })),
            aidx_localnet::Config {
                ledger: Some(path.with_extension("ledger")),
                ..aidx_localnet::Config::loopback(
                    self.rpc_port,
                    self.ws_port.unwrap_or(self.rpc_port.wrapping_add(1)),
                )
            },
        )?;
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
