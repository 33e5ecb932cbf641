//! Every integration test of the program, the client and the embedded runtime, as one test
//! binary with a module per feature: one link instead of one per file.

/// Counts what the program allocates (only inside its own code), for the SBF heap test.
#[global_allocator]
static ALLOC: aidx_embedded::heap::CountingAlloc = aidx_embedded::heap::CountingAlloc;

mod account_matrix;
mod add_constituent;
mod admin;
mod attacks;
mod bench;
mod full_basket;
mod heap;
mod idl;
mod in_kind;
mod in_kind_accounts;
mod initialize_index;
mod limits;
mod logs;
mod methodology_onchain;
mod oracle;
mod quarantine;
mod rebalance;
mod single;
mod stateful;
