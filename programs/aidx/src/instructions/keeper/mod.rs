pub mod refresh_prices;
pub mod report_nav;

pub use refresh_prices::*;
pub use report_nav::*;
