//! `aidx`: the keeper, holder and auditor command line of the aidx index.

use aidx_cli::commands::Command;
use anyhow::Result;
use clap::Parser;

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

fn main() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AIDX_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("aidx=info,aidx_cli=info,aidx_client=info,error")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    // The embedded runtime captures events per thread: run everything on one.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut stdout = std::io::stdout().lock();
    rt.block_on(cli.command.execute(&mut stdout))
}
