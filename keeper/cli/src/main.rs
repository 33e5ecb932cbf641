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
    // Not locked for the whole command: the natively run program's `msg!` prints to stdout
    // from the local node's chain thread, which would wait on the lock forever.
    let mut stdout = std::io::stdout();
    match rt.block_on(cli.command.execute(&mut stdout)) {
        // The reader went away (`aidx nav | head`): nothing more to say.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        r => r,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}
