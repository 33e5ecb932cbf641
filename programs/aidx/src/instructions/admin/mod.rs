pub mod add_constituent;
pub mod initialize_index;
pub mod open_review;
pub mod set_methodology_inputs;

pub use add_constituent::*;
pub use initialize_index::*;
pub use open_review::*;
pub use set_methodology_inputs::*;
