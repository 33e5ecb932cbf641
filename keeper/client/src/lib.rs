//! # aidx-client
//!
//! The Rust client of the aidx index program, for integrators, keepers and auditors. It holds
//! no validator runtime, no command-line parser and prints nothing: every function returns
//! data.
//!
//! - [`address`]: program ids, the index's PDAs, associated token accounts, Pyth push feeds;
//! - [`instructions`]: one builder per instruction, accounts in the program's order;
//! - [`account`] and [`events`]: decoding the index account and the program's events (from
//!   `Program data:` log lines, following the invoke stack);
//! - [`chain`]: the [`Chain`] trait every operation runs over, with [`rpc::Rpc`] (JSON-RPC)
//!   here and the embedded runtime in the `aidx-embedded` crate;
//! - [`tx`]: v0 transactions, signer order, the packet size;
//! - [`holder`]: quotes with slippage bounds, NAV, mint and redeem in kind or single-asset;
//! - [`rebalance`]: the out-of-band plan and its execution through the Dutch auction;
//! - [`audit`] and [`replay`]: NAV, weights and invariants from chain state; the history from
//!   events;
//! - [`admin`]: the operator instructions;
//! - [`universe`] and [`targets`]: the methodology on a universe file;
//! - [`explain`]: failed transactions with the program's, Anchor's and SPL's errors by name;
//! - [`pyth`]: `PriceUpdateV2` accounts as the Pyth receiver writes them;
//! - [`format`]: amounts, percentages and dollars as people read them.
//!
//! ## Example: an in-kind mint over JSON-RPC
//!
//! ```no_run
//! use aidx_client::{holder, instructions, rpc::Rpc, Chain};
//! use aidx::instructions::MintInKindArgs;
//! use solana_sdk::{pubkey::Pubkey, signature::read_keypair_file, signer::Signer};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let payer = read_keypair_file("holder.json").map_err(|e| anyhow::anyhow!("{e}"))?;
//! let holder = payer.insecure_clone();
//! let mut chain = Rpc::new("https://api.devnet.solana.com", payer, "confirmed")?;
//! let index_key: Pubkey = "11111111111111111111111111111111".parse()?;
//! let index = chain.load_index(&index_key).await?;
//!
//! // 2 whole shares (9 decimals): what each constituent costs, plus 0.5% slippage.
//! let shares = 2_000_000_000;
//! let max_amounts_in = holder::in_kind_deposits(&index, shares)?
//!     .into_iter()
//!     .map(|need| holder::plus_slippage(need, 50))
//!     .collect::<anyhow::Result<Vec<_>>>()?;
//! let accounts = instructions::holder_atas(&index, &holder.pubkey());
//! let ix = instructions::mint_in_kind(
//!     &index_key,
//!     &index,
//!     &holder.pubkey(),
//!     &accounts,
//!     MintInKindArgs { shares, max_amounts_in, min_shares_out: shares },
//! );
//! match chain.send_ixs(&[ix], &[&holder]).await? {
//!     Ok(outcome) => println!("{} events", outcome.events.len()),
//!     Err(failure) => println!("{failure}"), // e.g. "... aidx InsufficientShares: ..."
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Baskets beyond a legacy transaction's accounts go through address lookup tables with
//! [`Chain::send_ixs_v0`].

#![warn(missing_docs)]

pub mod account;
pub mod address;
pub mod admin;
pub mod audit;
pub mod book;
pub mod chain;
pub mod events;
pub mod explain;
pub mod format;
pub mod holder;
pub mod instructions;
pub mod pyth;
pub mod rebalance;
pub mod replay;
pub mod rpc;
pub mod targets;
pub mod tx;
pub mod universe;

pub use account::*;
pub use address::*;
pub use book::Book;
pub use chain::{Chain, TxFailure, TxOutcome, TxResult};
pub use events::{events_of, AidxEvent, Event, EventError};
pub use instructions::*;
