//! `aidx backtest` on the sample universe, one year: the buffer trades less and pays less than
//! the full rebalance, the chart is written, and a seed gives the same figures every time.

use aidx_cli::backtest::{run, Config, SERIES_BENCHMARK, SERIES_BUFFER, SERIES_FULL};
use aidx_cli::commands::backtest::BacktestArgs;

fn cli(args: &BacktestArgs, out: &mut Vec<u8>) -> anyhow::Result<()> {
    args.clone().execute(out)
}
use aidx_client::universe::{parse, SAMPLE_UNIVERSE};

fn args(chart: std::path::PathBuf, json: bool) -> BacktestArgs {
    BacktestArgs {
        universe: None,
        years: 1,
        seed: 42,
        cost_bps: 30.0,
        band_pct: 20.0,
        chart,
        policies: false,
        seeds: 200,
        json,
    }
}

/// `aidx backtest --policies`: the policy table over several paths, each figure a median with
/// its 10th and 90th percentiles; JSON carries the same study.
#[test]
fn the_policy_study_prints_distributions_per_policy() {
    let dir = std::env::temp_dir();
    let mut a = args(dir.join("aidx-policies.svg"), false);
    a.policies = true;
    a.seeds = 4;
    let mut out = Vec::new();
    a.clone().execute(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("4 paths (seeds 42..45), 1 years each"),
        "{text}"
    );
    for p in aidx_cli::backtest::policies::POLICIES {
        assert!(text.contains(p.name), "{} in {text}", p.name);
    }
    a.json = true;
    let mut out = Vec::new();
    a.execute(&mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["seeds"], 4);
    assert_eq!(v["policies"][0]["turnover_vs_full"], 1.0);
    assert_eq!(
        v["policies"].as_array().unwrap().len(),
        aidx_cli::backtest::policies::POLICIES.len()
    );
}

#[test]
fn buffer_trades_less_than_full_and_the_chart_is_written() {
    let tokens = parse(SAMPLE_UNIVERSE).unwrap();
    let cfg = Config {
        years: 1,
        seed: 42,
        ..Config::default()
    };
    let r = run(&tokens, &cfg).expect("backtest");
    assert_eq!(r.reviews, 4);
    assert!(r.buffer.turnover_per_year > 0.0);
    assert!(
        r.buffer.turnover_per_year < r.full.turnover_per_year,
        "buffer {} full {}",
        r.buffer.turnover_per_year,
        r.full.turnover_per_year
    );
    assert!(r.buffer.cost_per_year < r.full.cost_per_year);
    assert!(r.buffer.total_cost_usd < r.full.total_cost_usd);
    // The full rebalance pays 30 bps on both legs of its one-way turnover; the buffer, the
    // program's, what its swaps cost the vault: at most the largest reward on what it trades.
    assert!((r.full.cost_per_year - 2.0 * 0.003 * r.full.turnover_per_year).abs() < 1e-12);
    assert!(r.buffer.cost_per_year <= 0.005 * r.buffer.turnover_per_year);
    let within = r.correlations.within_sector.unwrap();
    let cross = r.correlations.cross_sector.unwrap();
    assert!(within > cross, "within {within} cross {cross}");

    let dir = std::env::temp_dir().join(format!("aidx-backtest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chart = dir.join("backtest.svg");
    let mut out = Vec::new();
    cli(&args(chart.clone(), true), &mut out).expect("backtest command");
    let json = String::from_utf8(out.clone()).unwrap();
    assert!(json.trim_start().starts_with('{'));
    assert!(json.contains("\"turnover_per_year\""));
    assert!(json.contains(&format!("\"reviews\": {}", r.reviews)));

    let svg = std::fs::read_to_string(&chart).expect("chart written");
    assert!(svg.starts_with("<svg"));
    assert!(svg.trim_end().ends_with("</svg>"));
    for name in [SERIES_BUFFER, SERIES_FULL, SERIES_BENCHMARK] {
        assert!(svg.contains(name), "{name} missing from the chart");
    }
    assert!(svg.contains("<polyline"));

    // Same seed, same figures: the JSON and the chart, byte for byte.
    let mut again = Vec::new();
    cli(&args(chart.clone(), true), &mut again).unwrap();
    assert_eq!(out, again);
    assert_eq!(std::fs::read_to_string(&chart).unwrap(), svg);

    // The table output names both strategies and the benchmark.
    let mut text = Vec::new();
    cli(&args(dir.join("text.svg"), false), &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    for name in [SERIES_BUFFER, SERIES_FULL, SERIES_BENCHMARK, "turnover/yr"] {
        assert!(text.contains(name));
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn same_seed_same_report_and_bad_input_is_refused() {
    let tokens = parse(SAMPLE_UNIVERSE).unwrap();
    let cfg = Config {
        years: 1,
        seed: 7,
        ..Config::default()
    };
    let a = run(&tokens, &cfg).unwrap();
    let b = run(&tokens, &cfg).unwrap();
    assert_eq!(a, b);
    let c = run(
        &tokens,
        &Config {
            seed: 8,
            ..cfg.clone()
        },
    )
    .unwrap();
    assert_ne!(a.buffer, c.buffer);

    // Across seeds the buffer turns over less on average (on one short path it need not:
    // it carries in-band drift into the next review).
    let (mut buffer, mut full) = (0.0, 0.0);
    for seed in 1..=20 {
        let r = run(
            &tokens,
            &Config {
                seed,
                ..cfg.clone()
            },
        )
        .unwrap();
        buffer += r.buffer.turnover_per_year;
        full += r.full.turnover_per_year;
    }
    assert!(buffer < 0.9 * full, "buffer {buffer} full {full}");

    let dir = std::env::temp_dir();
    let mut sink = Vec::new();
    let bad_years = BacktestArgs {
        years: 0,
        ..args(dir.join("never.svg"), false)
    };
    let e = cli(&bad_years, &mut sink).unwrap_err().to_string();
    assert!(e.contains("--years"), "{e}");
    let bad_cost = BacktestArgs {
        cost_bps: -5.0,
        ..args(dir.join("never.svg"), false)
    };
    let e = cli(&bad_cost, &mut sink).unwrap_err().to_string();
    assert!(e.contains("--cost-bps"), "{e}");
}
