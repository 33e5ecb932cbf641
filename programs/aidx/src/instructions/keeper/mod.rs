pub mod fees;
pub mod poke_rebalance;
pub mod rebalance_swap;
pub mod recompute_targets;
pub mod refresh_prices;
pub mod report_nav;

pub use fees::*;
pub use poke_rebalance::*;
pub use rebalance_swap::*;
pub use recompute_targets::*;
pub use refresh_prices::*;
pub use report_nav::*;
