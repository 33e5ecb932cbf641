pub mod add_constituent;
pub mod initialize_index;

pub use add_constituent::*;
pub use initialize_index::*;
