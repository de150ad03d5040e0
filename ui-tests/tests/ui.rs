//! Compile-time guarantees: every misuse the macros or the type system reject is a case in
//! `ui-tests/fail/` with the exact diagnostic a user sees; every accepted shape is a case in
//! `ui-tests/pass/`.
//!
//! Regenerate the expected output after a deliberate change with `TRYBUILD=overwrite cargo test -p airssys-rt-ui-tests`,
//! then read every line of the diff as a user would.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("pass/*.rs");
    cases.compile_fail("fail/*.rs");
}
