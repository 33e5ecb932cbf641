pub mod mint_in_kind;
pub mod redeem_in_kind;

pub use mint_in_kind::*;
pub use redeem_in_kind::*;
