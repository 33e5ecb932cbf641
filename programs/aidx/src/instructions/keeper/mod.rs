pub mod recompute_targets;
pub mod refresh_prices;
pub mod report_nav;

pub use recompute_targets::*;
pub use refresh_prices::*;
pub use report_nav::*;
