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
    drop(cases); // runs the cases
    check_rules();
}

/// Cases whose rule is not "one mistake, one error": reasons in `ui-tests/README.md`.
const EXEMPT: [&str; 2] = [
    "all-errors-at-once",      // many mistakes in one item: every one is reported
    "manual-inline-too-large", // a hand-written `Message` impl, rejected by the runtime's const check
];

/// The rules of `ui-tests/README.md` that a machine can check, on every expected `.stderr`: exactly one
/// error, whose primary span is in the case's own file, and no hidden name of the runtime in it.
fn check_rules() {
    let mut broken = Vec::new();
    for entry in std::fs::read_dir("fail").expect("the fail cases") {
        let path = entry.expect("a fail case").path();
        if path.extension().is_none_or(|ext| ext != "stderr") {
            continue;
        }
        let case = path.file_stem().unwrap().to_string_lossy().into_owned();
        if EXEMPT.contains(&case.as_str()) {
            continue;
        }
        let stderr = std::fs::read_to_string(&path).expect("a .stderr");
        let errors = stderr
            .lines()
            .filter(|line| line.starts_with("error"))
            .count();
        if errors != 1 {
            broken.push(format!("{case}: {errors} errors, not one"));
        }
        let primary = stderr
            .lines()
            .find_map(|line| line.trim_start().strip_prefix("--> "));
        if !primary.is_some_and(|span| span.starts_with("fail/")) {
            broken.push(format!(
                "{case}: the error is not at the user's tokens ({primary:?})"
            ));
        }
        for hidden in [
            "__private",
            "__INDEX",
            "__dispatch",
            "__HANDLED",
            "__unwrap_ask",
        ] {
            if stderr.contains(hidden) {
                broken.push(format!("{case}: shows the hidden name `{hidden}`"));
            }
        }
    }
    assert!(broken.is_empty(), "ui rules broken:\n{}", broken.join("\n"));
}
