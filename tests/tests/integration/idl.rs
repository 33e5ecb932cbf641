//! The committed IDL (`programs/aidx/idl/aidx.json`) is what the program generates now.
//! Regenerate with `AIDX_WRITE_IDL=1 cargo test -p aidx-tests --test idl`.
//!
//! The IDL is built the way `anchor idl build` builds it (anchor-lang-idl's `IdlBuilder`, which
//! compiles the program with `idl-build` and collects what its generated tests print), in its
//! own target directory because it compiles with different flags.

use std::path::PathBuf;

#[test]
fn committed_idl_is_current() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let program = root.join("programs/aidx");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"))
        .join("idl");
    // anchor-lang-idl 0.1.4 runs `cargo "+{toolchain}"` literally when RUSTUP_TOOLCHAIN is set.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let idl = anchor_lang_idl::build::IdlBuilder::new()
        .program_path(program.clone())
        .cargo_args(vec![
            "--lib".into(),
            "--target-dir".into(),
            target.display().to_string(),
        ])
        .build()
        .expect("building the IDL");
    let generated = serde_json::to_string_pretty(&idl).unwrap() + "\n";
    let path = program.join("idl/aidx.json");
    if std::env::var_os("AIDX_WRITE_IDL").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: regenerate it with AIDX_WRITE_IDL=1 cargo test -p aidx-tests --test idl",
        path.display()
    );
    // A sanity check of what the IDL holds.
    let names: Vec<&str> = idl.instructions.iter().map(|i| i.name.as_str()).collect();
    for ix in [
        "initialize_index",
        "mint_in_kind",
        "redeem_in_kind",
        "rebalance_swap",
        "recompute_targets",
    ] {
        assert!(names.contains(&ix), "{ix} missing from {names:?}");
    }
    assert_eq!(idl.address, aidx::ID.to_string());
}
