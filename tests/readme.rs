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
