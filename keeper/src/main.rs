//! `aidx`: the keeper, holder and auditor command line of the aidx index.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "aidx",
    version,
    about = "aidx: an on-chain AI-sector index on Solana"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole life of an index on the embedded in-process runtime: create the
    /// universe's mints, initialize and seed the index, mint and redeem in kind, print the basket.
    Demo {
        /// Universe CSV (defaults to the bundled sample universe).
        #[arg(long, env = "AIDX_UNIVERSE")]
        universe: Option<PathBuf>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // The embedded runtime captures events per thread: run everything on one.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Demo { universe } => {
            let csv = match universe {
                Some(p) => std::fs::read_to_string(&p)
                    .with_context(|| format!("reading {}", p.display()))?,
                None => aidx_keeper::universe::SAMPLE_UNIVERSE.to_string(),
            };
            let mut stdout = std::io::stdout().lock();
            rt.block_on(aidx_keeper::demo::run(&csv, &mut stdout))?;
        }
    }
    Ok(())
}
