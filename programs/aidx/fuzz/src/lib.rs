//! Shared by the fuzz targets: the property checks of `tests/math_checks` (the same ones the
//! proptest suite runs), `Arbitrary` inputs for the math's plain-data types, and [`must`].

#[path = "../../tests/math_checks/mod.rs"]
pub mod checks;

use aidx::math::nav::{Holding, PriceSide};
use arbitrary::Arbitrary;

/// Panics (a libFuzzer crash) with the violation when a property fails.
pub fn must(r: checks::Check) {
    if let Err(e) = r {
        panic!("property violated: {e}");
    }
}

/// A [`Holding`] of any shape; decimals are taken modulo 39 (see
/// `checks::MAX_POW10_DECIMALS`: the math panics from 39 on, unreachable on chain).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct ArbHolding {
    pub balance: u64,
    pub decimals: u8,
    pub price: u64,
    pub conf: u64,
}

impl ArbHolding {
    pub fn get(self) -> Holding {
        Holding {
            balance: self.balance,
            decimals: self.decimals % (checks::MAX_POW10_DECIMALS + 1),
            price: self.price,
            conf: self.conf,
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum ArbSide {
    Low,
    Mid,
    High,
}

impl ArbSide {
    pub fn get(self) -> PriceSide {
        match self {
            ArbSide::Low => PriceSide::Low,
            ArbSide::Mid => PriceSide::Mid,
            ArbSide::High => PriceSide::High,
        }
    }
}
