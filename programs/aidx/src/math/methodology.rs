//! The index methodology: from per-token facts to target weights.
//!
//! Plain integer math, no floats, no Anchor types: the program (`recompute_targets`) and the
//! keeper (`aidx targets`, the backtest) run this same code on the same inputs and get the same
//! targets, unit for unit.
//!
//! Steps, in order:
//! 1. **Eligibility**: average daily volume at least `min_volume_usd` (default $5M), depth within
//!    2% of mid at least `min_depth_usd` (default $500K; `None` = not reported, not checked),
//!    a positive price and circulating supply.
//! 2. **Market cap** = price x *circulating* supply (never fully diluted).
//! 3. **Bucket split** (optional): pure plays share `pure_play_share` of the index, host chains
//!    the rest; each bucket is weighted and capped within its share (steps 4-5 per bucket).
//! 4. **Cap**: weights proportional to market cap, none above `max_weight`, the excess
//!    redistributed pro rata to the uncapped, repeated until none exceeds the cap.
//! 5. **Unlock haircut**: a token flagged with an unlock over 10% of float keeps
//!    `1 - unlock_haircut` of its capped weight; the freed weight is redistributed like cap
//!    excess (pro rata by market cap to the others, capped).
//! 6. Targets sum to exactly [`WEIGHT_SCALE`]: each division's residue (under one unit per
//!    token) goes one unit at a time to the largest remainders, ties to the lower row.
//!
//! A cap that cannot hold (fewer eligible tokens in a group than its share / cap) is the
//! named error [`MethodologyError::InfeasibleCap`], never a silent result.

use super::{mul_div, MathError, Rounding, WEIGHT_SCALE};
use core::fmt;

/// Default liquidity floor: $5M average daily volume.
pub const DEFAULT_MIN_VOLUME_USD: u64 = 5_000_000;
/// Default depth floor: $500K within 2% of mid.
pub const DEFAULT_MIN_DEPTH_USD: u64 = 500_000;

/// Why a set of weights could not be computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodologyError {
    /// No token is eligible (in the index, or in a bucket that has a share).
    Empty,
    /// Fewer eligible tokens than `share / cap`: the cap cannot hold.
    InfeasibleCap {
        eligible: usize,
        cap: u64,
    },
    /// The cap is zero or above 100%.
    InvalidCap(u64),
    /// The pure-play share is above 100%.
    InvalidShare(u64),
    /// The unlock haircut is above 100%.
    InvalidHaircut(u64),
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
            MethodologyError::Empty => write!(f, "no eligible token"),
            MethodologyError::InfeasibleCap { eligible, cap } => write!(
                f,
                "{eligible} eligible tokens cannot hold a cap of {cap}/{WEIGHT_SCALE}"
            ),
            MethodologyError::InvalidCap(c) => write!(f, "cap {c} is not in (0, {WEIGHT_SCALE}]"),
            MethodologyError::InvalidShare(x) => {
                write!(f, "pure-play share {x} is above {WEIGHT_SCALE}")
            }
            MethodologyError::InvalidHaircut(x) => {
                write!(f, "unlock haircut {x} is above {WEIGHT_SCALE}")
            }
            MethodologyError::Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for MethodologyError {}

/// The facts about one token the methodology uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenFacts {
    /// precision: USD_SCALE. Price of one whole token.
    pub price: u128,
    /// Whole tokens in circulation (not fully diluted).
    pub circulating_supply: u128,
    /// Whole USD.
    pub avg_daily_volume_usd: u128,
    /// Whole USD within 2% of mid; `None` when not reported.
    pub depth_usd: Option<u128>,
    /// Faces an unlock over 10% of its float.
    pub unlock: bool,
    /// Counts in the host-chain bucket (else pure play).
    pub host: bool,
}

/// The methodology's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodologyParams {
    /// precision: WEIGHT_SCALE.
    pub max_weight: u64,
    /// precision: WEIGHT_SCALE. Share of the capped weight an unlock-flagged token loses.
    pub unlock_haircut: u64,
    /// precision: WEIGHT_SCALE. Share of the pure-play bucket; 0: no split.
    pub pure_play_share: u64,
    pub min_volume_usd: u128,
    pub min_depth_usd: u128,
}

/// Why a token is not eligible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ineligible {
    /// Average daily volume below the floor.
    Volume,
    /// Depth within 2% below the floor.
    Depth,
    /// No positive price or circulating supply.
    NoMarketCap,
    /// Liquid, but not a member after the review's membership rules
    /// ([`super::membership::select_members`]).
    NotSelected,
}

impl Ineligible {
    pub fn describe(self) -> &'static str {
        match self {
            Ineligible::Volume => "volume below the floor",
            Ineligible::Depth => "depth below the floor",
            Ineligible::NoMarketCap => "no price or circulating supply",
            Ineligible::NotSelected => "not a member (rank or liquidity buffer)",
        }
    }
}

