//! What the program's syscalls would cost on SBF. Natively the aidx program is not metered;
//! every syscall it makes goes through the embedded runtime's stubs, which add up here the
//! compute units Agave 3.1 charges for each one (its default execution costs, SIMD-0339
//! active as on mainnet): a CPI's invoke units plus its translated bytes, a log line, an event,
//! a sysvar read. The SPL programs a CPI runs are metered by the runtime itself (their
//! `consumed` log lines); the program's own instructions are not counted here at all.

use std::cell::Cell;

/// `invoke_units` with SIMD-0339 active.
pub const INVOKE_UNITS: u64 = 946;
/// `syscall_base_cost`, `log_64_units`, `sysvar_base_cost`: 100 each.
pub const SYSCALL_BASE_COST: u64 = 100;
/// `cpi_bytes_per_unit`: bytes translated in a CPI per compute unit.
pub const CPI_BYTES_PER_UNIT: u64 = 250;
/// Bytes of one account meta in a translated CPI instruction (key, is_signer, is_writable).
const ACCOUNT_META_BYTES: u64 = 34;

thread_local! {
    static CPIS: Cell<u64> = const { Cell::new(0) };
    static UNITS: Cell<u64> = const { Cell::new(0) };
}

/// The syscalls of the program since the last [`take`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Syscalls {
    /// Cross-program invocations.
    pub cpis: u64,
    /// Compute units all its syscalls would be charged on SBF.
    pub units: u64,
}

/// Returns the syscalls counted since the last call and starts again from zero.
pub fn take() -> Syscalls {
    Syscalls {
        cpis: CPIS.with(|c| c.replace(0)),
        units: UNITS.with(|c| c.replace(0)),
    }
}

fn charge(units: u64) {
    let _ = UNITS.try_with(|u| u.set(u.get().saturating_add(units)));
}

/// A CPI: invoke units, the instruction's data and metas, and every account's data, at
/// `cpi_bytes_per_unit`.
pub(crate) fn cpi(data_len: usize, metas: usize, account_data_bytes: u64) {
    let _ = CPIS.try_with(|c| c.set(c.get() + 1));
    let bytes = data_len as u64 + metas as u64 * ACCOUNT_META_BYTES + account_data_bytes;
    charge(INVOKE_UNITS + bytes / CPI_BYTES_PER_UNIT);
}

/// `sol_log`: the larger of the base cost and the message length.
pub(crate) fn log(len: usize) {
    charge(SYSCALL_BASE_COST.max(len as u64));
}

/// `sol_log_data`: the base cost, the base cost per field, and a unit per byte.
pub(crate) fn log_data(fields: &[&[u8]]) {
    let bytes: u64 = fields.iter().map(|f| f.len() as u64).sum();
    charge(SYSCALL_BASE_COST * (1 + fields.len() as u64) + bytes);
}

/// A sysvar read of `len` bytes, or another syscall charged the base cost (`len` 0).
pub(crate) fn base(len: u64) {
    charge(SYSCALL_BASE_COST + len);
}
