pub mod mint_in_kind;
pub mod mint_single;
pub mod redeem_in_kind;
pub mod redeem_single;
pub mod single;

pub use mint_in_kind::*;
pub use mint_single::*;
pub use redeem_in_kind::*;
pub use redeem_single::*;
pub use single::*;