/// One token's path through the methodology.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetRow {
    pub ineligible: Option<Ineligible>,
    /// precision: USD_SCALE. Circulating market cap (0 when ineligible).
    pub market_cap: u128,
    /// precision: WEIGHT_SCALE. Uncapped market-cap weight within its group (rounded down).
    pub raw_weight: u64,
    /// precision: WEIGHT_SCALE. Weight after the cap, before the haircut.
    pub capped_weight: u64,
    /// precision: WEIGHT_SCALE. Weight taken off by the unlock haircut.
    pub haircut: u64,
    /// precision: WEIGHT_SCALE. The target.
    pub target: u64,
}

/// Eligibility of one token.
pub fn eligibility(t: &TokenFacts, p: &MethodologyParams) -> Option<Ineligible> {
    if t.avg_daily_volume_usd < p.min_volume_usd {
        Some(Ineligible::Volume)
    } else if t.depth_usd.is_some_and(|d| d < p.min_depth_usd) {
        Some(Ineligible::Depth)
    } else if t.price == 0 || t.circulating_supply == 0 {
        Some(Ineligible::NoMarketCap)
    } else {
        None
    }
}

/// Targets for every token (0 for the ineligible), summing to exactly [`WEIGHT_SCALE`].
pub fn compute_targets(
    tokens: &[TokenFacts],
    p: &MethodologyParams,
) -> Result<Vec<TargetRow>, MethodologyError> {
    compute_targets_of(tokens, p, None)
}

/// [`compute_targets`] over the members a review selected (`members[i]`, from
/// [`super::membership::select_members`], which already applied the liquidity floors with
/// their hysteresis): a member is weighted whenever it has a market cap; every other token is
/// [`Ineligible::NotSelected`] (or its own reason) with target 0.
pub fn compute_targets_of(
    tokens: &[TokenFacts],
    p: &MethodologyParams,
    members: Option<&[bool]>,
) -> Result<Vec<TargetRow>, MethodologyError> {
    if members.is_some_and(|m| m.len() != tokens.len()) {
        return Err(MethodologyError::Math(MathError::Overflow));
    }
    if p.max_weight == 0 || p.max_weight > WEIGHT_SCALE {
        return Err(MethodologyError::InvalidCap(p.max_weight));
    }
    if p.pure_play_share > WEIGHT_SCALE {
        return Err(MethodologyError::InvalidShare(p.pure_play_share));
    }
    if p.unlock_haircut > WEIGHT_SCALE {
        return Err(MethodologyError::InvalidHaircut(p.unlock_haircut));
    }
    let mut rows: Vec<TargetRow> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let ineligible = match members {
                None => eligibility(t, p),
                Some(m) if !m[i] => Some(eligibility(t, p).unwrap_or(Ineligible::NotSelected)),
                Some(_) if t.price == 0 || t.circulating_supply == 0 => {
                    Some(Ineligible::NoMarketCap)
                }
                Some(_) => None,
            };
            let market_cap = match ineligible {
                None => t
                    .price
                    .checked_mul(t.circulating_supply)
                    .ok_or(MathError::Overflow)?,
                Some(_) => 0,
            };
            Ok(TargetRow {
                ineligible,
                market_cap,
                raw_weight: 0,
                capped_weight: 0,
                haircut: 0,
                target: 0,
            })
        })
        .collect::<Result<_, MethodologyError>>()?;

    // Groups: the whole index, or the two buckets with their shares.
    let groups: Vec<(Vec<usize>, u64)> = if p.pure_play_share == 0 {
        vec![((0..tokens.len()).collect(), WEIGHT_SCALE)]
    } else {
        let pure: Vec<usize> = (0..tokens.len()).filter(|i| !tokens[*i].host).collect();
        let host: Vec<usize> = (0..tokens.len()).filter(|i| tokens[*i].host).collect();
        vec![
            (pure, p.pure_play_share),
            (host, WEIGHT_SCALE - p.pure_play_share),
        ]
    };
    for (members, share) in groups {
        if share == 0 {
            continue;
        }
        let caps: Vec<u128> = members.iter().map(|i| rows[*i].market_cap).collect();
        let unlock: Vec<bool> = members.iter().map(|i| tokens[*i].unlock).collect();
        let total: u128 = caps
            .iter()
            .try_fold(0u128, |a, c| a.checked_add(*c))
            .ok_or(MathError::Overflow)?;
        let capped = distribute(&caps, share, p.max_weight)?;
        let targets = apply_haircut(&caps, &capped, &unlock, share, p)?;
        for (k, i) in members.iter().enumerate() {
            let r = &mut rows[*i];
            if total > 0 {
                r.raw_weight =
                    u64::try_from(mul_div(caps[k], share as u128, total, Rounding::Down)?)
                        .map_err(|_| MathError::Overflow)?;
            }
            r.capped_weight = capped[k];
            r.haircut = if unlock[k] {
                capped[k].saturating_sub(targets[k])
            } else {
                0
            };
            r.target = targets[k];
        }
    }
    Ok(rows)
}

