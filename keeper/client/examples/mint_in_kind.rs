//! Builds and sends an in-kind mint over JSON-RPC with aidx-client (the README's example;
//! `cargo test` builds it, and a test checks the README shows this code).
//!
//!     cargo run -p aidx-client --example mint_in_kind -- URL KEYPAIR INDEX [WHOLE_SHARES]

use anyhow::{anyhow, Context, Result};

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, keypair, index, ..] = &args[..] else {
        return Err(anyhow!(
            "usage: mint_in_kind URL KEYPAIR INDEX [WHOLE_SHARES]"
        ));
    };
    let whole: u64 = args
        .get(4)
        .map_or(Ok(1), |s| s.parse())
        .context("WHOLE_SHARES")?;
    mint(url, keypair, index, whole).await
}

// README: begin
use aidx::instructions::MintInKindArgs;
use aidx_client::{holder, instructions, rpc::Rpc, Chain};
use solana_sdk::{pubkey::Pubkey, signature::read_keypair_file, signer::Signer};

async fn mint(url: &str, keypair: &str, index: &str, whole_shares: u64) -> anyhow::Result<()> {
    let payer = read_keypair_file(keypair).map_err(|e| anyhow::anyhow!("{keypair}: {e}"))?;
    let holder = payer.insecure_clone();
    let mut chain = Rpc::new(url, payer, "confirmed")?;
    let index_key: Pubkey = index.parse()?;
    let index = chain.load_index(&index_key).await?;

    // What each constituent costs (the program's own share math), plus 0.5% slippage.
    let shares = whole_shares * aidx::math::ONE_SHARE;
    let now = chain.get_clock().await?.unix_timestamp;
    let stuck = holder::stuck_rows(&mut chain, &index).await?;
    let max_amounts_in = holder::in_kind_deposits(&index, shares, now, &stuck)?
        .into_iter()
        .map(|need| holder::plus_slippage(need, 50))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let accounts = instructions::holder_atas(&index, &holder.pubkey());
    let args = MintInKindArgs {
        shares,
        max_amounts_in,
        min_shares_out: shares,
    };
    let ix = instructions::mint_in_kind(&index_key, &index, &holder.pubkey(), &accounts, args);
    match chain.send_ixs(&[ix], &[&holder]).await? {
        Ok(outcome) => println!("{} events: {:?}", outcome.events.len(), outcome.events),
        // e.g. "transaction failed at instruction 1: aidx InsufficientShares: ..."
        Err(failure) => println!("{failure}"),
    }
    Ok(())
}
// README: end
