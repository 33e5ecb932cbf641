//! The aidx keeper: client, embedded runtime and the commands of the `aidx` binary.

pub mod admin;
pub mod audit;
pub mod backtest;
pub mod chain;
pub mod client;
pub mod demo;
pub mod embedded;
pub mod holder;
pub mod pyth;
pub mod rebalance;
pub mod rpc;
pub mod run;
pub mod state;
pub mod table;
pub mod targets;
pub mod universe;
