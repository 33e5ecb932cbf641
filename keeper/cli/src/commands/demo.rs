//! `aidx demo`.

use anyhow::Result;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// `aidx demo` options.
#[derive(Args)]
pub struct DemoArgs {
    /// Universe CSV (defaults to the bundled sample universe).
    #[arg(long, env = "AIDX_UNIVERSE")]
    pub universe: Option<PathBuf>,
    /// Save the final chain state here for the holder commands.
    #[arg(long, env = "AIDX_SAVE_STATE", conflicts_with = "url")]
    pub save_state: Option<PathBuf>,
    /// Run over JSON-RPC against a development node (`aidx localnet`, or any node with
    /// surfpool's cheatcodes) instead of a new embedded runtime; fees paid by a new wallet
    /// funded with `requestAirdrop`.
    #[arg(long, env = "AIDX_DEMO_URL")]
    pub url: Option<String>,
    /// The index's member count (at most the table's 24; the default keeps room for entrants).
    #[arg(long, default_value_t = aidx::state::DEFAULT_MAX_MEMBERS,
          value_parser = clap::value_parser!(u8).range(0..=aidx::state::MAX_CONSTITUENTS as i64))]
    pub max_members: u8,
}

impl DemoArgs {
    /// Runs the demo on a new embedded runtime, or over JSON-RPC with `--url`.
    pub async fn execute(self, out: &mut impl Write) -> Result<()> {
        let csv = super::read_universe(self.universe.as_deref())?;
        let setup = crate::demo::Setup {
            max_members: self.max_members,
            ..crate::demo::Setup::random()
        };
        let Some(url) = self.url else {
            crate::demo::run_with(setup, &csv, out, self.save_state.as_deref()).await?;
            return Ok(());
        };
        let rpc = aidx_client::rpc::Rpc::new(&url, setup.keypair("payer"), "confirmed")?;
        rpc.airdrop_to_payer(1_000 * 1_000_000_000).await?;
        let mut demo = crate::demo::run_on(rpc, setup, &csv, out).await?;
        demo.finish(out).await?;
        let book = demo.book();
        let tables: Vec<String> = book
            .lookup_tables
            .iter()
            .map(|(name, address)| format!("{name}={address}"))
            .collect();
        writeln!(
            out,
            "on {url}: aidx nav --url {url} --index {} --symbols {} --lookup-table {} --keypair FILE",
            book.index,
            book.symbols.join(","),
            tables.join(",")
        )?;
        Ok(())
    }
}