/// The unlock overlay within one group: flagged tokens keep `1 - haircut` of their capped
/// weight; the freed weight goes to the others pro rata by market cap, capped. When the others
/// cannot take it all under the cap, they go to the cap and the flagged tokens keep the rest,
/// pro rata to their capped weights (a partial haircut): flagging a token never makes a
/// computable universe fail.
fn apply_haircut(
    caps: &[u128],
    capped: &[u64],
    unlock: &[bool],
    share: u64,
    p: &MethodologyParams,
) -> Result<Vec<u64>, MethodologyError> {
    let flagged = |i: usize| unlock[i] && capped[i] > 0;
    if !(0..caps.len()).any(flagged) {
        return Ok(capped.to_vec());
    }
    let keep = WEIGHT_SCALE - p.unlock_haircut;
    let mut out = vec![0u64; caps.len()];
    let mut kept = 0u64;
    for i in (0..caps.len()).filter(|i| flagged(*i)) {
        out[i] = u64::try_from(mul_div(
            capped[i] as u128,
            keep as u128,
            WEIGHT_SCALE as u128,
            Rounding::Down,
        )?)
        .map_err(|_| MathError::Overflow)?;
        kept = kept.checked_add(out[i]).ok_or(MathError::Overflow)?;
    }
    let others: Vec<u128> = (0..caps.len())
        .map(|i| if unlock[i] { 0 } else { caps[i] })
        .collect();
    let n_others = others.iter().filter(|c| **c > 0).count() as u128;
    let rest = share - kept;
    if n_others * (p.max_weight as u128) >= rest as u128 {
        let spread = distribute(&others, rest, p.max_weight)?;
        for i in (0..caps.len()).filter(|i| !unlock[*i]) {
            out[i] = spread[i];
        }
        return Ok(out);
    }
    // Partial haircut: the others sit at the cap, the flagged share what is left.
    let others_total =
        u64::try_from(n_others * p.max_weight as u128).map_err(|_| MathError::Overflow)?;
    let flagged_values: Vec<u128> = (0..caps.len())
        .map(|i| if flagged(i) { capped[i] as u128 } else { 0 })
        .collect();
    let flagged_weights = distribute(&flagged_values, share - others_total, p.max_weight)?;
    for i in 0..caps.len() {
        out[i] = if others[i] > 0 {
            p.max_weight
        } else if flagged(i) {
            flagged_weights[i]
        } else {
            0
        };
    }
    Ok(out)
}

/// Weights proportional to `values`, none above `cap`, summing to exactly `total` (all in
/// [`WEIGHT_SCALE`]). Excess over the cap is redistributed pro rata to the uncapped until none
/// exceeds it; the rounding residue goes one unit at a time to the largest remainders, ties to
/// the lower index, never past the cap.
pub fn distribute(values: &[u128], total: u64, cap: u64) -> Result<Vec<u64>, MethodologyError> {
    if cap == 0 || cap > WEIGHT_SCALE {
        return Err(MethodologyError::InvalidCap(cap));
    }
    let n = values.len();
    if total == 0 {
        return Ok(vec![0; n]);
    }
    let eligible = values.iter().filter(|v| **v > 0).count();
    if eligible == 0 {
        return Err(MethodologyError::Empty);
    }
    if (eligible as u128) * (cap as u128) < total as u128 {
        return Err(MethodologyError::InfeasibleCap { eligible, cap });
    }

    let mut capped = vec![false; n];
    let mut weights = vec![0u64; n];
    let mut remainders = vec![0u128; n];
    loop {
        let n_capped = capped.iter().filter(|c| **c).count() as u128;
        let room = (total as u128)
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
            remainders[i] = room.checked_mul(values[i]).ok_or(MathError::Overflow)? % free_value;
            // Capped when its share is above the cap, even by less than one unit: a share
            // between cap and cap + 1 must not leave its fraction to the residue.
            if w > cap as u128 || (w == cap as u128 && remainders[i] > 0) {
                capped[i] = true;
                newly_capped = true;
            }
            weights[i] = u64::try_from(w.min(cap as u128)).map_err(|_| MathError::Overflow)?;
        }
        if !newly_capped {
            break;
        }
    }

    let sum: u64 = weights.iter().sum();
    let mut residue = total.checked_sub(sum).ok_or(MathError::Overflow)?;
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
            // Unreachable while eligible * cap >= total; kept as a named failure.
            return Err(MethodologyError::InfeasibleCap { eligible, cap });
        }
    }
    Ok(weights)
}

/// Weights proportional to `values`, capped, summing to exactly [`WEIGHT_SCALE`].
pub fn capped_weights(values: &[u128], cap: u64) -> Result<Vec<u64>, MethodologyError> {
    distribute(values, WEIGHT_SCALE, cap)
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
        let mut v = vec![1000u128];
        v.extend(std::iter::repeat_n(10u128, 9));
        let w = capped_weights(&v, 15 * PCT).unwrap();
        assert_eq!(w[0], 15 * PCT);
        assert_eq!(w.iter().sum::<u64>(), WEIGHT_SCALE);
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
