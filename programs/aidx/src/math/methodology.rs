//! The index methodology's weighting core: weights proportional to a value (circulating-supply
//! market cap), each capped, with the excess redistributed pro rata to the uncapped until none
//! exceeds the cap, summing to exactly [`WEIGHT_SCALE`].
//!
//! Plain integer math, no floats, no Anchor types: the program and the keeper run this same code.

use super::{mul_div, MathError, Rounding, WEIGHT_SCALE};
use core::fmt;

/// Why a set of weights could not be computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodologyError {
    /// No constituent has a positive value.
    Empty,
    /// Fewer positive-valued constituents than `1 / cap`: the cap cannot hold.
    InfeasibleCap {
        eligible: usize,
        cap: u64,
    },
    /// The cap is zero or above 100%.
    InvalidCap(u64),
    Math(MathError),
}

impl From<MathError> for MethodologyError {
    fn from(e: MathError) -> Self {
        MethodologyError::Math(e)
    }
}

impl fmt::Display for MethodologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MethodologyError::Empty => write!(f, "no constituent has a positive value"),
            MethodologyError::InfeasibleCap { eligible, cap } => write!(
                f,
                "{eligible} eligible constituents cannot hold a cap of {cap}/{WEIGHT_SCALE}"
            ),
            MethodologyError::InvalidCap(c) => write!(f, "cap {c} is not in (0, {WEIGHT_SCALE}]"),
            MethodologyError::Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for MethodologyError {}

/// Weights proportional to `values`, none above `cap` (both weights and cap in
/// [`WEIGHT_SCALE`]), summing to exactly [`WEIGHT_SCALE`].
///
/// The rounding residue (at most one unit per constituent) is assigned one unit at a time to
/// the constituents with the largest division remainder, ties to the lower index, never
/// pushing one above the cap: the result is deterministic.
pub fn capped_weights(values: &[u128], cap: u64) -> Result<Vec<u64>, MethodologyError> {
    if cap == 0 || cap > WEIGHT_SCALE {
        return Err(MethodologyError::InvalidCap(cap));
    }
    let eligible = values.iter().filter(|v| **v > 0).count();
    if eligible == 0 {
        return Err(MethodologyError::Empty);
    }
    if (eligible as u128) * (cap as u128) < WEIGHT_SCALE as u128 {
        return Err(MethodologyError::InfeasibleCap { eligible, cap });
    }

    let n = values.len();
    let mut capped = vec![false; n];
    let mut weights = vec![0u64; n];
    let mut remainders = vec![0u128; n];
    loop {
        let n_capped = capped.iter().filter(|c| **c).count() as u128;
        let room = (WEIGHT_SCALE as u128)
            .checked_sub(n_capped * cap as u128)
            .ok_or(MathError::Overflow)?;
        let free_value: u128 = values
            .iter()
            .zip(&capped)
            .filter(|(_, c)| !**c)
            .try_fold(0u128, |acc, (v, _)| acc.checked_add(*v))
            .ok_or(MathError::Overflow)?;
        let mut newly_capped = false;
        for i in 0..n {
            if capped[i] {
                weights[i] = cap;
                remainders[i] = 0;
                continue;
            }
            if free_value == 0 {
                weights[i] = 0;
                remainders[i] = 0;
                continue;
            }
            let w = mul_div(room, values[i], free_value, Rounding::Down)?;
            remainders[i] = (room * values[i]) % free_value;
            if w > cap as u128 {
                capped[i] = true;
                newly_capped = true;
            }
            weights[i] = u64::try_from(w.min(cap as u128)).map_err(|_| MathError::Overflow)?;
        }
        if !newly_capped {
            break;
        }
    }

    let total: u64 = weights.iter().sum();
    let mut residue = WEIGHT_SCALE.checked_sub(total).ok_or(MathError::Overflow)?;
    let mut order: Vec<usize> = (0..n).filter(|i| values[*i] > 0).collect();
    order.sort_by(|a, b| remainders[*b].cmp(&remainders[*a]).then(a.cmp(b)));
    while residue > 0 {
        let mut placed = false;
        for &i in &order {
            if residue == 0 {
                break;
            }
            if weights[i] < cap {
                weights[i] += 1;
                residue -= 1;
                placed = true;
            }
        }
        if !placed {
            // Unreachable while eligible * cap >= WEIGHT_SCALE, kept as a named failure.
            return Err(MethodologyError::InfeasibleCap { eligible, cap });
        }
    }
    Ok(weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PCT: u64 = WEIGHT_SCALE / 100;

    #[test]
    fn uncapped_weights_are_proportional_and_sum_to_one() {
        let w = capped_weights(&[1, 1, 2], WEIGHT_SCALE).unwrap();
        assert_eq!(w, vec![250_000_000, 250_000_000, 500_000_000]);
    }

    #[test]
    fn excess_is_redistributed_until_none_exceeds_the_cap() {
        // 10 names: one giant and nine equal small ones; cap 15%.
        let mut v = vec![1000u128];
        v.extend(std::iter::repeat_n(10u128, 9));
        let w = capped_weights(&v, 15 * PCT).unwrap();
        assert_eq!(w[0], 15 * PCT);
        assert_eq!(w.iter().sum::<u64>(), WEIGHT_SCALE);
        assert!(w.iter().all(|x| *x <= 15 * PCT));
        // the nine small names share 85% equally, residue to the lowest indexes first
        for x in &w[1..] {
            assert!(*x == 94_444_444 || *x == 94_444_445, "{x}");
        }
    }

    #[test]
    fn exactly_one_over_cap_names_all_sit_at_the_cap() {
        let w = capped_weights(&[5, 1, 1, 1, 1], 20 * PCT).unwrap();
        assert_eq!(w, vec![20 * PCT; 5]);
    }

    #[test]
    fn infeasible_cap_is_named() {
        assert_eq!(
            capped_weights(&[5, 1, 1, 0], 20 * PCT),
            Err(MethodologyError::InfeasibleCap {
                eligible: 3,
                cap: 20 * PCT
            })
        );
        assert_eq!(
            capped_weights(&[0, 0], 20 * PCT),
            Err(MethodologyError::Empty)
        );
        assert_eq!(
            capped_weights(&[1], 0),
            Err(MethodologyError::InvalidCap(0))
        );
    }
}
