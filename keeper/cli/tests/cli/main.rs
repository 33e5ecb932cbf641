//! Tests of the `aidx` commands on the embedded runtime, as one test binary with a module per
//! command family.

mod admin_commands;
mod audit;
mod backtest;
mod demo;
mod holder_commands;
mod keeper_rebalance;
