//! The README's examples work when pasted: every `rust` block is a whole program (visible `use` lines
//! and `main`), with no hidden doctest lines. The doctests (the README is the crate's landing page)
//! prove that each compiles and runs; this proves that what the reader sees is all there is.

#[test]
fn every_readme_example_is_a_whole_program() {
    let readme = include_str!("../README.md");
    let mut blocks = 0;
    let mut lines = readme.lines().enumerate();
    while let Some((start, line)) = lines.next() {
        if line != "```rust" {
            continue; // `rust,ignore` blocks show other frameworks' code
        }
        blocks += 1;
        let mut has_main = false;
        for (number, line) in lines.by_ref() {
            if line == "```" {
                break;
            }
            assert!(
                !(line == "#" || line.starts_with("# ")),
                "README.md:{}: a hidden doctest line, which a reader who pastes the example does not get: {line}",
                number + 1
            );
            has_main |= line.contains("fn main(");
        }
        assert!(
            has_main,
            "README.md:{}: the example has no `fn main`, so it is not a whole program",
            start + 1
        );
    }
    assert!(blocks >= 6, "found only {blocks} examples");
}

/// A README block marked `<!-- tests/FILE.rs -->` is that test file (after its first two lines: the
/// note that says so, and its feature gate), so that the README's test example is one that runs.
#[test]
fn every_readme_test_example_is_a_test_that_runs() {
    let readme = include_str!("../README.md");
    let mut checked = 0;
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line
            .strip_prefix("<!-- ")
            .and_then(|rest| rest.strip_suffix(" -->"))
            .filter(|path| path.starts_with("tests/"))
        else {
            continue;
        };
        assert_eq!(
            lines.next(),
            Some("```rust,ignore"),
            "README.md: the block of {path}"
        );
        let block: Vec<&str> = lines.by_ref().take_while(|line| *line != "```").collect();
        let file =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
                .unwrap_or_else(|error| panic!("README.md names {path}: {error}"));
        let file: Vec<&str> = file
            .lines()
            .skip(2)
            .skip_while(|line| line.is_empty())
            .collect();
        assert_eq!(block, file, "README.md's block differs from {path}");
        checked += 1;
    }
    assert!(checked >= 1, "README.md has no test example");
}
