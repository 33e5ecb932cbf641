pub mod admin;
pub mod fees;
pub mod keeper;
pub mod user;

pub use admin::*;
pub use keeper::*;
pub use user::*;
