//! Unit tests of the backtest.

use super::chart::*;
use super::model::*;
use super::stats::mean;
use super::*;
use aidx_client::universe;

fn sample() -> Vec<Token> {
    universe::parse(universe::SAMPLE_UNIVERSE).unwrap()
}

#[test]
fn prng_is_deterministic_for_a_seed() {
    let draw = |seed| {
        let mut r = Rng::new(seed);
        (0..100).map(|_| r.next_u64()).collect::<Vec<_>>()
    };
    assert_eq!(draw(42), draw(42));
    assert_ne!(draw(42), draw(43));
    let mut r = Rng::new(7);
    let z: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
    assert!(mean(&z).abs() < 0.03, "{}", mean(&z));
    assert!((std_dev(&z) - 1.0).abs() < 0.03, "{}", std_dev(&z));
    let mut r = Rng::new(7);
    assert!((0..10_000)
        .map(|_| r.uniform())
        .all(|u| (0.0..1.0).contains(&u)));
}

fn short(years: u32, seed: u64) -> Config {
    Config {
        years,
        seed,
        ..Config::default()
    }
}

/// On whole paths the buffer turns over less than the full rebalance. This is not a
/// theorem: the buffer carries in-band drift into the next review, so on a short horizon
/// a path can make it trade more (1-year seeds 2, 7 and 87 of 1..=100 do); over the default
/// 5 years it traded less on each of seeds 1..=100.
#[test]
fn full_turns_over_more_than_buffer_on_the_path() {
    let tokens = sample();
    for seed in [1, 2, 7, 42] {
        let r = run(&tokens, &short(5, seed)).unwrap();
        assert!(r.full.turnover_per_year > r.buffer.turnover_per_year);
        assert!(r.full.cost_per_year > r.buffer.cost_per_year);
        assert!(r.buffer.turnover_per_year > 0.0);
        // The full rebalance pays the rate on both sides of its one-way turnover; the program's
        // vault at most the largest reward (0.5%) on what it trades.
        let rate = r.cost_bps / 10_000.0;
        assert!((r.full.cost_per_year - 2.0 * rate * r.full.turnover_per_year).abs() < 1e-9);
        assert!(r.buffer.cost_per_year <= 0.005 * r.buffer.turnover_per_year);
        assert_eq!(
            r.buffer.trades > 0,
            r.review_log.iter().any(|x| x.buffer_traded > 0)
        );
    }
}

/// The buffer is the program's: a band it refuses (it takes 5% to 50%) is a clear error.
#[test]
fn a_band_the_program_refuses_is_a_clear_error() {
    for band in [0.0, 0.04, 0.51] {
        let err = run(
            &sample(),
            &Config {
                band,
                ..short(1, 42)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("InvalidBand"), "{band}: {err}");
    }
}

#[test]
fn no_turnover_after_the_first_review_without_volatility() {
    let cfg = Config {
        vol_min: 0.0,
        vol_max: 0.0,
        ..short(2, 42)
    };
    let r = run(&sample(), &cfg).unwrap();
    assert_eq!(r.reviews, 8);
    for s in [&r.buffer, &r.full] {
        assert_eq!(s.turnover_per_year, 0.0);
        assert_eq!(s.trades, 0);
        assert_eq!(s.total_cost_usd, 0.0);
    }
    assert_eq!(r.correlations.within_sector, None);
    // The program holds whole raw units (6 decimals) at prices of 8: under a dollar off.
    assert!((r.buffer.final_nav - cfg.initial_nav).abs() < 1.0);
    assert!((r.full.final_nav - cfg.initial_nav).abs() < 1e-6);
}

#[test]
fn same_seed_same_results() {
    let tokens = sample();
    let a = run(&tokens, &short(1, 9)).unwrap();
    let b = run(&tokens, &short(1, 9)).unwrap();
    assert_eq!(a, b);
    assert_eq!(chart_svg(&a), chart_svg(&b));
    let c = run(&tokens, &short(1, 10)).unwrap();
    assert_ne!(a.nav, c.nav);
}

#[test]
fn realised_correlations_match_the_model() {
    let tokens = sample();
    let cfg = Config::default();
    let paths = simulate(&tokens, &cfg).unwrap();
    let c = realised_correlations(&tokens, &paths, &cfg);
    let (w, x) = (c.within_sector.unwrap(), c.cross_sector.unwrap());
    assert!((w - 0.80).abs() < 0.04, "within {w}");
    assert!((x - 0.65).abs() < 0.04, "cross {x}");
    assert_eq!(c.within_pairs + c.cross_pairs, 20 * 19 / 2);
    for (v, t) in paths.vols.iter().zip(&tokens) {
        assert!((0.70..=1.10).contains(v), "{}: {v}", t.symbol);
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let tokens = sample();
    let err = |cfg: Config| run(&tokens, &cfg).unwrap_err().to_string();
    assert!(err(short(0, 1)).contains("--years"));
    assert!(err(short(51, 1)).contains("--years"));
    for bps in [-1.0, f64::NAN, f64::INFINITY, 1_001.0] {
        assert!(err(Config {
            cost_bps: bps,
            ..short(1, 1)
        })
        .contains("--cost-bps"));
    }
    assert!(run(&[], &short(1, 1)).is_err());
    assert!(to_usd_scale(f64::NAN).is_err());
    assert!(to_usd_scale(-1.0).is_err());
    assert!(to_usd_scale(1e40).is_err());
    assert_eq!(to_usd_scale(1.5).unwrap(), 1_500_000_000_000);
}

#[test]
fn chart_is_svg_with_three_series() {
    let r = run(&sample(), &short(1, 3)).unwrap();
    let svg = chart_svg(&r);
    assert!(svg.starts_with("<svg"));
    assert!(svg.trim_end().ends_with("</svg>"));
    for name in [SERIES_BUFFER, SERIES_FULL, SERIES_BENCHMARK] {
        assert!(svg.contains(name));
    }
    assert_eq!(svg.matches("<polyline").count(), 6);
    assert!(!svg.contains("NaN"));
}

#[test]
fn ticks_are_round() {
    let (t, s) = nice_ticks(83.2, 171.9, 6);
    assert_eq!(s, 20.0);
    assert_eq!(t.first().copied(), Some(80.0));
    assert_eq!(t.last().copied(), Some(180.0));
    assert_eq!(tick_label(-0.0, 0.5), "0.0");
    assert_eq!(tick_label(2.5, 0.5), "2.5");
}
