//! `aidx`: the keeper, holder and auditor command line of the aidx index, on the
//! [`aidx_client`] library and (feature `embedded`, on by default: `demo`, `oracle`,
//! `export-accounts` and `--state`) the `aidx_embedded` runtime. One module per command
//! ([`commands`]), one place that renders what people see ([`output`]), the demo as named
//! steps ([`demo`]), the keeper loop ([`keeper`]) and the backtest ([`backtest`]).

pub mod backtest;
pub mod chart;
pub mod commands;
#[cfg(feature = "embedded")]
pub mod demo;
pub mod keeper;
pub mod metrics;
pub mod output;
