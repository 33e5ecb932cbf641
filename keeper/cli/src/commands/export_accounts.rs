//! `aidx export-accounts`.

use aidx_embedded::state;
use anyhow::{Context, Result};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// `aidx export-accounts` options.
#[derive(Args)]
pub struct ExportArgs {
    /// The saved embedded chain.
    #[arg(long, env = "AIDX_STATE")]
    state: PathBuf,
    /// Where the account files go.
    #[arg(long, env = "AIDX_DIR")]
    dir: PathBuf,
    /// Also write a fresh keypair here (Solana CLI JSON format), e.g. a fee payer.
    #[arg(long, env = "AIDX_NEW_KEYPAIR")]
    new_keypair: Option<PathBuf>,
}

impl ExportArgs {
    /// Writes the accounts; prints the index and the symbols.
    pub fn execute(self, out: &mut impl Write) -> Result<()> {
        if let Some(path) = &self.new_keypair {
            let k = solana_sdk::signature::Keypair::new();
            std::fs::write(path, serde_json::to_string(&k.to_bytes().to_vec())?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let n = state::export_validator_accounts(&self.state, &self.dir)?;
        let (_, book) = state::read(&self.state)?;
        eprintln!("{n} accounts written to {}", self.dir.display());
        writeln!(out, "{} {}", book.index, book.symbols.join(","))?;
        Ok(())
    }
}
