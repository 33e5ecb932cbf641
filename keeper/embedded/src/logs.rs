//! Transaction logs as a cluster writes them.
//!
//! `solana-program-test` runs the aidx program natively: its `sol_log_data` and CPIs reach the
//! syscall stubs, not the transaction's log collector (its `msg!` lines print to stdout: natively
//! `solana-msg` writes them there, so they are not in these logs), and the native entry and
//! every CPI it makes are announced twice (once by the runtime, once by program-test's stubs: `Program X
//! invoke [1]` then `Program X invoke [2]` for a CPI; `invoke [1]` twice and `success` twice for
//! the program itself). [`cluster_logs`] rebuilds what a validator logs: one `invoke` and one
//! `success` / `failed` line per invocation at its real depth, and the program's own
//! `Program log:` and `Program data:` lines in execution order between the blocks of the CPIs it
//! made, as recorded by the stubs ([`Captured`]).

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use solana_sdk::pubkey::Pubkey;

/// What the aidx program did through its syscall stubs, in order, per invocation (`Log` only
/// for lines logged through the `sol_log` stub, which `msg!` bypasses natively).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Captured {
    /// A `msg!` line.
    Log(String),
    /// A `sol_log_data` call: its fields.
    Data(Vec<Vec<u8>>),
    /// A CPI: its block of log lines comes here.
    Cpi,
}

/// `Program <id> invoke [n]`: the program and the depth.
fn invoke_of(line: &str) -> Option<(&str, usize)> {
    let rest = line.strip_prefix("Program ")?;
    let (program, depth) = rest.split_once(" invoke [")?;
    Some((program, depth.strip_suffix(']')?.parse().ok()?))
}

/// `Program <id> success` or `Program <id> failed: ...`: the program.
fn end_of(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("Program ")?;
    let (program, tail) = rest.split_once(' ')?;
    (tail == "success" || tail.starts_with("failed:")).then_some(program)
}

/// The runtime's logs with program-test's doubled announcements removed: of two consecutive
/// `invoke` lines of one program the second (it has the real depth) is kept, of two consecutive
/// `success` / `failed` lines of one program the first.
fn collapse(raw: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, line) in raw.iter().enumerate() {
        if let (Some((p, _)), Some((q, _))) =
            (invoke_of(line), raw.get(i + 1).and_then(|n| invoke_of(n)))
        {
            if p == q {
                continue;
            }
        }
        if let (Some(p), Some(q)) = (end_of(line), out.last().and_then(|l| end_of(l))) {
            if p == q {
                continue;
            }
        }
        out.push(line.clone());
    }
    out
}

/// The cluster's log of a transaction: `raw` as the in-process runtime logged it, with
/// `calls[k]` what the k-th invocation of `program` (top level) did through its stubs.
pub fn cluster_logs(raw: &[String], program: &Pubkey, calls: &[Vec<Captured>]) -> Vec<String> {
    let lines = collapse(raw);
    let id = program.to_string();
    let mut out = Vec::with_capacity(lines.len() + calls.iter().map(Vec::len).sum::<usize>());
    let mut call = 0usize;
    let mut i = 0usize;
    while i < lines.len() {
        let line = &lines[i];
        i += 1;
        let top_level = invoke_of(line).is_some_and(|(p, depth)| p == id && depth == 1);
        out.push(line.clone());
        if !top_level {
            continue;
        }
        let items = calls.get(call).map(Vec::as_slice).unwrap_or_default();
        call += 1;
        for item in items {
            match item {
                Captured::Log(m) => out.push(format!("Program log: {m}")),
                Captured::Data(fields) => {
                    let encoded: Vec<String> = fields.iter().map(|f| B64.encode(f)).collect();
                    out.push(format!("Program data: {}", encoded.join(" ")));
                }
                // Copy the CPI's block: from its invoke to the end at its depth.
                Captured::Cpi => {
                    if lines.get(i).and_then(|l| invoke_of(l)).is_none() {
                        continue;
                    }
                    let mut level = 0usize;
                    while i < lines.len() {
                        let l = &lines[i];
                        i += 1;
                        out.push(l.clone());
                        if invoke_of(l).is_some() {
                            level += 1;
                        } else if end_of(l).is_some() {
                            level -= 1;
                            if level == 0 {
                                break;
                            }
                        }
                    }
                }
            }
        }
        // Anything the runtime logged after the last CPI, up to the program's end line.
        while i < lines.len() {
            let l = &lines[i];
            i += 1;
            out.push(l.clone());
            if end_of(l) == Some(id.as_str()) {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn program_test_logs_become_cluster_logs() {
        let a = Pubkey::new_unique();
        let t = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
        let raw = s(&[
            "Program ComputeBudget111111111111111111111111111111 invoke [1]",
            "Program ComputeBudget111111111111111111111111111111 success",
            &format!("Program {a} invoke [1]"),
            &format!("Program {a} invoke [1]"),
            &format!("Program {t} invoke [1]"),
            &format!("Program {t} invoke [2]"),
            "Program log: Instruction: Transfer",
            &format!("Program {t} consumed 4645 of 1399694 compute units"),
            &format!("Program {t} success"),
            &format!("Program {t} success"),
            &format!("Program {a} success"),
            &format!("Program {a} success"),
        ]);
        let calls = vec![vec![
            Captured::Log("before".into()),
            Captured::Cpi,
            Captured::Data(vec![vec![1, 2, 3]]),
        ]];
        assert_eq!(
            cluster_logs(&raw, &a, &calls),
            s(&[
                "Program ComputeBudget111111111111111111111111111111 invoke [1]",
                "Program ComputeBudget111111111111111111111111111111 success",
                &format!("Program {a} invoke [1]"),
                "Program log: before",
                &format!("Program {t} invoke [2]"),
                "Program log: Instruction: Transfer",
                &format!("Program {t} consumed 4645 of 1399694 compute units"),
                &format!("Program {t} success"),
                "Program data: AQID",
                &format!("Program {a} success"),
            ])
        );
    }

    #[test]
    fn a_failed_invocation_keeps_one_failure_line() {
        let a = Pubkey::new_unique();
        let raw = s(&[
            &format!("Program {a} invoke [1]"),
            &format!("Program {a} invoke [1]"),
            &format!("Program {a} failed: custom program error: 0x1771"),
            &format!("Program {a} failed: custom program error: 0x1771"),
        ]);
        let calls = vec![vec![Captured::Log("AnchorError occurred".into())]];
        assert_eq!(
            cluster_logs(&raw, &a, &calls),
            s(&[
                &format!("Program {a} invoke [1]"),
                "Program log: AnchorError occurred",
                &format!("Program {a} failed: custom program error: 0x1771"),
            ])
        );
    }
}
