pub mod add_constituent;
pub mod initialize_index;
pub mod lifecycle;
pub mod open_review;
pub mod roles;
pub mod set_methodology_inputs;
pub mod set_params;
pub mod set_pause;

pub use add_constituent::*;
pub use initialize_index::*;
pub use lifecycle::*;
pub use open_review::*;
pub use roles::*;
pub use set_methodology_inputs::*;
pub use set_params::*;
pub use set_pause::*;
