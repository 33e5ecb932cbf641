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
//! - [`dev`]: development chains (the embedded runtime, a local node): accounts written,
//!   the clock moved, mints, funded wallets, lookup tables and price updates for demos and tests;
//! - [`retry`]: the JSON-RPC transport's bounded retries of transient failures;
//! - [`tx`]: v0 transactions, signer order, the packet size;
//! - [`holder`]: quotes with slippage bounds, NAV, mint and redeem in kind or single-asset;
//! - [`rebalance`]: the out-of-band plan and its execution through the Dutch auction;
//! - [`audit`] and [`replay`]: NAV, weights and invariants from chain state; the history from
//!   events;
//! - [`admin`]: the operator instructions;
//! - [`universe`] and [`targets`]: the methodology on a universe file;
//! - [`explain`]: failed transactions with the program's, Anchor's and SPL's errors by name;
//! - [`pyth`]: `PriceUpdateV2` accounts as the Pyth receiver writes them;
//! - [`pull`]: fresh, fully verified Pyth prices on a cluster: Hermes' accumulator updates
//!   posted through the Wormhole receiver and Pyth's receiver or push oracle;
//! - [`format`]: amounts, percentages and dollars as people read them.
//!
//! ## Example
//!
//! `examples/mint_in_kind.rs` builds and sends an in-kind mint over JSON-RPC: load the index,
//! quote every constituent's deposit with [`holder::in_kind_deposits`] and a slippage bound,
//! build [`instructions::mint_in_kind`] and send it with [`Chain::send_ixs`]; a failure reads
//! as the program's error by name ([`TxFailure`]).
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
pub mod dev;
pub mod events;
pub mod explain;
pub mod format;
pub mod holder;
pub mod instructions;
pub mod lookup;
pub mod pull;
pub mod pyth;
pub mod rebalance;
pub mod replay;
pub mod retry;
pub mod review;
pub mod rpc;
pub mod sim;
pub mod targets;
pub mod tx;
pub mod universe;

pub use account::*;
pub use address::*;
pub use book::Book;
pub use chain::{Chain, TxFailure, TxOutcome, TxResult};
pub use dev::DevChain;
pub use events::{events_of, AidxEvent, Event, EventError};
pub use instructions::*;

#[cfg(test)]
mod readme {
    /// The README's client example is the code of `examples/mint_in_kind.rs`, which
    /// `cargo test` builds, so the README cannot show code that does not compile.
    #[test]
    fn the_readme_example_is_the_compiled_example() {
        let readme = include_str!("../../../README.md");
        let example = include_str!("../examples/mint_in_kind.rs");
        let (_, rest) = example
            .split_once("// README: begin\n")
            .expect("begin marker");
        let (body, _) = rest.split_once("// README: end").expect("end marker");
        assert!(
            readme.contains(&format!("```rust\n{body}```")),
            "README.md does not show examples/mint_in_kind.rs"
        );
    }
}
